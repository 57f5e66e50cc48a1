"""Users: registration, profile changes, email verification, roles, erasure.

Views call these and stay thin; each raises a DomainError with a stable ``code``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.fields import get_error_detail

from accounts.audit import Action, audit_record
from accounts.keys import InvalidKey, email_key_mail, email_key_take, email_keys_retire
from accounts.mail import mail_send
from accounts.models import KeyPurpose, Role, User
from accounts.reauth import (
    Reauthentication,
    current_password_confirmed,
    reauthentication_check,
)
from accounts.sessions.services import TokenPair, session_create
from spendsense import events
from spendsense.api.errors import Conflict, DomainError
from spendsense.api.request import RequestMeta


class UnknownRole(DomainError):
    default_code = "invalid_role"
    default_detail = "Unknown role."


class LastSignInMethod(Conflict):
    default_code = "last_sign_in_method"
    default_detail = "This is your only way to sign in; add a password or another method first."


@contextmanager
def sign_in_method_removal(*, user: User, proof: Reauthentication) -> Iterator[User]:
    """Removing one way to sign in (phone or provider): the caller re-authenticates first
    (accounts.reauth), then ``user``'s row stays locked while the method goes, so two
    removals at once cannot both see the other's method still there and leave the account
    with none. Check with ``sign_in_method_kept`` inside."""
    reauthentication_check(user=user, proof=proof)
    with transaction.atomic():
        yield User.objects.select_for_update().get(pk=user.pk)


def sign_in_method_kept(*, user: User, phone: str | None, providers: list[str]) -> None:
    """409 unless the account keeps a way to sign in: its password, ``phone`` or one of
    ``providers`` (what it would have once a method is removed)."""
    if not (user.has_usable_password() or phone or providers):
        raise LastSignInMethod()


def password_validate(password: str, user: User) -> None:
    """Django's password validators for ``user``'s new password; 400 on ``password``."""
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        # Keep each validator's code (password_too_short, ...) for clients to act on.
        raise exceptions.ValidationError({"password": get_error_detail(error)}) from None


@transaction.atomic
def user_register(
    *, email: str, password: str, username: str | None, meta: RequestMeta
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
    audit_record(action=Action.REGISTER, actor_id=user.id, meta=meta)
    _verification_mail(user=user)
    return user, session_create(user=user, meta=meta)


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
    proof: Reauthentication,
    meta: RequestMeta,
    email: str | None = None,
    username: str | None = None,
    new_password: str | None = None,
) -> User:
    """Change profile fields. A new email needs re-authentication (accounts.reauth), a new
    password the current one; a new password ends every session, this one included
    (accounts.signals)."""
    changing_email = email is not None and email.strip().lower() != (user.email or "").lower()
    if changing_email:
        reauthentication_check(user=user, proof=proof)
    if new_password and not (
        proof.password and current_password_confirmed(user=user, password=proof.password)
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
        audit_record(action=Action.EMAIL_CHANGE, actor_id=user.id, meta=meta)
    if new_password:
        audit_record(action=Action.PASSWORD_CHANGE, actor_id=user.id, meta=meta)
    return user


def _verification_mail(*, user: User) -> None:
    """Mail a verification link to the user's current email (after commit)."""
    email_key_mail(
        user=user,
        purpose=KeyPurpose.VERIFY_EMAIL,
        lifetime_seconds=settings.EMAIL_VERIFICATION_KEY_SECONDS,
        template="verify_email",
        page="verify-email",
        context={"email": user.email},
    )


@transaction.atomic
def email_verification_resend(*, user: User, meta: RequestMeta) -> None:
    """Mail a new verification link: 400 without an email, 409 when it is verified already.
    Earlier links keep working until they expire."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.email:
        raise DomainError("Your account has no email address.", code="no_email", attr="email")
    if user.email_verified:
        raise Conflict("Your email address is verified already.", code="email_already_verified")
    _verification_mail(user=user)


@transaction.atomic
def email_verify(*, key: str, meta: RequestMeta) -> User:
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
    audit_record(action=Action.EMAIL_VERIFY, actor_id=user.id, meta=meta)
    return user


def user_delete(*, user: User, meta: RequestMeta) -> None:
    """Erase the account, every upload (stored files too) and every row derived from them.
    The API has the owner re-authenticate first (accounts.reauth); the console need not."""
    user_id = user.id
    events.announce(events.user_data_erase, user=user)  # the uploads app erases
    with transaction.atomic():
        user.delete()  # its sessions end, its cached entries go (accounts.signals)
    audit_record(
        action=Action.DELETE,
        actor_id=user_id,
        meta=meta,
        target_type="user",
        target_id=str(user_id),
    )
