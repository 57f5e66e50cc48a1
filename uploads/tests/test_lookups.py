"""AnyOf (spendsense.lookups), as ingestion uses it: one array on PostgreSQL, IN's answers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db.models import F

from spendsense.lookups import AnyOf
from tests.support.factories.accounts import UserFactory
from tests.support.factories.uploads import AccountFactory
from uploads.models import Account

pytestmark = pytest.mark.django_db


def ids(values: Sequence[str | None], **scope: object) -> set[str]:
    rows = Account.objects.filter(AnyOf(F("account_id"), values), **scope)
    return set(rows.values_list("account_id", flat=True))


def test_odd_lists_answer_as_in_does() -> None:
    mine = AccountFactory.create(account_id="acc-1")
    AccountFactory.create(account_id="acc-2")

    assert ids([]) == set()
    assert ids([None]) == set()
    assert ids([None, "acc-1", "acc-1"]) == {"acc-1"}
    assert ids(["acc-1", "acc-2"], user=mine.user) == {"acc-1"}  # the other filters still hold
    assert ids(["'; DROP TABLE x; --", "acc-2"]) == {"acc-2"}
    assert ids([f"id-{n}" for n in range(7_400)] + ["acc-2"]) == {"acc-2"}
    assert ids(["acc-1"], user=UserFactory.create()) == set()
