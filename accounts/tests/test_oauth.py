"""OAuth: each provider's whole authorize → callback flow through allauth's real provider
code, the providers answered by recorded HTTP (``responses``); state, PKCE, the one-time
code, linking, merging and the last-method rule.

Over 400 lines on purpose: every section drives the same recorded providers through the
fixtures and helpers at the head of this module; split, each part would import them from
another test module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import responses
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Role, User
from tests.support import providers
from tests.support.clients import SignedIn, sign_in
from tests.support.commits import committed
from tests.support.factories.accounts import MfaDeviceFactory, UserFactory
from tests.support.mailbox import last_key
from tests.support.providers import Profile, link_identity

pytestmark = pytest.mark.django_db
BASE = "/api/v1/auth/oauth"
WEB = "https://app.spendsense.test/auth/callback"
MOBILE = "spendsense://oauth/callback"
LOCAL = "http://localhost:3000/auth/callback"


@pytest.fixture(autouse=True)
def oauth_settings(settings: Any) -> None:
    settings.OAUTH_APPS = providers.oauth_apps()
    settings.OAUTH_REDIRECT_URIS = [WEB, MOBILE, LOCAL]
    settings.OAUTH_CALLBACK_BASE_URL = "https://api.spendsense.test"


@pytest.fixture
def rsps() -> Any:
    # Every request to the outside must be one of the recorded answers.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def authorize(client: APIClient, provider: str, **query: str) -> dict[str, str]:
    """Start a flow; the authorization URL's query, flattened."""
    response = client.get(f"{BASE}/{provider}/authorize", {"format": "json", **query})
    assert response.status_code == HTTPStatus.OK, response.content
    url = response.json()["authorization_url"]
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} | {"_url": url}


def callback(client: APIClient, provider: str, **params: str) -> Any:
    if provider == "apple":  # Apple answers with response_mode=form_post
        return form_post(client, params)
    return client.get(f"{BASE}/{provider}/callback", params)


def form_post(client: APIClient, params: dict[str, str]) -> Any:
    """Apple's form_post: an urlencoded cross-site POST."""
    return client.post(
        f"{BASE}/apple/callback",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )


def answer(
    rsps: responses.RequestsMock, provider: str, profile: Profile, auth: dict[str, str]
) -> None:
    if provider == "apple":
        providers.answer_apple(rsps, profile, nonce=auth["nonce"])
    else:
        providers.ANSWERS[provider](rsps, profile)


def sign_in_flow(
    client: APIClient, rsps: responses.RequestsMock, provider: str, profile: Profile, **query: str
) -> Any:
    auth = authorize(client, provider, **query)
    answer(rsps, provider, profile, auth)
    return callback(client, provider, code="provider-code-1", state=auth["state"])


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def token_request(rsps: responses.RequestsMock) -> dict[str, str]:
    """What we sent to the provider's token endpoint (a form body, or Facebook's query)."""
    call = next(c for c in rsps.calls if "token" in (c.request.url or ""))
    if call.request.method == "GET":
        query = urlsplit(str(call.request.url)).query
        return {k: v[0] for k, v in parse_qs(query).items()}
    return providers.form(call)


# --- each provider end to end ------------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "github", "facebook", "apple"])
def test_each_provider_signs_up_a_new_user_end_to_end(
    api_client: APIClient, rsps: responses.RequestsMock, provider: str
) -> None:
    uid = providers.new_uid(provider)
    auth = authorize(api_client, provider)
    assert auth["client_id"] == providers.CLIENT_IDS[provider]
    assert (
        auth["redirect_uri"] == f"https://api.spendsense.test/api/v1/auth/oauth/{provider}/callback"
    )
    answer(rsps, provider, Profile(uid=uid, email=f"{uid}@example.org"), auth)

    response = callback(api_client, provider, code="provider-code-1", state=auth["state"])

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert set(body) >= {"access", "refresh", "token_type", "expires_in"}
    assert response["Cache-Control"] == "no-store"
    account = SocialAccount.objects.get(provider=provider, uid=uid)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    profile = me.get("/api/v1/users/me").json()
    assert profile["id"] == str(account.user_id)
    assert profile["sign_in_methods"]["oauth"] == [provider]
    assert profile["sign_in_methods"]["password"] is False
    # Facebook's email is not verified (allauth's reading of Graph): it is not kept.
    expected_email = None if provider == "facebook" else f"{uid}@example.org"
    assert profile["email"] == expected_email
    sent = token_request(rsps)
    assert sent["code"] == "provider-code-1"
    assert sent["redirect_uri"] == auth["redirect_uri"]
    # Provider tokens are never stored, not even inside the profile data.
    assert not SocialToken.objects.exists()
    assert not {"access_token", "refresh_token", "id_token"} & set(account.extra_data)
    assert AuditEvent.objects.filter(action="user.register", actor_id=account.user_id).count() == 1


@pytest.mark.parametrize("provider", ["google", "github", "facebook"])
def test_pkce_challenge_goes_out_and_its_verifier_comes_back(
    api_client: APIClient, rsps: responses.RequestsMock, provider: str
) -> None:
    auth = authorize(api_client, provider)
    assert auth["code_challenge_method"] == "S256"
    answer(rsps, provider, Profile(uid=providers.new_uid(provider), email=None), auth)

    assert callback(api_client, provider, code="c", state=auth["state"]).status_code == 200

    verifier = token_request(rsps)["code_verifier"]
    assert s256(verifier) == auth["code_challenge"]


def test_apple_flow_uses_form_post_a_nonce_and_a_signed_client_secret(
    rsps: responses.RequestsMock,
) -> None:
    client = APIClient(enforce_csrf_checks=True)  # Apple's cross-site POST carries no CSRF token
    auth = authorize(client, "apple")
    assert auth["response_mode"] == "form_post"
    assert "code_challenge" not in auth
    providers.answer_apple(rsps, Profile(uid="001.apple.1", email="ada@icloud.com"), auth["nonce"])
    user_json = json.dumps({"name": {"firstName": "Ada", "lastName": "Lovelace"}})

    response = form_post(client, {"code": "apple-code", "state": auth["state"], "user": user_json})

    assert response.status_code == HTTPStatus.OK, response.content
    secret = token_request(rsps)["client_secret"]
    claims = jwt.decode(
        secret,
        providers.apple_client_key().public_key(),
        algorithms=["ES256"],
        audience="https://appleid.apple.com",
    )
    assert claims["iss"] == "TEAMID0001"
    assert claims["sub"] == providers.CLIENT_IDS["apple"]
    assert jwt.get_unverified_header(secret)["kid"] == "APPLEKEY01"
    account = SocialAccount.objects.get(provider="apple", uid="001.apple.1")
    assert account.extra_data["name"] == {"firstName": "Ada", "lastName": "Lovelace"}


def test_apple_id_token_for_another_flow_is_refused(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    auth = authorize(api_client, "apple")
    providers.answer_apple(rsps, Profile(uid="001.apple.2", email=None), nonce="someone-elses")

    response = callback(api_client, "apple", code="apple-code", state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "oauth_provider_error"
    assert not User.objects.exists()


def test_apple_id_token_signed_by_an_unknown_key_is_refused(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    auth = authorize(api_client, "apple")
    providers.answer_apple(rsps, Profile(uid="001.apple.3", email=None), nonce=auth["nonce"])
    rsps.replace(responses.GET, providers.APPLE_KEYS_URL, json={"keys": []})

    response = callback(api_client, "apple", code="apple-code", state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not SocialAccount.objects.exists()


# --- state -------------------------------------------------------------------------------


def test_forged_state_is_refused_before_any_provider_call(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    authorize(api_client, "google")

    for forged in ["made-up", "abc:1tBx:forgedsignature", secrets.token_urlsafe(40)]:
        response = callback(api_client, "google", code="c", state=forged)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"][0] == {
            "code": "invalid_state",
            "detail": "The sign-in is unknown, expired or already used; start again.",
            "attr": "state",
        }
    assert not rsps.calls


def test_state_works_once(api_client: APIClient, rsps: responses.RequestsMock) -> None:
    auth = authorize(api_client, "github")
    providers.answer_github(rsps, Profile(uid="42", email=None))
    assert callback(api_client, "github", code="c", state=auth["state"]).status_code == 200

    replay = callback(api_client, "github", code="c", state=auth["state"])

    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["errors"][0]["code"] == "invalid_state"


def test_expired_state_is_refused(api_client: APIClient, settings: Any) -> None:
    auth = authorize(api_client, "google")
    settings.OAUTH_STATE_SECONDS = -1  # as if its ten minutes had passed

    response = callback(api_client, "google", code="c", state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "invalid_state"


def test_state_of_another_provider_is_refused(api_client: APIClient) -> None:
    auth = authorize(api_client, "google")

    response = callback(api_client, "github", code="c", state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "state"


def test_missing_state_names_the_field(api_client: APIClient) -> None:
    response = api_client.get(f"{BASE}/google/callback", {"code": "c"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == "state"


@pytest.mark.parametrize(
    ("error", "code"),
    [("access_denied", "oauth_cancelled"), ("server_error", "oauth_provider_error")],
)
def test_provider_error_is_400_and_voids_the_state(
    api_client: APIClient, rsps: responses.RequestsMock, error: str, code: str
) -> None:
    auth = authorize(api_client, "google")

    response = callback(api_client, "google", error=error, state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == code
    assert callback(api_client, "google", code="c", state=auth["state"]).status_code == 400
    assert not rsps.calls


def test_code_the_provider_rejects_is_400(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    auth = authorize(api_client, "google")
    rsps.post(providers.GOOGLE_TOKEN_URL, status=400, json={"error": "invalid_grant"})

    response = callback(api_client, "google", code="stale", state=auth["state"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "oauth_provider_error"
    assert not User.objects.exists()


def test_unreachable_provider_is_503(api_client: APIClient, rsps: responses.RequestsMock) -> None:
    api_client.raise_request_exception = False  # a 5xx is reported as an exception too
    auth = authorize(api_client, "github")  # nothing recorded: the connection fails

    response = callback(api_client, "github", code="c", state=auth["state"])

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["errors"][0]["code"] == "oauth_provider_unavailable"


def test_unknown_provider_is_404(api_client: APIClient) -> None:
    for path in ["myspace/authorize", "myspace/callback?state=x&code=y"]:
        response = api_client.get(f"{BASE}/{path}")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json()["errors"][0]["code"] == "unknown_provider"


def test_provider_without_credentials_is_503(api_client: APIClient, settings: Any) -> None:
    settings.OAUTH_APPS = {}
    api_client.raise_request_exception = False

    response = api_client.get(f"{BASE}/google/authorize")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["errors"][0]["code"] == "oauth_provider_not_configured"


def test_authorize_redirects_to_the_provider(api_client: APIClient) -> None:
    response = api_client.get(f"{BASE}/google/authorize")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("https://accounts.google.com/o/oauth2/v2/auth?")


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ({"redirect_uri": "https://evil.example/steal"}, "redirect_uri"),
        ({"redirect_uri": WEB + "/extra"}, "redirect_uri"),
        ({"purpose": "impersonate"}, "purpose"),
        ({"code_challenge": "too-short"}, "code_challenge"),
        ({"code_challenge_method": "plain"}, "code_challenge_method"),
    ],
)
def test_authorize_bad_input_names_the_field(
    api_client: APIClient, query: dict[str, str], attr: str
) -> None:
    response = api_client.get(f"{BASE}/google/authorize", {"format": "json", **query})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr


# --- the client redirect and the one-time code ----------------------------------------------


def test_client_redirect_carries_a_one_time_code_never_tokens(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    response = sign_in_flow(
        api_client,
        rsps,
        "github",
        Profile(uid="7", email="octo@example.org"),
        redirect_uri=WEB,
        client_state="app-state-1",
    )

    assert response.status_code == HTTPStatus.FOUND
    location = response["Location"]
    assert location.startswith(WEB + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert set(query) == {"code", "state"}
    assert query["state"] == "app-state-1"
    assert response["Referrer-Policy"] == "no-referrer"

    tokens = api_client.post(f"{BASE}/exchange", {"code": query["code"]})
    assert tokens.status_code == HTTPStatus.OK
    assert set(tokens.json()) >= {"access", "refresh"}
    replay = api_client.post(f"{BASE}/exchange", {"code": query["code"]})
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["errors"][0] == {
        "code": "invalid_code",
        "detail": "The code is unknown, expired or already used.",
        "attr": "code",
    }


def pkce_sign_in(client: APIClient, rsps: responses.RequestsMock, uid: str) -> tuple[str, str]:
    """A flow begun with a client PKCE challenge: (one-time code, the client's verifier)."""
    verifier = secrets.token_urlsafe(48)
    response = sign_in_flow(
        client,
        rsps,
        "google",
        Profile(uid=uid, email=None),
        redirect_uri=WEB,
        code_challenge=s256(verifier),
        code_challenge_method="S256",
    )
    return parse_qs(urlsplit(response["Location"]).query)["code"][0], verifier


@pytest.mark.parametrize("redirect_uri", [MOBILE, LOCAL])
def test_a_redirect_that_is_not_https_needs_a_code_challenge(
    api_client: APIClient, redirect_uri: str
) -> None:
    response = api_client.get(
        f"{BASE}/google/authorize", {"format": "json", "redirect_uri": redirect_uri}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {
            "code": "required",
            "detail": "A redirect_uri that is not https needs a code_challenge.",
            "attr": "code_challenge",
        }
    ]


@pytest.mark.parametrize("redirect_uri", [MOBILE, LOCAL])
def test_a_redirect_that_is_not_https_with_a_challenge_gets_a_code(
    api_client: APIClient, rsps: responses.RequestsMock, redirect_uri: str
) -> None:
    verifier = secrets.token_urlsafe(48)
    response = sign_in_flow(
        api_client,
        rsps,
        "github",
        Profile(uid="71", email=None),
        redirect_uri=redirect_uri,
        code_challenge=s256(verifier),
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(redirect_uri + "?")
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    without = api_client.post(f"{BASE}/exchange", {"code": code})
    assert without.status_code == HTTPStatus.BAD_REQUEST
    assert without.json()["errors"][0]["attr"] == "code_verifier"


def test_one_time_code_with_client_pkce_needs_the_verifier(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    code, verifier = pkce_sign_in(api_client, rsps, "g-pkce")

    stolen = api_client.post(f"{BASE}/exchange", {"code": code, "code_verifier": "x" * 43})
    assert stolen.status_code == HTTPStatus.BAD_REQUEST
    assert stolen.json()["errors"][0]["attr"] == "code_verifier"
    # A failed attempt burns the code: the thief's guess cannot be retried.
    again = api_client.post(f"{BASE}/exchange", {"code": code, "code_verifier": verifier})
    assert again.status_code == HTTPStatus.BAD_REQUEST


def test_one_time_code_with_the_right_verifier(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    code, verifier = pkce_sign_in(api_client, rsps, "g-pkce-2")

    tokens = api_client.post(f"{BASE}/exchange", {"code": code, "code_verifier": verifier})

    assert tokens.status_code == HTTPStatus.OK


def test_one_time_code_expires(
    api_client: APIClient, rsps: responses.RequestsMock, settings: Any
) -> None:
    settings.OAUTH_EXCHANGE_CODE_SECONDS = 1
    response = sign_in_flow(
        api_client, rsps, "github", Profile(uid="8", email=None), redirect_uri=WEB
    )
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]

    time.sleep(1.5)  # the cache's own expiry (Redis in CI), past the 1 s lifetime

    assert api_client.post(f"{BASE}/exchange", {"code": code}).status_code == 400


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({}, "code"),
        ({"code": "x" * 200}, "code"),
        ({"code": "c", "code_verifier": "short"}, "code_verifier"),
    ],
)
def test_exchange_bad_input_names_the_field(
    api_client: APIClient, body: dict[str, str], attr: str
) -> None:
    response = api_client.post(f"{BASE}/exchange", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr


# --- matching existing accounts ------------------------------------------------------------


def test_verified_email_signs_in_the_existing_account_and_links_it(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    existing = UserFactory.create(email="ada@example.org", email_verified_at=timezone.now())

    response = sign_in_flow(api_client, rsps, "google", Profile(uid="g-1", email="Ada@Example.org"))

    assert response.status_code == HTTPStatus.OK
    assert User.objects.count() == 1
    assert SocialAccount.objects.get(provider="google", uid="g-1").user_id == existing.id
    existing.refresh_from_db()
    assert existing.linked_providers == ["google"]
    assert AuditEvent.objects.filter(action="auth.oauth.link", actor_id=existing.id).count() == 1


@pytest.mark.parametrize("provider", ["google", "github", "facebook"])
def test_unverified_email_never_matches_an_existing_account(
    api_client: APIClient, rsps: responses.RequestsMock, provider: str
) -> None:
    existing = UserFactory.create(email="victim@example.org")
    profile = Profile(
        uid=providers.new_uid(provider), email="victim@example.org", email_verified=False
    )

    response = sign_in_flow(api_client, rsps, provider, profile)

    assert response.status_code == HTTPStatus.OK
    new = SocialAccount.objects.get(provider=provider).user
    assert new.id != existing.id
    assert new.email is None  # an unverified address is not taken over either


# --- the pre-registration takeover (docs/decisions.md: refuse with 409) ----------------------

VICTIM = "victim@gmail.com"
REFUSED = {
    "type": "client_error",
    "errors": [
        {
            "code": "email_unverified_account",
            "detail": (
                "An account with this email exists but its email is not verified. Sign in with "
                "its password and link this provider, or reset the password."
            ),
            "attr": None,
        }
    ],
}


def _attacker_registers(client: APIClient, email: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/register",
        {"email": email, "password": "attacker's own passphrase 1"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    return dict(response.json())


def _victim_signs_in_with_google(rsps: responses.RequestsMock, **query: str) -> Any:
    victim = APIClient()
    return sign_in_flow(victim, rsps, "google", Profile(uid="g-victim", email=VICTIM), **query)


def _assert_victim_kept_out(attacker_id: str) -> None:
    assert not SocialAccount.objects.filter(uid="g-victim").exists()
    attacker = User.objects.get(pk=attacker_id)
    assert attacker.linked_providers == []
    assert (
        AuditEvent.objects.filter(action="auth.oauth.refused", target_id=attacker_id).count() == 1
    )


def test_pre_registered_email_never_lets_the_victim_into_the_attackers_account(
    rsps: responses.RequestsMock,
) -> None:
    attacker = _attacker_registers(APIClient(), VICTIM)

    response = _victim_signs_in_with_google(rsps)

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == REFUSED
    assert "access" not in response.json()
    _assert_victim_kept_out(attacker["user"]["id"])


def test_pre_registered_email_refused_on_the_client_redirect_too(
    rsps: responses.RequestsMock,
) -> None:
    attacker = _attacker_registers(APIClient(), VICTIM)

    response = _victim_signs_in_with_google(rsps, redirect_uri=WEB)

    assert response.status_code == HTTPStatus.CONFLICT  # no one-time code for that account
    assert "Location" not in response
    _assert_victim_kept_out(attacker["user"]["id"])


def test_email_changed_to_the_victims_never_lets_the_victim_in(
    rsps: responses.RequestsMock,
) -> None:
    """The attacker verifies an address of their own, then switches to the victim's."""
    client = APIClient()
    attacker = _attacker_registers(client, "mallory@example.org")
    key = last_key("mallory@example.org", "verify-email")
    assert client.post("/api/v1/auth/email/verify", {"key": key}).status_code == HTTPStatus.OK
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {attacker['access']}")
    changed = client.patch(
        "/api/v1/users/me",
        {"email": VICTIM, "current_password": "attacker's own passphrase 1"},
        format="json",
    )
    assert changed.status_code == HTTPStatus.OK
    assert changed.json()["email_verified"] is False

    response = _victim_signs_in_with_google(rsps)

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == REFUSED
    _assert_victim_kept_out(attacker["user"]["id"])


def test_once_we_verified_the_email_google_signs_in_to_that_account(
    rsps: responses.RequestsMock,
) -> None:
    """The owner registered with a password and verified: Google joins their account."""
    owner = _attacker_registers(APIClient(), VICTIM)  # here the registrant is the owner
    key = last_key(VICTIM, "verify-email")
    assert APIClient().post("/api/v1/auth/email/verify", {"key": key}).status_code == 200

    response = _victim_signs_in_with_google(rsps)

    assert response.status_code == HTTPStatus.OK
    assert SocialAccount.objects.get(uid="g-victim").user_id == uuid.UUID(owner["user"]["id"])


def test_an_account_made_by_oauth_starts_verified(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    response = sign_in_flow(api_client, rsps, "google", Profile(uid="g-new", email="new@gmail.com"))

    assert response.status_code == HTTPStatus.OK
    assert User.objects.get(email="new@gmail.com").email_verified


def test_apples_user_field_cannot_set_the_email(rsps: responses.RequestsMock) -> None:
    """An id_token without an email plus a forged ``user`` naming a verified victim: only the
    name is taken; the victim's account is untouched and the new one has no email."""
    victim = UserFactory.create(email=VICTIM, email_verified_at=timezone.now())
    client = APIClient()
    auth = authorize(client, "apple")
    claims = providers.apple_claims(sub="001.apple.mallory", nonce=auth["nonce"])
    del claims["email"], claims["email_verified"]
    rsps.post(
        providers.APPLE_TOKEN_URL,
        json={"access_token": "a", "token_type": "Bearer", "id_token": providers.id_token(claims)},
    )
    providers.publish_apple_keys(rsps)
    forged = json.dumps(
        {
            "email": VICTIM,
            "email_verified": "true",
            "sub": "001.apple.victim",
            "name": {"firstName": "Mallory", "lastName": "M", "email": VICTIM},
        }
    )

    response = form_post(client, {"code": "c", "state": auth["state"], "user": forged})

    assert response.status_code == HTTPStatus.OK, response.content
    account = SocialAccount.objects.get(provider="apple")
    assert account.uid == "001.apple.mallory"
    assert account.user_id != victim.id
    assert account.user.email is None
    assert account.extra_data["name"] == {"firstName": "Mallory", "lastName": "M"}
    assert "email" not in account.extra_data


def test_returning_identity_signs_in_the_same_user(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    first = sign_in_flow(api_client, rsps, "github", Profile(uid="99", email=None))
    second = sign_in_flow(api_client, rsps, "github", Profile(uid="99", email=None))

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert User.objects.count() == 1


def test_mfa_user_gets_the_second_factor_challenge(
    api_client: APIClient, rsps: responses.RequestsMock
) -> None:
    user = UserFactory.create(email="mfa@example.org", email_verified_at=timezone.now())
    MfaDeviceFactory.create(user=user)

    response = sign_in_flow(
        api_client, rsps, "google", Profile(uid="g-mfa", email="mfa@example.org")
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["mfa_required"] is True
    assert "access" not in response.json()


def test_inactive_user_cannot_sign_in(api_client: APIClient, rsps: responses.RequestsMock) -> None:
    UserFactory.create(email="gone@example.org", is_active=False, email_verified_at=timezone.now())

    response = sign_in_flow(
        api_client, rsps, "google", Profile(uid="g-gone", email="gone@example.org")
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED


# --- linking -------------------------------------------------------------------------------


def link_flow(
    signed_in: SignedIn, rsps: responses.RequestsMock, provider: str, profile: Profile
) -> Any:
    """authorize(purpose=link) → provider → callback hands code and state to the client →
    the client posts them with its Bearer token."""
    auth = authorize(signed_in.client, provider, purpose="link", redirect_uri=WEB)
    back = callback(APIClient(), provider, code="link-code", state=auth["state"])
    assert back.status_code == HTTPStatus.FOUND, back.content
    query = {k: v[0] for k, v in parse_qs(urlsplit(back["Location"]).query).items()}
    assert query["provider"] == provider
    answer(rsps, provider, profile, auth)
    return signed_in.client.post(
        f"{BASE}/link", {"provider": provider, "code": query["code"], "state": query["state"]}
    )


def test_link_with_code_and_state(signed_in: SignedIn, rsps: responses.RequestsMock) -> None:
    response = link_flow(signed_in, rsps, "github", Profile(uid="314", email=None))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sign_in_methods"]["oauth"] == ["github"]
    assert SocialAccount.objects.get(provider="github", uid="314").user_id == signed_in.user.id
    assert token_request(rsps)["code_verifier"]
    assert signed_in.client.get("/api/v1/users/me").json()["sign_in_methods"]["oauth"] == ["github"]


def test_link_state_is_bound_to_the_user_who_started_it(
    signed_in: SignedIn, rsps: responses.RequestsMock
) -> None:
    auth = authorize(signed_in.client, "github", purpose="link", redirect_uri=WEB)
    other = sign_in(UserFactory.create())

    response = other.client.post(
        f"{BASE}/link", {"provider": "github", "code": "link-code", "state": auth["state"]}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "invalid_state"
    assert not rsps.calls


def test_login_state_cannot_link(signed_in: SignedIn) -> None:
    auth = authorize(signed_in.client, "github")

    response = signed_in.client.post(
        f"{BASE}/link", {"provider": "github", "code": "c", "state": auth["state"]}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_link_flow_needs_a_signed_in_caller_and_a_redirect(
    api_client: APIClient, signed_in: SignedIn
) -> None:
    anonymous = api_client.get(f"{BASE}/github/authorize", {"purpose": "link", "redirect_uri": WEB})
    no_redirect = signed_in.client.get(f"{BASE}/github/authorize", {"purpose": "link"})

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert no_redirect.status_code == HTTPStatus.BAD_REQUEST
    assert no_redirect.json()["errors"][0]["attr"] == "redirect_uri"


@pytest.mark.parametrize("provider", ["google", "apple"])
def test_link_with_an_id_token(
    signed_in: SignedIn, rsps: responses.RequestsMock, provider: str
) -> None:
    if provider == "google":
        providers.publish_google_certs(rsps)
        token = providers.id_token(providers.google_claims(sub="g-idt"))
    else:
        providers.publish_apple_keys(rsps)
        token = providers.id_token(providers.apple_claims(sub="a-idt"))

    response = signed_in.client.post(f"{BASE}/link", {"provider": provider, "id_token": token})

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sign_in_methods"]["oauth"] == [provider]


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-elses-app.apps.googleusercontent.com"},
        {"iss": "https://evil.example"},
        {"exp": 1_000_000_000},
    ],
)
def test_id_token_for_another_audience_issuer_or_expired_is_refused(
    signed_in: SignedIn, rsps: responses.RequestsMock, claims: dict[str, Any]
) -> None:
    providers.publish_google_certs(rsps)
    token = providers.id_token(providers.google_claims(**claims))

    response = signed_in.client.post(f"{BASE}/link", {"provider": "google", "id_token": token})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not SocialAccount.objects.exists()


def test_id_token_for_github_is_refused(signed_in: SignedIn) -> None:
    response = signed_in.client.post(f"{BASE}/link", {"provider": "github", "id_token": "x.y.z"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "id_token_unsupported"


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"provider": "github"}, "code"),
        ({"provider": "github", "code": "c"}, "state"),
        ({"provider": "myspace", "id_token": "x"}, "provider"),
        ({"code": "c", "state": "s"}, "provider"),
    ],
)
def test_link_bad_input_names_the_field(
    signed_in: SignedIn, body: dict[str, str], attr: str
) -> None:
    response = signed_in.client.post(f"{BASE}/link", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["attr"] == attr


def test_link_needs_a_signed_in_caller(api_client: APIClient) -> None:
    response = api_client.post(f"{BASE}/link", {"provider": "google", "id_token": "x"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def _google_link(signed_in: SignedIn, rsps: responses.RequestsMock, sub: str) -> Any:
    rsps.reset()
    providers.publish_google_certs(rsps)
    token = providers.id_token(providers.google_claims(sub=sub, email=f"{sub}@gmail.com"))
    return signed_in.client.post(f"{BASE}/link", {"provider": "google", "id_token": token})


def test_identity_of_a_non_empty_account_is_409(
    signed_in: SignedIn, rsps: responses.RequestsMock
) -> None:
    owner = UserFactory.create()  # has a password: not empty
    link_identity(owner, "google", "g-owned")

    response = _google_link(signed_in, rsps, "g-owned")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "oauth_identity_taken"
    assert SocialAccount.objects.get(uid="g-owned").user_id == owner.id


def test_identity_of_an_empty_account_is_merged(
    signed_in: SignedIn, rsps: responses.RequestsMock
) -> None:
    empty = User.objects.create_user(email=None)
    link_identity(empty, "google", "g-empty")
    empty_session = sign_in(empty)

    response = _google_link(signed_in, rsps, "g-empty")

    assert response.status_code == HTTPStatus.OK, response.content
    assert SocialAccount.objects.get(uid="g-empty").user_id == signed_in.user.id
    assert not User.objects.filter(pk=empty.pk).exists()
    assert empty_session.client.get("/api/v1/users/me").status_code == HTTPStatus.UNAUTHORIZED
    event = AuditEvent.objects.get(action="auth.oauth.link", actor_id=signed_in.user.id)
    assert event.details["merged_account"] == str(empty.id)


def test_identity_of_an_otherwise_empty_staff_account_is_409(
    signed_in: SignedIn, rsps: responses.RequestsMock
) -> None:
    staff = User.objects.create_user(email=None, role=Role.OPERATOR)  # its role is something
    link_identity(staff, "google", "g-staff")

    response = _google_link(signed_in, rsps, "g-staff")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "oauth_identity_taken"
    assert User.objects.filter(pk=staff.pk).exists()


@pytest.mark.parametrize(
    ("second_sub", "status", "code"),
    [
        ("g-first", HTTPStatus.OK, None),
        ("g-second", HTTPStatus.CONFLICT, "provider_already_linked"),
    ],
    ids=["the_same_identity_again_changes_nothing", "another_identity_is_409"],
)
def test_a_provider_links_one_identity(
    signed_in: SignedIn,
    rsps: responses.RequestsMock,
    second_sub: str,
    status: HTTPStatus,
    code: str | None,
) -> None:
    assert _google_link(signed_in, rsps, "g-first").status_code == 200

    second = _google_link(signed_in, rsps, second_sub)

    assert second.status_code == status
    assert (second.json()["errors"][0]["code"] if code else None) == code
    assert SocialAccount.objects.filter(user=signed_in.user).count() == 1


# --- unlinking and the last-method rule ---------------------------------------------------------


def oauth_only_user(provider: str = "google") -> SignedIn:
    user = User.objects.create_user(email=None)
    link_identity(user, provider, f"{provider}-only")
    return sign_in(user)


def test_unlink_the_last_method_is_409() -> None:
    signed = oauth_only_user()

    response = signed.client.delete(f"{BASE}/unlink/google")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "last_sign_in_method"
    assert SocialAccount.objects.filter(user=signed.user).count() == 1


def test_unlink_when_another_method_remains() -> None:
    signed = oauth_only_user()
    SocialAccount.objects.create(user=signed.user, provider="github", uid="gh-2")
    with committed():
        User.objects.filter(pk=signed.user.pk).update(linked_providers=["github", "google"])

    response = signed.client.delete(f"{BASE}/unlink/google")

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["sign_in_methods"]["oauth"] == ["github"]
    assert not SocialAccount.objects.filter(user=signed.user, provider="google").exists()
    assert (
        AuditEvent.objects.filter(action="auth.oauth.unlink", actor_id=signed.user.id).count() == 1
    )


def test_password_user_can_unlink(signed_in: SignedIn, rsps: responses.RequestsMock) -> None:
    assert _google_link(signed_in, rsps, "g-pw").status_code == 200

    response = signed_in.client.delete(f"{BASE}/unlink/google")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["sign_in_methods"]["oauth"] == []


def test_unlink_what_is_not_linked_is_404(signed_in: SignedIn) -> None:
    assert signed_in.client.delete(f"{BASE}/unlink/github").status_code == HTTPStatus.NOT_FOUND
    unknown = signed_in.client.delete(f"{BASE}/unlink/myspace")
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json()["errors"][0]["code"] == "unknown_provider"


def test_unlink_needs_a_signed_in_caller(api_client: APIClient) -> None:
    assert api_client.delete(f"{BASE}/unlink/google").status_code == HTTPStatus.UNAUTHORIZED


def test_phone_unlink_counts_oauth_as_a_way_to_sign_in() -> None:
    signed = oauth_only_user()
    with committed():
        User.objects.filter(pk=signed.user.pk).update(phone_number="+14155550199")

    response = signed.client.delete("/api/v1/auth/phone/unlink")

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["phone_number"] is None


def test_deleting_the_account_removes_its_identities() -> None:
    signed = oauth_only_user()

    assert signed.client.delete("/api/v1/users/me").status_code == HTTPStatus.NO_CONTENT

    assert not SocialAccount.objects.exists()


def test_oauth_is_throttled_per_ip(api_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from accounts.oauth.api import OAuthThrottle

    monkeypatch.setattr(OAuthThrottle, "THROTTLE_RATES", {"oauth": "2/hour"})

    codes = [api_client.get(f"{BASE}/google/authorize").status_code for _ in range(3)]

    assert codes == [302, 302, 429]
