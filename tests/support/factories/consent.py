"""Factories of the consent models."""

from __future__ import annotations

import factory
from django.conf import settings

from consent.models import ConsentAction, ConsentRecord
from tests.support.factories.accounts import UserOwnedFactory


class ConsentRecordFactory(UserOwnedFactory[ConsentRecord]):
    """A history row only: the user's ``consent_status`` is the service's to keep in step
    (``tests.support.consent.grant_consent`` grants through it)."""

    class Meta:
        model = ConsentRecord

    action = ConsentAction.GRANT
    version = factory.LazyFunction(lambda: settings.CONSENT_VERSION)
