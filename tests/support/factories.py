"""One factory per model of every app (factory_boy), so a test states the rows it starts from
and can assert exact counts. Defaults are valid, small and unremarkable; a test names what
matters to it (``RecommendationFactory(user=..., status="approved")``)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import factory
import pyotp
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import (
    AuditEvent,
    EmailKey,
    KeyPurpose,
    MfaDevice,
    Role,
    RotatedRefreshToken,
    Session,
    User,
)
from consent.models import ConsentAction, ConsentRecord
from operator_console.models import RecommendationRevision, SyntheticDemographic
from recommendations.engine.choose import DISCLAIMER
from recommendations.models import (
    EducationItem,
    Feedback,
    FeedbackRating,
    PartnerOffer,
    PersonaAssignment,
    Recommendation,
    RecommendationType,
    SignalSnapshot,
    Window,
)
from uploads.models import (
    Account,
    DataUpload,
    Liability,
    LiabilityKind,
    Transaction,
    UploadStatus,
)

DEFAULT_PASSWORD = "correct horse battery staple 42"
AS_OF = date(2026, 10, 31)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_password_hash() -> str:
    """A real bcrypt (cost 12) hash of DEFAULT_PASSWORD, computed once per test run: logins
    verify against the production hasher without paying for it on every user created."""
    return make_password(DEFAULT_PASSWORD)


# --- accounts ----------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user with a usable password (``DEFAULT_PASSWORD``)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = Role.USER

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            obj.set_password(extracted)
        else:
            obj.password = default_password_hash()
        if create:
            obj.save(update_fields=["password"])


class OperatorFactory(UserFactory):
    role = Role.OPERATOR


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_superuser = True


ROLE_FACTORIES: dict[str, type[UserFactory]] = {
    Role.USER: UserFactory,
    Role.OPERATOR: OperatorFactory,
    Role.ADMIN: AdminFactory,
}


class SessionFactory(factory.django.DjangoModelFactory[Session]):
    """A live session row. Its refresh token is not known (only a hash is stored): a test that
    needs tokens signs in through the real service (``tests.support.clients.sign_in``)."""

    class Meta:
        model = Session

    user = factory.SubFactory(UserFactory)
    refresh_token_hash = factory.Sequence(lambda n: _sha256(f"refresh-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    last_used_at = factory.LazyFunction(timezone.now)
    user_agent = "pytest"
    ip = "127.0.0.1"


class RotatedRefreshTokenFactory(factory.django.DjangoModelFactory[RotatedRefreshToken]):
    class Meta:
        model = RotatedRefreshToken

    session = factory.SubFactory(SessionFactory)
    token_hash = factory.Sequence(lambda n: _sha256(f"rotated-{n}"))


class AuditEventFactory(factory.django.DjangoModelFactory[AuditEvent]):
    class Meta:
        model = AuditEvent

    actor_id = factory.LazyFunction(uuid.uuid4)
    action = "auth.login.success"


class MfaDeviceFactory(factory.django.DjangoModelFactory[MfaDevice]):
    """An active (confirmed) authenticator; ``confirmed_at=None`` for one still being set up."""

    class Meta:
        model = MfaDevice

    user = factory.SubFactory(UserFactory)
    secret = factory.LazyFunction(pyotp.random_base32)
    confirmed_at = factory.LazyFunction(timezone.now)


class EmailKeyFactory(factory.django.DjangoModelFactory[EmailKey]):
    class Meta:
        model = EmailKey

    user = factory.SubFactory(UserFactory)
    purpose = KeyPurpose.VERIFY_EMAIL
    key_hash = factory.Sequence(lambda n: _sha256(f"email-key-{n}"))
    email = factory.LazyAttribute(lambda key: key.user.email)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


# --- consent -----------------------------------------------------------------------------


class ConsentRecordFactory(factory.django.DjangoModelFactory[ConsentRecord]):
    """A history row only: the user's ``consent_status`` is the service's to keep in step
    (``tests.support.clients.grant_consent`` grants through it)."""

    class Meta:
        model = ConsentRecord

    user = factory.SubFactory(UserFactory)
    action = ConsentAction.GRANT
    version = factory.LazyFunction(lambda: settings.CONSENT_VERSION)


# --- uploads -----------------------------------------------------------------------------


class DataUploadFactory(factory.django.DjangoModelFactory[DataUpload]):
    """The record of a processed upload (no stored file)."""

    class Meta:
        model = DataUpload

    user = factory.SubFactory(UserFactory)
    file_name = "data.json"
    file_size = 2
    file_format = "json"
    sha256 = factory.Sequence(lambda n: _sha256(f"upload-{n}"))
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


# --- recommendations ---------------------------------------------------------------------


class SignalSnapshotFactory(factory.django.DjangoModelFactory[SignalSnapshot]):
    """One window's signals of a user with no spending to speak of (the engine's shape; a test
    sets the figures it reads)."""

    class Meta:
        model = SignalSnapshot

    user = factory.SubFactory(UserFactory)
    window = Window.DAYS_30
    as_of = AS_OF
    data = factory.LazyFunction(
        lambda: {"subscriptions": {}, "savings": {}, "credit": {"cards": []}, "income": {}}
    )
    inputs = factory.LazyFunction(
        lambda: {"currency": "USD", "transactions_used": 0, "accounts": 0, "liabilities": 0}
    )


class PersonaAssignmentFactory(factory.django.DjangoModelFactory[PersonaAssignment]):
    class Meta:
        model = PersonaAssignment

    user = factory.SubFactory(UserFactory)
    window = Window.DAYS_30
    persona = "high_utilization"
    matched = factory.LazyAttribute(lambda row: [row.persona] if row.persona else [])
    # The engine's shape: one evaluation per persona tried (here only the one assigned).
    evaluations = factory.LazyAttribute(
        lambda row: [{"persona": row.persona or "high_utilization", "matched": bool(row.persona)}]
    )
    reason = "Matched on the figures of the window."
    as_of = AS_OF


class EducationItemFactory(factory.django.DjangoModelFactory[EducationItem]):
    class Meta:
        model = EducationItem

    slug = factory.Sequence(lambda n: f"education-{n}")
    title = factory.Sequence(lambda n: f"Education item {n}")
    content = "What to know."
    rationale_template = "Your utilization is {utilization_pct}."


class PartnerOfferFactory(factory.django.DjangoModelFactory[PartnerOffer]):
    class Meta:
        model = PartnerOffer

    slug = factory.Sequence(lambda n: f"offer-{n}")
    title = factory.Sequence(lambda n: f"Partner offer {n}")
    content = "What it offers."
    rationale_template = "Your utilization is {utilization_pct}."
    partner = "Example Bank"
    product_type = "balance_transfer_card"


class RecommendationFactory(factory.django.DjangoModelFactory[Recommendation]):
    """A pending education item for the 30-day window."""

    class Meta:
        model = Recommendation

    user = factory.SubFactory(UserFactory)
    type = RecommendationType.EDUCATION
    slug = factory.Sequence(lambda n: f"education-{n}")
    title = factory.Sequence(lambda n: f"Education item {n}")
    content = "What to know."
    rationale = "Your utilization is 68%."
    disclaimer = DISCLAIMER
    persona = "high_utilization"
    window = Window.DAYS_30
    # The keys every trace has; a test that reads one sets its content.
    decision_trace = factory.LazyAttribute(
        lambda rec: {
            "engine_version": "test",
            "catalog_version": "test",
            "inputs": {},
            "signals": {},
            "personas": {rec.window: {"persona": rec.persona}},
            "item": {"slug": rec.slug},
            "window": rec.window,
            "excluded_offers": [],
        }
    )


class FeedbackFactory(factory.django.DjangoModelFactory[Feedback]):
    """The recommendation's owner's rating of it."""

    class Meta:
        model = Feedback

    recommendation = factory.SubFactory(RecommendationFactory)
    user = factory.SelfAttribute("recommendation.user")
    rating = FeedbackRating.HELPFUL


# --- operator_console --------------------------------------------------------------------


class SyntheticDemographicFactory(factory.django.DjangoModelFactory[SyntheticDemographic]):
    class Meta:
        model = SyntheticDemographic

    user = factory.SubFactory(UserFactory)
    age_band = "25-34"
    archetype = "steady"


class RecommendationRevisionFactory(factory.django.DjangoModelFactory[RecommendationRevision]):
    """The text a recommendation had before an operator's edit."""

    class Meta:
        model = RecommendationRevision

    recommendation = factory.SubFactory(RecommendationFactory)
    revision = factory.Sequence(lambda n: n + 1)
    title = factory.SelfAttribute("recommendation.title")
    content = factory.SelfAttribute("recommendation.content")
    rationale = factory.SelfAttribute("recommendation.rationale")
    edited_by_id = factory.LazyFunction(lambda: OperatorFactory.create().pk)
