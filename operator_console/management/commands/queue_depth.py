"""``manage.py queue_depth [--publish] [--every SECONDS]``: the Celery queues' depth.

Prints each queue's waiting messages; with ``--publish`` also sends them to CloudWatch
(``spendsense.queue_metrics``), and with ``--every`` keeps doing so, once per period, until
stopped: the ``metrics`` service in ECS runs ``--publish --every 60``. A failed round is
logged and the next one runs; the scaling policy holds capacity while data is missing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spendsense.queue_metrics import queue_depths, queue_depths_publish

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Print (and publish to CloudWatch) the depth of every Celery queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--publish", action="store_true", help="Send to CloudWatch too.")
        parser.add_argument(
            "--every", type=float, default=0, help="Repeat every SECONDS (at least 10)."
        )

    def handle(self, *args: Any, publish: bool, every: float, **options: Any) -> None:
        if every and every < 10:
            raise CommandError("--every must be at least 10 seconds (CloudWatch's resolution)")
        while True:
            started = time.monotonic()
            try:
                self._round(publish)
            except Exception:
                if not every:
                    raise
                logger.exception("queue depth: this round failed; the next one runs")
            if not every:
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))

    def _round(self, publish: bool) -> None:
        depths = queue_depths()
        if publish:
            queue_depths_publish(depths)
        self.stdout.write(" ".join(f"{name}={depth}" for name, depth in depths.items()))
