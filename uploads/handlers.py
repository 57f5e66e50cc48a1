"""Stop reading an upload as soon as it passes the size limit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from spendsense.api.errors import DomainError


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = "too_large"
    default_detail = "The file is larger than 10 MB."


class MaxSizeUploadHandler(FileUploadHandler):
    """First in the chain: counts the file's bytes and stops the upload past ``limit``.

    Later handlers (memory or temporary file) never see more than the limit, so a huge body
    is refused without being held in memory.
    """

    def __init__(self, request: Any, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class SizeGuardedMultiPartParser(MultiPartParser):
    """DRF's multipart parser with ``MaxSizeUploadHandler`` first in the chain: a file over
    ``UPLOAD_MAX_BYTES`` answers 413 ``too_large`` without ever being held whole."""

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> DataAndFiles:
        context = parser_context or {}
        request = context["request"]
        guard = MaxSizeUploadHandler(request, settings.UPLOAD_MAX_BYTES)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        handlers = [guard, *request.upload_handlers]
        try:
            data, files = DjangoMultiPartParser(meta, stream, handlers, encoding).parse()
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from error
        if guard.too_large:
            raise PayloadTooLarge()
        return DataAndFiles(data, files)
