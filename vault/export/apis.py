"""``GET /api/v1/me/data``: the data export over HTTP."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from activity.services import export_record
from locker.errors import InvalidInput
from locker.http import RequestMeta
from locker.serializers import StrictCharField, validated
from vault.files.apis import ERRORS, vault_keys

MIN_PASSPHRASE = 8


class MyDataApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME, description="Only what changed since then.")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
        tags=["accounts"],
        description="Everything I have (profile, folders, files with content links, notes, chats with messages, "
        "activity), streamed as one JSON document in constant memory.",
    )
    def get(self, request):
        from django.http import StreamingHttpResponse

        from locker.filters import UtcIsoDateTimeField
        from vault.export.services import stream_user_data

        since = None
        if request.query_params.get("since") is not None:  # given empty, it is no date and time
            try:
                since = UtcIsoDateTimeField().clean(request.query_params["since"])
            except Exception:  # noqa: BLE001 - any parse problem is the client's
                raise InvalidInput(errors={"since": ["Enter an ISO 8601 date and time."]}) from None
        keys = vault_keys(request)
        export_record(user=request.user, what="data", meta=RequestMeta.from_request(request), data=_since(since))
        body = (
            piece.encode() for piece in stream_user_data(user=request.user, keys=keys, request=request, since=since)
        )
        response = StreamingHttpResponse(body, content_type="application/json")
        response["Cache-Control"] = "no-store"
        return response


def _since(since) -> dict:
    return {"since": since.isoformat()} if since else {}


class ExportInput(serializers.Serializer):
    passphrase = StrictCharField(
        min_length=MIN_PASSPHRASE,
        max_length=1024,
        trim_whitespace=False,
        help_text=f"The zip's password ({MIN_PASSPHRASE} to 1,024 characters): 7-Zip and other tools ask for it.",
    )
    all_versions = serializers.BooleanField(required=False, default=False, help_text="Older versions of files too.")


class MyExportApi(APIView):
    @extend_schema(
        request=ExportInput,
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
        tags=["accounts"],
        description="My files (in their folders, with their real names), notes as Markdown and chats as Markdown and "
        "JSON, with a manifest.json, as one zip encrypted with AES-256 (WinZip AE-2) under the passphrase given: it "
        "opens in 7-Zip. Streamed while it is built; nothing of it is kept. JSON, or a form post (a page downloads it "
        "without holding it in memory). POST /api/v1/me/import brings it back.",
    )
    def post(self, request):
        from vault.export.archive import export_zip

        data = validated(ExportInput, request.data)
        keys = vault_keys(request)
        export_record(
            user=request.user,
            what="zip",
            meta=RequestMeta.from_request(request),
            data={"all_versions": data["all_versions"]},
        )
        body = export_zip(
            user=request.user, keys=keys, passphrase=data["passphrase"], all_versions=data["all_versions"]
        )
        response = StreamingHttpResponse(body, content_type="application/zip")
        name = f"locker-{request.user.username}-{timezone.now():%Y-%m-%d}.zip"
        response["Content-Disposition"] = content_disposition_header(True, name)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
