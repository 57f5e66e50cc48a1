"""Provider identities as a way to sign in: sign-in (and sign-up) with a provider-confirmed
identity, linking one to the signed-in user, unlinking. Talking to the providers:
accounts.oauth.providers; the flow's state and one-time codes: accounts.oauth.state."""

from __future__ import annotations

import uuid

from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions

from accounts.audit import Action, audit_record
from accounts.models import User
from accounts.oauth.providers import Identity
from accounts.oauth.state import exchange_code_take
from accounts.reauth import Reauthentication
from accounts.sessions.services import InvalidCredentials, sessions_revoke_all
from accounts.users.services import sign_in_method_kept, sign_in_method_removal
from spendsense.api.errors import Conflict
from spendsense.api.request import RequestMeta


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


def _social_account_add(*, user: User, identity: Identity) -> None:
    SocialAccount.objects.create(
        user=user, provider=identity.provider, uid=identity.uid, extra_data=identity.extra_data
    )
    user.linked_providers = sorted({*user.linked_providers, identity.provider})
    user.save(update_fields=["linked_providers", "updated_at"])


def _user_for_identity(identity: Identity) -> tuple[User, bool, bool]:
    """(user, created, linked): the identity's user; else the user whose email the provider
    verified, linked now; else a new user. Never matched on an unverified email."""
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


def oauth_sign_in(*, identity: Identity, meta: RequestMeta) -> tuple[User, bool]:
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
            meta=meta,
            target_type="user",
            target_id=str(refused.user_id),
            details={**details, "reason": "email_unverified_account"},
        )
        raise
    if not user.is_active:
        audit_record(action=Action.LOGIN_FAILURE, actor_id=user.id, meta=meta, details=details)
        raise InvalidCredentials()
    if linked and not created:
        audit_record(
            action=Action.OAUTH_LINK,
            actor_id=user.id,
            meta=meta,
            details={**details, "matched_on": "verified_email"},
        )
    audit_record(
        action=Action.REGISTER if created else Action.LOGIN_SUCCESS,
        actor_id=user.id,
        meta=meta,
        details=details,
    )
    return user, created


def _is_empty_account(user: User) -> bool:
    """Nothing to lose: a plain user (no staff role) with no data, consent or other way to
    sign in."""
    return (
        not user.is_staff
        and not user.has_usable_password()
        and not user.phone_number
        and len(user.linked_providers) <= 1
        and user.consent_status == "none"
        and not user.uploads.exists()
        and not user.recommendations.exists()
    )


def oauth_link(*, user: User, identity: Identity, meta: RequestMeta) -> User:
    """Link a provider identity to the signed-in user.

    Linking the same identity again changes nothing. 409 when the user already has another
    identity of that provider, or when the identity belongs to another account with
    anything in it; an empty account (signed up with this identity, nothing else) is merged
    away: the identity moves here and that account is deleted.
    """
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
        meta=meta,
        details={"provider": identity.provider, "merged_account": str(merged_from or "")},
    )
    return user


def oauth_unlink(
    *,
    user: User,
    provider_id: str,
    proof: Reauthentication,
    meta: RequestMeta,
) -> User:
    """Remove a linked provider, unless it is the last way to sign in (409) (after
    re-authentication)."""
    with sign_in_method_removal(user=user, proof=proof) as user:
        accounts = SocialAccount.objects.filter(user=user, provider=provider_id)
        if provider_id not in user.linked_providers and not accounts.exists():
            raise exceptions.NotFound(
                "This provider is not linked to your account.", code="provider_not_linked"
            )
        others = [p for p in user.linked_providers if p != provider_id]
        sign_in_method_kept(user=user, phone=user.phone_number, providers=others)
        accounts.delete()
        user.linked_providers = others
        user.save(update_fields=["linked_providers", "updated_at"])
    audit_record(
        action=Action.OAUTH_UNLINK,
        actor_id=user.id,
        meta=meta,
        details={"provider": provider_id},
    )
    return user


def oauth_exchange(*, code: str, code_verifier: str) -> User:
    """The active user a one-time code from a sign-in's client redirect stands for (the code
    works once, accounts.oauth.state); InvalidCredentials once that account is inactive."""
    user_id = exchange_code_take(code=code, code_verifier=code_verifier)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidCredentials()
    return user
