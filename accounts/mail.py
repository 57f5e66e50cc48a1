"""Mail to people about their account: rendered from templates (plain text plus HTML) while
the request runs, handed to a Celery task when the transaction commits, sent through Django's
mail API (``EMAIL_BACKEND``) with retries.

A message is rendered up front, so the task needs no database row that a later change could
alter (the notice to an address someone just replaced must reach the old address).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def frontend_link(path: str, *, key: str) -> str:
    """A link into the web client carrying a mailed key (``{FRONTEND_URL}/<path>?key=<key>``)."""
    return f"{settings.FRONTEND_URL}/{path}?key={key}"


def mail_send(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Render ``templates/email/<template>.{subject.txt,txt,html}`` and send it to ``to`` once
    the current transaction commits (never for a rolled-back change)."""
    subject = " ".join(render_to_string(f"email/{template}.subject.txt", context).split())
    text = render_to_string(f"email/{template}.txt", context)
    html = render_to_string(f"email/{template}.html", context)
    transaction.on_commit(
        partial(send_email.delay, to=to, subject=subject, text=text, html=html), robust=True
    )


@shared_task(
    name="accounts.tasks.send_email",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=settings.EMAIL_SEND_MAX_RETRIES,
    ignore_result=True,
)
def send_email(*, to: str, subject: str, text: str, html: str) -> None:
    """Deliver one message (plain text with an HTML alternative); a failure is retried."""
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()
