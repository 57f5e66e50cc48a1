"""Access tokens: only our RS256 tokens, from accepted keys, with the right claims, pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import override_settings
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet as JoseKeySet
from rest_framework.test import APIClient

from accounts import tokens
from tests.support.clients import SignedIn

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(signed_in: SignedIn, **overrides: Any) -> dict[str, Any]:
    real = jwt.decode(signed_in.access, options={"verify_signature": False})
    return {**real, **overrides}


def call_me(token: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ME)


def assert_rejected(response: Any, code: str = "token_not_valid") -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["errors"][0]["code"] == code
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(claims: dict[str, Any], key: Any = None, **header: Any) -> str:
    key_set = tokens.keys()
    return jwt.encode(
        claims,
        key or key_set.private_key,
        algorithm="RS256",
        headers={"kid": key_set.kid, **header},
    )


def test_a_valid_token_passes(signed_in: SignedIn) -> None:
    assert call_me(signed_in.access).status_code == HTTPStatus.OK


def test_claims_and_header(signed_in: SignedIn) -> None:
    header = jwt.get_unverified_header(signed_in.access)
    claims = claims_for(signed_in)

    assert header["alg"] == "RS256"
    assert header["kid"] == tokens.keys().kid
    assert claims["sub"] == str(signed_in.user.id)
    assert claims["roles"] == ["user"]
    assert claims["iss"] == settings.JWT_ISSUER
    assert claims["aud"] == settings.JWT_AUDIENCE
    assert claims["exp"] - claims["iat"] == 3600
    assert uuid.UUID(claims["sid"])
    assert len(claims["jti"]) == 32


def test_tampered_payload(signed_in: SignedIn) -> None:
    head, _, signature = signed_in.access.split(".")
    forged = b64(json.dumps(claims_for(signed_in, roles=["admin"])).encode())

    assert_rejected(call_me(f"{head}.{forged}.{signature}"))


def test_alg_none(signed_in: SignedIn) -> None:
    head = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": tokens.keys().kid}).encode())
    body = b64(json.dumps(claims_for(signed_in)).encode())

    assert_rejected(call_me(f"{head}.{body}."))


def test_hs256_signed_with_the_public_key(signed_in: SignedIn) -> None:
    """The classic key-confusion attack: HMAC keyed with the (public) RSA key."""
    public = tokens.keys().private_key.public_key()
    key_bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": tokens.keys().kid}).encode())
    body = b64(json.dumps(claims_for(signed_in)).encode())
    mac = hmac.new(key_bytes, f"{head}.{body}".encode(), hashlib.sha256).digest()

    assert_rejected(call_me(f"{head}.{body}.{b64(mac)}"))


def test_expired(signed_in: SignedIn) -> None:
    now = int(time.time())
    token = sign(claims_for(signed_in, iat=now - 7200, exp=now - 3600))

    assert_rejected(call_me(token), code="token_expired")


def test_refresh_token_used_as_access(signed_in: SignedIn) -> None:
    assert_rejected(call_me(signed_in.refresh))


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil-issuer")])
def test_wrong_audience_or_issuer(signed_in: SignedIn, claim: str, value: str) -> None:
    assert_rejected(call_me(sign(claims_for(signed_in, **{claim: value}))))


@pytest.mark.parametrize("claim", ["sid", "jti", "sub", "exp", "aud"])
def test_missing_claim(signed_in: SignedIn, claim: str) -> None:
    claims = claims_for(signed_in)
    del claims[claim]

    assert_rejected(call_me(sign(claims)))


def test_unknown_kid(signed_in: SignedIn) -> None:
    stranger = new_rsa_key()
    token = jwt.encode(
        claims_for(signed_in),
        stranger,
        algorithm="RS256",
        headers={"kid": tokens.key_id(stranger.public_key())},
    )

    assert_rejected(call_me(token))


def test_known_kid_but_a_different_key(signed_in: SignedIn) -> None:
    assert_rejected(call_me(sign(claims_for(signed_in), key=new_rsa_key())))


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer not.a.jwt", "Bearer a.b"])
def test_garbage(api_client: APIClient, header: str) -> None:
    response = api_client.get(ME, HTTP_AUTHORIZATION=header)

    assert_rejected(response)


def test_no_header_is_401_not_authenticated(api_client: APIClient) -> None:
    response = api_client.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_rotation_keeps_tokens_of_the_previous_key_valid(signed_in: SignedIn) -> None:
    old_token = signed_in.access
    old_key_pem = settings.JWT_PRIVATE_KEY
    old_public = public_pem(serialization.load_pem_private_key(old_key_pem.encode(), None))  # type: ignore[arg-type]
    new_key = new_rsa_key()

    with override_settings(JWT_PRIVATE_KEY=pem(new_key), JWT_PREVIOUS_PUBLIC_KEYS=old_public):
        assert call_me(old_token).status_code == HTTPStatus.OK
        kids = [key["kid"] for key in APIClient().get("/.well-known/jwks.json").json()["keys"]]
        assert kids == [
            tokens.key_id(new_key.public_key()),
            jwt.get_unverified_header(old_token)["kid"],
        ]

    with override_settings(JWT_PRIVATE_KEY=pem(new_key), JWT_PREVIOUS_PUBLIC_KEYS=""):
        assert_rejected(call_me(old_token))


def test_an_independent_library_verifies_tokens_with_only_the_jwks(signed_in: SignedIn) -> None:
    jwks = APIClient().get("/.well-known/jwks.json").json()

    token = jose_jwt.decode(signed_in.access, JoseKeySet.import_key_set(jwks), algorithms=["RS256"])

    assert token.header["kid"] == jwks["keys"][0]["kid"]
    assert token.claims["sub"] == str(signed_in.user.id)
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": settings.JWT_ISSUER},
        aud={"essential": True, "value": settings.JWT_AUDIENCE},
    ).validate(token.claims)


def test_jwks_is_public_and_cacheable(api_client: APIClient) -> None:
    response = api_client.get("/.well-known/jwks.json")

    assert response.status_code == HTTPStatus.OK
    key = response.json()["keys"][0]
    assert {key["kty"], key["alg"], key["use"]} == {"RSA", "RS256", "sig"}
    assert "d" not in key  # never the private part
    assert response["Cache-Control"] == "public, max-age=300"
