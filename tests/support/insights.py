"""A user's insights made by the real pipeline: a synthetic dataset uploaded (processing and
the engine run as after a commit) and its recommendations approved."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from recommendations.models import Recommendation
from recommendations.synthetic import synthetic_user
from tests.support.clients import SignedIn, upload
from tests.support.commits import stale

# The fields of a recommendation as its owner sees it (stated here, not read off the serializer).
RECOMMENDATION_FIELDS = frozenset(
    {
        "id",
        "type",
        "title",
        "content",
        "rationale",
        "disclaimer",
        "persona",
        "window",
        "status",
        "created_at",
    }
)


def seed(user_client: SignedIn, archetype_index: int = 0) -> None:
    """Upload synthetic user ``archetype_index`` of seed 5 (archetype 0: high utilization)."""
    body = synthetic_user(archetype_index, 5).body
    response = upload(user_client.client, json.dumps(body).encode())
    assert response.status_code == HTTPStatus.ACCEPTED


def stored(recommendations: Any) -> list[tuple[Any, ...]]:
    """What recommendation rows store, but their ids and creation times, in a stable order."""
    return sorted(
        (
            r.slug,
            r.type,
            r.title,
            r.content,
            r.rationale,
            r.disclaimer,
            r.persona,
            r.window,
            r.score,
            r.status,
            json.dumps(r.decision_trace, sort_keys=True),
            r.digest,
            r.approved_at,
            r.decided_at,
            r.approved_by_id,
            r.decision_reason,
            r.flagged,
            r.revision,
        )
        for r in recommendations
    )


def approve_all(user_id: Any) -> None:
    """Approve every recommendation of the user, as a reviewer would, and let caches know."""
    Recommendation.objects.filter(user_id=user_id).update(status="approved")
    stale(user_id)
