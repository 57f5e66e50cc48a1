"""export_parquet writes every analytics table as Parquet under analytics/dt=<end>/."""

from __future__ import annotations

import io
from io import StringIO

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from recommendations.models import Recommendation
from tests.support.commits import committed
from tests.support.factories.accounts import OperatorFactory

pytestmark = pytest.mark.django_db


def read(key: str) -> list[dict]:
    with default_storage.open(key, "rb") as handle:
        return pq.read_table(io.BytesIO(handle.read())).to_pylist()


def test_export_parquet_writes_each_table(s3_default_storage: str) -> None:
    with committed():
        call_command("seed_demo", "--users", "3", "--seed", "21", stdout=StringIO())
    rec = Recommendation.objects.first()
    assert rec is not None
    from operator_console.services import recommendation_decide

    recommendation_decide(
        recommendation=rec, action="approve", actor=OperatorFactory.create(), reason="fine"
    )
    out = StringIO()

    call_command("export_parquet", stdout=out)

    day = timezone.now().date().isoformat()
    recommendations = read(f"analytics/dt={day}/recommendations.parquet")
    assert len(recommendations) == Recommendation.objects.count()
    assert {r["status"] for r in recommendations} == {"approved", "pending"}
    assert len(read(f"analytics/dt={day}/signals.parquet")) == 6  # 3 users x 2 windows
    assert {p["window"] for p in read(f"analytics/dt={day}/personas.parquet")} == {"30d", "180d"}
    decisions = read(f"analytics/dt={day}/decisions.parquet")
    assert [(d["action"], d["reason"]) for d in decisions] == [("review.approve", "fine")]
    assert "recommendations:" in out.getvalue()

    call_command("export_parquet", stdout=StringIO())  # a rerun replaces the day's files
    assert len(read(f"analytics/dt={day}/recommendations.parquet")) == len(recommendations)


def test_export_parquet_refuses_a_reversed_range() -> None:
    with pytest.raises(CommandError):
        call_command("export_parquet", "--start", "2026-02-01", "--end", "2026-01-01")


def test_export_goes_to_the_analytics_bucket_when_named(
    aws_endpoint: str, settings: object
) -> None:
    import boto3

    from operator_console.exports import export_parquet

    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="spendsense-test-analytics")
    settings.AWS_ANALYTICS_BUCKET_NAME = "spendsense-test-analytics"  # type: ignore[attr-defined]
    settings.AWS_S3_ENDPOINT_URL = aws_endpoint  # type: ignore[attr-defined]
    day = timezone.now().date()

    written = export_parquet(start=day, end=day)

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="spendsense-test-analytics")["Contents"]}
    assert keys == {info["key"] for info in written.values()}
    head = s3.head_object(Bucket="spendsense-test-analytics", Key=written["signals"]["key"])
    assert head["ServerSideEncryption"] == "AES256"
