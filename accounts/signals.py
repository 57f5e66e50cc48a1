"""Whatever changes a user is seen by the next request, however it was made.

The API's services, the console, ``manage.py shell``, a data migration: every save of a user
(and every queryset update, see ``models.UserQuerySet``) makes the user's cached entries stale
once it commits, and a change of password, active flag or role ends every session of the user
in the same transaction (a new password is also mailed to the owner, after commit). A user
created consenting, or whose consent changes, and a user deleted are announced to analytics
(``events.user_figures_changed``: whom they count), after the write (in its transaction when
there is one), however the write was made: the consent service, a queryset update, a save.
Deleting a user erases their cached entries.

Receivers take any model labelled ``accounts.User``, so a migration's historical model counts
as well as the real one.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from accounts.mail import mail_send
from accounts.models import SECURITY_FIELDS, ConsentStatus, Session, User, users_updated
from spendsense import coherence, events

# Why sessions end, by the field that changed (the first that applies).
END_REASONS = {
    "password": "password_change",
    "is_active": "deactivated",
    "role": "role_change",
}


def _tell_password_changed(emails: list[str]) -> None:
    """The owner hears of every new password, however it was set (after commit)."""
    for email in emails:
        mail_send(to=email, template="password_changed", context={})


def _is_user(sender: Any) -> bool:
    return getattr(getattr(sender, "_meta", None), "label", None) == "accounts.User"


# Whom analytics count (operator_console.tallies): the users who consent.
FIGURES_FIELD = "consent_status"


def _changes(sender: Any, instance: Any, update_fields: Any) -> list[str]:
    """The security fields and ``FIGURES_FIELD`` this save changes, compared with the row as
    stored, if there is one (a deserialised object, as ``loaddata`` saves it, looks new but
    may replace a row); of a new user, their consent."""
    watched = (*SECURITY_FIELDS, FIGURES_FIELD)
    fields = [f for f in watched if update_fields is None or f in update_fields]
    if getattr(instance, "_rehashed", False):  # a stronger hash of the same password
        fields = [f for f in fields if f != "password"]
    if not fields:
        return []
    stored = sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    if stored is None:
        consents = FIGURES_FIELD in fields and instance.consent_status == ConsentStatus.GRANTED
        return [FIGURES_FIELD] if consents else []
    return [f for f in fields if stored[f] != getattr(instance, f)]


def user_pre_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if _is_user(sender):
        changed = _changes(sender, instance, update_fields)
        security = [f for f in changed if f in END_REASONS]
        instance._security_change = END_REASONS[security[0]] if security else None
        instance._figures_change = FIGURES_FIELD in changed


def user_post_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not _is_user(sender):
        return
    reason = instance.__dict__.pop("_security_change", None)
    instance.__dict__.pop("_rehashed", None)
    if reason:
        Session.objects.filter(user_id=instance.pk).revoke(reason=reason)
    if reason == "password_change" and instance.email:
        _tell_password_changed([instance.email])
    if instance.__dict__.pop("_figures_change", False):
        events.announce(events.user_figures_changed, user_ids=[instance.pk])
    coherence.user_changed(instance.pk)


def users_post_update(sender: Any, user_ids: list[Any], fields: frozenset[str], **kw: Any) -> None:
    changed = [f for f in SECURITY_FIELDS if f in fields]
    if changed:
        Session.objects.filter(user_id__in=user_ids).revoke(reason=END_REASONS[changed[0]])
    if "password" in fields:
        emails = User._base_manager.filter(pk__in=user_ids, email__isnull=False)
        _tell_password_changed([e for e in emails.values_list("email", flat=True) if e])
    if FIGURES_FIELD in fields:
        events.announce(events.user_figures_changed, user_ids=user_ids)
    coherence.users_changed(user_ids)


def user_pre_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _is_user(sender):
        # The rows go with the user (CASCADE); their cached "live" state must go too.
        Session.objects.filter(user_id=instance.pk).revoke(reason="account_deleted")


def user_post_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _is_user(sender):
        coherence.user_erased(instance.pk, account_deleted=True)
        # In the deleting transaction: analytics no longer count the user (nor, with their
        # rows, their demographics).
        events.announce(events.user_figures_changed, user_ids=[instance.pk])


def connect() -> None:
    """Called once, from AccountsConfig.ready. No sender filter: historical models too."""
    pre_save.connect(user_pre_save, dispatch_uid="accounts.user_pre_save")
    post_save.connect(user_post_save, dispatch_uid="accounts.user_post_save")
    pre_delete.connect(user_pre_delete, dispatch_uid="accounts.user_pre_delete")
    post_delete.connect(user_post_delete, dispatch_uid="accounts.user_post_delete")
    users_updated.connect(users_post_update, dispatch_uid="accounts.users_post_update")
