"""What the file browser and the home page show beside a folder's listing, over HTTP: stars, the Starred and Recent
views, storage by kind, and a selection or a folder downloaded as one zip. Thin: validate, call one service or
selector, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from locker.errors import InvalidInput
from locker.http import RequestMeta, whole_number
from locker.serializers import ErrorSerializer, StrictCharField, StrictUUIDField, validated
from vault.common import clean_name
from vault.files import selectors, services
from vault.files.apis import vault_keys
from vault.models import File, Star
from vault.serializers import FileSerializer, FolderSerializer
from vault.transfers.archive import zip_response

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 423)}
MAX_ARCHIVE_ITEMS = 1000  # files and folders in one archive request (each folder brings everything below it)
ZIP = OpenApiResponse(OpenApiTypes.BINARY, description="application/zip, streamed while it is built.")


def _item(context: dict, kind: str, item) -> dict:
    """One row's item; ``context`` is shared by a response's rows (the starred flags are then read once)."""
    return (FolderSerializer if kind == "folder" else FileSerializer)(item, context=context).data


# --- stars ---------------------------------------------------------------------------------


def _star_api(kind: str):
    class StarApi(APIView):
        @extend_schema(
            request=None,
            responses={204: None, **ERRORS},
            tags=["vault"],
            description=f"Star the {kind} (idempotent): it shows in the Starred view. Only you see your stars.",
        )
        def put(self, request, pk):
            services.star_set(user=request.user, kind=kind, item_id=pk, starred=True)
            return Response(status=status.HTTP_204_NO_CONTENT)

        @extend_schema(responses={204: None, **ERRORS}, tags=["vault"], description=f"Unstar the {kind} (idempotent).")
        def delete(self, request, pk):
            services.star_set(user=request.user, kind=kind, item_id=pk, starred=False)
            return Response(status=status.HTTP_204_NO_CONTENT)

    StarApi.__name__ = StarApi.__qualname__ = f"{kind.title()}StarApi"
    return StarApi


FolderStarApi = _star_api("folder")
FileStarApi = _star_api("file")


class BrowseItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["folder", "file"])
    at = serializers.DateTimeField(help_text="When it was starred (Starred) or last used (Recent).")
    action = serializers.CharField(required=False, help_text="Recent only: the last thing you did with it.")
    folder = FolderSerializer(required=False, help_text="The folder, when kind is folder.")
    file = FileSerializer(required=False, help_text="The file, when kind is file.")


class StarredListApi(GenericAPIView):
    serializer_class = BrowseItemSerializer
    queryset = Star.objects.none()  # for the schema; reads go through selectors

    @extend_schema(responses={200: BrowseItemSerializer(many=True), **ERRORS}, tags=["vault"])
    def get(self, request):
        """The folders and files you starred that you can still see, the newest star first."""
        context = {"keys": vault_keys(request), "request": request}
        page = self.paginate_queryset(selectors.starred_list(user=request.user))
        return self.get_paginated_response(
            [{"kind": kind, "at": at, kind: _item(context, kind, item)} for kind, at, item in page]
        )


class RecentListApi(GenericAPIView):
    serializer_class = BrowseItemSerializer
    queryset = File.objects.none()  # for the schema; reads go through selectors

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 100},
                description="How many (1 to 100, default 30).",
            )
        ],
        responses={200: BrowseItemSerializer(many=True), **ERRORS},
        tags=["vault"],
    )
    def get(self, request):
        """The files you last uploaded, changed or opened (yours and shared with you), the most recent first."""
        limit = whole_number(request.query_params.get("limit", "30"))
        if limit is None or not 1 <= limit <= 100:
            raise InvalidInput(errors={"limit": ["A whole number from 1 to 100."]})
        context = {"keys": vault_keys(request), "request": request}
        page = self.paginate_queryset(selectors.recent_files(user=request.user, limit=limit))
        return self.get_paginated_response(
            [
                {"kind": "file", "at": at, "action": action, "file": _item(context, "file", file)}
                for at, action, file in page
            ]
        )


STORAGE = inline_serializer(
    "Storage",
    {
        "kinds": inline_serializer(
            "StorageKind",
            {"kind": serializers.CharField(), "bytes": serializers.IntegerField(), "files": serializers.IntegerField()},
            many=True,
        ),
        "rest": serializers.IntegerField(help_text="Older versions, the trash, notes and chats."),
        "used": serializers.IntegerField(),
        "quota": serializers.IntegerField(),
    },
)


class StorageApi(APIView):
    @extend_schema(responses={200: STORAGE, 401: ErrorSerializer}, tags=["vault"])
    def get(self, request):
        """Your storage by kind (images, videos, audio, documents, other: the stored bytes of the files' current
        versions) and the rest of what the quota counts. Needs no unlocked vault: sizes and types are not secret."""
        return Response(selectors.storage_by_kind(user=request.user))


# --- archives ------------------------------------------------------------------------------


class ArchiveInput(serializers.Serializer):
    lists_one_required = ("files", "folders")  # the schema's anyOf (locker.schema.OneOfListsRequiredExtension)
    files = serializers.ListField(child=StrictUUIDField(), required=False, default=list, max_length=MAX_ARCHIVE_ITEMS)
    folders = serializers.ListField(child=StrictUUIDField(), required=False, default=list, max_length=MAX_ARCHIVE_ITEMS)
    name = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="The zip's file name (without .zip)."
    )

    def validate(self, data):
        if not data["files"] and not data["folders"]:
            raise serializers.ValidationError({"files": ["Choose at least one file or folder."]})
        if len(data["files"]) + len(data["folders"]) > MAX_ARCHIVE_ITEMS:  # a sum no schema can state
            raise serializers.ValidationError({"files": [f"At most {MAX_ARCHIVE_ITEMS} items in one zip."]})
        return data


def _archive(request, *, file_ids, folder_ids, name: str | None):
    """The zip of a selection, named ``name`` (cleaned); without one, a single folder's own name, else "Locker
    files"."""
    keys = vault_keys(request)
    entries = selectors.archive_entries(user=request.user, keys=keys, file_ids=file_ids, folder_ids=folder_ids)
    files = [file for _, file in entries if file is not None]
    one_folder = entries[0][0].split("/", 1)[0] if len(folder_ids) == 1 and not file_ids and entries else None
    name = _zip_name(name, one_folder or "Locker files")
    user, meta = request.user, RequestMeta.from_request(request)
    sent = []
    response = zip_response(keys, entries, filename=f"{name}.zip", on_complete=lambda: sent.append(True))

    def record():  # once the whole zip has gone (not one cut short), like a single download
        if sent:
            services.files_download_record(user=user, files=files, meta=meta)

    response._resource_closers.append(record)
    return response


def _zip_name(raw: str | None, fallback: str) -> str:
    try:
        return clean_name(raw) if raw and raw.strip() else fallback
    except InvalidInput:
        return fallback


class ArchiveApi(APIView):
    @extend_schema(
        request=ArchiveInput,
        responses={(200, "application/zip"): ZIP, **ERRORS},
        tags=["vault"],
        description=(
            "Files and folders (each with everything live in it) as one zip, streamed while it is built. JSON, or a "
            "form post (repeat `files` and `folders`): a page can download it without holding it in memory. Every "
            "id must be one you can see (else 404, before the first byte). Each file's download is recorded."
        ),
    )
    def post(self, request):
        data = validated(ArchiveInput, request.data)
        return _archive(request, file_ids=data["files"], folder_ids=data["folders"], name=data.get("name"))


class FolderArchiveApi(APIView):
    @extend_schema(responses={(200, "application/zip"): ZIP, **ERRORS}, tags=["vault"])
    def get(self, request, pk):
        """The folder and everything live in it as one zip (a link a page or a client can follow)."""
        return _archive(request, file_ids=[], folder_ids=[pk], name=None)
