"""Factories of the uploads models."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from tests.support.factories.accounts import AS_OF, UserFactory, sha256_of
from uploads.models import (
    Account,
    DataUpload,
    Liability,
    LiabilityKind,
    Transaction,
    UploadStatus,
)


class DataUploadFactory(factory.django.DjangoModelFactory[DataUpload]):
    """The record of a processed upload (no stored file)."""

    class Meta:
        model = DataUpload

    user = factory.SubFactory(UserFactory)
    file_name = "data.json"
    file_size = 2
    file_format = "json"
    sha256 = factory.Sequence(lambda n: sha256_of(f"upload-{n}"))
    status = UploadStatus.PROCESSED
    processed_at = factory.LazyFunction(timezone.now)


class AccountFactory(factory.django.DjangoModelFactory[Account]):
    """A checking account with a balance."""

    class Meta:
        model = Account

    user = factory.SubFactory(UserFactory)
    account_id = factory.Sequence(lambda n: f"acc-{n}")
    name = "Checking"
    mask = "0000"
    type = "depository"
    subtype = "checking"
    current = Decimal("110")
    available = Decimal("100")
    iso_currency_code = "USD"


class TransactionFactory(factory.django.DjangoModelFactory[Transaction]):
    """A posted purchase of 12.50 USD (Plaid's sign: positive is money out)."""

    class Meta:
        model = Transaction

    user = factory.SubFactory(UserFactory)
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


class LiabilityFactory(factory.django.DjangoModelFactory[Liability]):
    """A credit card's liability, paid on time."""

    class Meta:
        model = Liability

    user = factory.SubFactory(UserFactory)
    account_id = factory.Sequence(lambda n: f"card-{n}")
    kind = LiabilityKind.CREDIT
    is_overdue = False
    minimum_payment_amount = Decimal("25")
    last_statement_balance = Decimal("500")
