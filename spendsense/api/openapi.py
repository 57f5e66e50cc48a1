"""OpenAPI pieces shared by views: error responses beyond drf-standardized-errors' defaults."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponseSerializer(serializers.Serializer):
    """The one error format: ``{type, errors: [{code, detail, attr}]}``."""

    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]


_DESCRIPTIONS = {
    400: "Invalid input; every error names its field in `attr`.",
    403: "Signed in, but not allowed.",
    404: "Not found (also another user's object).",
    409: "Conflicts with the current state.",
    413: "The body is too large.",
    415: "Unsupported media type.",
    503: "A dependency is unavailable.",
}


def error_responses(*codes: int) -> dict[int, Any]:
    """``responses=`` entries for ``extend_schema`` documenting these error statuses."""
    return {
        code: OpenApiResponse(ErrorResponseSerializer, description=_DESCRIPTIONS.get(code, ""))
        for code in codes
    }
