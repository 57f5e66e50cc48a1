"""Writes of the engine: recompute a user's insights, record feedback, erase derived data.

Over 400 lines on purpose: a recompute's steps (derive, compare with what is stored, write
only the difference under the consent lock) read top to bottom in one module, and its
lock and consent rule must not be split from the writes they guard."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ConsentStatus, User
from consent.services import ConsentRequired
from recommendations.engine import ENGINE_VERSION, personas
from recommendations.engine.choose import DISCLAIMER, choose
from recommendations.engine.data import UserData
from recommendations.engine.signals import compute_signals
from recommendations.models import (
    Feedback,
    PersonaAssignment,
    Recommendation,
    RecommendationStatus,
    SignalSnapshot,
)
from recommendations.selectors import catalog_load, recompute_load, stored_state_query
from recommendations.state import (
    rollups_before,
    rollups_follow,
    user_state_erase,
    user_state_refresh,
    user_state_write,
)
from spendsense import batch, coherence
from spendsense.api.errors import Conflict, DomainError
from spendsense.fields import Serialised

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


# The user's id if they still consent, their row locked until the transaction ends (compiled
# once: between users only the id changes).
_consenting_lock = batch.PerKey(
    lambda user_id: (
        User.objects.select_for_update()
        .filter(pk=user_id, consent_status=ConsentStatus.GRANTED)
        .values_list("pk")
    ),
    User._meta.pk,
)


def _consenting_locked(user_id: uuid.UUID) -> bool:
    """Whether the user still consents, with their row locked until the transaction ends."""
    (locked,) = batch.run([_consenting_lock(user_id)])
    return bool(locked)


def _canonical(*parts: Any) -> str:
    """Documents as one text: equal documents, equal texts (key order aside)."""
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)


def _digest(*parts: Any) -> str:
    """A fingerprint of what a derived row stores: equal documents, equal digests."""
    return hashlib.sha256(_canonical(*parts).encode()).hexdigest()


def _merged(base_text: str, own: dict[str, Any]) -> str:
    """The JSON of ``{**base, **own}`` from ``_canonical(base)`` and ``own``: the members of
    both objects in one (a key of both is read as ``own``'s, the later one, as jsonb does)."""
    members = [text[2:-2] for text in (base_text, _canonical(own))]  # "[{...}]": the members
    return "{" + ",".join(m for m in members if m) + "}"


@dataclass(frozen=True)
class Derived:
    """What one recompute derived for a user: everything its write stores.

    ``recommendations`` are unsaved rows, each with the ``digest`` of what it stores (title,
    content, rationale, status, decision trace, ...), so that a pending row already stored
    with that digest can be kept as it is.
    """

    as_of: date
    windows: dict[str, dict[str, Any]]
    inputs: dict[str, Any]
    personas: dict[str, dict[str, Any]]
    recommendations: list[Recommendation]


def _derive(user_id: uuid.UUID, data: UserData, as_of: date, decided: frozenset[str]) -> Derived:
    """Signals, personas and recommendations from the user's data (no query but the memoised
    catalog): the engine's pure functions, and the rows they make."""
    thresholds = settings.ENGINE
    signals = compute_signals(data, as_of, thresholds)
    assigned = {
        name: personas.assign(window, thresholds) for name, window in signals["windows"].items()
    }
    catalog, catalog_version = catalog_load()
    held = {a.subtype for a in data.accounts}
    if any(window["savings"]["saves_elsewhere"] for window in signals["windows"].values()):
        # Transfers out to a savings account not in the data: the person holds one.
        held.add("savings")
    choices, excluded_offers = choose(catalog, signals, assigned, held, thresholds, decided)

    now = timezone.now()
    review = settings.RECOMMENDATIONS_REQUIRE_REVIEW
    status = RecommendationStatus.PENDING if review else RecommendationStatus.APPROVED
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
    # Shared by every item: serialised and fingerprinted once.
    base_text = _canonical(base_trace)
    base_digest = hashlib.sha256(base_text.encode()).hexdigest()
    rows = []
    for choice in choices:
        own = {
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
            "review": "required" if review else "off (RECOMMENDATIONS_REQUIRE_REVIEW=false)",
        }
        fields = {
            "type": choice.item.kind,
            "slug": choice.item.slug,
            "title": choice.item.title,
            "content": choice.item.content,
            "rationale": choice.rationale,
            "disclaimer": DISCLAIMER,
            "persona": choice.persona,
            "window": choice.window,
            "score": choice.score,
            "status": status,
        }
        rows.append(
            Recommendation(
                user_id=user_id,
                **fields,
                approved_at=None if review else now,
                decided_at=None if review else now,
                decision_trace=Serialised({**base_trace, **own}, _merged(base_text, own)),
                digest=_digest(base_digest, fields, own),
            )
        )
    return Derived(
        as_of=as_of,
        windows=signals["windows"],
        inputs=signals["inputs"],
        personas=assigned,
        recommendations=rows,
    )


@dataclass(frozen=True)
class Changes:
    """What a write must do to store a ``Derived``, given what is stored now."""

    snapshots: list[SignalSnapshot]  # windows whose figures changed (upserted)
    personas: list[PersonaAssignment]  # windows whose persona changed (history rows)
    stale: list[uuid.UUID]  # pending recommendations that are not what was derived
    new: list[Recommendation]  # derived recommendations not stored yet

    def __bool__(self) -> bool:
        return bool(self.snapshots or self.personas or self.stale or self.new)


@dataclass(frozen=True)
class Stored:
    """What is stored for a user now, as far as a recompute compares (the rows of one query:
    ``recommendations.selectors.stored_state_query``)."""

    consenting: bool
    snapshots: dict[str, str]  # window: its as_of, data and inputs as ``_canonical`` text
    latest_personas: dict[str, str | None]
    # (id, slug, status, digest, revision, flagged) of every recommendation of the user
    recommendations: list[tuple[uuid.UUID, str, str, str, int, bool]]

    @classmethod
    def of(cls, rows: batch.Rows) -> Stored:
        consenting = False
        snapshots: dict[str, str] = {}
        latest: dict[str, str | None] = {}
        recommendations = []
        for kind, a, b, c, d, e, f in rows:
            if kind == "u":
                consenting = a == ConsentStatus.GRANTED
            elif kind == "s":
                snapshots[str(a)] = _canonical(b, json.loads(str(c)), json.loads(str(d)))
            elif kind == "p":
                latest[str(a)] = b
            else:
                flagged = f in ("true", "1")  # PostgreSQL's text of a boolean, SQLite's
                recommendations.append(
                    (uuid.UUID(str(a)), str(b), str(c), str(d), int(str(e)), flagged)
                )
        return cls(
            consenting=consenting,
            snapshots=snapshots,
            latest_personas=latest,
            recommendations=recommendations,
        )

    def decided(self) -> frozenset[str]:
        """The catalog items an operator already decided (approved or rejected): never
        proposed again."""
        pending = RecommendationStatus.PENDING
        return frozenset(slug for _, slug, status, *_ in self.recommendations if status != pending)


def _changes(user_id: uuid.UUID, derived: Derived, stored: Stored) -> Changes:
    """What differs between what was derived and what is stored. A pending recommendation
    that already stores exactly what was derived, and that no operator has edited or flagged,
    is kept (its id and ``created_at`` too)."""
    snapshots = []
    for name, window in derived.windows.items():
        # The stored documents themselves are compared (two of them): a snapshot is always
        # exactly what the engine derives, whoever touched it since.
        if stored.snapshots.get(name) != _canonical(
            derived.as_of.isoformat(), window, derived.inputs
        ):
            snapshots.append(
                SignalSnapshot(
                    user_id=user_id,
                    window=name,
                    as_of=derived.as_of,
                    data=window,
                    inputs=derived.inputs,
                )
            )
    assigned = derived.personas
    latest = stored.latest_personas
    personas_changed = [
        PersonaAssignment(
            user_id=user_id,
            window=name,
            persona=assigned[name]["persona"],
            matched=assigned[name]["matched"],
            evaluations=assigned[name]["evaluations"],
            reason=assigned[name]["reason"],
            as_of=derived.as_of,
        )
        for name in derived.windows
        if name not in latest or latest[name] != assigned[name]["persona"]
    ]
    wanted = {row.digest for row in derived.recommendations}
    kept: set[str] = set()
    stale: list[uuid.UUID] = []
    for pk, _, status, digest, revision, flagged in stored.recommendations:
        if status != RecommendationStatus.PENDING:
            continue
        if digest in wanted and digest not in kept and revision == 0 and not flagged:
            kept.add(digest)
        else:
            stale.append(pk)
    new = [row for row in derived.recommendations if row.digest not in kept]
    return Changes(snapshots=snapshots, personas=personas_changed, stale=stale, new=new)


def derived_write(*, user_id: uuid.UUID, derived: Derived, changes: Changes) -> dict[str, int]:
    """Store ``changes``, each kind of row in at most one statement, the inserts together in
    one round trip (``spendsense.batch``).

    Runs in the recompute's transaction, with the user's row locked and their consent
    checked (``user_recompute``): every write of derived per-user state belongs here. A kind
    of row added here must also be compared (``stored_state_query``, ``_changes``): a
    recompute that finds nothing changed opens no transaction and does not call this.
    """
    if changes.stale:
        # Reads only the ids to cascade from (and when they were created), not every trace;
        # locked in id order, still pending (a review decision that committed first keeps its
        # item), so analytics' rollups lose exactly what is deleted.
        stale = Recommendation.objects.filter(
            pk__in=changes.stale, status=RecommendationStatus.PENDING
        ).only("pk", "created_at")
        gone = list(stale.select_for_update().order_by("pk"))
        with rollups_follow(items=gone):
            Recommendation.objects.filter(pk__in=[r.pk for r in gone]).delete()
    batch.run(
        [
            *batch.insert(
                changes.snapshots,
                unique_fields=["user", "window"],
                update_fields=["as_of", "data", "inputs", "computed_at"],
            ),
            *batch.insert(changes.personas),
            *batch.insert(changes.new),
        ]
    )
    # Analytics' current-state row (recommendations.state) follows what was just written:
    # nothing it holds can change unless one of the rows above did.
    user_state_write(
        user_id=user_id, signals={"windows": derived.windows}, assigned=derived.personas
    )
    return {
        "signal_snapshots": len(changes.snapshots),
        "personas": len(changes.personas),
        "recommendations_deleted": len(changes.stale),
        "recommendations_inserted": len(changes.new),
    }


def _commit_unflushed() -> list[batch.Statement]:
    """On PostgreSQL, the transaction commits without waiting for the WAL flush: its rows are
    derived and recomputable at any time (a crash can lose only the last few milliseconds of
    recomputes)."""
    if connection.vendor == "postgresql":
        return [batch.Statement("SET LOCAL synchronous_commit TO OFF")]
    return []


NOTHING_WRITTEN = {
    "signal_snapshots": 0,
    "personas": 0,
    "recommendations_deleted": 0,
    "recommendations_inserted": 0,
}


def user_recompute(*, user_id: uuid.UUID) -> dict[str, Any]:
    """Recompute signals, personas and recommendations of one user from their stored data.

    Pending recommendations become the derived ones (identical ones are kept as they are);
    approved and rejected ones are kept, and their catalog items are not proposed again.
    Only what changed is written; when nothing did, no transaction is opened. Returns what
    was written and timings (ms) for benchmarks.
    """
    started = time.perf_counter()
    rows, data = recompute_load(user_id=user_id)
    stored = Stored.of(rows)
    if not stored.consenting:
        return {"skipped": True}
    loaded = time.perf_counter()
    as_of = data.as_of()
    if as_of is None:
        with transaction.atomic():
            # As for a write below: an erasure that committed since consent was read (and
            # left no data to load) is not undone by writing the state row back.
            if not _consenting_locked(user_id):
                return {"skipped": True}
            SignalSnapshot.objects.filter(user_id=user_id).delete()
            user_state_refresh(user_id=user_id)  # analytics' current state: no data now
        coherence.user_changed(user_id)
        return {"as_of": None}
    derived = _derive(user_id, data, as_of, stored.decided())
    computed = time.perf_counter()

    written = NOTHING_WRITTEN
    # Compared first without a lock: when nothing differs there is nothing to write, so
    # neither consent nor a concurrent recompute can make this run wrong. Otherwise the
    # comparison is made again under the lock, against what the last writer stored.
    if _changes(user_id, derived, stored):
        with transaction.atomic():
            # Consent may have been withdrawn (and the data erased) since the data was
            # loaded: then nothing is written. The row lock makes a withdrawal wait for this
            # write, and its erasure runs after the withdrawal commits, so it deletes what
            # this wrote. It also orders the recomputes of one user. The lock, and what is
            # stored read again after it (a statement of its own: it sees what the lock
            # waited for), go in one round trip.
            locked, *_, rows = batch.run(
                [
                    _consenting_lock(user_id),
                    *_commit_unflushed(),
                    stored_state_query(user_id=user_id),
                ]
            )
            if not locked:
                return {"skipped": True}
            changes = _changes(user_id, derived, Stored.of(rows))
            written = derived_write(user_id=user_id, derived=derived, changes=changes)
    # Always, even when nothing derived changed: the profile's cached body shows the uploaded
    # rows, and ingestion leaves the bump to this recompute.
    coherence.user_changed(user_id)
    finished = time.perf_counter()
    return {
        "as_of": as_of.isoformat(),
        "recommendations": len(derived.recommendations),
        "written": written,
        "load_ms": (loaded - started) * 1000,
        "compute_ms": (computed - loaded) * 1000,
        "write_ms": (finished - computed) * 1000,
        "total_ms": (finished - started) * 1000,
    }


def user_derived_erase(*, user_id: uuid.UUID) -> dict[str, int]:
    """Erase every row the engine derived for this user, inside the erasure's transaction,
    before their uploads go: analytics' rollups lose what the user's rows counted (with their
    row locked, recompute and ratings wait)."""
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))
    rollups_before(user_id=user_id)  # every row goes: nothing after
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
        # Analytics' rollups: the item's engagement and its rating's day, changed exactly
        # (the item locked: a review decision waits).
        item = Recommendation.objects.select_for_update().only("pk", "created_at")
        with rollups_follow(items=item.filter(pk=recommendation.pk)):
            feedback, created = Feedback.objects.update_or_create(
                recommendation=recommendation,
                user=user,
                defaults={**values, "created_by_key": False},
                create_defaults={**values, "created_by_key": idempotency_key is not None},
            )
        return feedback, created
