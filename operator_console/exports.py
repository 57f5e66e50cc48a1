"""Analytics exports: signals, personas, recommendations and review decisions as Parquet."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

from accounts.models import AuditEvent
from consent.selectors import visible_to_staff
from operator_console.analytics import _bounds
from operator_console.selectors import review_items
from recommendations.models import PersonaAssignment, Recommendation, SignalSnapshot
from spendsense.db import replica_reads
from spendsense.storage import s3_storage


def analytics_storage() -> Storage:
    """The analytics bucket when one is named (production), else the default storage."""
    bucket = getattr(settings, "AWS_ANALYTICS_BUCKET_NAME", "")
    if not bucket:
        return default_storage
    from storages.backends.s3 import S3Storage  # boto3 only when exports go to S3

    options = s3_storage(
        bucket=bucket, endpoint_url=settings.AWS_S3_ENDPOINT_URL, region=settings.AWS_S3_REGION_NAME
    )["OPTIONS"]
    return S3Storage(**{**options, "file_overwrite": True})


def _signals(low: Any, high: Any) -> list[dict[str, Any]]:
    rows = []
    for s in visible_to_staff(
        SignalSnapshot.objects.filter(computed_at__gte=low, computed_at__lt=high)
    ).iterator():
        data = s.data
        rows.append(
            {
                "user_id": str(s.user_id),
                "window": s.window,
                "as_of": s.as_of,
                "monthly_expenses": float(data.get("monthly_expenses") or 0),
                "max_utilization": data.get("credit", {}).get("max_utilization"),
                "recurring_merchants": data.get("subscriptions", {}).get(
                    "recurring_merchant_count"
                ),
                "monthly_recurring_spend": float(
                    data.get("subscriptions", {}).get("monthly_recurring_spend") or 0
                ),
                "savings_balance": float(data.get("savings", {}).get("savings_balance") or 0),
                "monthly_income": float(data.get("income", {}).get("monthly_income") or 0),
                "cash_flow_buffer_months": data.get("income", {}).get("cash_flow_buffer_months"),
                "detected": ",".join(data.get("detected", [])),
                "computed_at": s.computed_at,
            }
        )
    return rows


def _personas(low: Any, high: Any) -> list[dict[str, Any]]:
    return [
        {
            "user_id": str(p["user_id"]),
            "window": p["window"],
            "persona": p["persona"],
            "matched": ",".join(p["matched"]),
            "as_of": p["as_of"],
            "assigned_at": p["assigned_at"],
        }
        for p in visible_to_staff(
            PersonaAssignment.objects.filter(assigned_at__gte=low, assigned_at__lt=high)
        ).values("user_id", "window", "persona", "matched", "as_of", "assigned_at")
    ]


def _recommendations(low: Any, high: Any) -> list[dict[str, Any]]:
    return [
        {**r, "id": str(r["id"]), "user_id": str(r["user_id"])}
        for r in visible_to_staff(
            Recommendation.objects.filter(created_at__gte=low, created_at__lt=high)
        ).values(
            "id",
            "user_id",
            "type",
            "slug",
            "persona",
            "window",
            "score",
            "status",
            "flagged",
            "revision",
            "created_at",
            "decided_at",
        )
    ]


def _decisions(low: Any, high: Any) -> list[dict[str, Any]]:
    """Review actions of the range, on items of users who consent (the audit trail names an
    item by id only, so the items are looked up among those staff may see)."""
    events = list(
        AuditEvent.objects.filter(
            created_at__gte=low, created_at__lt=high, action__startswith="review."
        ).order_by("created_at")
    )
    visible = {
        str(pk)
        for pk in review_items()
        .filter(pk__in={e.target_id for e in events})
        .values_list("pk", flat=True)
    }
    return [
        {
            "at": e.created_at,
            "actor_id": str(e.actor_id) if e.actor_id else None,
            "action": e.action,
            "recommendation_id": e.target_id,
            "reason": (e.details or {}).get("reason", ""),
        }
        for e in events
        if e.target_id in visible
    ]


TABLES: dict[str, Callable[[Any, Any], list[dict[str, Any]]]] = {
    "signals": _signals,
    "personas": _personas,
    "recommendations": _recommendations,
    "decisions": _decisions,
}


def export_parquet(*, start: date, end: date, storage: Storage | None = None) -> dict[str, Any]:
    """Write each table for ``start``..``end`` to ``analytics/dt=<end>/<table>.parquet``."""
    storage = storage or analytics_storage()
    low, high = _bounds(start, end)
    written = {}
    for name, rows_of in TABLES.items():
        with replica_reads():  # a batch job of its own: no write of its caller to see
            rows = rows_of(low, high)
        table = pa.Table.from_pylist(rows) if rows else pa.table({})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        key = f"analytics/dt={end.isoformat()}/{name}.parquet"
        if storage.exists(key):
            storage.delete(key)  # a rerun of the same day replaces its export
        storage.save(key, ContentFile(buffer.getvalue()))
        written[name] = {"key": key, "rows": len(rows)}
    return written
