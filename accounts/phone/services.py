"""Phone numbers as a way to sign in: sign-in (and sign-up) with a texted code, linking and
unlinking a number. The codes themselves: accounts.phone.codes."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.audit import Action, audit_record
from accounts.models import User
from accounts.phone.codes import code_check
from accounts.reauth import Reauthentication
from accounts.sessions.services import InvalidCredentials
from accounts.users.services import sign_in_method_kept, sign_in_method_removal
from spendsense.api.errors import Conflict, DomainError
from spendsense.api.request import RequestMeta


def phone_sign_in(*, phone: str, code: str, meta: RequestMeta) -> User:
    """Check a texted code: the user of the number, registered the first time (a phone-only
    user). The sign-in completes with accounts.sessions.services.signed_in."""
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
            meta=meta,
            details={"method": "phone"},
        )
        raise InvalidCredentials()
    audit_record(
        action=Action.REGISTER if created else Action.LOGIN_SUCCESS,
        actor_id=user.id,
        meta=meta,
        details={"method": "phone"},
    )
    return user


def phone_link(*, user: User, phone: str, code: str, meta: RequestMeta) -> User:
    """Add a verified phone number to the signed-in user (409 if it is someone else's)."""
    code_check(phone=phone, code=code)
    if User.objects.filter(phone_number=phone).exclude(pk=user.pk).exists():
        raise Conflict(
            "This phone number belongs to another account.", code="phone_taken", attr="phone_number"
        )
    user.phone_number = phone
    user.save(update_fields=["phone_number", "updated_at"])
    audit_record(action=Action.PHONE_LINK, actor_id=user.id, meta=meta)
    return user


def phone_unlink(
    *,
    user: User,
    proof: Reauthentication,
    meta: RequestMeta,
) -> User:
    """Remove the phone number, unless it is the last way to sign in (409) (after
    re-authentication)."""
    with sign_in_method_removal(user=user, proof=proof) as user:
        if not user.phone_number:
            raise DomainError("No phone number is linked.", code="no_phone", attr="phone_number")
        sign_in_method_kept(user=user, phone=None, providers=user.linked_providers)
        user.phone_number = None
        user.save(update_fields=["phone_number", "updated_at"])
    audit_record(action=Action.PHONE_UNLINK, actor_id=user.id, meta=meta)
    return user
