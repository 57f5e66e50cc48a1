"""The S3 storage configuration, in one place for settings and tests."""

from __future__ import annotations

from typing import Any


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None,
    region: str,
    kms_key_id: str = "",
    url_expire_seconds: int = 300,
) -> dict[str, Any]:
    """A ``STORAGES`` entry: private objects, server-side encryption on every write (KMS when a
    key is named), short-lived pre-signed URLs, never overwriting an existing key."""
    encryption = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        if kms_key_id
        else {"ServerSideEncryption": "AES256"}
    )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "object_parameters": encryption,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": url_expire_seconds,
            "signature_version": "s3v4",
        },
    }
