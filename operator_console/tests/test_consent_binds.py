"""Consent binds operators and API keys: a user who withdrew it is invisible to them in the
review queue, its items, decisions and edits, the console, uploads, analytics and exports."""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from tests.support.clients import REVIEW, SignedIn, key_client, sign_in, upload
from tests.support.consent import grant_consent
from tests.support.factories.accounts import AdminFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(seeded: SignedIn) -> SignedIn:
    """A user with recommendations, who then withdrew consent (keeping their data)."""
    assert seeded.client.delete("/api/v1/consent").status_code == HTTPStatus.OK
    return seeded


@pytest.fixture
def consenting() -> SignedIn:
    """Another user, who consents, for contrast."""
    other = sign_in(grant_consent(UserFactory.create()))
    upload(other.client, json.dumps(synthetic_user(1, 9).body).encode())
    return other


def item_of(signed: SignedIn) -> Recommendation:
    found = Recommendation.objects.filter(user=signed.user).first()
    assert found is not None
    return found


@pytest.mark.parametrize("caller", ["operator", "admin", "api_key"])
def test_their_review_items_answer_404(withdrawn: SignedIn, caller: str) -> None:
    client = (
        key_client()
        if caller == "api_key"
        else sign_in({"operator": OperatorFactory, "admin": AdminFactory}[caller].create()).client
    )
    item = item_of(withdrawn)

    detail = client.get(f"{REVIEW}/{item.pk}")
    listed = client.get(f"{REVIEW}?user={withdrawn.user.id}").json()
    read = client.get(f"/api/v1/recommendations/{item.pk}")

    assert detail.status_code == HTTPStatus.NOT_FOUND
    assert listed["count"] == 0
    # Keys read only the operator endpoints; people who may read anyone's data get a 404.
    expected = HTTPStatus.FORBIDDEN if caller == "api_key" else HTTPStatus.NOT_FOUND
    assert read.status_code == expected


def test_decisions_and_edits_on_them_are_refused(withdrawn: SignedIn) -> None:
    operator = sign_in(OperatorFactory.create())
    item = item_of(withdrawn)

    approve = operator.client.post(f"{REVIEW}/{item.pk}/approve", {})
    edit = operator.client.put(f"{REVIEW}/{item.pk}", {"title": "New"}, format="json")
    bulk = operator.client.post(
        f"{REVIEW}/bulk", {"action": "approve", "ids": [str(item.pk)]}, format="json"
    )

    assert approve.status_code == HTTPStatus.NOT_FOUND
    assert edit.status_code == HTTPStatus.NOT_FOUND
    assert bulk.status_code == HTTPStatus.BAD_REQUEST
    assert bulk.json()["errors"][0]["attr"] == "ids"
    item.refresh_from_db()
    assert (item.status, item.title, item.revision) == ("pending", item.title, 0)


def test_a_decision_begun_before_the_withdrawal_is_refused_after_it(seeded: SignedIn) -> None:
    """The service locks the item through the consent rule: what the caller loaded earlier
    does not count."""
    from rest_framework.exceptions import NotFound

    from operator_console.services import recommendation_decide

    item = item_of(seeded)  # an operator opened it while the user consented
    assert seeded.client.delete("/api/v1/consent").status_code == HTTPStatus.OK

    with pytest.raises(NotFound):
        recommendation_decide(recommendation=item, action="approve", actor=OperatorFactory.create())


def test_they_drop_out_of_the_queue_and_its_console(
    withdrawn: SignedIn, consenting: SignedIn
) -> None:
    operator = sign_in(OperatorFactory.create())
    console = Client()
    console.force_login(OperatorFactory.create())
    item = item_of(withdrawn)

    queue = operator.client.get(REVIEW).json()["results"]
    page = console.get("/admin/recommendations/recommendation/")
    opened = console.get(f"/admin/recommendations/recommendation/{item.pk}/change/")
    decided = console.post(
        f"/admin/recommendations/recommendation/{item.pk}/decide/approve/", {"reason": "x"}
    )

    assert {r["user_id"] for r in queue} == {str(consenting.user.id)}
    assert str(item.pk) not in page.content.decode()
    assert opened.status_code == HTTPStatus.FOUND  # "doesn't exist", back to the list
    assert decided.status_code == HTTPStatus.NOT_FOUND
    for path in ("signalsnapshot", "personaassignment"):
        listing = console.get(f"/admin/recommendations/{path}/").content.decode()
        assert str(withdrawn.user.email) not in listing
        assert str(consenting.user.email) in listing
    uploads = console.get("/admin/uploads/dataupload/").content.decode()
    assert str(withdrawn.user.email) not in uploads
    admin = Client()
    admin.force_login(AdminFactory.create())
    user_page = admin.get(f"/admin/accounts/user/{withdrawn.user.pk}/change/").content
    assert b"has not consented" in user_page  # admins manage the account, never see the data


def test_their_uploads_are_hidden_from_operators(withdrawn: SignedIn, consenting: SignedIn) -> None:
    operator = sign_in(OperatorFactory.create())

    listed = operator.client.get("/api/v1/data/upload").json()["results"]
    own = withdrawn.client.get("/api/v1/data/upload").json()["results"]
    upload_id = own[0]["upload_id"]

    assert {u["user_id"] for u in listed} == {str(consenting.user.id)}
    assert operator.client.get(f"/api/v1/data/upload/{upload_id}").status_code == 404
    assert own  # their own uploads stay theirs to see


def test_analytics_count_only_consenting_users(withdrawn: SignedIn, consenting: SignedIn) -> None:
    operator = sign_in(OperatorFactory.create())

    body = operator.client.get("/api/v1/operator/analytics").json()
    coverage = operator.client.get("/api/v1/operator/analytics/coverage").json()
    performance = operator.client.get("/api/v1/operator/analytics/performance").json()

    theirs = Recommendation.objects.filter(user=consenting.user).count()
    assert body["recommendations"]["total"] == theirs
    assert coverage["users_with_data"] == 1
    assert coverage["users_consenting"] == 1  # the operator has not consented: not a data user
    assert performance["uploads"]["processed"] == 1


def test_exports_leave_them_out(withdrawn: SignedIn, consenting: SignedIn, tmp_path: Any) -> None:
    import pyarrow.parquet as pq
    from django.core.files.storage import FileSystemStorage

    from operator_console.exports import export_parquet

    storage = FileSystemStorage(location=str(tmp_path))
    from django.utils import timezone

    today = timezone.now().date()
    export_parquet(start=today, end=today, storage=storage)

    for table in ("signals", "personas", "recommendations"):
        (path,) = list(tmp_path.rglob(f"{table}.parquet"))
        users = set(pq.read_table(path).column("user_id").to_pylist())
        assert users == {str(consenting.user.id)}, table
    call_command("export_parquet", stdout=io.StringIO())  # the command runs the same code


def test_exported_decisions_leave_them_out(
    seeded: SignedIn,
    consenting: SignedIn,
    tmp_path: Any,
) -> None:
    import pyarrow.parquet as pq
    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone

    from operator_console.exports import export_parquet

    operator = sign_in(OperatorFactory.create())
    theirs, kept = item_of(seeded), item_of(consenting)
    for item in (theirs, kept):
        assert operator.client.post(f"{REVIEW}/{item.pk}/approve", {}).status_code == 200
    assert seeded.client.delete("/api/v1/consent").status_code == HTTPStatus.OK

    today = timezone.now().date()
    export_parquet(start=today, end=today, storage=FileSystemStorage(location=str(tmp_path)))

    (path,) = list(tmp_path.rglob("decisions.parquet"))
    assert pq.read_table(path).column("recommendation_id").to_pylist() == [str(kept.pk)]


def test_operators_do_not_find_them_among_the_console_users(
    withdrawn: SignedIn, consenting: SignedIn
) -> None:
    operator = Client()
    operator.force_login(OperatorFactory.create())
    admin = Client()
    admin.force_login(AdminFactory.create())
    local = str(withdrawn.user.email).split("@")[0]
    picker = "/admin/autocomplete/?app_label=uploads&model_name=dataupload&field_name=user&term="

    listing = operator.get(f"/admin/accounts/user/?q={local}").content.decode()
    found = operator.get(picker + local)
    opened = operator.get(f"/admin/accounts/user/{withdrawn.user.pk}/change/")
    managed = admin.get(f"/admin/accounts/user/?q={local}").content.decode()

    assert str(withdrawn.user.email) not in listing
    assert str(withdrawn.user.id) not in found.content.decode()
    assert opened.status_code == HTTPStatus.FOUND  # "doesn't exist", back to the list
    assert str(withdrawn.user.email) in managed  # admins manage every account
