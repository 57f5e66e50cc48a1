"""Access tokens: RS256 JWTs with a ``kid``, verified against the current and retired keys.

Built with djangorestframework-simplejwt (DESIGN §1): its ``AccessToken`` makes and checks
the claims (``exp``, ``iat``, ``jti``, ``token_type``) and its ``TokenBackend`` verifies,
with our issuer, audience and leeway. Two things it cannot do are ours, in a subclass of its
backend: its ``encode`` sends no ``kid`` header, and it takes one verifying key, so the key
is picked by ``kid`` through its ``get_verifying_key`` hook (docs/dependencies.md).

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
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.conf import settings
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import (
    ExpiredTokenError,
    TokenBackendError,
)
from rest_framework_simplejwt.exceptions import (
    TokenError as SimpleJWTTokenError,
)
from rest_framework_simplejwt.tokens import AccessToken as SimpleJWTAccessToken

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


class KeyedTokenBackend(TokenBackend):
    """simplejwt's backend over one key set: signs with the current key under its ``kid``,
    verifies with the key the token's ``kid`` names (the current one or a retired one)."""

    def __init__(self, key_set: KeySet) -> None:
        super().__init__(
            ALGORITHM,
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=settings.JWT_LEEWAY_SECONDS,
        )
        self.key_set = key_set

    def encode(self, payload: dict[str, Any]) -> str:
        # simplejwt's encode takes no headers: the kid is why this method is ours.
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return jwt.encode(
            claims, self.key_set.private_key, algorithm=ALGORITHM, headers={"kid": self.key_set.kid}
        )

    def get_verifying_key(self, token: Any) -> Any:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenBackendError("Token is invalid") from error
        public_key = self.key_set.verifying.get(str(header.get("kid")))
        if header.get("alg") != ALGORITHM or public_key is None:
            raise TokenBackendError("Token is invalid")
        return public_key


_backend_memo: list[KeyedTokenBackend] = []


def _backend(key_set: KeySet) -> KeyedTokenBackend:
    """The backend of ``key_set``, made once per key set (a rotation makes a new one)."""
    if not _backend_memo or _backend_memo[0].key_set is not key_set:
        _backend_memo[:] = [KeyedTokenBackend(key_set)]
    return _backend_memo[0]


class AccessToken(SimpleJWTAccessToken):
    """simplejwt's access token on our backend and lifetime, carrying ``sub``, ``sid`` and
    ``roles`` besides its own ``exp``, ``iat``, ``jti`` and ``token_type``."""

    def __init__(self, token: Any = None, verify: bool = True) -> None:
        self.lifetime = timedelta(seconds=settings.ACCESS_TOKEN_LIFETIME_SECONDS)
        super().__init__(token, verify=verify)

    def get_token_backend(self) -> TokenBackend:
        return _backend(keys())


def access_token_issue(*, user_id: uuid.UUID, session_id: uuid.UUID, role: str) -> str:
    """A signed access token for this user and session, valid ``ACCESS_TOKEN_LIFETIME_SECONDS``."""
    token = AccessToken()
    token["sub"] = str(user_id)
    token["sid"] = str(session_id)
    token["roles"] = [role]
    return str(token)


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
    """Verify ``token`` from scratch, through simplejwt.

    Only RS256 is accepted, the key is chosen by ``kid`` among the accepted keys, and ``iss``,
    ``aud``, ``exp``, ``jti``, ``token_type`` (simplejwt) and ``iat``, ``sub``, ``sid`` (ours)
    must all be present and right.
    """
    try:
        claims = dict(AccessToken(token).payload)
    except ExpiredTokenError:
        raise TokenError("token_expired") from None
    except SimpleJWTTokenError:
        raise TokenError("token_not_valid") from None
    if not all(name in claims for name in ("iat", "iss", "aud", "sub", "sid")):
        raise TokenError("token_not_valid")
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
