"""Writes of the operator console: review decisions, edits (kept as revisions), bulk review,
flags, each audited with who, what, before and after, and why; and the demographic
attributes of synthetic users."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions

from accounts.audit import Action, audit_record
from accounts.models import User
from operator_console.models import RecommendationRevision, SyntheticDemographic
from operator_console.selectors import review_items
from operator_console.tallies import tallies_changed
from recommendations.engine.choose import tone_problems
from recommendations.models import Recommendation, RecommendationStatus
from recommendations.state import rollups_follow
from spendsense import coherence
from spendsense.api.errors import Conflict, DomainError
from spendsense.api.request import RequestMeta

DECISIONS = {"approve": RecommendationStatus.APPROVED, "reject": RecommendationStatus.REJECTED}
BULK_LIMIT = 500
EDITABLE = ("title", "content", "rationale")


def _snapshot(recommendation: Recommendation) -> dict[str, Any]:
    """What the audit trail keeps of an item: its state, never its text. A rationale cites the
    person's figures, and the trail outlives the erasure of their data (the text of each
    revision is kept in RecommendationRevision, which is erased with it)."""
    return {
        "status": recommendation.status,
        "flagged": recommendation.flagged,
        "revision": recommendation.revision,
    }


def _audit_review(
    action: Action,
    actor: User,
    meta: RequestMeta | None,
    recommendation: Recommendation,
    before: dict[str, Any],
    **details: Any,
) -> None:
    """A review in the audit trail: the item's state before and after, and what else applies."""
    audit_record(
        action=action,
        actor_id=actor.id,
        meta=meta,
        target_type="recommendation",
        target_id=str(recommendation.pk),
        details={"before": before, "after": _snapshot(recommendation), **details},
    )


def _lockable() -> QuerySet[Recommendation]:
    """Review items, locked for a decision (only the item's row: not its user's), in id order
    (two writers of the same items never wait for each other's)."""
    return review_items().select_for_update(of=("self",)).order_by("pk")


def _locked(pk: uuid.UUID) -> Recommendation:
    """One review item, locked; 404 once its user no longer consents, whatever the caller
    loaded before (consent withdrawn while an operator had the page open)."""
    found = _lockable().filter(pk=pk).first()
    if found is None:
        raise exceptions.NotFound()
    return found


def _decidable(recommendation: Recommendation, target: str) -> bool:
    """Pending items can be decided; deciding again the same way is a no-op; the other way is
    a conflict."""
    return recommendation.status in (RecommendationStatus.PENDING, target)


def recommendation_decide(
    *,
    recommendation: Recommendation,
    action: str,
    actor: User,
    reason: str = "",
    meta: RequestMeta | None = None,
) -> Recommendation:
    """Approve or reject one recommendation (409 if it was decided the other way)."""
    target = DECISIONS[action]
    with transaction.atomic():
        locked = _locked(recommendation.pk)
        if not _decidable(locked, target):
            raise Conflict(
                f"This recommendation was already {locked.status}; it cannot be {target} now.",
                code="already_decided",
            )
        if locked.status == target:
            return locked
        with rollups_follow(items=[locked]):  # analytics' rollups: the exact change
            _apply(locked, action, actor, reason, meta, user_id=str(locked.user_id))
    coherence.user_changed(locked.user_id)
    return locked


def _apply(
    recommendation: Recommendation,
    action: str,
    actor: User,
    reason: str,
    meta: RequestMeta | None,
    **details: Any,
) -> None:
    """Decide one locked item (``action`` of DECISIONS), save it and audit it."""
    before = _snapshot(recommendation)
    target = DECISIONS[action]
    now = timezone.now()
    recommendation.status = target
    recommendation.decided_at = now
    recommendation.decision_reason = reason
    if target == RecommendationStatus.APPROVED:
        recommendation.approved_at = now
        recommendation.approved_by = actor
    else:
        recommendation.approved_at = None
        recommendation.approved_by = None
    recommendation.save()
    _audit_review(
        Action(f"review.{action}"), actor, meta, recommendation, before, reason=reason, **details
    )


def recommendations_bulk_decide(
    *,
    ids: Iterable[uuid.UUID],
    action: str,
    actor: User,
    reason: str = "",
    meta: RequestMeta | None = None,
) -> list[Recommendation]:
    """Decide many at once, all or nothing: unknown or undecidable ids fail the whole call."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise exceptions.ValidationError({"ids": ["List at least one recommendation id."]})
    if len(wanted) > BULK_LIMIT:
        raise exceptions.ValidationError({"ids": [f"At most {BULK_LIMIT} ids per call."]})
    target = DECISIONS[action]
    with transaction.atomic():
        found = {r.pk: r for r in _lockable().filter(pk__in=wanted)}
        unknown = [str(pk) for pk in wanted if pk not in found]
        undecidable = [
            str(pk) for pk in wanted if pk in found and not _decidable(found[pk], target)
        ]
        if unknown or undecidable:
            errors: dict[str, list[str]] = {}
            if unknown:
                errors["ids"] = [f"Unknown ids: {', '.join(unknown)}."]
            if undecidable:
                errors.setdefault("ids", []).append(
                    f"Already decided the other way: {', '.join(undecidable)}."
                )
            raise exceptions.ValidationError(errors)
        changed = [found[pk] for pk in wanted if found[pk].status != target]
        with rollups_follow(items=changed):  # analytics' rollups: the exact change
            for recommendation in changed:
                _apply(recommendation, action, actor, reason, meta, bulk=True)
    coherence.users_changed(r.user_id for r in changed)
    return [found[pk] for pk in wanted]


def recommendation_edit(
    *,
    recommendation: Recommendation,
    actor: User,
    changes: dict[str, str],
    reason: str = "",
    meta: RequestMeta | None = None,
) -> Recommendation:
    """Edit title, content or rationale; the previous text is kept as a revision and the user
    sees the edited version."""
    changes = {k: v for k, v in changes.items() if k in EDITABLE and v is not None}
    if not changes:
        raise exceptions.ValidationError(
            {"non_field_errors": ["Change at least one of title, content, rationale."]}
        )
    for name, text in changes.items():
        problems = tone_problems(text)
        if problems:
            raise DomainError(
                f"Keep the tone neutral: remove {', '.join(problems)}.", code="tone", attr=name
            )
    with transaction.atomic():
        locked = _locked(recommendation.pk)
        before = _snapshot(locked)
        if all(getattr(locked, k) == v for k, v in changes.items()):
            return locked
        RecommendationRevision.objects.create(
            recommendation=locked,
            revision=locked.revision,
            title=locked.title,
            content=locked.content,
            rationale=locked.rationale,
            edited_by_id=actor.id,
            reason=reason,
        )
        for name, text in changes.items():
            setattr(locked, name, text)
        locked.revision += 1
        with rollups_follow(items=[locked]):  # analytics' rollups: the exact change
            locked.save()
        _audit_review(
            Action.REVIEW_EDIT, actor, meta, locked, before, changed=sorted(changes), reason=reason
        )
    coherence.user_changed(locked.user_id)
    return locked


def recommendation_flag(
    *,
    recommendation: Recommendation,
    actor: User,
    flagged: bool,
    meta: RequestMeta | None = None,
) -> Recommendation:
    """Mark (or unmark) an item for follow-up."""
    before = _snapshot(recommendation)
    with transaction.atomic():
        locked = _locked(recommendation.pk)
        with rollups_follow(items=[locked]):  # analytics' rollups: the exact change
            Recommendation.objects.filter(pk=locked.pk).update(flagged=flagged)
    recommendation.flagged = flagged
    coherence.user_changed(recommendation.user_id)  # operators' cached reads show the flag
    _audit_review(
        Action.REVIEW_FLAG if flagged else Action.REVIEW_UNFLAG, actor, meta, recommendation, before
    )
    return recommendation


@transaction.atomic
def demographic_set(*, user_id: uuid.UUID, age_band: str, archetype: str) -> SyntheticDemographic:
    """Create or replace a synthetic user's demographic attributes (seeding only); fairness
    analytics count them anew."""
    demographic, _ = SyntheticDemographic.objects.update_or_create(
        user_id=user_id, defaults={"age_band": age_band, "archetype": archetype}
    )
    tallies_changed(user_ids=[user_id])
    return demographic
