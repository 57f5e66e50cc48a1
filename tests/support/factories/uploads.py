"""Factories of the uploads models."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from tests.support.factories.accounts import AS_OF, UserOwnedFactory, sha256_of
from uploads.models import (
    Account,
    DataUpload,
    Liability,
    LiabilityKind,
    Transaction,
    UploadStatus,
)


class DataUploadFactory(UserOwnedFactory[DataUpload]):
    """The record of a processed upload (no stored file)."""

    class Meta:
        model = DataUpload

    file_name = "data.json"
    file_size = 2
    file_format = "json"
    sha256 = factory.Sequence(lambda n: sha256_of(f"upload-{n}"))
    status = UploadStatus.PROCESSED
    processed_at = factory.LazyFunction(timezone.now)


class AccountFactory(UserOwnedFactory[Account]):
    """A checking account with a balance."""

    class Meta:
        model = Account

    account_id = factory.Sequence(lambda n: f"acc-{n}")
    name = "Checking"
    mask = "0000"
    type = "depository"
    subtype = "checking"
    current = Decimal("110")
    available = Decimal("100")
    iso_currency_code = "USD"


class TransactionFactory(UserOwnedFactory[Transaction]):
    """A posted purchase of 12.50 USD (Plaid's sign: positive is money out)."""

    class Meta:
        model = Transaction

    transaction_id = factory.Sequence(lambda n: f"tx-{n}")
    account_id = "acc-1"
    date = AS_OF
    amount = Decimal("12.50")
    iso_currency_code = "USD"
    name = "NETFLIX.COM"
    merchant_name = "Netflix"
    payment_channel = "online"
    pfc_primary = "ENTERTAINMENT"
    pfc_detailed = "ENTERTAINMENT_TV_AND_MOVIES"


class LiabilityFactory(UserOwnedFactory[Liability]):
    """A credit card's liability, paid on time."""

    class Meta:
        model = Liability

    account_id = factory.Sequence(lambda n: f"card-{n}")
    kind = LiabilityKind.CREDIT
    is_overdue = False
    minimum_payment_amount = Decimal("25")
    last_statement_balance = Decimal("500")
