"""Sending SMS, behind a small interface like Django's email backends (``SMS_BACKEND``)."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class ConsoleBackend:
    """Development: the message goes to the log."""

    def send(self, *, to: str, body: str) -> None:
        logger.info("sms", extra={"to": to, "body": body})


class FileBackend:
    """Tests and demos: one file per message, line 1 ``To: <E.164>``, then the body."""

    def send(self, *, to: str, body: str) -> None:
        folder = settings.SMS_FILE_PATH
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.txt"
        (folder / name).write_text(f"To: {to}\n{body}\n")


class SnsBackend:
    """Production: Amazon SNS, transactional SMS."""

    def send(self, *, to: str, body: str) -> None:
        import boto3

        client = boto3.client(
            "sns",
            endpoint_url=settings.AWS_SNS_ENDPOINT_URL,
            region_name=settings.AWS_S3_REGION_NAME,
        )
        client.publish(
            PhoneNumber=to,
            Message=body,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "SpendSense"},
            },
        )


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "sns": SnsBackend,
}


def sms_backend() -> SmsBackend:
    try:
        return BACKENDS[settings.SMS_BACKEND]()
    except KeyError:
        raise ValueError(f"SMS_BACKEND must be one of {', '.join(BACKENDS)}") from None
