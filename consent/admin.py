"""Consent history in the console (read-only: it is a record)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from consent.models import ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "version", "data_deleted")
    list_filter = ("action", "version")
    search_fields = ("user__email",)
    readonly_fields = ("id", "user", "action", "version", "data_deleted", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
