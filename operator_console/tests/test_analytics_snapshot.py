"""Analytics read rolled-up days and live rows in several queries: a change of consent (or a
rollup) committing between them must not make a figure count a day twice, or not at all.
Each read sees one snapshot of the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.services import consent_grant, consent_revoke
from operator_console import analytics
from recommendations.state import analytics_rebuild
from tests.support.commits import paused_after
from tests.support.factories.accounts import UserFactory
from tests.support.factories.uploads import DataUploadFactory
from uploads.models import DataUpload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_withdrawal_between_the_reads_of_one_figure_counts_no_day_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yesterday = timezone.now().date() - timedelta(days=1)
    noon = timezone.now() - timedelta(days=1)
    people = [UserFactory.create() for _ in range(3)]
    for person in people:
        consent_grant(user=person, version=None)
        upload = DataUploadFactory.create(user=person)
        DataUpload.objects.filter(pk=upload.pk).update(
            created_at=noon, processed_at=noon + timedelta(seconds=1)
        )
    analytics_rebuild()
    assert analytics.performance(yesterday, yesterday)["uploads"]["processed"] == 3

    # The read holds after the rollups were read; the withdrawal commits meanwhile.
    with paused_after(
        monkeypatch, analytics, "_rolled", lambda: analytics.performance(yesterday, yesterday)
    ) as read:
        consent_revoke(user=people[0], delete_data=False)

    assert read.error is None
    # Before the withdrawal: 3; after it: 2. Never the rollup's 3 plus the live 2.
    assert read.result["uploads"]["processed"] in (2, 3)
