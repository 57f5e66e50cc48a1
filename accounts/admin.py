"""Users in the admin console."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users by email or phone; the role decides console access."""

    ordering = ("-created_at",)
    list_display = ("email", "phone_number", "username", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("email", "phone_number", "username")
    readonly_fields = ("id", "created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "phone_number", "username", "password")}),
        ("Access", {"fields": ("role", "is_active", "groups")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)
