"""Shapes of /data/upload."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from uploads.models import DataUpload, UploadStatus


@extend_schema_serializer(component_name="Upload")  # the request body: UploadRequest
class UploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSON or CSV in Plaid's shapes, at most 10 MB.")


class CountSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    removed = serializers.IntegerField()


class LiabilityCountSerializer(CountSerializer):
    without_account = serializers.IntegerField(
        required=False,
        help_text="Liabilities whose account_id was null (Plaid allows it for credit cards and "
        "student loans): accepted, counted, not stored and not used by the engine.",
    )


class CountsSerializer(serializers.Serializer):
    accounts = CountSerializer()
    transactions = CountSerializer()
    liabilities = LiabilityCountSerializer()


class UploadErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class UploadSerializer(serializers.ModelSerializer):
    """An upload as its owner (and operators) see it."""

    upload_id = serializers.UUIDField(source="id", read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    counts = serializers.SerializerMethodField()
    error_count = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataUpload
        fields = [
            "upload_id",
            "user_id",
            "status",
            "file_name",
            "file_size",
            "file_format",
            "sha256",
            "counts",
            "error_count",
            "created_at",
            "processed_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(CountsSerializer(allow_null=True))
    def get_counts(self, upload: DataUpload) -> dict[str, Any] | None:
        return upload.counts or None

    def get_fields(self) -> dict[str, serializers.Field]:
        # Added here: a field *named* "errors" on the class would hide Serializer.errors.
        errors = serializers.SerializerMethodField(method_name="get_upload_errors")
        fields = {}
        for name, field in super().get_fields().items():
            fields[name] = field
            if name == "counts":
                fields["errors"] = errors
        return fields

    @extend_schema_field(UploadErrorSerializer(many=True))
    def get_upload_errors(self, upload: DataUpload) -> list[dict[str, Any]]:
        if upload.status == UploadStatus.FAILED:
            code, _, detail = upload.error.partition(": ")
            return [{"code": code, "detail": detail, "attr": None}]
        errors: list[dict[str, Any]] = (upload.validation or {}).get("errors", [])
        return errors

    def get_error_count(self, upload: DataUpload) -> int:
        if upload.status == UploadStatus.FAILED:
            return 1
        return int((upload.validation or {}).get("error_count", 0))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, upload: DataUpload) -> str | None:
        """Operators only: a pre-signed URL (5 minutes) to the raw file, where storage is S3."""
        if not self.context.get("operator") or not upload.storage_key:
            return None
        if getattr(default_storage, "bucket_name", None) is None:
            return None  # local files have no pre-signed URLs
        return str(default_storage.url(upload.storage_key))


class UploadAcceptedSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=UploadStatus.choices)
