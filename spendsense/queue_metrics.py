"""The Celery queues' depth, published to CloudWatch for the workers' autoscaling.

The broker is Redis, which has no depth metric of its own: ``manage.py queue_depth --publish
--every 60`` (a service of its own in ECS, so a backlog on the workers cannot delay it) reads
each queue's length through kombu and sends it with ``PutMetricData``. The worker service
tracks the backlog per running task (deploy/terraform/ecs.tf); why in docs/decisions.md.
"""

from __future__ import annotations

from typing import Any

import boto3
from celery import Celery
from django.conf import settings
from kombu.exceptions import ChannelError

from spendsense.celery_app import app as default_app

METRIC = "QueueDepth"


def queue_names(app: Celery) -> list[str]:
    """Every queue the workers consume: the default one and any declared in settings."""
    return sorted({app.conf.task_default_queue, *app.amqp.queues})


def queue_depths(app: Celery = default_app) -> dict[str, int]:
    """Messages waiting in each queue (all priority levels; not those a worker holds)."""
    depths = {}
    with app.connection_for_read() as connection:
        channel: Any = connection.default_channel  # kombu's stubs omit queue_declare
        for name in queue_names(app):
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:  # never declared, or emptied: Redis keeps no empty list
                depths[name] = 0
    return depths


def cloudwatch_client() -> Any:
    return boto3.client(
        "cloudwatch",
        region_name=settings.AWS_CLOUDWATCH_REGION_NAME,
        endpoint_url=settings.AWS_CLOUDWATCH_ENDPOINT_URL,
    )


def queue_depths_publish(depths: dict[str, int], *, client: Any | None = None) -> None:
    """One data point per queue (dimensions Environment, Queue) and the total (Environment
    only: what the scaling policy reads), in one ``PutMetricData`` call."""
    environment = {"Name": "Environment", "Value": settings.QUEUE_METRICS_ENVIRONMENT}
    data = [
        {
            "MetricName": METRIC,
            "Dimensions": [environment, {"Name": "Queue", "Value": name}],
            "Value": depth,
            "Unit": "Count",
        }
        for name, depth in sorted(depths.items())
    ]
    data.append(
        {
            "MetricName": METRIC,
            "Dimensions": [environment],
            "Value": sum(depths.values()),
            "Unit": "Count",
        }
    )
    (client or cloudwatch_client()).put_metric_data(
        Namespace=settings.QUEUE_METRICS_NAMESPACE, MetricData=data
    )
