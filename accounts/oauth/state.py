"""An OAuth flow's state, kept server-side, and the one-time code a client redirect carries.

The state (PKCE verifier, redirect URI, purpose, the linking user) lives in the cache under a
random id the provider carries back signed; it works once. The one-time code stands for a
signed-in user for 60 s and is kept only as a hash.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import models

from spendsense.api.errors import DomainError


class Purpose(models.TextChoices):
    LOGIN = "login", "Sign in (or sign up)"
    LINK = "link", "Link to the signed-in account"


class InvalidState(DomainError):
    default_code = "invalid_state"
    default_detail = "The sign-in is unknown, expired or already used; start again."


# --- the flow's state, server-side -------------------------------------------------------

_state_signer = signing.TimestampSigner(salt="spendsense.oauth.state")


def _state_key(state_id: str) -> str:
    return f"oauth:state:{state_id}"


@dataclass
class FlowState:
    provider: str
    purpose: str
    callback_url: str
    redirect_uri: str = ""
    client_state: str = ""
    client_code_challenge: str = ""
    pkce_code_verifier: str = ""
    nonce: str = ""
    user_id: str = ""
    token: str = field(default="", compare=False)  # the signed state as sent to the provider


def state_stash(state: FlowState) -> str:
    """Keep a new flow's state; the signed token the provider carries back for it."""
    state_id = secrets.token_urlsafe(32)
    record = {k: v for k, v in state.__dict__.items() if k != "token"}
    cache.set(_state_key(state_id), record, timeout=settings.OAUTH_STATE_SECONDS)
    return _state_signer.sign(state_id)


def _state_read(token: str, provider_id: str) -> tuple[str, FlowState]:
    try:
        state_id = _state_signer.unsign(token, max_age=settings.OAUTH_STATE_SECONDS)
    except signing.BadSignature:  # forged, altered or expired (SignatureExpired is one)
        raise InvalidState(attr="state") from None
    record = cache.get(_state_key(state_id))
    if not isinstance(record, dict) or record.get("provider") != provider_id:
        raise InvalidState(attr="state")
    return state_id, FlowState(**record, token=token)


def state_peek(token: str, provider_id: str) -> FlowState:
    """The flow's state, left in place (a link flow's callback hands it to the client)."""
    return _state_read(token, provider_id)[1]


def state_take_for_link(token: str, provider_id: str, *, user_id: str) -> FlowState:
    """The state of a link flow the user ``user_id`` began, removed; InvalidState for any
    other flow (a sign-in's, or another user's link)."""
    state = state_take(token, provider_id)
    if state.purpose != Purpose.LINK or state.user_id != user_id:
        raise InvalidState(attr="state")
    return state


def state_take(token: str, provider_id: str) -> FlowState:
    """The flow's state, removed: a state works once (only one delete can win a race)."""
    state_id, state = _state_read(token, provider_id)
    if not cache.delete(_state_key(state_id)):
        raise InvalidState(attr="state")
    return state


# --- the one-time code a client redirect carries ------------------------------------------


def _exchange_key(code: str) -> str:
    return "oauth:exchange:" + hashlib.sha256(code.encode()).hexdigest()


def exchange_code_issue(*, user_id: str, client_code_challenge: str) -> str:
    """A single-use code for ``POST /auth/oauth/exchange``; only its hash is kept."""
    code = secrets.token_urlsafe(32)
    cache.set(
        _exchange_key(code),
        {"user_id": user_id, "challenge": client_code_challenge},
        timeout=settings.OAUTH_EXCHANGE_CODE_SECONDS,
    )
    return code


def exchange_code_take(*, code: str, code_verifier: str) -> str:
    """The user id a one-time code stands for; it works once, within 60 s, and with the
    client's PKCE verifier when the flow began with a challenge."""
    invalid = DomainError(
        "The code is unknown, expired or already used.", code="invalid_code", attr="code"
    )
    key = _exchange_key(code)
    record = cache.get(key)
    if not isinstance(record, dict) or not cache.delete(key):
        raise invalid
    if record["challenge"]:
        digest = hashlib.sha256(code_verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not code_verifier or not secrets.compare_digest(expected, record["challenge"]):
            raise DomainError(
                "The code verifier does not match the challenge.",
                code="invalid_code_verifier",
                attr="code_verifier",
            )
    return str(record["user_id"])


def client_redirect(redirect_uri: str, params: dict[str, str]) -> str:
    """The client's (allow-listed) redirect URI with ``params`` added to its query."""
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode({k: v for k, v in params.items() if v})
