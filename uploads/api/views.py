"""``/data/upload``: send a file; list and read uploads."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consent.api.scoping import OwnedViewSet
from spendsense.api.errors import DomainError
from spendsense.api.idempotency import idempotency_key
from spendsense.api.openapi import ErrorResponseSerializer, error_responses
from spendsense.api.permissions import IsSignedIn, Perm, may, request_caller
from uploads import services
from uploads.api.serializers import (
    UploadAcceptedSerializer,
    UploadRequestSerializer,
    UploadSerializer,
)
from uploads.filters import DataUploadFilterSet
from uploads.handlers import MaxSizeUploadHandler
from uploads.models import DataUpload
from uploads.validation import UploadError, UploadRejected

# Multipart framing around a file is a few hundred bytes; anything much larger is refused
# from its Content-Length before a byte of it is read.
MULTIPART_SLACK = 64 * 1024


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = "too_large"
    default_detail = "The file is larger than 10 MB."


def _rejected_response(rejected: UploadRejected) -> Response:
    errors = [error.__dict__ for error in rejected.errors]
    if rejected.error_count > len(errors):
        errors.append(
            {
                "code": "too_many_errors",
                "detail": (
                    f"{rejected.error_count} errors in total; "
                    f"the first {len(rejected.errors)} are listed."
                ),
                "attr": "file",
            }
        )
    kind = "validation_error" if rejected.status == 400 else "client_error"
    response = Response({"type": kind, "errors": errors}, status=rejected.status)
    if rejected.upload_id is not None:
        # The upload is kept (status "rejected"); its id travels in a header, not the body.
        response["X-Upload-ID"] = str(rejected.upload_id)
    return response


class DataUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    """Uploads of Plaid-shaped data, validated at once and processed in the background."""

    queryset = DataUpload.objects.select_related("user").order_by("-created_at")
    serializer_class = UploadSerializer
    filterset_class = DataUploadFilterSet
    ordering_fields = ["created_at", "status", "file_size"]
    lookup_url_kwarg = "upload_id"
    lookup_value_converter = "uuid"
    parser_classes = [MultiPartParser]
    consent_required_for = ("create",)
    permission_classes = [IsSignedIn]

    def get_serializer_context(self) -> dict[str, object]:
        operator = may(request_caller(self.request), Perm.READ_ANY_USER)
        return {**super().get_serializer_context(), "operator": operator}

    @extend_schema(
        tags=["uploads"],
        request={"multipart/form-data": UploadRequestSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A retried POST with the same key (and file) returns the first answer.",
            )
        ],
        responses={
            202: UploadAcceptedSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer, description="Invalid file: every error found."
            ),
            **error_responses(403, 409, 413, 415, 503),
        },
    )
    def create(self, request: Request) -> Response:
        user = self.get_owner()
        key = idempotency_key(request)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.UPLOAD_MAX_BYTES + MULTIPART_SLACK:
            raise PayloadTooLarge()
        guard = MaxSizeUploadHandler(request._request, settings.UPLOAD_MAX_BYTES)
        request._request.upload_handlers = [guard, *request._request.upload_handlers]
        files = request.FILES
        if guard.too_large:
            raise PayloadTooLarge()
        upload_file = files.get("file")
        if upload_file is None:
            raise DomainError(
                "Send the file in the multipart field 'file'.", code="required", attr="file"
            )
        if upload_file.size is not None and upload_file.size > settings.UPLOAD_MAX_BYTES:
            raise PayloadTooLarge()
        try:
            outcome = services.upload_create(
                user=user,
                file_name=upload_file.name or "upload",
                content=upload_file.read(),
                idempotency_key=key,
                request=request,
            )
        except UploadRejected as rejected:
            return _rejected_response(rejected)
        upload = outcome.upload
        if upload.status == "rejected":  # an idempotent replay of a rejected file
            return _rejected_response(
                UploadRejected(
                    [UploadError(**error) for error in upload.validation.get("errors", [])],
                    error_count=upload.validation.get("error_count"),
                )
            )
        body = UploadAcceptedSerializer({"upload_id": upload.id, "status": upload.status}).data
        response = Response(body, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/data/upload/{upload.id}"
        return response

    @extend_schema(tags=["uploads"], responses={200: UploadSerializer(many=True)})
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(tags=["uploads"], responses={200: UploadSerializer})
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().retrieve(request, *args, **kwargs)
