"""Factories of the accounts models, and the password every factory user has."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import factory
import pyotp
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

Row = TypeVar("Row")

DEFAULT_PASSWORD = "correct horse battery staple 42"
AS_OF = date(2026, 10, 31)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_password_hash() -> str:
    """A real bcrypt (cost 12) hash of DEFAULT_PASSWORD, computed once per test run: logins
    verify against the production hasher without paying for it on every user created."""
    return make_password(DEFAULT_PASSWORD)


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


class UserOwnedFactory(factory.django.DjangoModelFactory[Row]):
    """A row that belongs to a user: a new one unless the test names it (``user=...``)."""

    class Meta:
        abstract = True

    user = factory.SubFactory(UserFactory)


class SessionFactory(UserOwnedFactory[Session]):
    """A live session row. Its refresh token is not known (only a hash is stored): a test that
    needs tokens signs in through the real service (``tests.support.clients.sign_in``)."""

    class Meta:
        model = Session

    refresh_token_hash = factory.Sequence(lambda n: sha256_of(f"refresh-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    last_used_at = factory.LazyFunction(timezone.now)
    user_agent = "pytest"
    ip = "127.0.0.1"


class RotatedRefreshTokenFactory(factory.django.DjangoModelFactory[RotatedRefreshToken]):
    class Meta:
        model = RotatedRefreshToken

    session = factory.SubFactory(SessionFactory)
    token_hash = factory.Sequence(lambda n: sha256_of(f"rotated-{n}"))


class AuditEventFactory(factory.django.DjangoModelFactory[AuditEvent]):
    class Meta:
        model = AuditEvent

    actor_id = factory.LazyFunction(uuid.uuid4)
    action = "auth.login.success"


class MfaDeviceFactory(UserOwnedFactory[MfaDevice]):
    """An active (confirmed) authenticator; ``confirmed_at=None`` for one still being set up."""

    class Meta:
        model = MfaDevice

    secret = factory.LazyFunction(pyotp.random_base32)
    confirmed_at = factory.LazyFunction(timezone.now)


class EmailKeyFactory(UserOwnedFactory[EmailKey]):
    class Meta:
        model = EmailKey

    purpose = KeyPurpose.VERIFY_EMAIL
    key_hash = factory.Sequence(lambda n: sha256_of(f"email-key-{n}"))
    email = factory.LazyAttribute(lambda key: key.user.email)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
