"""Consent granted through the consent service, as the API grants it."""

from __future__ import annotations

from accounts.models import User
from consent.services import consent_grant
from tests.support.commits import committed


def grant_consent(user: User) -> User:
    with committed():
        consent_grant(user=user, version=None)
    return user
