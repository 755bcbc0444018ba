"""Folders, files and versions over HTTP (API.md, Vault), and the helpers the vault's other APIs share. Thin:
validate, call one service or selector, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.unlock import context_for_request
from locker import ratelimit
from locker.errors import InvalidInput, VaultLocked
from locker.http import RequestMeta
from locker.params import flag, flag_param, uuid_param, uuid_value
from locker.schema import results_of
from locker.serializers import ErrorSerializer, check_form, validated
from locker.textrules import schema_pattern
from vault import common
from vault.files import selectors, services
from vault.files.filters import FileFilter
from vault.keys import VaultKeys
from vault.models import File, Folder, SearchToken
from vault.search import selectors as search_selectors
from vault.search.index import matching_items
from vault.serializers import (
    UPLOAD_TAGS_HELP,
    UPLOAD_TAGS_PATTERN,
    FileSerializer,
    FileUpdateInput,
    FolderCreateInput,
    FolderSerializer,
    FolderUpdateInput,
    UploadInput,
    UploadResultSerializer,
    VersionSerializer,
)
from vault.transfers.http import content_response, download_name, preview_response
from vault.transfers.receive import check_declared_size, raw_body_pieces, received_form
from vault.transfers.uploads import upload_from_iterable
from vault.trash import services as trash

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 423)}
SERVED = {
    200,
    206,
}  # a download is recorded when its body is sent  # gunicorn reads up to 1 MiB per recv() when asked for that much


def vault_keys(request) -> VaultKeys:
    """The request's key hierarchy, or 423 ``vault_locked``."""
    keys = getattr(request, "_vault_keys", None)
    if keys is None:
        keys = request._vault_keys = VaultKeys(request.user.pk, context_for_request(request).udk())
    return keys


def vault_keys_if_unlocked(request) -> VaultKeys | None:
    """The request's key hierarchy, or None when its vault is locked (for work that only some answers need)."""
    if not context_for_request(request).is_unlocked:
        return None
    try:
        return vault_keys(request)
    except VaultLocked:
        return None


def _uuid_param(request, name):
    """A folder id parameter; None (the top level) when it is left out."""
    return uuid_value(request, name, message="Must be a folder id.")


def _listing_scope(request, keys: VaultKeys, *, recursive_allowed: bool = False) -> tuple:
    """``(folder_id, every, recursive)`` of a listing (``folder``, ``all``, ``recursive``), with the folder keys
    it will need unwrapped up front (all folders at once when it spans several). 404 for another user's folder."""
    every = flag(request, "all")
    folder_id = _uuid_param(request, "folder")
    folder_id = None if every else folder_id
    recursive = recursive_allowed and flag(request, "recursive") and folder_id is not None
    if folder_id is not None:
        folder = selectors.folder_get(user=request.user, folder_id=folder_id)
        if not recursive:
            keys.folder_key(folder)
    if every or recursive:
        keys.preload(selectors.all_folders(user=request.user))
    return folder_id, every, recursive


def _with_tag(request, keys: VaultKeys, queryset, kind: int):
    """``queryset`` narrowed to items carrying the request's ``tag`` (when given)."""
    tag = request.query_params.get("tag")
    if not tag:
        return queryset
    return queryset.filter(pk__in=search_selectors.tagged_item_ids(user=request.user, keys=keys, tag=tag, kind=kind))


def _record_download_when_sent(request, response, file, version: int | None = None) -> None:
    """Record a download once its body has gone (when the server closes the response), not before its first
    byte: the event costs a database write that the client need not wait for. Not for a 304, a 416 or an error."""
    if response.status_code not in SERVED:
        return
    user, meta = request.user, RequestMeta.from_request(request)
    response._resource_closers.append(
        lambda: services.file_download_record(user=user, file=file, meta=meta, version=version)
    )


def _serialize_file(request, file, keys):
    return FileSerializer(file, context={"keys": keys, "request": request}).data


# --- folders -------------------------------------------------------------------------------


class FolderListCreateApi(GenericAPIView):
    serializer_class = FolderSerializer
    queryset = Folder.objects.none()  # for the schema; reads go through selectors

    @extend_schema(
        parameters=[
            uuid_param("parent", "Folder id; leave it out for the top level."),
            OpenApiParameter("tag", OpenApiTypes.STR, description="Only folders with this tag."),
        ],
        responses={200: FolderSerializer(many=True), **ERRORS},
        tags=["vault"],
    )
    def get(self, request):
        keys = vault_keys(request)
        parent_id = _uuid_param(request, "parent")
        if parent_id is not None:
            keys.folder_key(selectors.folder_get(user=request.user, folder_id=parent_id))
        folders = _with_tag(
            request, keys, selectors.folder_list(user=request.user, parent_id=parent_id), SearchToken.Kind.FOLDER
        )
        page = self.paginate_queryset(folders)
        return self.get_paginated_response(FolderSerializer(page, many=True, context={"keys": keys}).data)

    @extend_schema(
        request=FolderCreateInput, responses={201: FolderSerializer, 409: ErrorSerializer, **ERRORS}, tags=["vault"]
    )
    def post(self, request):
        data = validated(FolderCreateInput, request.data)
        keys = vault_keys(request)
        folder = services.folder_create(
            user=request.user,
            keys=keys,
            name=data["name"],
            parent_id=data.get("parent"),
            tags=data.get("tags"),
            on_conflict=data["on_conflict"],
            meta=RequestMeta.from_request(request),
        )
        return Response(FolderSerializer(folder, context={"keys": keys}).data, status=status.HTTP_201_CREATED)


class FolderDetailApi(APIView):
    @extend_schema(responses={200: FolderSerializer, **ERRORS}, tags=["vault"])
    def get(self, request, pk):
        keys = vault_keys(request)
        folder = selectors.folder_get(user=request.user, folder_id=pk)
        return Response(FolderSerializer(folder, context={"keys": keys}).data)

    @extend_schema(
        request=FolderUpdateInput, responses={200: FolderSerializer, 409: ErrorSerializer, **ERRORS}, tags=["vault"]
    )
    def patch(self, request, pk):
        data = validated(FolderUpdateInput, request.data)
        keys = vault_keys(request)
        folder = services.folder_update(
            user=request.user,
            keys=keys,
            folder_id=pk,
            name=data.get("name"),
            parent_id=data.get("parent", common.UNSET),
            tags=data.get("tags"),
            on_conflict=data["on_conflict"],
            meta=RequestMeta.from_request(request),
        )
        return Response(FolderSerializer(folder, context={"keys": keys}).data)

    @extend_schema(
        responses={204: None, **ERRORS}, tags=["vault"], description="Move the folder and its contents to the trash."
    )
    def delete(self, request, pk):
        trash.item_trash(user=request.user, kind="folder", item_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- files --------------------------------------------------------------------------------


UPLOAD_SCHEMA = {
    "request": {
        "multipart/form-data": {
            "type": "object",
            "properties": {
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1},
                "folder": {"type": "string", "format": "uuid"},
                "tags": {
                    "type": "string",
                    "pattern": schema_pattern(UPLOAD_TAGS_PATTERN),
                    "description": UPLOAD_TAGS_HELP,
                },
                "on_conflict": {"type": "string", "enum": ["version", "rename", "error"]},
            },
            "required": ["file"],
        }
    },
    "responses": {
        201: UploadResultSerializer(many=True),
        409: ErrorSerializer,  # every file refused for a name conflict (on_conflict=error)
        413: ErrorSerializer,
        429: ErrorSerializer,
        **ERRORS,
    },
}


class FileListCreateApi(GenericAPIView):
    serializer_class = FileSerializer
    queryset = File.objects.none()  # for the schema; reads go through selectors

    filterset_class = FileFilter
    upload_fields = ("file",)  # POST streams these multipart parts to encrypted blobs (vault.transfers.upload_handler)

    @extend_schema(
        parameters=[
            uuid_param("folder", "Folder id; leave it out for the top level."),
            flag_param("recursive", "1: also the folder's subfolders."),
            flag_param("all", "1: files of every folder."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Words in the name, tags or text (all must match)."),
            OpenApiParameter("tag", OpenApiTypes.STR, description="Only files with this tag."),
            OpenApiParameter(
                "ordering", OpenApiTypes.STR, enum=sorted(selectors.ORDERINGS), description="Default -modified."
            ),
        ],
        responses={200: FileSerializer(many=True), **ERRORS},
        tags=["vault"],
    )
    def get(self, request):
        keys = vault_keys(request)
        params = request.query_params
        ordering = params.get("ordering", "-modified")
        if ordering not in selectors.ORDERINGS:
            raise InvalidInput(errors={"ordering": [f"One of: {', '.join(sorted(selectors.ORDERINGS))}."]})
        folder_id, every, recursive = _listing_scope(request, keys, recursive_allowed=True)
        if recursive:
            files = selectors.file_list(user=request.user, all_folders=True).filter(
                folder_id__in=selectors.folder_subtree_ids(user=request.user, folder_id=folder_id)
            )
        else:
            files = selectors.file_list(user=request.user, folder_id=folder_id, all_folders=every)
        files = _with_tag(request, keys, self.filter_queryset(files), SearchToken.Kind.FILE)
        if params.get("q"):
            _, matches = matching_items(
                owner_id=request.user.pk, keys=keys.search, query=params["q"], kinds=[1], limit=100_000
            )
            files = files.filter(pk__in=[m["item_id"] for m in matches])
        listing = tuple(sorted((k, v) for k, v in params.items() if k not in {"page", "page_size", "format"}))
        page = self.paginate_queryset(selectors.order_files(files, keys=keys, ordering=ordering, cache_key=listing))
        return self.get_paginated_response(
            FileSerializer(page, many=True, context={"keys": keys, "request": request}).data
        )

    @extend_schema(
        **UPLOAD_SCHEMA,
        tags=["vault"],
        description="Upload one or more files. Each succeeds or fails on its own; the answer lists every outcome.",
    )
    def post(self, request):
        # Blobs that no row ends up owning are deleted before the answer leaves (UploadCleanupMiddleware).
        ratelimit.enforce(request, group="upload_user", value=str(request.user.pk))
        keys = vault_keys(request)
        form, files = received_form(request)
        check_form(UploadInput(), form)  # folder=a&folder=b is a mistake, not the last folder
        data = validated(
            UploadInput, {k: form.get(k) for k in ("folder", "tags", "on_conflict") if form.get(k) is not None}
        )
        if not files.get("file"):
            raise InvalidInput(
                "Attach one or more files in `file` parts.", code="no_files", errors={"file": ["No file."]}
            )
        outcomes = services.file_upload_many(
            user=request.user,
            keys=keys,
            uploads=files["file"],
            folder_id=data.get("folder"),
            tags=[t for t in (data.get("tags") or "").split(",") if t.strip()],
            on_conflict=data["on_conflict"],
            meta=RequestMeta.from_request(request),
        )
        results = [
            {
                "name": o.name,
                "ok": True,
                "created": o.result.created,
                "file": _serialize_file(request, o.result.file, keys),
            }
            if o.error is None
            else {"name": o.name, "ok": False, "code": o.error.code, "detail": o.error.detail}
            for o in outcomes
        ]
        if all(o.error is not None for o in outcomes):
            first = outcomes[0].error
            return Response({"code": first.code, "detail": first.detail, "results": results}, status=first.status_code)
        return Response(results, status=status.HTTP_201_CREATED)


class FileDetailApi(APIView):
    @extend_schema(responses={200: FileSerializer, **ERRORS}, tags=["vault"])
    def get(self, request, pk):
        keys = vault_keys(request)
        return Response(_serialize_file(request, selectors.file_get(user=request.user, file_id=pk), keys))

    @extend_schema(
        request=FileUpdateInput, responses={200: FileSerializer, 409: ErrorSerializer, **ERRORS}, tags=["vault"]
    )
    def patch(self, request, pk):
        data = validated(FileUpdateInput, request.data)
        keys = vault_keys(request)
        file = services.file_update(
            user=request.user,
            keys=keys,
            file_id=pk,
            name=data.get("name"),
            folder_id=data.get("folder", common.UNSET),
            tags=data.get("tags"),
            on_conflict=data["on_conflict"],
            meta=RequestMeta.from_request(request),
        )
        return Response(_serialize_file(request, selectors.file_get(user=request.user, file_id=file.pk), keys))

    @extend_schema(responses={204: None, **ERRORS}, tags=["vault"], description="Move the file to the trash.")
    def delete(self, request, pk):
        trash.item_trash(user=request.user, kind="file", item_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FileContentApi(APIView):
    @extend_schema(
        parameters=[flag_param("inline", "1: show previewable types inline.")],
        responses={
            (200, "*/*"): OpenApiTypes.BINARY,  # the type sniffed from the content at upload
            (206, "*/*"): OpenApiTypes.BINARY,
            304: None,
            416: None,
            **ERRORS,
        },
        tags=["vault"],
    )
    def get(self, request, pk):
        keys = vault_keys(request)
        file = selectors.file_get(user=request.user, file_id=pk, for_download=True)
        response = content_response(
            request, keys=keys, file=file, version=file.current_version, name=download_name(keys, file)
        )
        _record_download_when_sent(request, response, file)
        return response

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="ETag you last read.")
        ],
        responses={200: FileSerializer, 412: ErrorSerializer, 413: ErrorSerializer, 429: ErrorSerializer, **ERRORS},
        tags=["vault"],
        description="Replace the content with the raw request body, as a new version.",
    )
    def put(self, request, pk):
        ratelimit.enforce(request, group="upload_user", value=str(request.user.pk))
        keys = vault_keys(request)
        file = common.owned_file(request.user, pk, shared=True)  # one they may edit: 404 before the body is read
        owner = request.user if file.owner_id == request.user.pk else file.owner  # a shared file's owner pays
        check_declared_size(request, owner)
        upload = upload_from_iterable(
            owner_id=request.user.pk,
            mac_key=keys.content_mac_key(),
            name=keys.file_name(file),
            pieces=raw_body_pieces(request),
        )
        services.file_version_add(
            user=request.user,
            keys=keys,
            file_id=file.pk,
            upload=upload,
            if_match=request.headers.get("If-Match"),
            meta=RequestMeta.from_request(request),
        )
        file = selectors.file_get(user=request.user, file_id=file.pk)
        response = Response(_serialize_file(request, file, keys))
        response["ETag"] = common.etag_of(file.current_version_id)
        return response


class FilePreviewApi(APIView):
    @extend_schema(
        responses={
            (200, "image/webp"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            304: None,
            **ERRORS,
        },
        tags=["vault"],
        description="Thumbnail of the current version (images, PDFs), at most 512 x 512, without metadata; "
        "404 `no_preview` with the reason when there is none.",
    )
    def get(self, request, pk):
        keys = vault_keys(request)
        return preview_response(request, keys=keys, file=selectors.file_get(user=request.user, file_id=pk))


class VersionListApi(APIView):
    @extend_schema(
        responses={200: results_of("VersionList", VersionSerializer), **ERRORS},
        tags=["vault"],
        operation_id="v1_files_versions_list",
    )
    def get(self, request, pk):
        file = selectors.file_get(user=request.user, file_id=pk)
        versions = selectors.version_list(user=request.user, file_id=file.pk)
        return Response({"results": VersionSerializer(versions, many=True, context={"file": file}).data})


class VersionContentApi(APIView):
    @extend_schema(
        parameters=[flag_param("inline", "1: show previewable types inline.")],
        responses={
            (200, "*/*"): OpenApiTypes.BINARY,
            (206, "*/*"): OpenApiTypes.BINARY,
            304: None,
            416: None,
            **ERRORS,
        },
        tags=["vault"],
    )
    def get(self, request, pk, number):
        keys = vault_keys(request)
        file = selectors.file_get(user=request.user, file_id=pk)
        version = selectors.version_get(user=request.user, file=file, number=number)
        response = content_response(request, keys=keys, file=file, version=version, name=download_name(keys, file))
        _record_download_when_sent(request, response, file, version=number)
        return response


class VersionRestoreApi(APIView):
    @extend_schema(request=None, responses={201: VersionSerializer, **ERRORS}, tags=["vault"])
    def post(self, request, pk, number):
        keys = vault_keys(request)
        version = services.file_version_restore(
            user=request.user, keys=keys, file_id=pk, number=number, meta=RequestMeta.from_request(request)
        )
        file = selectors.file_get(user=request.user, file_id=pk)
        return Response(VersionSerializer(version, context={"file": file}).data, status=status.HTTP_201_CREATED)
