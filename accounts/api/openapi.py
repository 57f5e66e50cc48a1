"""OpenAPI documentation that several accounts features share."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts.api.serializers import MeSerializer, ReauthenticationSerializer
from spendsense.api.openapi import error_responses


def sign_in_method_removal_schema(
    operation_id: str,
    summary: str,
    which: str,
    *,
    also: str = ".",
    parameters: list[OpenApiParameter] | None = None,
    errors: tuple[int, ...] = (),
) -> Any:
    """Removing a way to sign in (the phone, an OAuth provider), documented as the service
    decides it (accounts.users.services.sign_in_method_removal): re-authentication first, the
    last way to sign in kept, the account as the answer. ``which`` names the method in the
    409's sentence; ``also`` ends that sentence."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=(
            "Needs `current_password` or a sign-in within the last 10 minutes (else 403). 409 "
            f"`last_sign_in_method` when {which} the only way left to sign in{also}"
        ),
        parameters=parameters,
        request=ReauthenticationSerializer,
        responses={200: MeSerializer, **error_responses(*sorted({403, 409, *errors}))},
    )
