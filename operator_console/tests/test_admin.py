"""The console's pages, rendered server-side: access by role, the queue, a readable trace,
bulk review with confirmation, the analytics charts, users' insights."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from recommendations.models import Recommendation
from tests.support.clients import SignedIn
from tests.support.factories.accounts import AdminFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client) -> Client:
    client.force_login(OperatorFactory.create())
    return client


def test_operators_get_exactly_their_permissions(client: Client) -> None:
    operator = OperatorFactory.create()

    assert operator.has_perm("recommendations.change_recommendation")
    assert operator.has_perm("accounts.view_auditevent")
    assert not operator.has_perm("recommendations.change_partneroffer")  # the catalog is admins'
    assert not operator.has_perm("accounts.change_user")  # roles are admins'
    assert not operator.has_perm("rest_framework_api_key.add_apikey")
    assert not UserFactory.create().has_perm("recommendations.view_recommendation")
    assert AdminFactory.create().has_perm("recommendations.change_partneroffer")


def test_queue_filters_and_search(seeded: SignedIn, console: Client) -> None:
    response = console.get(
        "/admin/recommendations/recommendation/?status__exact=pending&persona=high_utilization&q="
        + (seeded.user.email or "")
    )

    assert response.status_code == HTTPStatus.OK
    count = Recommendation.objects.filter(user=seeded.user, status="pending").count()
    assert f"{count} recommendation" in response.content.decode()


def test_recommendation_page_renders_trace_and_signals(seeded: SignedIn, console: Client) -> None:
    item = Recommendation.objects.filter(user=seeded.user).first()
    assert item is not None

    page = console.get(f"/admin/recommendations/recommendation/{item.pk}/change/").content.decode()

    assert item.rationale.split(" ")[0] in page
    assert "Chosen for the" in page
    assert "high_utilization" in page
    assert "30d as of 2026-10-31" in page
    assert 'id="approve-button"' in page
    assert item.disclaimer in page


def test_approve_from_the_page(seeded: SignedIn, console: Client) -> None:
    item = Recommendation.objects.filter(user=seeded.user).first()
    assert item is not None

    response = console.post(
        f"/admin/recommendations/recommendation/{item.pk}/decide/approve/", {"reason": "ok"}
    )

    assert response.status_code == HTTPStatus.FOUND
    item.refresh_from_db()
    assert (item.status, item.decision_reason) == ("approved", "ok")


def test_edit_from_the_page_keeps_a_revision(seeded: SignedIn, console: Client) -> None:
    item = Recommendation.objects.filter(user=seeded.user).first()
    assert item is not None

    console.post(
        f"/admin/recommendations/recommendation/{item.pk}/change/",
        {"title": "New title", "content": item.content, "rationale": item.rationale},
    )

    item.refresh_from_db()
    assert (item.title, item.revision) == ("New title", 1)


def test_bulk_reject_asks_to_confirm_first(seeded: SignedIn, console: Client) -> None:
    ids = [
        str(pk)
        for pk in Recommendation.objects.filter(user=seeded.user).values_list("pk", flat=True)[:2]
    ]
    form: dict[str, Any] = {"action": "reject_selected", "_selected_action": ids}

    asked = console.post("/admin/recommendations/recommendation/", form)
    assert asked.status_code == HTTPStatus.OK
    assert "all or none" in asked.content.decode()
    assert Recommendation.objects.filter(status="rejected").count() == 0

    console.post(
        "/admin/recommendations/recommendation/", {**form, "confirm": "yes", "reason": "dup"}
    )

    assert Recommendation.objects.filter(status="rejected").count() == 2


def test_analytics_page_renders_charts(seeded: SignedIn, console: Client) -> None:
    page = console.get("/admin/analytics/").content.decode()

    # Persona mix over time and now, quality, latency, offer rate by age band.
    assert page.count('<svg class="chart"') == 5
    assert "Persona mix over time" in page
    assert "Offer rate by age band" in page


def test_analytics_page_rejects_a_reversed_range(console: Client) -> None:
    page = console.get("/admin/analytics/?start=2026-02-01&end=2026-01-01").content.decode()

    assert "The start must not be after the end." in page


def test_user_page_shows_signals_personas_and_uploads(seeded: SignedIn, client: Client) -> None:
    client.force_login(AdminFactory.create())

    page = client.get(f"/admin/accounts/user/{seeded.user.pk}/change/").content.decode()

    assert "high_utilization" in page
    assert "processed" in page
    assert "180d as of 2026-10-31" in page


@pytest.mark.parametrize(
    ("factory", "status"), [(UserFactory, HTTPStatus.FOUND), (OperatorFactory, HTTPStatus.OK)]
)
def test_only_staff_reach_the_console(client: Client, factory: Any, status: int) -> None:
    client.force_login(factory.create())

    assert client.get("/admin/analytics/").status_code == status
