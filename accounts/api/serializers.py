"""Input validation and output shapes of the accounts API. No business logic here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Session, User


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    username = serializers.RegexField(
        r"^[\w.@+-]+$", max_length=150, required=False, allow_blank=True, allow_null=True
    )


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    username = serializers.CharField(max_length=150, required=False)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("email")) == bool(attrs.get("username")):
            raise serializers.ValidationError(
                {"email": ["Provide either an email or a username."]}, code="required"
            )
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=256)


class TokenResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class MfaChallengeSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField()
    mfa_token = serializers.CharField(help_text="Send it with a code to /auth/mfa/verify.")


# A first factor's answer: tokens, or (when MFA is on) the challenge.
SignInResponseSerializer = PolymorphicProxySerializer(
    component_name="SignInResponse",
    serializers=[TokenResponseSerializer, MfaChallengeSerializer],
    resource_type_field_name=None,
)


class SignInMethodsSerializer(serializers.Serializer):
    password = serializers.BooleanField()
    phone = serializers.BooleanField()
    oauth = serializers.ListField(child=serializers.CharField())
    mfa = serializers.BooleanField(help_text="A TOTP second factor is on.")


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user as they see themselves."""

    roles = serializers.SerializerMethodField()
    sign_in_methods = serializers.SerializerMethodField()
    email_verified = serializers.BooleanField(
        read_only=True, help_text="We proved the owner reads this email (a mailed link came back)."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "email_verified",
            "username",
            "phone_number",
            "role",
            "roles",
            "sign_in_methods",
            "consent_status",
            "consent_version",
            "created_at",
        ]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return [user.role]

    @extend_schema_field(SignInMethodsSerializer)
    def get_sign_in_methods(self, user: User) -> dict[str, Any]:
        return SignInMethodsSerializer(
            {
                "password": user.has_usable_password(),
                "phone": bool(user.phone_number),
                "oauth": sorted(getattr(user, "linked_providers", [])),
                "mfa": bool(getattr(getattr(user, "mfa_device", None), "active", False)),
            }
        ).data


class RegisterResponseSerializer(TokenResponseSerializer):
    user = MeSerializer()


class MeUpdateSerializer(serializers.Serializer):
    """PUT/PATCH /users/me: any subset; email and password changes need current_password."""

    email = serializers.EmailField(max_length=254, required=False)
    username = serializers.RegexField(
        r"^[\w.@+-]+$", max_length=150, required=False, allow_blank=True, allow_null=True
    )
    password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, write_only=True
    )
    current_password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, write_only=True
    )


class EmailKeySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=128, help_text="The `key` of the mailed link.")


class EmailVerifiedSerializer(serializers.Serializer):
    email_verified = serializers.BooleanField()


@extend_schema_serializer(component_name="PasswordResetMail")  # not ...RequestRequest
class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=128, help_text="The `key` of the mailed link.")
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


def accepted(detail: str) -> Response:
    """202 in AcceptedSerializer's shape: the work (a mail, a text) is on its way."""
    return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


class SessionSerializer(serializers.ModelSerializer):
    """One of the caller's sign-ins; ``current`` is the one this request comes from."""

    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = ["id", "created_at", "last_used_at", "expires_at", "ip", "user_agent", "current"]
        read_only_fields = fields

    def get_current(self, session: Session) -> bool:
        return str(session.id) == self.context.get("current_session_id")


class ReauthenticationSerializer(serializers.Serializer):
    """The body of an action that cannot be undone (accounts.reauth)."""

    current_password = serializers.CharField(
        max_length=128,
        required=False,
        trim_whitespace=False,
        write_only=True,
        help_text="The current password; without it, a sign-in within 10 minutes is needed.",
    )


class JWKSerializer(serializers.Serializer):
    kty = serializers.CharField()
    kid = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JWKSetSerializer(serializers.Serializer):
    keys = JWKSerializer(many=True)


def validated(serializer_class: type, data: Any) -> dict[str, Any]:
    """``data`` checked by ``serializer_class`` (400 naming each bad field), as a dict."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
