"""Recorded provider answers for the OAuth tests, served by ``responses`` at the real URLs.

Google's, GitHub's, Facebook's and Apple's token and profile endpoints answer with bodies of
the shapes their documentation gives; id_tokens are signed by keys made here and published
the way each provider publishes its own (Google: PEM certificates by kid; Apple: a JWKS).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import jwt
import responses
from allauth.socialaccount.models import SocialAccount
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from accounts.models import User

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
GITHUB_USER_URL = "https://api.github.com/user"
GITHUB_EMAILS_URL = "https://api.github.com/user/emails"
FACEBOOK_GRAPH = "https://graph.facebook.com/v23.0"
APPLE_TOKEN_URL = "https://appleid.apple.com/auth/token"
APPLE_KEYS_URL = "https://appleid.apple.com/auth/keys"

CLIENT_IDS = {
    "google": "spendsense-web.apps.googleusercontent.com",
    "github": "Iv1.spendsensetest",
    "facebook": "1234567890",
    "apple": "app.spendsense.signin",
}


@lru_cache(maxsize=1)
def signing_key() -> rsa.RSAPrivateKey:
    """The providers' id_token key (one is enough: each test publishes it its own way)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache(maxsize=1)
def apple_client_key() -> ec.EllipticCurvePrivateKey:
    """Our Apple .p8 key (ES256), which signs the client secret sent to Apple."""
    return ec.generate_private_key(ec.SECP256R1())


def apple_client_key_pem() -> str:
    return (
        apple_client_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def oauth_apps() -> dict[str, dict[str, Any]]:
    """settings.OAUTH_APPS as the environment would make it, for every provider."""
    apps: dict[str, dict[str, Any]] = {
        provider: {"client_id": CLIENT_IDS[provider], "secret": f"{provider}-secret", "key": ""}
        for provider in ("google", "github", "facebook")
    }
    for conf in apps.values():
        conf["settings"] = {}
    apps["apple"] = {
        "client_id": CLIENT_IDS["apple"],
        "secret": "APPLEKEY01",  # the key id
        "key": "TEAMID0001",  # the team id
        "settings": {"certificate_key": apple_client_key_pem()},
    }
    return apps


def id_token(claims: dict[str, Any], kid: str = "test-kid-1") -> str:
    now = int(time.time())
    body = {"iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, signing_key(), algorithm="RS256", headers={"kid": kid})


def google_claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_IDS["google"],
        "sub": "110169484474386276334",
        "email": "ada@gmail.com",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
        **extra,
    }


def apple_claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://appleid.apple.com",
        "aud": CLIENT_IDS["apple"],
        "sub": "001234.6f1e0b7bd3a54f3e9e1c5e2f3a4b5c6d.1234",
        "email": "ada@privaterelay.appleid.com",
        "email_verified": "true",
        **extra,
    }


def publish_google_certs(rsps: responses.RequestsMock, kid: str = "test-kid-1") -> None:
    """Google's v1 certs: {kid: PEM certificate}."""
    key = signing_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    rsps.get(GOOGLE_CERTS_URL, json={kid: pem})


def publish_apple_keys(rsps: responses.RequestsMock, kid: str = "test-kid-1") -> None:
    """Apple's JWKS."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key().public_key()))
    rsps.get(APPLE_KEYS_URL, json={"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]})


def form(call: responses.Call) -> dict[str, str]:
    """The urlencoded body a provider received."""
    body = call.request.body or ""
    text = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text).items()}


@dataclass
class Profile:
    """Who signs in at the fake provider."""

    uid: str
    email: str | None
    email_verified: bool = True


def answer_google(rsps: responses.RequestsMock, profile: Profile) -> None:
    claims = google_claims(
        sub=profile.uid, email=profile.email, email_verified=profile.email_verified
    )
    rsps.post(
        GOOGLE_TOKEN_URL,
        json={
            "access_token": "ya29.a0-google-access",
            "expires_in": 3599,
            "scope": "openid email profile",
            "token_type": "Bearer",
            "id_token": id_token(claims),
        },
    )


def answer_github(rsps: responses.RequestsMock, profile: Profile) -> None:
    rsps.post(
        GITHUB_TOKEN_URL,
        json={
            "access_token": "gho_16C7e42F292c6912E7710c8",
            "scope": "user:email",
            "token_type": "bearer",
        },
    )
    rsps.get(
        GITHUB_USER_URL,
        json={"login": "octocat", "id": int(profile.uid), "name": "The Octocat", "email": None},
    )
    emails = []
    if profile.email:
        emails.append(
            {
                "email": profile.email,
                "primary": True,
                "verified": profile.email_verified,
                "visibility": "private",
            }
        )
    rsps.get(GITHUB_EMAILS_URL, json=emails)


def answer_facebook(rsps: responses.RequestsMock, profile: Profile) -> None:
    rsps.get(
        f"{FACEBOOK_GRAPH}/oauth/access_token",
        json={
            "access_token": "EAAB-facebook-access",
            "token_type": "bearer",
            "expires_in": 5183944,
        },
    )
    rsps.get(
        f"{FACEBOOK_GRAPH}/me",
        json={
            "id": profile.uid,
            "name": "Ada Lovelace",
            "email": profile.email,
            "first_name": "Ada",
        },
    )


def answer_apple(rsps: responses.RequestsMock, profile: Profile, nonce: str) -> None:
    claims = apple_claims(
        sub=profile.uid,
        email=profile.email,
        email_verified="true" if profile.email_verified else "false",
        nonce=nonce,
    )
    rsps.post(
        APPLE_TOKEN_URL,
        json={
            "access_token": "a0-apple-access",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "r0-apple-refresh",
            "id_token": id_token(claims),
        },
    )
    publish_apple_keys(rsps)


ANSWERS = {"google": answer_google, "github": answer_github, "facebook": answer_facebook}


def new_uid(provider: str) -> str:
    if provider in ("github", "facebook"):
        return str(uuid.uuid4().int % 10**12)
    return uuid.uuid4().hex


def link_identity(user: User, provider: str, uid: str) -> User:
    """Give ``user`` the identity ``uid`` at ``provider``, as a finished link leaves it."""
    SocialAccount.objects.create(user=user, provider=provider, uid=uid)
    user.linked_providers = [provider]
    user.save()
    return user
