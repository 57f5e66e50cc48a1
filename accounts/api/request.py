"""Typed access to who is calling: the signed-in user and their access token's claims."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from accounts.models import User
from accounts.reauth import Reauthentication


def request_user(request: Request) -> User:
    """The signed-in user, or NotAuthenticated."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def request_claims(request: Request) -> dict[str, Any]:
    """The verified access-token claims (empty for other kinds of authentication)."""
    return request.auth if isinstance(request.auth, dict) else {}


def request_session_id(request: Request) -> str | None:
    """The session of the caller's access token; None for other kinds of authentication."""
    sid = request_claims(request).get("sid")
    return str(sid) if sid else None


def request_reauthentication(request: Request, password: str | None) -> Reauthentication:
    """The caller's proof of presence: their session, and the current password if sent."""
    return Reauthentication(session_id=request_session_id(request), password=password)
