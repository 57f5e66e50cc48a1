"""The custom user: UUID key, email or phone (or both), a role that drives every permission."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth import hashers
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils import timezone

from spendsense import coherence
from spendsense.api.permissions import Perm, may
from spendsense.buckets import UserBucket

e164_validator = RegexValidator(
    r"^\+[1-9]\d{6,14}$", "Enter a phone number in E.164 format, e.g. +14155550123.", "invalid"
)


class Role(models.TextChoices):
    USER = "user", "User"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


class ConsentStatus(models.TextChoices):
    NONE = "none", "Never granted"
    GRANTED = "granted", "Granted"
    REVOKED = "revoked", "Revoked"


# Sent after ``User.objects.filter(...).update(...)``, which sends no post_save: with the ids
# of the rows and the fields written (accounts.signals acts on it as on a save).
users_updated = Signal()

# A change to one of these ends every session of the user (accounts.signals).
SECURITY_FIELDS = ("password", "is_active", "role")


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: Any) -> int:
        """Django's update, announced: the cache and the sessions must hear of it as of a
        save (bulk_update comes through here too)."""
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        if ids:
            users_updated.send(sender=self.model, user_ids=ids, fields=frozenset(kwargs))
        return count


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Creates users; email is optional (phone-only users) and compared case-insensitively.
    Serialised into migrations, so data migrations announce their updates too."""

    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email) if email else None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_superuser", True)
        extra.pop("is_staff", None)  # derived from the role
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A SpendSense user. Staff access to the admin console follows the role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # unique=True keeps Django's auth checks content; the Lower() constraint below is the
    # real, case-insensitive rule. NULLs (phone-only users) never collide.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    phone_number = models.CharField(
        max_length=16, unique=True, null=True, blank=True, validators=[e164_validator]
    )
    # NULL, not "", for "no username": the case-insensitive unique index must not collide on "".
    username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    consent_status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    consent_version = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    # The OAuth providers linked (DESIGN's "linked OAuth providers"), kept in step with
    # allauth's SocialAccount rows by accounts/oauth/services.py, so users/me needs no extra query.
    linked_providers = models.JSONField(default=list, blank=True)
    # When we last proved the owner reads ``email`` (a key we mailed there came back); NULL
    # while unproven. A new email starts unproven. OAuth matches only proven emails.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]
        # Analytics count the consenting users of a few buckets at a time
        # (operator_console.tallies). Not partial: the planner reads its statistics (251
        # distinct values) when it plans a count grouped by bucket.
        indexes = [models.Index(UserBucket("id"), name="accounts_user_bucket")]

    def __str__(self) -> str:
        return self.email or self.phone_number or str(self.id)

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: models.QuerySet[Any] | None = None,
    ) -> None:
        """Reading one deferred field loads every deferred one, in one query: a request's
        user starts as its cached principal (accounts.selectors), and a view that reads more
        of it should pay one query, not one per field (Django's documented recipe)."""
        if fields is not None:
            deferred = self.get_deferred_fields()
            if deferred.intersection(fields):
                fields = deferred.union(fields)
        super().refresh_from_db(using, fields, from_queryset)

    def check_password(self, raw_password: str) -> bool:
        """Django's check; a hash upgraded on the way (a new hasher or cost) is marked, so it
        is not taken for a new password, which would end every session."""

        def upgrade(raw: str) -> None:
            self.set_password(raw)
            self._password = None
            self._rehashed = True
            self.save(update_fields=["password"])

        return hashers.check_password(raw_password, self.password, upgrade)

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        """Operators and admins sign in to the console; nobody else does."""
        return may(self, Perm.REVIEW)


class SessionQuerySet(models.QuerySet["Session"]):
    def live(self) -> SessionQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def revoke(self, *, reason: str) -> list[uuid.UUID]:
        """End these sessions (those not ended already); returns the ids ended. Their cached
        state says so when the transaction commits, and their tokens are refused from then."""
        ids = list(self.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        if ids:
            Session.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoke_reason=reason
            )
            coherence.sessions_ended(ids)
        return ids


class Session(models.Model):
    """One sign-in on one device: the refresh token's home, revocable as a whole.

    Only a SHA-256 hash of the current refresh token is stored. Access tokens name their
    session (``sid``), so revoking a session ends its access tokens too.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    refresh_token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField()
    user_agent = models.CharField(max_length=256, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=64, blank=True, default="")

    objects = SessionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"


class RotatedRefreshToken(models.Model):
    """A refresh token that has been exchanged already. Seeing one again means it leaked:
    the whole session is revoked (reuse detection)."""

    token_hash = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rotated_tokens")
    rotated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"rotated token of session {self.session_id}"


class AuditEvent(models.Model):
    """An append-only record of a security-relevant event.

    The actor is a bare UUID, not a foreign key, and no email or phone number is stored: when
    an account is erased its trail stays, pseudonymous. On PostgreSQL a trigger refuses UPDATE
    and DELETE on this table.
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action}"


class MfaDevice(models.Model):
    """A TOTP authenticator of one user: active once a first code confirmed it.

    The secret is stored as issued (the database is encrypted at rest); recovery codes only as
    SHA-256 hashes, each usable once.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="mfa_device")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)  # refuses a code's replay
    recovery_code_hashes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"authenticator of {self.user_id}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None


class KeyPurpose(models.TextChoices):
    VERIFY_EMAIL = "verify_email", "Verify an email address"
    RESET_PASSWORD = "reset_password", "Reset a password"


class EmailKey(models.Model):
    """A single-use key we mailed to ``email``: its return proves the reader owns that address.

    Only a SHA-256 hash of the key is stored. A key counts for the address it was sent to,
    so a key mailed before an email change cannot verify the new address. It is taken by one
    conditional UPDATE (``accounts.keys.email_key_take``): of any number of concurrent uses,
    one wins.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_keys")
    purpose = models.CharField(max_length=32, choices=KeyPurpose.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"{self.purpose} key of {self.user_id}"
