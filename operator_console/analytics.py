"""Analytics over a date range (DESIGN §9): coverage, explainability, auditability, review,
latency, engagement, cache and fairness. Reads only; every figure says what it counts."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from consent.selectors import visible_to_staff
from operator_console.models import SyntheticDemographic
from recommendations.cache import cache_stats
from recommendations.models import Feedback, PersonaAssignment, Recommendation, SignalSnapshot
from uploads.models import DataUpload, UploadStatus


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range as [first moment, moment after the last day); any valid dates, the last day
    of the calendar included."""
    tz = timezone.get_current_timezone()
    high = (
        datetime.combine(end + timedelta(days=1), time.min, tz)
        if end < date.max
        else datetime.max.replace(tzinfo=tz)
    )
    return datetime.combine(start, time.min, tz), high


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _current_personas(window: str = "30d") -> dict[Any, str | None]:
    """Each user's current persona for a window (latest assignment)."""
    current: dict[Any, str | None] = {}
    for user_id, persona in (
        visible_to_staff(PersonaAssignment.objects.filter(window=window))
        .order_by("user_id", "-assigned_at", "-id")
        .values_list("user_id", "persona")
    ):
        current.setdefault(user_id, persona)
    return current


def coverage(start: date, end: date) -> dict[str, Any]:
    """Users with a persona and at least three detected signals, among users with data."""
    snapshots = {
        s["user_id"]: s["data"].get("detected", [])
        for s in visible_to_staff(SignalSnapshot.objects.filter(window="30d")).values(
            "user_id", "data"
        )
    }
    personas = _current_personas()
    with_data = len(snapshots)
    covered = sum(
        1 for user_id, detected in snapshots.items() if personas.get(user_id) and len(detected) >= 3
    )
    with_persona = sum(1 for user_id in snapshots if personas.get(user_id))
    mix = Counter(personas.get(user_id) or "none" for user_id in snapshots)
    return {
        "users_consenting": visible_to_staff(User.objects.all(), user_field=None).count(),
        "users_with_data": with_data,
        "users_with_persona": with_persona,
        "users_covered": covered,
        "coverage": _rate(covered, with_data),
        "persona_mix": dict(sorted(mix.items())),
        "signals_detected": dict(sorted(Counter(s for d in snapshots.values() for s in d).items())),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def persona_mix_over_time(start: date, end: date) -> list[dict[str, Any]]:
    """Persona assignments (30-day window) per week of the range, by persona."""
    low, high = _bounds(start, end)
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    for assigned_at, persona in visible_to_staff(
        PersonaAssignment.objects.filter(window="30d", assigned_at__gte=low, assigned_at__lt=high)
    ).values_list("assigned_at", "persona"):
        monday = (assigned_at.date() - timedelta(days=assigned_at.weekday())).isoformat()
        weeks[monday][persona or "none"] += 1
    return [{"week": week, "counts": dict(counts)} for week, counts in sorted(weeks.items())]


def overview(start: date, end: date) -> dict[str, Any]:
    low, high = _bounds(start, end)
    recs = visible_to_staff(Recommendation.objects.filter(created_at__gte=low, created_at__lt=high))
    counts = recs.aggregate(
        total=Count("id"),
        with_rationale=Count("id", filter=~Q(rationale="")),
        with_trace=Count("id", filter=~Q(decision_trace={})),
        approved=Count("id", filter=Q(status="approved")),
        rejected=Count("id", filter=Q(status="rejected")),
        pending=Count("id", filter=Q(status="pending")),
        flagged=Count("id", filter=Q(flagged=True)),
        edited=Count("id", filter=Q(revision__gt=0)),
    )
    decided = counts["approved"] + counts["rejected"]
    feedback = visible_to_staff(Feedback.objects.filter(created_at__gte=low, created_at__lt=high))
    helpful = feedback.filter(rating="helpful").count()
    approved_ids = recs.filter(status="approved")
    engaged = (
        Feedback.objects.filter(recommendation__in=approved_ids)
        .values("recommendation")
        .distinct()
        .count()
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "coverage": coverage(start, end),
        "recommendations": counts,
        "explainability": _rate(counts["with_rationale"], counts["total"]),
        "auditability": _rate(counts["with_trace"], counts["total"]),
        "approval_rate": _rate(counts["approved"], decided),
        "rejection_rate": _rate(counts["rejected"], decided),
        "engagement": {
            "feedback": feedback.count(),
            "helpful": helpful,
            "helpful_share": _rate(helpful, feedback.count()),
            "approved_with_feedback_share": _rate(engaged, counts["approved"]),
        },
        "performance": performance(start, end),
        "fairness": fairness(),
        "persona_mix_over_time": persona_mix_over_time(start, end),
    }


def performance(start: date, end: date) -> dict[str, Any]:
    """Per-upload processing latency (created to processed) and the insights cache."""
    low, high = _bounds(start, end)
    uploads = visible_to_staff(DataUpload.objects.filter(created_at__gte=low, created_at__lt=high))
    latencies = [
        (processed - created).total_seconds() * 1000
        for created, processed in uploads.filter(status=UploadStatus.PROCESSED).values_list(
            "created_at", "processed_at"
        )
        if processed is not None
    ]
    latencies.sort()
    # The counters live 40 days: the last 40 days of the range at most (never a list as long
    # as the range, which a caller chooses).
    days = [end - timedelta(days=n) for n in range(min((end - start).days + 1, 40))]
    stats = cache_stats(days=days)
    lookups = stats["hits"] + stats["misses"]
    by_status = dict(
        uploads.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {
        "uploads": {status: by_status.get(status, 0) for status in UploadStatus.values},
        "latency_ms": {
            "count": len(latencies),
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))], 1)
            if latencies
            else None,
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "cache": {**stats, "hit_rate": _rate(stats["hits"], lookups)},
    }


def fairness() -> dict[str, Any]:
    """Persona and offer rates across age bands (synthetic users only), with parity ratios
    (lowest group rate / highest; 1.0 is parity, under 0.8 deserves a look)."""
    bands = dict(
        visible_to_staff(SyntheticDemographic.objects.all()).values_list("user_id", "age_band")
    )
    personas = _current_personas()
    offered = set(
        Recommendation.objects.filter(type="partner_offer", user_id__in=bands)
        .values_list("user_id", flat=True)
        .distinct()
    )
    groups: dict[str, dict[str, Any]] = {}
    for band in sorted(set(bands.values())):
        members = [u for u, b in bands.items() if b == band]
        persona_counts = Counter(personas.get(u) or "none" for u in members)
        groups[band] = {
            "users": len(members),
            "offer_rate": _rate(sum(1 for u in members if u in offered), len(members)),
            "persona_rates": {p: _rate(n, len(members)) for p, n in sorted(persona_counts.items())},
        }
    offer_rates = [g["offer_rate"] for g in groups.values() if g["offer_rate"] is not None]
    parity = (
        round(min(offer_rates) / max(offer_rates), 4)
        if offer_rates and max(offer_rates) > 0
        else None
    )
    return {"groups": groups, "offer_rate_parity": parity, "attribute": "age_band"}
