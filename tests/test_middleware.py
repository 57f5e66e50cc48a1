"""The middleware the API keeps and the middleware it skips: console-only layers (sessions,
the session user, messages) do not run under /api/v1/; the CSP header, built once per
process, is still on every response; the access line still names the API caller."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from csp.utils import build_policy
from django.test import Client
from rest_framework.test import APIClient

from tests.support.clients import SignedIn
from tests.support.factories.accounts import DEFAULT_PASSWORD, OperatorFactory

pytestmark = pytest.mark.django_db


def test_api_responses_carry_the_same_csp_as_django_csp_builds(signed_in: SignedIn) -> None:
    api = signed_in.client.get("/api/v1/users/me")
    health = APIClient().get("/health")
    console = Client().get("/admin/login/")

    for response in (api, console):
        assert response["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy" not in health  # answered before the middleware


def test_a_policy_changed_in_settings_is_built_again(signed_in: SignedIn, settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    response = signed_in.client.get("/api/v1/users/me")

    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_the_api_does_not_touch_sessions_or_messages(signed_in: SignedIn) -> None:
    signed_in.client.cookies["sessionid"] = "made-up"

    response = signed_in.client.get("/api/v1/users/me")

    assert response.status_code == 200
    assert not response.cookies  # no session saved, no cookie refreshed or deleted
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "_messages")


def test_the_console_still_has_sessions_csrf_and_messages() -> None:
    operator = OperatorFactory.create()
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    token = page.cookies["csrftoken"].value

    refused = client.post("/admin/login/", {"username": operator.email, "password": "x"})
    signed = client.post(
        "/admin/login/",
        {"username": operator.email, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert refused.status_code == 403  # no CSRF token
    assert signed.status_code == 302
    assert client.get("/admin/").status_code == 200  # the session carries the sign-in


def test_the_access_line_names_the_api_caller(
    signed_in: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="spendsense.access"):
        signed_in.client.get("/api/v1/users/me")

    record = next(r for r in caplog.records if r.name == "spendsense.access")
    assert record.__dict__["user_id"] == str(signed_in.user.id)
