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
from locker.http import RequestMeta, whole_number
from locker.schema import results_of
from locker.serializers import StrictBooleanField, StrictCharField, validated
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
    all_versions = StrictBooleanField(required=False, default=False, help_text="Older versions of files too.")
    background = StrictBooleanField(
        required=False,
        default=False,
        help_text="Build it in the background (202 with the job; GET /api/v1/me/exports/{id}/ follows it): for "
        "accounts too large to wait for in one request.",
    )


class ExportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="running, ready or failed.")
    all_versions = serializers.BooleanField()
    total_bytes = serializers.IntegerField(help_text="Bytes of files to put in the zip.")
    done_bytes = serializers.IntegerField(help_text="Bytes of files in it so far.")
    size = serializers.IntegerField(help_text="Bytes of the finished zip.")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="When it is deleted if not before.")
    content_url = serializers.SerializerMethodField()

    def get_content_url(self, job) -> str | None:
        return f"/api/v1/me/exports/{job.id}/content" if job.status == "ready" else None


class MyExportApi(APIView):
    @extend_schema(
        request=ExportInput,
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            (202, "application/json"): ExportJobSerializer,
            **ERRORS,
        },
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
            data={"all_versions": data["all_versions"], "background": data["background"]},
        )
        if data["background"]:
            from rest_framework.response import Response

            from vault.export.jobs import export_job_start

            job = export_job_start(
                user=request.user, keys=keys, passphrase=data["passphrase"], all_versions=data["all_versions"]
            )
            return Response(ExportJobSerializer(job).data, status=202)
        body = export_zip(
            user=request.user, keys=keys, passphrase=data["passphrase"], all_versions=data["all_versions"]
        )
        response = StreamingHttpResponse(body, content_type="application/zip")
        name = f"locker-{request.user.username}-{timezone.now():%Y-%m-%d}.zip"
        response["Content-Disposition"] = content_disposition_header(True, name)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ImportInput(serializers.Serializer):
    archive = serializers.FileField(help_text="A zip made by POST /api/v1/me/export.")
    passphrase = StrictCharField(max_length=1024, trim_whitespace=False, help_text="The export's passphrase.")
    mode = serializers.ChoiceField(
        choices=["new_folder", "merge"],
        required=False,
        default="new_folder",
        help_text="new_folder: everything goes into a new top folder named after the export (the default); "
        "merge: into the account's own folders, beside what is there.",
    )
    dry_run = StrictBooleanField(required=False, default=False, help_text="Report what would happen; write nothing.")


class MyImportApi(APIView):
    upload_fields = ("archive",)  # streamed to an encrypted blob like any upload, read back twice, then deleted

    @extend_schema(
        request={"multipart/form-data": ImportInput},
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, 413: OpenApiTypes.OBJECT, **ERRORS},
        tags=["accounts"],
        description="Bring back an export made by POST /api/v1/me/export: folders, files (with their versions when "
        "the export has them), tags, notes and chats. The whole archive is checked first (passphrase, paths, sizes "
        "and checksums against its manifest, limits against zip bombs, the quota): anything wrong is a 400 (or 413) "
        "and nothing is written. What is already there (same place, same content) is skipped, so a second import "
        "creates nothing. Answers the report: what was (or, with dry_run, would be) created and skipped, and what "
        "failed. 201 when it wrote, 200 for a dry run.",
    )
    def post(self, request):
        from django.conf import settings

        from locker.errors import BodyTooLarge
        from vault.export.imports import Importer
        from vault.transfers.receive import received_form

        if (whole_number(request.META.get("CONTENT_LENGTH")) or 0) > settings.LOCKER_IMPORT_MAX_BYTES:
            raise BodyTooLarge(f"An archive to import may be at most {settings.LOCKER_IMPORT_MAX_BYTES:,} bytes.")
        form, files = received_form(request, check_size=False)  # the import checks the quota for what it writes
        parts = files.get("archive", [])
        if len(parts) != 1:
            raise InvalidInput(errors={"archive": ["Send one archive, as a file part."]})
        data = validated(ImportInput, {**{k: form.get(k) for k in form}, "archive": request.FILES["archive"]})
        encrypted = parts[0]
        keys = vault_keys(request)
        importer = Importer(
            user=request.user,
            keys=keys,
            upload=encrypted,
            passphrase=data["passphrase"],
            mode=data["mode"],
            dry_run=data["dry_run"],
            meta=RequestMeta.from_request(request),
        )
        try:
            report = importer.run()
        finally:
            encrypted.discard()  # the archive itself is never kept
        from rest_framework.response import Response

        return Response(report.as_dict(), status=200 if data["dry_run"] else 201)


class MyExportJobListApi(APIView):
    @extend_schema(
        operation_id="v1_me_exports_list",
        responses={200: results_of("ExportJobList", ExportJobSerializer), **ERRORS},
        tags=["accounts"],
    )
    def get(self, request):
        """My exports built in the background, newest first (kept until deleted or expired)."""
        from rest_framework.response import Response

        from vault.export.jobs import export_job_list

        return Response({"results": ExportJobSerializer(export_job_list(user=request.user), many=True).data})


class MyExportJobApi(APIView):
    @extend_schema(responses={200: ExportJobSerializer, **ERRORS}, tags=["accounts"])
    def get(self, request, pk):
        """One export job: its status and progress."""
        from rest_framework.response import Response

        from vault.export.jobs import export_job_get

        return Response(ExportJobSerializer(export_job_get(user=request.user, job_id=pk)).data)

    @extend_schema(responses={204: None, **ERRORS}, tags=["accounts"])
    def delete(self, request, pk):
        """Delete an export (its zip goes at once)."""
        from rest_framework.response import Response

        from vault.export.jobs import export_job_delete

        export_job_delete(user=request.user, job_id=pk)
        return Response(status=204)


class MyExportJobContentApi(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS}, tags=["accounts"])
    def get(self, request, pk):
        """A ready export's zip (404 until it is ready)."""
        from vault.export.jobs import export_job_content

        job, body = export_job_content(user=request.user, keys=vault_keys(request), job_id=pk)
        response = StreamingHttpResponse(body, content_type="application/zip")
        name = f"locker-{request.user.username}-{job.created_at:%Y-%m-%d}.zip"
        response["Content-Disposition"] = content_disposition_header(True, name)
        response["Content-Length"] = str(job.size)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
