"""The console's door: sign-in as strong as the API's.

- **Rate limited** like the API's sign-in: every attempt counts, per client IP and per account
  (``THROTTLE_CONSOLE_LOGIN``, default 5 an hour), atomically in the cache, failing closed:
  once either is spent even the right password is refused until the window ends.
- **The second factor** of a staff user who turned it on, with the same secret and recovery
  codes as the API and the same single-use challenge (``accounts.mfa.services``): the password alone
  signs nobody in; the session is logged in only after the code.
- **Enrolment**: with ``STAFF_MFA_REQUIRED`` (production's default), staff without a second
  factor are sent to set one up before any console page shows data.
- **Audited**: every sign-in, failure, refusal and second-factor step.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.exceptions import APIException

from accounts.audit import Action, audit_record
from accounts.mfa import services as mfa
from accounts.models import MfaDevice, User
from accounts.selectors import user_get_by_login
from spendsense.api.request import request_meta
from spendsense.api.throttles import ThrottleUnavailable, throttle_for

ConsoleLoginThrottle = throttle_for("console_login", fail_open=False)

# Session keys: the challenge between the password and the code, and whose second factor
# this session has given (checked on every console page: OperatorAdminSite.has_permission).
PENDING = "console_mfa_token"
PENDING_NEXT = "console_mfa_next"
VERIFIED = "console_mfa_device"
BACKEND = "accounts.backends.RolePermissionBackend"


class Refused(forms.ValidationError):
    """A sign-in attempt refused before the password was checked."""


def attempt_allowed(request: HttpRequest, email: str, user: User | None) -> bool:
    """Count one sign-in attempt against the client IP and the account named; False once
    either has used the rate. Raises ThrottleUnavailable when the cache cannot count.

    The account is the user the address finds (the same case-insensitive match the password
    check makes), so no other spelling of the address opens a fresh count; an address that
    finds nobody is counted by its case-folded form."""
    throttle = ConsoleLoginThrottle()
    by_ip = throttle.hit(throttle.get_cache_key(request, None))  # type: ignore[arg-type]
    name = str(user.pk) if user is not None else email.strip().casefold()
    account = hashlib.sha256(name.encode()).hexdigest()[:32]
    by_account = throttle.hit(f"throttle_console_login_account_{account}")
    return by_ip and by_account


def _audit(action: Action, request: HttpRequest, user: User | None, **details: Any) -> None:
    audit_record(
        action=action,
        actor_id=user.id if user is not None else None,
        meta=request_meta(request),
        details=details,
    )


class ConsoleAuthenticationForm(AdminAuthenticationForm):
    """Django's staff sign-in form, counted before the password is checked."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many sign-in attempts. Try again later.",
        "unavailable": "Sign-in is briefly unavailable. Try again in a minute.",
    }

    def clean(self) -> dict[str, Any]:
        request = self.request
        assert request is not None  # noqa: S101 (the login view always passes it)
        email = self.cleaned_data.get("username") or ""
        named = user_get_by_login(email=email, username=None)
        try:
            allowed = attempt_allowed(request, email, named)
        except ThrottleUnavailable:
            raise Refused(self.error_messages["unavailable"], code="unavailable") from None
        if not allowed:
            _audit(Action.CONSOLE_LOGIN_THROTTLED, request, named)
            raise Refused(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            _audit(Action.CONSOLE_LOGIN_FAILURE, request, named)
            raise


class ConsoleLoginView(LoginView):
    """The password step; a staff user with a second factor goes on to the code."""

    authentication_form = ConsoleAuthenticationForm
    template_name = "admin/login.html"

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        codes = {error.code for error in form.non_field_errors().as_data()}
        if "throttled" in codes:
            response.status_code = 429
        elif "unavailable" in codes:
            response.status_code = 503
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if mfa.mfa_active(user):
            self.request.session[PENDING] = mfa.mfa_challenge(user=user)["mfa_token"]
            self.request.session[PENDING_NEXT] = self.get_success_url()
            _audit(Action.CONSOLE_LOGIN_PASSWORD_OK, self.request, user)
            return HttpResponseRedirect(reverse("admin:console_mfa"))
        response = super().form_valid(form)
        _audit(Action.CONSOLE_LOGIN_SUCCESS, self.request, user, second_factor=False)
        return response


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code from your authenticator app, or a recovery code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def mfa_step_view(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """The code step of a console sign-in (``/admin/mfa/``)."""
    token = request.session.get(PENDING)
    if not token:
        return HttpResponseRedirect(reverse("admin:login"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = mfa.mfa_verify(
                mfa_token=token, code=form.cleaned_data["code"], meta=request_meta(request)
            )
        except APIException as error:
            codes = error.get_codes()
            if isinstance(codes, dict) and "mfa_token" in codes:  # spent, expired, 5 tries
                request.session.pop(PENDING, None)
                return HttpResponseRedirect(reverse("admin:login"))
            form.add_error("code", "The code is wrong, expired or already used.")
            status = 400
        else:
            target = _safe_next(request, request.session.pop(PENDING_NEXT, None))
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=BACKEND)
            request.session[VERIFIED] = _device_stamp(user)
            _audit(Action.CONSOLE_LOGIN_SUCCESS, request, user, second_factor=True)
            return HttpResponseRedirect(target)
    return TemplateResponse(
        request,
        "admin/operator_console/mfa.html",
        {**context, "title": "Second factor", "form": form},
        status=status,
    )


def _device_stamp(user: User) -> str | None:
    """The user's active authenticator, as this session remembers it (None without one): a
    device turned off and set up again is another device, and asks for its code again."""
    device = MfaDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    return None if device is None else f"{user.pk}:{device.pk}:{device.confirmed_at}"


def second_factor_given(request: HttpRequest) -> bool:
    """Whether this console session may proceed as far as the second factor goes: the user
    has none, or gave this authenticator's code when this session signed in."""
    user = request.user
    if not isinstance(user, User):
        return False
    stamp = _device_stamp(user)
    return stamp is None or request.session.get(VERIFIED) == stamp


def must_enrol(request: HttpRequest) -> bool:
    """A staff user without a second factor while STAFF_MFA_REQUIRED is on."""
    user = request.user
    return (
        settings.STAFF_MFA_REQUIRED
        and isinstance(user, User)
        and user.is_staff
        and not mfa.mfa_active(user)
    )


def enrol_view(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """Set up the second factor (``/admin/mfa/enrol/``): the secret to scan, a first code to
    confirm it, then the recovery codes, shown once."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 (behind admin_view: signed-in staff only)
    if mfa.mfa_active(user):
        return HttpResponseRedirect(reverse("admin:index"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.mfa_activate(
                user=user, code=form.cleaned_data["code"], meta=request_meta(request)
            )
        except APIException:
            form.add_error("code", "The code is wrong or expired; try the next one.")
            status = 400
        else:
            request.session[VERIFIED] = _device_stamp(user)
            _audit(Action.CONSOLE_MFA_ENROLLED, request, user)
            return TemplateResponse(
                request,
                "admin/operator_console/mfa_enrol.html",
                {**context, "title": "Recovery codes", "recovery_codes": codes},
            )
    pending = MfaDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    setup = (
        {"secret": pending.secret, "otpauth_uri": mfa.otpauth_uri(user, pending.secret)}
        if pending is not None
        else mfa.mfa_setup(user=user)
    )
    return TemplateResponse(
        request,
        "admin/operator_console/mfa_enrol.html",
        {**context, "title": "Set up a second factor", "form": form, **setup},
        status=status,
    )
