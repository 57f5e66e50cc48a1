"""S3 storage through django-storages, against moto's server."""

from __future__ import annotations

from pathlib import Path

import boto3
import requests

from tests.support import djangoproc

ROUND_TRIP = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save('uploads/u1/a.json', ContentFile(b'{"accounts": []}'))
with default_storage.open(name) as handle:
    content = handle.read().decode()
print(json.dumps({'name': name, 'content': content, 'url': default_storage.url(name)}))
"""


def test_s3_round_trip_with_encryption_and_presigned_url(tmp_path: Path, aws_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="spendsense-storage-test")
    env = djangoproc.clean_env(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="spendsense-storage-test",
        AWS_S3_ENDPOINT_URL=aws_endpoint,
    )

    result = djangoproc.run_json(ROUND_TRIP, env)

    assert result["name"] == "uploads/u1/a.json"
    assert result["content"] == '{"accounts": []}'
    head = s3.head_object(Bucket="spendsense-storage-test", Key="uploads/u1/a.json")
    assert head["ServerSideEncryption"] == "AES256"
    assert "X-Amz-Signature=" in result["url"]
    assert "X-Amz-Expires=300" in result["url"]
    assert requests.get(result["url"], timeout=10).content == b'{"accounts": []}'
