"""OpenAPI security schemes for our authentication classes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.APIKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Every view authenticates an API key, but only a permission that names the methods
        # a key may call (``api_key_methods``) lets one through: elsewhere it is not a way in.
        for permission in auto_schema.view.get_permissions():
            if auto_schema.method in getattr(permission, "api_key_methods", ()):
                return [{self.name: []}]
        return []

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; read-only operator endpoints only.",
        }
