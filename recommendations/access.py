"""Who may read a user's insights: one decision, used by every path that serves them (the
insight views, the cached-read middleware, a single recommendation).

Authentication has already decided the caller (``accounts.selectors.token_principal``: a
valid, undenied token of a live session of an active user, or nobody). From there:

- nobody: 401;
- oneself (``me`` or one's own id): allowed with consent; without it 403 ``consent_required``,
  which tells the person what to do;
- another user: only for roles that may read any user's data, and only while that user
  consents; otherwise 404, so neither the account nor its consent is revealed.
"""

from __future__ import annotations

import uuid

from rest_framework import exceptions

from accounts.models import User
from accounts.selectors import user_row
from consent.selectors import consent_granted
from consent.services import consent_require
from recommendations.models import Recommendation, RecommendationStatus
from spendsense.api.permissions import Perm, role_has


def reads_any_user(caller: User) -> bool:
    return role_has(caller.role, Perm.READ_ANY_USER)


def insights_target(*, caller: User | None, user_ref: str) -> User:
    """The user whose insights ``caller`` may read at ``user_ref`` (``me`` or a user id)."""
    if caller is None or not caller.is_authenticated:
        raise exceptions.NotAuthenticated()
    if user_ref in ("me", str(caller.id)):
        consent_require(user=caller)
        return caller
    try:
        user_id = uuid.UUID(user_ref)
    except ValueError:
        raise exceptions.NotFound() from None
    if user_id == caller.id:
        consent_require(user=caller)
        return caller
    target = user_row(user_id=user_id) if reads_any_user(caller) else None
    if target is None or not consent_granted(user=target):
        raise exceptions.NotFound()
    return target


def recommendation_for(*, caller: User, recommendation_id: str) -> Recommendation:
    """One recommendation as ``caller`` may see it: their own approved items (with consent),
    or, for those who read any user's data, any item of a consenting user; else 404."""
    try:
        pk = uuid.UUID(recommendation_id)
    except ValueError:
        raise exceptions.NotFound() from None
    found = Recommendation.objects.select_related("user").filter(pk=pk).first()
    if found is None:
        raise exceptions.NotFound()
    if found.user_id == caller.id and found.status == RecommendationStatus.APPROVED:
        insights_target(caller=caller, user_ref="me")
        return found
    if reads_any_user(caller):
        insights_target(caller=caller, user_ref=str(found.user_id))
        return found
    raise exceptions.NotFound()
