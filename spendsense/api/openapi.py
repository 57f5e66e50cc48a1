"""The OpenAPI schema's shared rules: the one error format, the statuses every operation can
answer, public operations' ``security: []``, and the post-processing that keeps the schema
clean under Redocly's recommended rules. Views document themselves with ``extend_schema``
(summary, description, operation_id, responses); what holds for every view lives here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable; branch on this.")
    detail = serializers.CharField(help_text="Human-readable; may change wording.")
    attr = serializers.CharField(
        allow_null=True, help_text="The field it is about (`transactions.3.amount`), or null."
    )


class ErrorResponseSerializer(serializers.Serializer):
    """The one error format: ``{type, errors: [{code, detail, attr}]}``."""

    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]


# What each error status means to a client, the same words on every operation.
_DESCRIPTIONS = {
    400: "Invalid input; every error names its field in `attr`.",
    401: "No valid credentials: sign in (or refresh the access token) and retry.",
    403: "Signed in, but not allowed.",
    404: "Not found (also another user's object).",
    405: "This method is not allowed on this path.",
    406: "The `Accept` header asks for something other than JSON.",
    409: "Conflicts with the current state.",
    413: "The body is too large.",
    415: "Unsupported media type.",
    429: "Too many requests: wait the seconds in `Retry-After`, then retry.",
    500: "An unexpected error on our side; the `X-Request-ID` header identifies it.",
    503: "A dependency (database, cache) is briefly unavailable; retry shortly (`Retry-After`).",
}


def error_responses(*codes: int, **described: str) -> dict[int, Any]:
    """``responses=`` entries for ``extend_schema`` documenting these error statuses, each
    with the common description unless ``described`` gives one (``s403="..."``)."""
    return {
        code: OpenApiResponse(
            ErrorResponseSerializer,
            description=described.get(f"s{code}") or _DESCRIPTIONS.get(code, ""),
        )
        for code in codes
    }


def response_example(name: str, value: Any, *statuses: int) -> OpenApiExample:
    """A response example for ``extend_schema(examples=...)``, shown under these statuses."""
    return OpenApiExample(
        name, value=value, response_only=True, status_codes=[str(status) for status in statuses]
    )


def error_example(
    name: str, status: int, code: str, detail: str, attr: str | None = None
) -> OpenApiExample:
    """A response example in the one error format, for ``extend_schema(examples=...)``."""
    kind = "validation_error" if status == 400 else "client_error"
    if status >= 500:
        kind = "server_error"
    return response_example(
        name, {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}, status
    )


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema (every error status in the one format) plus our rules."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and "security" not in operation:
            # No authentication class on the view: the operation is public, and says so.
            operation["security"] = []
        return operation

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "503":
            # Authentication and throttling read the database and the cache before any view
            # runs: when either is down, the answer is a 503. A view with neither (health,
            # readiness) declares its own 503 if it has one.
            view = self.view
            return "503" not in responses and bool(
                view.get_authenticators() or view.get_throttles()
            )
        return super()._should_add_error_response(responses, status_code)

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: Any,
        media_types: Any = None,
        direction: Any = "response",
    ) -> Any:
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not response.get("description") and str(status_code).isdigit():
            code = int(status_code)
            response["description"] = _DESCRIPTIONS.get(code) or HTTPStatus(code).phrase
        return response


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return components.get(ref.rsplit("/", 1)[1], {})
    return schema


def _type_of_alternatives(schema: dict[str, Any], components: dict[str, Any]) -> str | None:
    """The one ``type`` shared by every branch of an ``allOf``/``oneOf``/``anyOf``, if any."""
    for key in ("allOf", "oneOf", "anyOf"):
        branches = schema.get(key)
        if branches:
            types = {_resolve(branch, components).get("type") for branch in branches}
            if len(types) == 1 and None not in types:
                return types.pop()
    return None


def _walk(node: Any, components: dict[str, Any]) -> None:
    if isinstance(node, dict):
        if node.get("nullable") and "type" not in node:
            # drf-spectacular writes a nullable reference or a nullable choice of patterns as
            # `nullable` beside `allOf`/`oneOf`; OpenAPI 3.0 ignores `nullable` without a
            # `type`, so clients would not accept the null the API sends.
            shared = _type_of_alternatives(node, components)
            if shared:
                node["type"] = shared
        for value in node.values():
            _walk(value, components)
    elif isinstance(node, list):
        for value in node:
            _walk(value, components)


def postprocess_schema(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Give every nullable schema its ``type`` (Redocly's ``nullable-type-sibling``)."""
    _walk(result, result.get("components", {}).get("schemas", {}))
    return result
