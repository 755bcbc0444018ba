"""tus 1.0 at ``/api/v1/uploads/`` (https://tus.io/protocols/resumable-upload): the core protocol and the creation,
creation-with-upload, termination, expiration and checksum extensions (docs/uploads.md). Thin: parse the tus
headers, call :mod:`vault.transfers.tus.services`, answer with tus headers.

Authentication is the API's (a bearer token, an app password, or the browser's session with its CSRF token).
``Upload-Metadata`` keys: ``name`` (or ``filename``), ``folder`` (a folder id), ``tags`` (comma-separated or a JSON
list), ``on_conflict`` (``version``, ``rename``, ``error``), or ``file`` (a file id: the upload becomes its new
version). When the last byte arrives the answer carries ``Locker-File-Id`` (and ``Locker-File-Created``).
"""

from __future__ import annotations

import base64
import binascii
from email.utils import format_datetime

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from locker import ratelimit
from locker.errors import InvalidInput, LockerError
from locker.http import RequestMeta, whole_number
from locker.serializers import ErrorSerializer
from vault.files.apis import vault_keys
from vault.transfers.receive import raw_body_pieces
from vault.transfers.tus import services

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 409, 410, 412, 413, 415, 423, 460)}
TUS_HEADER = OpenApiParameter("Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION])


class TusVersionMismatch(LockerError):
    status_code = 412
    code = "tus_version_unsupported"
    detail = f"This server speaks tus {TUS_VERSION}: send 'Tus-Resumable: {TUS_VERSION}'."


class NotOffsetStream(LockerError):
    status_code = 415
    code = "unsupported_media_type"
    detail = f"Bytes of an upload are sent as '{OFFSET_TYPE}'."


def _int_header(request, name: str) -> int:
    value = request.headers.get(name, "")
    number = whole_number(value)
    if number is None or len(value) > 19:
        raise InvalidInput(f"{name} must be a non-negative integer.", code="invalid_header")
    return number


def _checksum(request) -> tuple[str, bytes] | None:
    header = request.headers.get("Upload-Checksum")
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in services.CHECKSUMS:
        raise InvalidInput(
            f"Upload-Checksum: use one of {', '.join(services.CHECKSUMS)}.", code="checksum_algorithm_unsupported"
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("Upload-Checksum: the digest is not base64.", code="invalid_header") from None
    if len(digest) != services.CHECKSUMS[algorithm]().digest_size:
        raise InvalidInput(f"Upload-Checksum: not a {algorithm} digest.", code="invalid_header")
    return algorithm, digest


def _expires(upload) -> str:
    return format_datetime(upload.expires_at, usegmt=True)


class TusApi(APIView):
    """What both tus resources share: the version check, the method override, tus headers on every answer."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise TusVersionMismatch()

    def dispatch(self, request, *args, **kwargs):
        override = request.headers.get("X-HTTP-Method-Override", "").upper()
        if request.method == "POST" and override in {"PATCH", "DELETE", "HEAD"}:
            request.method = override  # tus, for clients that cannot send PATCH or DELETE
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        if response.status_code == 412:
            response["Tus-Version"] = TUS_VERSION
        if response.status_code == 460:
            response.reason_phrase = "Checksum Mismatch"
        response["Cache-Control"] = "no-store"
        return response

    def _appended(self, request, upload_id, offset: int) -> tuple[services.AppendResult, dict]:
        if request.content_type != OFFSET_TYPE and request.META.get("CONTENT_LENGTH", "0") not in {"", "0"}:
            raise NotOffsetStream()
        checksum = _checksum(request)
        result = services.upload_append(
            user=request.user,
            keys=vault_keys(request),
            upload_id=upload_id,
            offset=offset,
            pieces=raw_body_pieces(request),
            checksum=checksum,
            meta=RequestMeta.from_request(request),
        )
        headers = {"Upload-Offset": str(result.offset)}
        if result.file_id is not None:
            headers["Locker-File-Id"] = str(result.file_id)
            headers["Locker-File-Created"] = "1" if result.created else "0"
        return result, headers


class UploadCreateApi(TusApi):
    def get_permissions(self):
        if self.request.method == "OPTIONS":
            return [AllowAny()]  # discovery: what the server supports, nothing of anyone's
        return super().get_permissions()

    @extend_schema(responses={204: None}, summary="What this tus server supports", auth=[])
    def options(self, request):
        return Response(
            status=204,
            headers={
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(settings.LOCKER_MAX_UPLOAD_SIZE),
                "Tus-Checksum-Algorithm": ",".join(services.CHECKSUMS),
            },
        )

    @extend_schema(
        request={OFFSET_TYPE: OpenApiTypes.BINARY},
        parameters=[
            TUS_HEADER,
            OpenApiParameter("Upload-Length", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("Upload-Metadata", str, OpenApiParameter.HEADER),
        ],
        responses={201: None, **ERRORS},
        summary="Start a resumable upload (tus creation; with a body: creation-with-upload)",
    )
    def post(self, request):
        ratelimit.enforce(request, group="upload_user", value=str(request.user.pk))
        if "Upload-Defer-Length" in request.headers:
            raise InvalidInput("Upload-Length is needed: deferred lengths are not supported.", code="invalid_header")
        length = _int_header(request, "Upload-Length")
        with_body = (whole_number(request.META.get("CONTENT_LENGTH")) or 0) > 0
        if with_body and request.content_type != OFFSET_TYPE:
            raise NotOffsetStream()
        metadata = services.metadata_parse(request.headers.get("Upload-Metadata", ""))
        upload = services.upload_create(
            user=request.user,
            keys=vault_keys(request),
            length=length,
            metadata=metadata,
            meta=RequestMeta.from_request(request),
        )
        headers = {
            "Location": request.build_absolute_uri(reverse("api-upload", args=[upload.pk])),
            "Upload-Expires": _expires(upload),
        }
        if length == 0 or with_body:
            try:
                _, appended = self._appended(request, upload.pk, 0)
            except LockerError as exc:
                # the upload exists: the client resumes it from its offset (HEAD), whatever this body's fate
                response = Response(exc.as_dict(), status=exc.status_code, headers=headers)
                return response
            headers.update(appended)
        return Response(status=201, headers=headers)


class UploadApi(TusApi):
    @extend_schema(parameters=[TUS_HEADER], responses={200: None, **ERRORS}, summary="An upload's offset")
    def head(self, request, pk):
        upload = services.upload_get(user=request.user, upload_id=pk)
        headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
        if upload.finished:
            headers["Locker-File-Id"] = str(upload.file_id)
        else:
            headers["Upload-Expires"] = _expires(upload)
        return Response(status=200, headers=headers)

    @extend_schema(
        request={OFFSET_TYPE: OpenApiTypes.BINARY},
        parameters=[
            TUS_HEADER,
            OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("Upload-Checksum", str, OpenApiParameter.HEADER),
        ],
        responses={204: None, **ERRORS},
        summary="Send bytes of an upload from its offset",
    )
    def patch(self, request, pk):
        ratelimit.enforce(request, group="upload_user", value=str(request.user.pk))
        offset = _int_header(request, "Upload-Offset")
        result, headers = self._appended(request, pk, offset)
        if result.file_id is None:
            upload = services.upload_get(user=request.user, upload_id=pk)
            headers["Upload-Expires"] = _expires(upload)
        return Response(status=204, headers=headers)

    @extend_schema(parameters=[TUS_HEADER], responses={204: None, **ERRORS}, summary="Cancel an upload (termination)")
    def delete(self, request, pk):
        services.upload_terminate(user=request.user, upload_id=pk)
        return Response(status=204)
