"""The queues' depth: read from the real Redis broker, published to CloudWatch (moto's server,
the AWS boundary), as ``manage.py queue_depth`` does for the workers' autoscaling."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import boto3
import pytest
from celery import Celery
from django.core.management import CommandError, call_command
from kombu import Queue

from spendsense.celery_app import app
from spendsense.queue_metrics import METRIC, queue_depths, queue_depths_publish

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "")

needs_redis = pytest.mark.skipif(
    not BROKER, reason="needs a Redis broker: set CELERY_TEST_BROKER_URL"
)


@pytest.fixture
def broker_app() -> Any:
    """A Celery app on the test broker with two queues of its own (unique names, removed
    afterwards), so nothing else on that broker is counted or touched."""
    tag = uuid.uuid4().hex[:8]
    app = Celery(f"depth-{tag}", broker=BROKER)
    default, other = f"depth-{tag}", f"depth-{tag}-bulk"
    app.conf.task_default_queue = default
    app.conf.task_queues = [Queue(default), Queue(other)]
    yield app, default, other
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel  # kombu's stubs omit queue_delete
        for name in (default, other):
            channel.queue_delete(name)


@needs_redis
def test_depths_count_the_messages_waiting_in_each_queue(broker_app: Any) -> None:
    app, default, other = broker_app
    assert queue_depths(app) == {default: 0, other: 0}

    for _ in range(3):
        app.send_task("spendsense.nothing", queue=default)
    app.send_task("spendsense.nothing", queue=other, priority=9)

    assert queue_depths(app) == {default: 3, other: 1}


def cloudwatch(endpoint: str) -> Any:
    return boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")


def test_publishing_sends_each_queue_and_the_total_to_the_namespace(
    aws_endpoint: str, settings: Any
) -> None:
    environment = f"test-{uuid.uuid4().hex[:8]}"
    settings.AWS_CLOUDWATCH_ENDPOINT_URL = aws_endpoint
    settings.QUEUE_METRICS_ENVIRONMENT = environment

    queue_depths_publish({"celery": 7, "bulk": 5})

    client = cloudwatch(aws_endpoint)
    listed = client.list_metrics(Namespace=settings.QUEUE_METRICS_NAMESPACE, MetricName=METRIC)
    ours = [
        {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        for metric in listed["Metrics"]
        if {"Name": "Environment", "Value": environment} in metric["Dimensions"]
    ]
    assert sorted(ours, key=lambda d: d.get("Queue", "")) == [
        {"Environment": environment},
        {"Environment": environment, "Queue": "bulk"},
        {"Environment": environment, "Queue": "celery"},
    ]
    now = datetime.now(UTC)
    total = client.get_metric_statistics(
        Namespace=settings.QUEUE_METRICS_NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": "Environment", "Value": environment}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in total["Datapoints"]] == [12.0]


@needs_redis
def test_the_command_prints_and_publishes_the_project_queues(
    aws_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = f"test-{uuid.uuid4().hex[:8]}"
    settings.AWS_CLOUDWATCH_ENDPOINT_URL = aws_endpoint
    settings.QUEUE_METRICS_ENVIRONMENT = environment
    monkeypatch.setattr(app.conf, "broker_url", BROKER)
    out = StringIO()

    call_command("queue_depth", "--publish", stdout=out)

    assert out.getvalue().startswith("celery=")
    listed = cloudwatch(aws_endpoint).list_metrics(
        Namespace=settings.QUEUE_METRICS_NAMESPACE,
        Dimensions=[{"Name": "Environment", "Value": environment}],
    )
    assert len(listed["Metrics"]) == 2  # the celery queue and the total


def test_a_period_under_ten_seconds_is_refused() -> None:
    with pytest.raises(CommandError, match="at least 10 seconds"):
        call_command("queue_depth", "--every", "5")
