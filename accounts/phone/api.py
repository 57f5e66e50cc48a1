"""``/auth/phone/*``: sign in with a texted code; link and unlink a phone number."""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from accounts.api.openapi import sign_in_method_removal_schema
from accounts.api.request import request_reauthentication, request_user
from accounts.api.serializers import (
    MeSerializer,
    ReauthenticationSerializer,
    SignInResponseSerializer,
    accepted,
    validated,
)
from accounts.audit import Action, audit_record
from accounts.phone import services
from accounts.phone.codes import code_send, phone_normalize
from accounts.sessions.services import signed_in
from spendsense.api.openapi import error_responses
from spendsense.api.request import request_meta
from spendsense.api.throttles import AtomicRateThrottleMixin, throttle_for

SmsIpThrottle = throttle_for("sms_ip", fail_open=False)


class PhoneNumberThrottle(AtomicRateThrottleMixin, SimpleRateThrottle):
    """5 codes an hour per phone number, counted before anything is sent; fails closed."""

    scope = "sms_phone"
    fail_open = False

    def get_cache_key(self, request: Request, view: object) -> str | None:  # pragma: no cover
        return None  # counted explicitly by the view, once the number is parsed


def _throttle_phone(phone: str) -> None:
    throttle = PhoneNumberThrottle()
    digest = hashlib.sha256(phone.encode()).hexdigest()[:32]
    if not throttle.hit(f"throttle_sms_phone_{digest}"):
        raise exceptions.Throttled(wait=throttle.wait())


@extend_schema_serializer(component_name="PhoneNumber")  # not PhoneRequestRequest
class PhoneRequestSerializer(serializers.Serializer):
    phone_number = serializers.CharField(max_length=32)


@extend_schema_serializer(component_name="PhoneVerify")  # its own, not the parent's
class PhoneVerifySerializer(PhoneRequestSerializer):
    code = serializers.CharField(max_length=12)


class PhoneAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _phone(data: dict) -> str:
    return phone_normalize(validated(PhoneRequestSerializer, data)["phone_number"])


def _code(data: dict) -> tuple[str, str]:
    checked = validated(PhoneVerifySerializer, data)
    return phone_normalize(checked["phone_number"]), checked["code"]


@extend_schema(tags=["auth"])
class PhoneViewSet(viewsets.ViewSet):
    """Phone sign-in: the same 202 for every valid number, known or not."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="requestPhoneCode",
        summary="Text a 6-digit sign-in code to a phone number",
        description=(
            "`phone_number` in E.164 (`+14155550123`). The same 202 for every valid number, "
            "known or not; then POST the number and the code to /api/v1/auth/phone/verify (to "
            "sign in) or /api/v1/auth/phone/link (to add it to a signed-in account). Limited "
            "per number and per client (429 with `Retry-After`)."
        ),
        request=PhoneRequestSerializer,
        responses={202: PhoneAcceptedSerializer, **error_responses(503)},
    )
    @action(detail=False, methods=["post"], url_path="request", throttle_classes=[SmsIpThrottle])
    def request_code(self, request: Request) -> Response:
        phone = _phone(request.data)
        _throttle_phone(phone)
        code_send(phone=phone)
        audit_record(action=Action.PHONE_CODE_REQUESTED, actor_id=None, meta=request_meta(request))
        return accepted("If this number can receive texts, a code is on its way.")

    @extend_schema(
        operation_id="verifyPhoneCode",
        summary="Sign in (or sign up) with a texted code",
        description=(
            "Signs in the account with this number, creating it on first use. The answer is a "
            "token pair, or `{mfa_required, mfa_token}` when the account has a second factor "
            "(continue at /api/v1/auth/mfa/verify). 400 with `attr: code` for a wrong or "
            "expired code."
        ),
        request=PhoneVerifySerializer,
        responses={200: SignInResponseSerializer},
    )
    @action(detail=False, methods=["post"], throttle_classes=[SmsIpThrottle])
    def verify(self, request: Request) -> Response:
        phone, code = _code(request.data)
        meta = request_meta(request)
        user = services.phone_sign_in(phone=phone, code=code, meta=meta)
        return Response(signed_in(user=user, meta=meta))

    @extend_schema(
        operation_id="linkPhone",
        summary="Add a phone number to the signed-in account",
        description=(
            "Send the number and the code texted by /api/v1/auth/phone/request; the number "
            "becomes a way to sign in. 409 when another account has it."
        ),
        request=PhoneVerifySerializer,
        responses={200: MeSerializer, **error_responses(409)},
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        throttle_classes=[SmsIpThrottle],
    )
    def link(self, request: Request) -> Response:
        phone, code = _code(request.data)
        user = services.phone_link(
            user=request_user(request), phone=phone, code=code, meta=request_meta(request)
        )
        return Response(MeSerializer(user).data)

    @sign_in_method_removal_schema(
        "unlinkPhone", "Remove the phone number from the signed-in account", "the phone is"
    )
    @action(detail=False, methods=["delete"], permission_classes=[IsAuthenticated])
    def unlink(self, request: Request) -> Response:
        data = validated(ReauthenticationSerializer, request.data)
        user = services.phone_unlink(
            user=request_user(request),
            proof=request_reauthentication(request, data.get("current_password")),
            meta=request_meta(request),
        )
        return Response(MeSerializer(user).data)
