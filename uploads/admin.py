"""Uploads in the console: read-only (the record of what a user sent and what it did)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from consent.admin import ConsentingUsersAdmin
from uploads.models import DataUpload


@admin.register(DataUpload)
class DataUploadAdmin(ConsentingUsersAdmin):
    list_display = (
        "file_name",
        "user",
        "status",
        "file_format",
        "file_size",
        "created_at",
        "processed_at",
    )
    list_filter = ("status", "file_format")
    search_fields = ("user__email", "file_name", "sha256")
    readonly_fields = [f.name for f in DataUpload._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
