"""Writes on users and sessions: registration, sign-in, token rotation, revocation.

Views call these and stay thin; each raises a DomainError with a stable ``code``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Least
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.fields import get_error_detail

from accounts import selectors, tokens
from accounts.audit import Action, audit_record
from accounts.keys import InvalidKey, email_key_issue, email_key_take, email_keys_retire
from accounts.mail import frontend_link, mail_send
from accounts.models import KeyPurpose, Role, RotatedRefreshToken, Session, User
from accounts.reauth import current_password_confirmed, reauthentication_check
from accounts.selectors import deny_key, user_get_by_login
from spendsense import coherence, events
from spendsense.api.errors import Conflict, DomainError
from spendsense.api.net import client_ip

if TYPE_CHECKING:
    from accounts.oauth import Identity


class UnknownRole(DomainError):
    default_code = "invalid_role"
    default_detail = "Unknown role."


class LastSignInMethod(Conflict):
    default_code = "last_sign_in_method"
    default_detail = "This is your only way to sign in; add a password or another method first."


class UnverifiedEmailAccount(Conflict):
    """An account holds the provider-verified email, but we never verified it there: whoever
    registered it may not own it, so the identity is not attached (docs/decisions.md)."""

    default_code = "email_unverified_account"
    default_detail = (
        "An account with this email exists but its email is not verified. Sign in with its "
        "password and link this provider, or reset the password."
    )

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__()
        self.user_id = user_id


class InvalidCredentials(exceptions.AuthenticationFailed):
    """One answer for every failed sign-in, so it cannot tell which part was wrong."""

    default_detail = "Invalid credentials."
    default_code = "invalid_credentials"


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = "Invalid or expired refresh token."
    default_code = "token_not_valid"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_response(self) -> dict[str, Any]:
        return {
            "access": self.access,
            "refresh": self.refresh,
            "token_type": "Bearer",
            "expires_in": settings.ACCESS_TOKEN_LIFETIME_SECONDS,
        }


def _hash(token: str) -> str:
    # Refresh tokens carry 384 random bits: a plain SHA-256 cannot be brute-forced back.
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def _refresh_expiry() -> Any:
    return timezone.now() + timedelta(days=settings.REFRESH_TOKEN_LIFETIME_DAYS)


def _session_end_of_life() -> Any:
    """A refresh extends a session to the sliding expiry, never past its absolute end
    (``SESSION_MAX_DAYS`` after it began): computed in the one UPDATE that rotates it."""
    return Least(
        Value(_refresh_expiry(), output_field=DateTimeField()),
        F("created_at") + timedelta(days=settings.SESSION_MAX_DAYS),
        output_field=DateTimeField(),
    )


@lru_cache(maxsize=1)
def _dummy_password_hash() -> str:
    # Verified against when the user does not exist, so unknown and known emails cost the same.
    return make_password(secrets.token_urlsafe(16))


# --- users -------------------------------------------------------------------------------


def password_validate(password: str, user: User) -> None:
    """Django's password validators for ``user``'s new password; 400 on ``password``."""
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        # Keep each validator's code (password_too_short, ...) for clients to act on.
        raise exceptions.ValidationError({"password": get_error_detail(error)}) from None


@transaction.atomic
def user_register(
    *, email: str, password: str, username: str | None, request: HttpRequest
) -> tuple[User, TokenPair]:
    """Create a password user and sign them in (a first session)."""
    email = User.objects.normalize_email(email.strip())
    username = (username or "").strip() or None
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "An account with this email already exists.", code="email_taken", attr="email"
        )
    if username and User.objects.filter(username__iexact=username).exists():
        raise Conflict("This username is taken.", code="username_taken", attr="username")
    user = User(email=email, username=username)
    password_validate(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent registration won the race for the same email or username.
        raise Conflict(
            "An account with this email already exists.", code="email_taken", attr="email"
        ) from None
    audit_record(action=Action.REGISTER, actor_id=user.id, request=request)
    _verification_mail(user=user)
    return user, session_create(user=user, request=request)


def user_authenticate(
    *, email: str | None, username: str | None, password: str, request: HttpRequest
) -> User:
    """The user these credentials name, or InvalidCredentials (same answer, similar time)."""
    user = user_get_by_login(email=email, username=username)
    if user is None or not user.has_usable_password():
        check_password(password, _dummy_password_hash())
        audit_record(
            action=Action.LOGIN_FAILURE,
            actor_id=user.id if user is not None else None,
            request=request,
        )
        raise InvalidCredentials()
    if not (user.check_password(password) and user.is_active):
        audit_record(action=Action.LOGIN_FAILURE, actor_id=user.id, request=request)
        raise InvalidCredentials()
    audit_record(action=Action.LOGIN_SUCCESS, actor_id=user.id, request=request)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str, actor_id: uuid.UUID | None = None) -> User:
    """Give ``user`` the role ``role``; their tokens carry the old role, so every session ends."""
    if role not in Role.values:
        raise UnknownRole(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", attr="role"
        )
    previous = user.role
    user.role = role
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_superuser", "updated_at"])  # a new role ends sessions
    if previous != role:
        audit_record(
            action=Action.ROLE_CHANGE,
            actor_id=actor_id,
            target_type="user",
            target_id=str(user.id),
            details={"from": previous, "to": role},
        )
    return user


def user_update(
    *,
    user: User,
    request: HttpRequest,
    current_password: str | None = None,
    email: str | None = None,
    username: str | None = None,
    new_password: str | None = None,
) -> User:
    """Change profile fields. A new email needs re-authentication (accounts.reauth), a new
    password the current one; a new password ends every session, this one included
    (accounts.signals)."""
    changing_email = email is not None and email.strip().lower() != (user.email or "").lower()
    if changing_email:
        reauthentication_check(user=user, request=request, password=current_password)
    if new_password and not (
        current_password and current_password_confirmed(user=user, password=current_password)
    ):
        raise DomainError(
            "The current password is required and must be correct.",
            code="current_password_invalid",
            attr="current_password",
        )
    old_email = user.email
    with transaction.atomic():
        fields = ["updated_at"]
        if changing_email and email is not None:
            normalized = User.objects.normalize_email(email.strip())
            if User.objects.filter(email__iexact=normalized).exclude(pk=user.pk).exists():
                raise Conflict(
                    "An account with this email already exists.", code="email_taken", attr="email"
                )
            # Unproven until a key mailed to it comes back; keys sent to the old one are dead.
            user.email = normalized
            user.email_verified_at = None
            fields += ["email", "email_verified_at"]
            email_keys_retire(user=user, purpose=KeyPurpose.VERIFY_EMAIL)
            _verification_mail(user=user)
            if old_email:
                mail_send(to=old_email, template="email_changed", context={"old_email": old_email})
        if username is not None:
            cleaned = username.strip() or None
            if (
                cleaned
                and User.objects.filter(username__iexact=cleaned).exclude(pk=user.pk).exists()
            ):
                raise Conflict("This username is taken.", code="username_taken", attr="username")
            user.username = cleaned
            fields.append("username")
        if new_password:
            password_validate(new_password, user)
            user.set_password(new_password)
            fields.append("password")
        user.save(update_fields=fields)
    if changing_email:
        audit_record(action=Action.EMAIL_CHANGE, actor_id=user.id, request=request)
    if new_password:
        audit_record(action=Action.PASSWORD_CHANGE, actor_id=user.id, request=request)
    return user


def _verification_mail(*, user: User) -> None:
    """Mail a verification link to the user's current email (after commit)."""
    assert user.email  # noqa: S101 (callers check)
    key = email_key_issue(
        user=user,
        purpose=KeyPurpose.VERIFY_EMAIL,
        email=user.email,
        lifetime_seconds=settings.EMAIL_VERIFICATION_KEY_SECONDS,
    )
    mail_send(
        to=user.email,
        template="verify_email",
        context={"email": user.email, "link": frontend_link("verify-email", key=key)},
    )


@transaction.atomic
def email_verification_resend(*, user: User, request: HttpRequest) -> None:
    """Mail a new verification link: 400 without an email, 409 when it is verified already.
    Earlier links keep working until they expire."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.email:
        raise DomainError("Your account has no email address.", code="no_email", attr="email")
    if user.email_verified:
        raise Conflict("Your email address is verified already.", code="email_already_verified")
    _verification_mail(user=user)


@transaction.atomic
def email_verify(*, key: str, request: HttpRequest) -> User:
    """Mark the email a verification key was mailed to as verified (InvalidKey, 400 on
    ``key``, when the key is forged, used, expired, or that address is no longer the
    account's)."""
    taken = email_key_take(purpose=KeyPurpose.VERIFY_EMAIL, key=key)
    user = User.objects.select_for_update().get(pk=taken.user_id)
    if (user.email or "").lower() != taken.email.lower():
        raise InvalidKey()  # rolls the take back; the key stays useless all the same
    email_keys_retire(user=user, purpose=KeyPurpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
    audit_record(action=Action.EMAIL_VERIFY, actor_id=user.id, request=request)
    return user


def user_delete(*, user: User, request: HttpRequest) -> None:
    """Erase the account, every upload (stored files too) and every row derived from them.
    The API has the owner re-authenticate first (accounts.reauth); the console need not."""
    user_id = user.id
    events.announce(events.user_data_erase, user=user)  # the uploads app erases
    with transaction.atomic():
        user.delete()  # its sessions end, its cached entries go (accounts.signals)
    audit_record(
        action=Action.DELETE,
        actor_id=user_id,
        request=request,
        target_type="user",
        target_id=str(user_id),
    )


# --- sessions and tokens -----------------------------------------------------------------


@transaction.atomic
def session_create(*, user: User, request: HttpRequest) -> TokenPair:
    """A new session (one sign-in on one device) and its first token pair.

    Only for the user as they were verified: their row is locked and must still have the
    password, role and active flag the sign-in checked. A password changed while the sign-in
    was checking the old one refuses it, and a change that comes after waits for this
    session and then ends it with the others."""
    unchanged = User.objects.select_for_update().filter(
        pk=user.pk, password=user.password, role=user.role, is_active=True
    )
    if not list(unchanged.values_list("pk", flat=True)):
        raise InvalidCredentials()
    refresh = _new_refresh_token()
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        refresh_token_hash=_hash(refresh),
        expires_at=min(_refresh_expiry(), now + timedelta(days=settings.SESSION_MAX_DAYS)),
        last_used_at=now,
        user_agent=request.headers.get("User-Agent", "")[:256],
        ip=client_ip(request) or None,
    )
    coherence.session_started(session.id)
    access = tokens.access_token_issue(user_id=user.id, session_id=session.id, role=user.role)
    return TokenPair(access=access, refresh=refresh)


def session_rotate(*, refresh_token: str, request: HttpRequest) -> TokenPair:
    """Exchange a refresh token for a new pair.

    Exactly one of any number of concurrent exchanges of one token wins: the swap is a single
    conditional UPDATE. A token that was already exchanged is proof of a leak; its whole
    session is revoked and the event audited.
    """
    old_hash = _hash(refresh_token)
    new_token = _new_refresh_token()
    now = timezone.now()
    with transaction.atomic():
        swapped = Session.objects.filter(
            refresh_token_hash=old_hash, revoked_at__isnull=True, expires_at__gt=now
        ).update(
            refresh_token_hash=_hash(new_token),
            expires_at=_session_end_of_life(),
            last_used_at=now,
            ip=client_ip(request) or None,
        )
        if swapped:
            session = Session.objects.select_related("user").get(
                refresh_token_hash=_hash(new_token)
            )
            RotatedRefreshToken.objects.create(session=session, token_hash=old_hash)
    if swapped:
        user = session.user
        if not user.is_active:
            session_revoke(session=session, reason="user_inactive")
            raise InvalidRefreshToken()
        access = tokens.access_token_issue(user_id=user.id, session_id=session.id, role=user.role)
        return TokenPair(access=access, refresh=new_token)

    reused = (
        RotatedRefreshToken.objects.filter(token_hash=old_hash).select_related("session").first()
    )
    if reused is not None:
        revoked = session_revoke(session=reused.session, reason="refresh_token_reuse")
        if revoked:
            audit_record(
                action=Action.REFRESH_REUSE,
                actor_id=reused.session.user_id,
                request=request,
                target_type="session",
                target_id=str(reused.session_id),
            )
    raise InvalidRefreshToken()


def session_revoke(*, session: Session, reason: str) -> bool:
    """Revoke one session (idempotent); True when this call revoked it."""
    return bool(Session.objects.filter(pk=session.pk).revoke(reason=reason))


def session_end(*, user: User, session_id: str, request: HttpRequest) -> None:
    """End one of the user's own live sessions: its refresh token is refused and its access
    tokens with it, from the next request. 404 for any other id (another user's included)."""
    session = selectors.sessions_live_for_user(user=user).filter(pk=session_id).first()
    if session is None:
        raise exceptions.NotFound("No such session.", code="session_not_found")
    session_revoke(session=session, reason="ended_by_user")
    audit_record(
        action=Action.SESSION_END,
        actor_id=user.id,
        request=request,
        target_type="session",
        target_id=str(session.id),
    )


def sessions_end_others(*, user: User, current_session_id: str, request: HttpRequest) -> int:
    """End every live session of the user but the one making the request; how many."""
    ended = sessions_revoke_all(user=user, reason="ended_by_user", keep=current_session_id)
    audit_record(
        action=Action.SESSION_END,
        actor_id=user.id,
        request=request,
        details={"others": ended},
    )
    return ended


def sessions_revoke_all(*, user: User, reason: str, keep: str | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many."""
    sessions = Session.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(pk=keep)
    return len(sessions.revoke(reason=reason))


def logout(*, user: User, claims: dict[str, Any], refresh_token: str, request: HttpRequest) -> None:
    """End the caller's session and deny its access token until the token expires.

    The refresh token must belong to the caller; when it names another of the caller's
    sessions, that one ends too.
    """
    session = Session.objects.filter(pk=claims["sid"], user=user).first()
    named = Session.objects.filter(refresh_token_hash=_hash(refresh_token), user=user).first()
    if named is None:
        raise DomainError("Unknown refresh token.", code="token_not_valid", attr="refresh")
    for target in {s for s in (session, named) if s is not None}:
        session_revoke(session=target, reason="logout")
    cache.set(deny_key(claims["jti"]), "1", timeout=tokens.seconds_left(claims))
    audit_record(action=Action.LOGOUT, actor_id=user.id, request=request)


def sessions_purge_expired(*, older_than_days: int = 7) -> int:
    """Delete sessions expired or revoked more than ``older_than_days`` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = Session.objects.filter(expires_at__lt=cutoff)
    revoked = Session.objects.filter(revoked_at__lt=cutoff)
    _, per_model = (expired | revoked).delete()
    return per_model.get(Session._meta.label, 0)


# --- phone sign-in -----------------------------------------------------------------------


def phone_sign_in(
    *, phone: str, code: str, request: HttpRequest
) -> tuple[User, TokenPair | None, bool]:
    """Sign in with a texted code, registering a phone-only user the first time."""
    from accounts.phone import code_check

    code_check(phone=phone, code=code)
    user = User.objects.filter(phone_number=phone).first()
    created = False
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(phone_number=phone)
                created = True
        except IntegrityError:  # a concurrent sign-in created it first
            user = User.objects.get(phone_number=phone)
    if not user.is_active:
        audit_record(
            action=Action.LOGIN_FAILURE,
            actor_id=user.id,
            request=request,
            details={"method": "phone"},
        )
        raise InvalidCredentials()
    audit_record(
        action=Action.REGISTER if created else Action.LOGIN_SUCCESS,
        actor_id=user.id,
        request=request,
        details={"method": "phone"},
    )
    from accounts.mfa import mfa_active

    if mfa_active(user):
        return user, None, created  # the second factor completes it (mfa_challenge)
    return user, session_create(user=user, request=request), created


def phone_link(*, user: User, phone: str, code: str, request: HttpRequest) -> User:
    """Add a verified phone number to the signed-in user (409 if it is someone else's)."""
    from accounts.phone import code_check

    code_check(phone=phone, code=code)
    if User.objects.filter(phone_number=phone).exclude(pk=user.pk).exists():
        raise Conflict(
            "This phone number belongs to another account.", code="phone_taken", attr="phone_number"
        )
    user.phone_number = phone
    user.save(update_fields=["phone_number", "updated_at"])
    audit_record(action="auth.phone.link", actor_id=user.id, request=request)
    return user


def phone_unlink(*, user: User, request: HttpRequest, current_password: str | None = None) -> User:
    """Remove the phone number, unless it is the last way to sign in (409); the caller
    re-authenticates first (accounts.reauth)."""
    reauthentication_check(user=user, request=request, password=current_password)
    if not user.phone_number:
        raise DomainError("No phone number is linked.", code="no_phone", attr="phone_number")
    if not user.has_usable_password() and not user.linked_providers:
        raise LastSignInMethod()
    user.phone_number = None
    user.save(update_fields=["phone_number", "updated_at"])
    audit_record(action="auth.phone.unlink", actor_id=user.id, request=request)
    return user


# --- OAuth sign-in and linking -----------------------------------------------------------


def _social_account_add(*, user: User, identity: Identity) -> None:
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(
        user=user, provider=identity.provider, uid=identity.uid, extra_data=identity.extra_data
    )
    user.linked_providers = sorted({*user.linked_providers, identity.provider})
    user.save(update_fields=["linked_providers", "updated_at"])


def _user_for_identity(identity: Identity) -> tuple[User, bool, bool]:
    """(user, created, linked): the identity's user; else the user whose email the provider
    verified, linked now; else a new user. Never matched on an unverified email."""
    from allauth.socialaccount.models import SocialAccount

    account = (
        SocialAccount.objects.select_related("user")
        .filter(provider=identity.provider, uid=identity.uid)
        .first()
    )
    if account is not None:
        return account.user, False, False
    user = User.objects.filter(email__iexact=identity.email).first() if identity.email else None
    if user is not None and not user.email_verified:
        raise UnverifiedEmailAccount(user.id)
    created = user is None
    if user is None:
        # The provider verified the email (Identity.email is set only then).
        user = User.objects.create_user(
            email=identity.email, email_verified_at=timezone.now() if identity.email else None
        )
    _social_account_add(user=user, identity=identity)
    return user, created, True


def oauth_sign_in(*, identity: Identity, request: HttpRequest) -> tuple[User, bool]:
    """Sign in (or sign up) with a provider-confirmed identity; (user, created)."""
    details = {"method": "oauth", "provider": identity.provider}
    try:
        try:
            with transaction.atomic():
                user, created, linked = _user_for_identity(identity)
        except IntegrityError:  # a concurrent callback created the same identity or email
            with transaction.atomic():
                user, created, linked = _user_for_identity(identity)
    except UnverifiedEmailAccount as refused:
        audit_record(
            action=Action.OAUTH_REFUSED,
            actor_id=None,
            request=request,
            target_type="user",
            target_id=str(refused.user_id),
            details={**details, "reason": "email_unverified_account"},
        )
        raise
    if not user.is_active:
        audit_record(
            action=Action.LOGIN_FAILURE, actor_id=user.id, request=request, details=details
        )
        raise InvalidCredentials()
    if linked and not created:
        audit_record(
            action=Action.OAUTH_LINK,
            actor_id=user.id,
            request=request,
            details={**details, "matched_on": "verified_email"},
        )
    audit_record(
        action=Action.REGISTER if created else Action.LOGIN_SUCCESS,
        actor_id=user.id,
        request=request,
        details=details,
    )
    return user, created


def _is_empty_account(user: User) -> bool:
    """Nothing to lose: a plain user with no data, consent or other way to sign in."""
    return (
        user.role == Role.USER
        and not user.has_usable_password()
        and not user.phone_number
        and len(user.linked_providers) <= 1
        and user.consent_status == "none"
        and not user.uploads.exists()
        and not user.recommendations.exists()
    )


def oauth_link(*, user: User, identity: Identity, request: HttpRequest) -> User:
    """Link a provider identity to the signed-in user.

    Linking the same identity again changes nothing. 409 when the user already has another
    identity of that provider, or when the identity belongs to another account with
    anything in it; an empty account (signed up with this identity, nothing else) is merged
    away: the identity moves here and that account is deleted.
    """
    from allauth.socialaccount.models import SocialAccount

    merged_from = None
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        account = (
            SocialAccount.objects.select_for_update()
            .filter(provider=identity.provider, uid=identity.uid)
            .first()
        )
        if account is not None and account.user_id == user.id:
            return user
        if identity.provider in user.linked_providers:
            raise Conflict(
                "Another account of this provider is linked already; unlink it first.",
                code="provider_already_linked",
                attr="provider",
            )
        if account is not None:
            other = User.objects.select_for_update().get(pk=account.user_id)
            if not _is_empty_account(other):
                raise Conflict(
                    "This identity signs in to another account.",
                    code="oauth_identity_taken",
                    attr="provider",
                )
            merged_from = other.id
            email = other.email
            sessions_revoke_all(user=other, reason="account_merged")
            other.delete()  # its SocialAccount goes with it
            if email and not user.email:
                user.email = email
                user.email_verified_at = other.email_verified_at  # proven there, still true
                user.save(update_fields=["email", "email_verified_at", "updated_at"])
        _social_account_add(user=user, identity=identity)
    audit_record(
        action=Action.OAUTH_LINK,
        actor_id=user.id,
        request=request,
        details={"provider": identity.provider, "merged_account": str(merged_from or "")},
    )
    return user


def oauth_unlink(
    *, user: User, provider_id: str, request: HttpRequest, current_password: str | None = None
) -> User:
    """Remove a linked provider, unless it is the last way to sign in (409); the caller
    re-authenticates first (accounts.reauth)."""
    reauthentication_check(user=user, request=request, password=current_password)
    from allauth.socialaccount.models import SocialAccount

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        accounts = SocialAccount.objects.filter(user=user, provider=provider_id)
        if provider_id not in user.linked_providers and not accounts.exists():
            raise exceptions.NotFound(
                "This provider is not linked to your account.", code="provider_not_linked"
            )
        others = [p for p in user.linked_providers if p != provider_id]
        if not (user.has_usable_password() or user.phone_number or others):
            raise LastSignInMethod()
        accounts.delete()
        user.linked_providers = others
        user.save(update_fields=["linked_providers", "updated_at"])
    audit_record(
        action=Action.OAUTH_UNLINK,
        actor_id=user.id,
        request=request,
        details={"provider": provider_id},
    )
    return user
