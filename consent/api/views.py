"""``/consent``: grant, read, revoke (optionally erasing the data)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.request import request_reauthentication
from accounts.api.serializers import ReauthenticationSerializer
from accounts.reauth import reauthentication_check
from consent import selectors, services
from consent.api.scoping import OwnedViewSet
from consent.api.serializers import (
    ConsentGrantSerializer,
    ConsentRevokeQuerySerializer,
    ConsentSerializer,
)
from spendsense.api.openapi import error_responses, response_example
from spendsense.api.request import request_meta


@extend_schema(tags=["consent"])
class ConsentViewSet(OwnedViewSet):
    """The signed-in user's consent to have their data analysed."""

    owner_field = None  # the caller's own: the path names no one
    singleton = True

    @extend_schema(
        operation_id="grantConsent",
        summary="Consent to have your data analysed",
        description=(
            "Needed before uploading data or reading insights (else 403 `consent_required`). "
            "Grants the current consent version: 201 when recorded, 200 when it was already "
            "granted. An empty body is fine; a `version` other than the current one is a 400 "
            "naming `version`."
        ),
        request=ConsentGrantSerializer,
        responses={201: ConsentSerializer, 200: ConsentSerializer},
        examples=[
            OpenApiExample("Grant", value={}, request_only=True),
            response_example(
                "Granted",
                {
                    "granted": True,
                    "version": "2026-11-01",
                    "granted_at": "2026-12-01T09:31:00Z",
                    "revoked_at": None,
                    "history": [
                        {
                            "action": "grant",
                            "version": "2026-11-01",
                            "at": "2026-12-01T09:31:00Z",
                            "data_deleted": False,
                        }
                    ],
                },
                201,
                200,
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        serializer = ConsentGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = self.get_object()
        created = services.consent_grant(
            user=user, version=serializer.validated_data.get("version"), meta=request_meta(request)
        )
        body = ConsentSerializer(selectors.consent_status(user=user)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="getConsent",
        summary="Read your consent status and its history",
        description=(
            "`granted` is true while consent stands; `history` lists every grant and "
            "revocation, newest first."
        ),
        responses={200: ConsentSerializer},
    )
    def retrieve(self, request: Request) -> Response:
        return Response(ConsentSerializer(selectors.consent_status(user=self.get_object())).data)

    @extend_schema(
        operation_id="revokeConsent",
        summary="Withdraw consent (and optionally erase your data)",
        description=(
            "Stops all analysis: insights answer 403 until consent is granted again. With "
            "`delete_data=true` every upload (files too) and all derived data are erased, which "
            "cannot be undone and needs `current_password` or a sign-in within the last 10 "
            "minutes (else 403)."
        ),
        parameters=[
            OpenApiParameter(
                "delete_data",
                bool,
                description="Also erase every upload (files too) and all data derived from them.",
            )
        ],
        request=ReauthenticationSerializer,
        responses={200: ConsentSerializer, **error_responses(403)},
    )
    def destroy(self, request: Request) -> Response:
        query = ConsentRevokeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = self.get_object()
        if query.validated_data["delete_data"]:  # erasure cannot be undone
            body = ReauthenticationSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            reauthentication_check(
                user=user,
                proof=request_reauthentication(
                    request, body.validated_data.get("current_password")
                ),
            )
        services.consent_revoke(
            user=user, delete_data=query.validated_data["delete_data"], meta=request_meta(request)
        )
        return Response(ConsentSerializer(selectors.consent_status(user=user)).data)
