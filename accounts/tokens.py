"""Access tokens: RS256 JWTs with a ``kid``, verified against the current and retired keys.

The signing key is ``settings.JWT_PRIVATE_KEY``; ``JWT_PREVIOUS_PUBLIC_KEYS`` lists retired
keys whose tokens are still accepted until they expire. A key's id is its RFC 7638 JWK
thumbprint, so the same key always has the same ``kid`` on every server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.conf import settings
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class TokenError(Exception):
    """An access token that must not be accepted; ``code`` says why, for the client."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class KeySet:
    private_key: RSAPrivateKey
    kid: str
    verifying: dict[str, RSAPublicKey]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_jwk(public_key: RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(public_key))
    return jwk


def key_id(public_key: RSAPublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 of the canonical JSON of the key's required members."""
    jwk = _public_jwk(public_key)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@lru_cache(maxsize=8)
def _load(private_pem: str, previous_pems: str) -> KeySet:
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("JWT_PRIVATE_KEY must be an RSA private key")
    current = private_key.public_key()
    verifying = {key_id(current): current}
    for block in _PEM_BLOCK.findall(previous_pems):
        public_key = serialization.load_pem_public_key(block.encode())
        if not isinstance(public_key, RSAPublicKey):
            raise ValueError("JWT_PREVIOUS_PUBLIC_KEYS must hold RSA public keys")
        verifying.setdefault(key_id(public_key), public_key)
    return KeySet(private_key=private_key, kid=key_id(current), verifying=verifying)


def keys() -> KeySet:
    return _load(settings.JWT_PRIVATE_KEY, settings.JWT_PREVIOUS_PUBLIC_KEYS)


def access_token_issue(*, user_id: uuid.UUID, session_id: uuid.UUID, role: str) -> str:
    """A signed access token for this user and session, valid ``ACCESS_TOKEN_LIFETIME_SECONDS``."""
    now = int(timezone.now().timestamp())
    key_set = keys()
    claims = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": uuid.uuid4().hex,
        "roles": [role],
        "iat": now,
        "exp": now + settings.ACCESS_TOKEN_LIFETIME_SECONDS,
    }
    return jwt.encode(
        claims, key_set.private_key, algorithm=ALGORITHM, headers={"kid": key_set.kid}
    )


_verified: dict[str, tuple[KeySet, dict[str, Any]]] = {}
_VERIFIED_MAX = 4096


def access_token_decode(token: str) -> dict[str, Any]:
    """The verified claims of ``token``, or TokenError.

    A token whose signature and claims this process has already verified is not verified
    again (its expiry still is): RS256 costs more than the rest of a cached read.
    """
    key_set = keys()
    memo = _verified.get(token)
    if memo is not None and memo[0] is key_set:  # a key rotation forgets every memo
        claims = memo[1]
        if int(claims["exp"]) + settings.JWT_LEEWAY_SECONDS < int(timezone.now().timestamp()):
            raise TokenError("token_expired")
        return claims
    claims = _verify(token)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[token] = (key_set, claims)
    return claims


def _verify(token: str) -> dict[str, Any]:
    """Verify ``token`` from scratch.

    Only RS256 is accepted, the key is chosen by ``kid`` among the accepted keys, and ``iss``,
    ``aud``, ``exp``, ``iat`` and our own claims must all be present and right.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenError("token_not_valid") from None
    if header.get("alg") != ALGORITHM:
        raise TokenError("token_not_valid")
    public_key = keys().verifying.get(str(header.get("kid")))
    if public_key is None:
        raise TokenError("token_not_valid")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "sid", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired") from None
    except jwt.InvalidTokenError:
        raise TokenError("token_not_valid") from None
    try:
        uuid.UUID(claims["sub"])
        uuid.UUID(claims["sid"])
    except (TypeError, ValueError, AttributeError):
        raise TokenError("token_not_valid") from None
    return claims


def jwks() -> dict[str, Any]:
    """Every public key still accepted, as a JWK Set (RFC 7517)."""
    return {
        "keys": [
            {**_public_jwk(public_key), "kid": kid, "use": "sig", "alg": ALGORITHM}
            for kid, public_key in keys().verifying.items()
        ]
    }


def seconds_left(claims: dict[str, Any]) -> int:
    """Seconds until the token's expiry (at least 1)."""
    return max(int(claims["exp"]) - int(datetime.now().timestamp()), 1)  # noqa: DTZ005
