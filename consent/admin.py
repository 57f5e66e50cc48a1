"""Consent history in the console (read-only: it is a record)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import RecordAdmin, UserAdmin
from accounts.models import User
from consent.models import ConsentRecord
from consent.selectors import visible_to_staff
from spendsense.api.permissions import Perm, may


class ConsentingUsersAdmin(admin.ModelAdmin):
    """A console page of users' data: it lists (and opens) only rows of users who consent."""

    user_field = "user"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return visible_to_staff(super().get_queryset(request), user_field=self.user_field)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(RecordAdmin):
    list_display = ("created_at", "user", "action", "version", "data_deleted")
    list_filter = ("action", "version")
    search_fields = ("user__email",)
    readonly_fields = ("id", "user", "action", "version", "data_deleted", "created_at")


class ConsentScopedUserAdmin(UserAdmin):
    """The console's users, as consent allows: admins manage every account (roles, access,
    erasure); operators see only people who consent, here and in every user picker
    (autocomplete searches through this queryset). Registered here, above accounts, which
    knows nothing of consent."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if may(request.user, Perm.MANAGE_ROLES):
            return queryset
        return visible_to_staff(queryset, user_field=None)


admin.site.unregister(User)
admin.site.register(User, ConsentScopedUserAdmin)
