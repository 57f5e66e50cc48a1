"""Users in the admin console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEvent, Session, User
from accounts.sessions.services import session_revoke
from accounts.users.services import user_delete, user_set_role
from spendsense.api.request import request_meta


class UserChangeForm(auth_forms.UserChangeForm):
    """Django's form treats a field named ``username`` as the login name; ours is optional."""

    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, type] = {}

    def clean_username(self) -> str | None:
        return self.cleaned_data.get("username") or None

    def clean_phone_number(self) -> str | None:
        return self.cleaned_data.get("phone_number") or None


class UserCreationForm(auth_forms.UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)
        field_classes: dict[str, type] = {}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users by email or phone; the role decides console access."""

    form = UserChangeForm
    add_form = UserCreationForm

    ordering = ("-created_at",)
    list_display = ("email", "phone_number", "username", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("email", "phone_number", "username")
    readonly_fields = ("id", "created_at", "updated_at", "last_login", "consent_status")
    fieldsets = (
        (None, {"fields": ("id", "email", "phone_number", "username", "password")}),
        ("Access", {"fields": ("role", "is_active", "groups", "consent_status")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Erasing an account erases what hangs off it, rows the console itself may not delete
        # one by one (recommendations, consent records): the service owns that, not those pages.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # The API's erasure: uploads (stored files too) and everything derived, then the user.
        user_delete(user=obj, meta=request_meta(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete(user=user, meta=request_meta(request))

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # A role change goes through the service: sessions end, the change is audited.
        new_role = obj.role
        if change and "role" in form.changed_data:
            obj.role = User.objects.get(pk=obj.pk).role
            super().save_model(request, obj, form, change)
            user_set_role(user=obj, role=new_role, actor_id=request.user.pk)
        else:
            super().save_model(request, obj, form, change)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Sign-in sessions; read-only except for revoking them."""

    list_display = ("id", "user", "created_at", "last_used_at", "expires_at", "revoked_at", "ip")
    list_filter = ("revoke_reason",)
    search_fields = ("user__email", "id")
    readonly_fields = [f.name for f in Session._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected sessions")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        for session in queryset:
            session_revoke(session=session, reason="admin")


class RecordAdmin(admin.ModelAdmin):
    """A record in the console (the audit trail, consent history): read, never written."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """The audit trail: read-only, for everyone who may see it."""

    list_display = ("created_at", "action", "actor_id", "target_type", "target_id", "ip")
    list_filter = ("action",)
    search_fields = ("actor_id", "target_id", "request_id")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
