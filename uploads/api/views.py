"""``/data/upload``: send a file; list and read uploads."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.api.scoping import OwnedViewSet
from spendsense.api.errors import DomainError, ErrorList
from spendsense.api.idempotency import idempotency_key
from spendsense.api.openapi import (
    ErrorResponseSerializer,
    error_example,
    error_responses,
    response_example,
)
from spendsense.api.permissions import IsSignedIn, Perm, may, request_caller
from spendsense.api.request import request_meta
from uploads import services
from uploads.api.serializers import (
    UploadAcceptedSerializer,
    UploadRequestSerializer,
    UploadSerializer,
)
from uploads.filters import DataUploadFilterSet
from uploads.handlers import PayloadTooLarge, SizeGuardedMultiPartParser
from uploads.models import DataUpload
from uploads.validation import UploadError, UploadRejected

# Multipart framing around a file is a few hundred bytes; anything much larger is refused
# from its Content-Length before a byte of it is read.
MULTIPART_SLACK = 64 * 1024


def _rejected(rejected: UploadRejected) -> ErrorList:
    """The errors of a refused file, for the exception handler to render."""
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
    # A refused upload is kept (status "rejected"); its id travels in a header, not the body.
    headers = {} if rejected.upload_id is None else {"X-Upload-ID": str(rejected.upload_id)}
    return ErrorList(errors, status=rejected.status, headers=headers)


@extend_schema(tags=["uploads"])
@extend_schema_view(
    list=extend_schema(
        operation_id="listUploads",
        summary="List your uploads, newest first",
        description=(
            "Paginated (`page`, `page_size`); filter by `status`. Operators see everyone's "
            "and may filter by `user` (a user id)."
        ),
        responses={200: UploadSerializer(many=True)},
    ),
    retrieve=extend_schema(
        operation_id="getUpload",
        summary="Read an upload's processing status and counts",
        description=(
            "Poll after POST /api/v1/data/upload: `status` goes `queued` -> `processing` -> "
            "`processed` (with `counts` of accounts, transactions and liabilities created, "
            "updated and removed) or `failed` (with `errors`). 404 for another user's upload."
        ),
        responses={200: UploadSerializer},
        examples=[
            response_example(
                "Processed",
                {
                    "upload_id": "9a1d7f0c-2b9e-4c3f-8f4a-6c1e0d2b7a55",
                    "user_id": "0b7c6f1e-5d0c-4f4e-9a51-3f8e2b1c9d10",
                    "status": "processed",
                    "file_name": "plaid.json",
                    "file_size": 48213,
                    "file_format": "json",
                    "sha256": "3f9a0c1e5b7d2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d",
                    "counts": {
                        "accounts": {"created": 3, "updated": 0, "removed": 0},
                        "transactions": {"created": 412, "updated": 0, "removed": 0},
                        "liabilities": {"created": 1, "updated": 0, "removed": 0},
                    },
                    "error_count": 0,
                    "errors": [],
                    "created_at": "2026-12-01T09:32:00Z",
                    "processed_at": "2026-12-01T09:32:04Z",
                    "download_url": None,
                },
                200,
            )
        ],
    ),
)
class DataUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    """Uploads of Plaid-shaped data, validated at once and processed in the background."""

    queryset = DataUpload.objects.select_related("user").order_by("-created_at")
    serializer_class = UploadSerializer
    filterset_class = DataUploadFilterSet
    ordering_fields = ["created_at", "status", "file_size"]
    lookup_url_kwarg = "upload_id"
    lookup_value_converter = "uuid"
    parser_classes = [SizeGuardedMultiPartParser]
    consent_required_for = ("create",)
    permission_classes = [IsSignedIn]

    def get_serializer_context(self) -> dict[str, object]:
        operator = may(request_caller(self.request), Perm.READ_ANY_USER)
        return {**super().get_serializer_context(), "operator": operator}

    @extend_schema(
        operation_id="createUpload",
        summary="Upload bank data (Plaid JSON or CSV) for analysis",
        description=(
            "Send the file as multipart field `file`: a JSON body in Plaid's response shapes "
            "(`accounts`, `transactions`, `liabilities`) or a CSV, at most 10 MB. The file is "
            "validated at once: 400 lists every error found, each `attr` locating it "
            "(`transactions.3.amount`). Accepted files answer 202 with an `upload_id`; poll "
            "GET /api/v1/data/upload/{upload_id} until `status` is `processed` (or `failed`), "
            "then read the insights. Needs consent (403 `consent_required`). Send an "
            "`Idempotency-Key` to retry safely."
        ),
        request={"multipart/form-data": UploadRequestSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A retried POST with the same key (and file) returns the first answer.",
            )
        ],
        examples=[
            response_example(
                "Accepted",
                {"upload_id": "9a1d7f0c-2b9e-4c3f-8f4a-6c1e0d2b7a55", "status": "queued"},
                202,
            ),
            error_example(
                "Invalid file",
                400,
                "invalid",
                "Must be a number.",
                "transactions.3.amount",
            ),
        ],
        responses={
            202: UploadAcceptedSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer, description="Invalid file: every error found."
            ),
            **error_responses(
                403,
                409,
                413,
                415,
                503,
                s403="`consent_required`: grant consent (POST /api/v1/consent) first.",
                s409="The `Idempotency-Key` was used with a different file.",
                s413="The file is larger than 10 MB.",
                s415="The file is neither JSON nor CSV text.",
            ),
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
        upload_file = request.FILES.get("file")
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
                meta=request_meta(request),
            )
        except UploadRejected as rejected:
            raise _rejected(rejected) from None
        upload = outcome.upload
        if upload.status == "rejected":  # an idempotent replay of a rejected file
            raise _rejected(
                UploadRejected(
                    [UploadError(**error) for error in upload.validation.get("errors", [])],
                    error_count=upload.validation.get("error_count"),
                )
            )
        body = UploadAcceptedSerializer({"upload_id": upload.id, "status": upload.status}).data
        response = Response(body, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/data/upload/{upload.id}"
        return response
