"""Filters of the upload list."""

from __future__ import annotations

import django_filters

from uploads.models import DataUpload, UploadStatus


class DataUploadFilterSet(django_filters.FilterSet):
    user = django_filters.UUIDFilter(
        field_name="user_id", help_text="Operators: one user's uploads."
    )
    status = django_filters.ChoiceFilter(choices=UploadStatus.choices)

    class Meta:
        model = DataUpload
        fields = ["user", "status"]
