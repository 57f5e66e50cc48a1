"""Factories for users of every role."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Role, User

DEFAULT_PASSWORD = "correct horse battery staple 42"


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
