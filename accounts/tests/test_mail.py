"""Mail delivery: the backend chosen by EMAIL_BACKEND, after commit, retried, text plus HTML."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from accounts.mail import mail_send, send_email
from tests.support.commits import committed

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _backend_for(env: dict[str, str]) -> str:
    """EMAIL_BACKEND as the settings module reads it from ``env`` (a fresh interpreter)."""
    code = "import spendsense.settings as s; print(s.EMAIL_BACKEND)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("name", "backend"),
    [
        ("console", "django.core.mail.backends.console.EmailBackend"),
        ("file", "django.core.mail.backends.filebased.EmailBackend"),
        ("smtp", "django.core.mail.backends.smtp.EmailBackend"),
        ("ses", "django_ses.SESBackend"),
    ],
)
def test_email_backend_names_a_django_backend(name: str, backend: str) -> None:
    assert _backend_for({"EMAIL_BACKEND": name}) == backend


def test_console_is_the_development_default_and_unknown_names_refused() -> None:
    assert _backend_for({"EMAIL_BACKEND": ""}) == "django.core.mail.backends.console.EmailBackend"
    assert "EMAIL_BACKEND must be one of" in _backend_for({"EMAIL_BACKEND": "carrier-pigeon"})


def test_mail_goes_after_commit_with_text_and_html() -> None:
    with committed():
        mail_send(
            to="ada@example.com",
            template="verify_email",
            context={"email": "o'brien&co@example.com", "link": "http://x/verify-email?key=k"},
        )
        assert mail.outbox == []  # not before the commit

    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.from_email == "SpendSense <no-reply@spendsense.local>"
    assert message.subject == "Confirm your email address for SpendSense"
    assert "o'brien&co@example.com" in message.body  # plain text is not HTML-escaped
    [(html, mimetype)] = message.alternatives  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert "o&#x27;brien&amp;co@example.com" in html
    assert 'href="http://x/verify-email?key=k"' in html


def test_a_rolled_back_change_mails_nothing() -> None:
    with committed():
        try:
            with transaction.atomic():
                mail_send(to="a@example.com", template="verify_email", context={})
                raise RuntimeError
        except RuntimeError:
            pass

    assert mail.outbox == []


class FlakyBackend(BaseEmailBackend):
    """Fails the first two sends, as an SMTP server or SES briefly unreachable does."""

    calls = 0

    def send_messages(self, email_messages: Any) -> int:
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= 2:
            raise ConnectionError("mail server unreachable")
        mail.outbox.extend(email_messages)
        return len(email_messages)


def test_delivery_is_retried(settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0

    send_email.delay(to="a@example.com", subject="s", text="t", html="<p>t</p>")

    assert FlakyBackend.calls == 3
    assert [m.to for m in mail.outbox] == [["a@example.com"]]


def test_ses_backend_sends_through_boto3(settings: Any, aws_endpoint: str) -> None:
    """SES (moto's server at the HTTP boundary) receives the message from a verified sender."""
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_NAME = "us-east-1"
    settings.AWS_SES_REGION_ENDPOINT_URL = aws_endpoint
    settings.DEFAULT_FROM_EMAIL = "no-reply@spendsense.example"
    ses = boto3.client("ses", endpoint_url=aws_endpoint, region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="no-reply@spendsense.example")
    before = ses.get_send_quota()["SentLast24Hours"]

    send_email.delay(to="ada@example.com", subject="Hello", text="t", html="<p>t</p>")

    assert ses.get_send_quota()["SentLast24Hours"] > before
