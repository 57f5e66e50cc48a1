"""Factories of the consent models."""

from __future__ import annotations

import factory
from django.conf import settings

from consent.models import ConsentAction, ConsentRecord
from tests.support.factories.accounts import UserFactory


class ConsentRecordFactory(factory.django.DjangoModelFactory[ConsentRecord]):
    """A history row only: the user's ``consent_status`` is the service's to keep in step
    (``tests.support.consent.grant_consent`` grants through it)."""

    class Meta:
        model = ConsentRecord

    user = factory.SubFactory(UserFactory)
    action = ConsentAction.GRANT
    version = factory.LazyFunction(lambda: settings.CONSENT_VERSION)
