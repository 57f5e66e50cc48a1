"""Writes of the engine: recompute a user's insights, record feedback, erase derived data."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ConsentStatus, User
from consent.services import ConsentRequired
from recommendations.engine import ENGINE_VERSION, personas
from recommendations.engine.choose import DISCLAIMER, choose
from recommendations.engine.signals import compute_signals
from recommendations.models import (
    Feedback,
    PersonaAssignment,
    Recommendation,
    RecommendationStatus,
    SignalSnapshot,
)
from recommendations.selectors import catalog_load, user_data_load
from recommendations.state import user_state_erase, user_state_refresh, user_state_write
from spendsense import coherence
from spendsense.api.errors import Conflict, DomainError

logger = logging.getLogger(__name__)


def _summary(window: dict[str, Any]) -> dict[str, Any]:
    """The figures of a window a reviewer needs in a decision trace (every figure of every
    window is in the user's signal snapshot; this is what each recommendation repeats)."""
    return {
        "monthly_expenses": window["monthly_expenses"],
        "max_utilization": window["credit"]["max_utilization"],
        "interest_charged": window["credit"]["interest_charged"],
        "minimum_payment_only": window["credit"]["minimum_payment_only"],
        "overdue": window["credit"]["overdue"],
        "recurring_merchant_count": window["subscriptions"]["recurring_merchant_count"],
        "monthly_recurring_spend": window["subscriptions"]["monthly_recurring_spend"],
        "subscription_share": window["subscriptions"]["subscription_share"],
        "recurring_bill_count": window["bills"]["recurring_bill_count"],
        "monthly_bill_spend": window["bills"]["monthly_bill_spend"],
        "savings_balance": window["savings"]["savings_balance"],
        "monthly_net_inflow": window["savings"]["monthly_net_inflow"],
        "transfers_to_savings_elsewhere": window["savings"]["transfers_to_savings_elsewhere"],
        "savings_growth_rate": window["savings"]["growth_rate"],
        "emergency_fund_months": window["savings"]["emergency_fund_months"],
        "monthly_income": window["income"]["monthly_income"],
        "monthly_income_method": window["income"]["monthly_income_method"],
        "income_regular": window["income"]["regular"],
        "median_income_gap_days": window["income"]["median_gap_days"],
        "longest_income_gap_days": window["income"]["longest_gap_days"],
        "cash_flow_buffer_months": window["income"]["cash_flow_buffer_months"],
        "detected": window["detected"],
    }


def _consenting_locked(user_id: uuid.UUID) -> bool:
    """Whether the user still consents, with their row locked until the transaction ends."""
    locked = User.objects.select_for_update().filter(
        pk=user_id, consent_status=ConsentStatus.GRANTED
    )
    return bool(list(locked.values_list("pk", flat=True)))


def user_recompute(*, user_id: uuid.UUID) -> dict[str, Any]:
    """Recompute signals, personas and recommendations of one user from their stored data.

    Pending recommendations are replaced; approved and rejected ones are kept, and their
    catalog items are not proposed again. Returns timings (ms) for benchmarks.
    """
    started = time.perf_counter()
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.consent_status != ConsentStatus.GRANTED:
        return {"skipped": True}
    data = user_data_load(user_id=user_id)
    loaded = time.perf_counter()
    as_of = data.as_of()
    thresholds = settings.ENGINE
    if as_of is None:
        SignalSnapshot.objects.filter(user_id=user_id).delete()
        user_state_refresh(user_id=user_id)  # analytics' current state: no data now
        coherence.user_changed(user_id)
        return {"as_of": None}

    signals = compute_signals(data, as_of, thresholds)
    assigned = {
        name: personas.assign(window, thresholds) for name, window in signals["windows"].items()
    }
    catalog, catalog_version = catalog_load()
    decided = frozenset(
        Recommendation.objects.filter(user_id=user_id)
        .exclude(status=RecommendationStatus.PENDING)
        .values_list("slug", flat=True)
    )
    held = {a.subtype for a in data.accounts}
    if any(window["savings"]["saves_elsewhere"] for window in signals["windows"].values()):
        # Transfers out to a savings account not in the data: the person holds one.
        held.add("savings")
    choices, excluded_offers = choose(catalog, signals, assigned, held, thresholds, decided)
    computed = time.perf_counter()

    now = timezone.now()
    review = settings.RECOMMENDATIONS_REQUIRE_REVIEW
    base_trace = {
        "engine_version": ENGINE_VERSION,
        "catalog_version": catalog_version,
        "as_of": signals["as_of"],
        "inputs": signals["inputs"],
        "signals": {name: _summary(window) for name, window in signals["windows"].items()},
        "personas": {
            name: {
                "persona": a["persona"],
                "matched": a["matched"],
                "reason": a["reason"],
                "evaluations": a["evaluations"],
            }
            for name, a in assigned.items()
        },
        "excluded_offers": excluded_offers,
    }
    with transaction.atomic():
        # Consent may have been withdrawn (and the data erased) since the data was loaded:
        # then nothing is written. The row lock makes a withdrawal wait for this write, and
        # its erasure runs after the withdrawal commits, so it deletes what this wrote.
        if not _consenting_locked(user_id):
            return {"skipped": True}
        if connection.vendor == "postgresql":
            # Derived rows, recomputable at any time: waiting for the WAL flush buys nothing
            # (a crash can lose only the last few milliseconds of recomputes).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        SignalSnapshot.objects.bulk_create(
            [
                SignalSnapshot(
                    user_id=user_id, window=name, as_of=as_of, data=window, inputs=signals["inputs"]
                )
                for name, window in signals["windows"].items()
            ],
            update_conflicts=True,
            unique_fields=["user", "window"],
            update_fields=["as_of", "data", "inputs", "computed_at"],
        )
        latest_by_window: dict[str, str | None] = {}
        for window_name, persona_name in (
            PersonaAssignment.objects.filter(user_id=user_id)
            .order_by("-assigned_at", "-id")
            .values_list("window", "persona")[:20]
        ):
            latest_by_window.setdefault(window_name, persona_name)
        # One INSERT for the windows whose persona changed (a first run: both), not one each.
        PersonaAssignment.objects.bulk_create(
            [
                PersonaAssignment(
                    user_id=user_id,
                    window=name,
                    persona=assigned[name]["persona"],
                    matched=assigned[name]["matched"],
                    evaluations=assigned[name]["evaluations"],
                    reason=assigned[name]["reason"],
                    as_of=as_of,
                )
                for name in signals["windows"]
                if name not in latest_by_window
                or latest_by_window[name] != assigned[name]["persona"]
            ]
        )
        pending = RecommendationStatus.PENDING
        # Reads only the ids to cascade from, not every trace.
        Recommendation.objects.filter(user_id=user_id, status=pending).only("pk").delete()
        Recommendation.objects.bulk_create(
            [
                Recommendation(
                    user_id=user_id,
                    type=choice.item.kind,
                    slug=choice.item.slug,
                    title=choice.item.title,
                    content=choice.item.content,
                    rationale=choice.rationale,
                    disclaimer=DISCLAIMER,
                    persona=choice.persona,
                    window=choice.window,
                    score=choice.score,
                    status=RecommendationStatus.PENDING
                    if review
                    else RecommendationStatus.APPROVED,
                    approved_at=None if review else now,
                    decided_at=None if review else now,
                    decision_trace={
                        **base_trace,
                        "window": choice.window,
                        "item": {
                            "slug": choice.item.slug,
                            "kind": choice.item.kind,
                            "score": choice.score,
                            "reasons": choice.reasons,
                            "rule_ids": [
                                f"{choice.item.kind}:{choice.item.slug}",
                                *[r["rule"] for r in choice.eligibility],
                            ],
                        },
                        "eligibility": choice.eligibility,
                        "review": "required"
                        if review
                        else "off (RECOMMENDATIONS_REQUIRE_REVIEW=false)",
                    },
                )
                for choice in choices
            ]
        )
        user_state_write(user_id=user_id, signals=signals, assigned=assigned)  # for analytics
    coherence.user_changed(user_id)
    finished = time.perf_counter()
    return {
        "as_of": signals["as_of"],
        "recommendations": len(choices),
        "load_ms": (loaded - started) * 1000,
        "compute_ms": (computed - loaded) * 1000,
        "write_ms": (finished - computed) * 1000,
        "total_ms": (finished - started) * 1000,
    }


def user_derived_erase(*, user_id: uuid.UUID) -> dict[str, int]:
    """Erase every row the engine derived for this user."""
    counts = {
        "signal_snapshots": SignalSnapshot.objects.filter(user_id=user_id).delete()[0],
        "personas": PersonaAssignment.objects.filter(user_id=user_id).delete()[0],
        "recommendations": Recommendation.objects.filter(user_id=user_id).delete()[0],
        "insight_state": user_state_erase(user_id=user_id),
    }
    coherence.user_erased(user_id)  # the cached bodies held these figures
    return counts


class FeedbackNotAllowed(DomainError):
    status_code = 403
    default_code = "permission_denied"
    default_detail = "Only the person a recommendation is for can rate it."


def feedback_record(
    *,
    user: User,
    recommendation: Recommendation,
    rating: str,
    comment: str,
    idempotency_key: str | None = None,
) -> tuple[Feedback, bool]:
    """Create or update the user's one rating of this recommendation; True when created.

    A retry with the ``idempotency_key`` of the request that last wrote one of the user's
    ratings gets that rating back, and True when that request created it (the first answer
    again); the same key with another recommendation, rating or comment is a Conflict.
    """
    if recommendation.user_id != user.id:
        raise FeedbackNotAllowed()
    with transaction.atomic():
        # One write of the user's ratings at a time: a retry racing its first request (or the
        # same key sent for two items) reads the rating the other wrote, never writes past it.
        # As for a recompute, a withdrawal that committed first refuses the write, and one that
        # comes after waits for it (its erasure then deletes the rating).
        if not _consenting_locked(user.id):
            raise ConsentRequired()
        if idempotency_key is not None:
            earlier = Feedback.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if earlier is not None:
                if (earlier.recommendation_id, earlier.rating, earlier.comment) != (
                    recommendation.pk,
                    rating,
                    comment,
                ):
                    raise Conflict(
                        "This Idempotency-Key was used with a different request.",
                        code="idempotency_key_reused",
                        attr="Idempotency-Key",
                    )
                return earlier, earlier.created_by_key
        values = {"rating": rating, "comment": comment, "idempotency_key": idempotency_key}
        return Feedback.objects.update_or_create(
            recommendation=recommendation,
            user=user,
            defaults={**values, "created_by_key": False},
            create_defaults={**values, "created_by_key": idempotency_key is not None},
        )
