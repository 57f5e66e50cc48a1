"""seed_demo, and recompute over the users it seeds, run end to end."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError

from accounts.models import User
from operator_console.models import SyntheticDemographic
from recommendations.models import PersonaAssignment, Recommendation
from tests.support.commits import call_command_committed

pytestmark = pytest.mark.django_db


def test_seed_demo_covers_every_persona_and_is_idempotent() -> None:
    out = StringIO()

    call_command_committed("seed_demo", "--users", "12", "--seed", "3", "--operator", stdout=out)
    call_command_committed(
        "seed_demo", "--users", "12", "--seed", "3", "--if-empty", stdout=StringIO()
    )

    assert User.objects.filter(email__startswith="demo-3-").count() == 12
    personas = set(PersonaAssignment.objects.filter(window="30d").values_list("persona", flat=True))
    assert personas == {
        "high_utilization",
        "variable_income_budgeter",
        "subscription_heavy",
        "savings_builder",
        "cash_flow_stretched",
        None,
    }
    assert SyntheticDemographic.objects.count() == 12
    assert Recommendation.objects.exists()
    line = out.getvalue().splitlines()[-1]
    assert re.match(r"operator sign-in for .*: operator@spendsense\.local / \S{12,}$", line)
    operator = User.objects.get(email="operator@spendsense.local")
    assert operator.role == "operator"
    password = line.rsplit(" ", 1)[-1]
    assert operator.check_password(password)


def test_seed_demo_refuses_production(settings) -> None:
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="does not run in production"):
        call_command_committed("seed_demo", "--users", "1")


def test_recompute_command() -> None:
    call_command_committed("seed_demo", "--users", "2", "--seed", "4", stdout=StringIO())
    made = sorted(Recommendation.objects.values_list("user_id", "slug"))
    Recommendation.objects.all().delete()
    out = StringIO()

    call_command_committed("recompute", stdout=out)
    call_command_committed("recompute", "--user", "demo-4-00000@example.invalid", stdout=StringIO())

    assert out.getvalue().strip() == "recomputed 2 users"
    # The same data and engine make the same items again, once each (``--user`` replaces
    # that user's pending ones).
    assert sorted(Recommendation.objects.values_list("user_id", "slug")) == made
    assert made
    with pytest.raises(CommandError):
        call_command_committed("recompute", "--user", "nobody@example.invalid")
