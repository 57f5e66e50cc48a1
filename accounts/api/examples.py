"""OpenAPI examples of the sign-in flows (register, sign in, refresh), shared by their views."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from spendsense.api.openapi import error_example, response_example

_TOKENS = {
    "access": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjJmM2QifQ.eyJzdWIiOiIwYjdjIn0.c2lnbmF0dXJl",
    "refresh": "s3L8oQm1xJ0rYv3k5G0b2w",
    "token_type": "Bearer",
    "expires_in": 3600,
}

ME = {
    "id": "0b7c6f1e-5d0c-4f4e-9a51-3f8e2b1c9d10",
    "email": "ada@example.com",
    "email_verified": False,
    "username": None,
    "phone_number": None,
    "role": "user",
    "roles": ["user"],
    "sign_in_methods": {"password": True, "phone": False, "oauth": [], "mfa": False},
    "consent_status": "none",
    "consent_version": None,
    "created_at": "2026-12-01T09:30:00Z",
}

REGISTER = [
    OpenApiExample(
        "Register",
        value={"email": "ada@example.com", "password": "a long passphrase"},
        request_only=True,
    ),
    response_example("Registered", {"user": ME, **_TOKENS}, 201),
    error_example(
        "Email taken", 409, "email_taken", "An account with this email already exists.", "email"
    ),
]

LOGIN = [
    OpenApiExample(
        "With email",
        value={"email": "ada@example.com", "password": "a long passphrase"},
        request_only=True,
    ),
    response_example("Signed in", _TOKENS, 200),
    response_example(
        "Second factor needed",
        {"mfa_required": True, "mfa_token": "mfa.eyJ1IjoiMGI3YyJ9.c2ln"},
        200,
    ),
    error_example("Wrong password", 401, "invalid_credentials", "Invalid credentials."),
]

REFRESH_FAILED = error_example(
    "Refresh token not valid", 401, "token_not_valid", "Invalid or expired refresh token."
)

REFRESH = [
    OpenApiExample("Refresh", value={"refresh": _TOKENS["refresh"]}, request_only=True),
    response_example("Rotated", _TOKENS, 200),
    REFRESH_FAILED,
]
