"""The trash over HTTP: list, restore, purge one entry, empty."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from locker.http import RequestMeta
from locker.schema import results_of
from locker.units import format_bytes
from vault.files import selectors
from vault.files.apis import ERRORS, _serialize_file, vault_keys
from vault.models import Folder, Note
from vault.serializers import (
    FolderSerializer,
    TrashEntrySerializer,
)
from vault.trash import selectors as trash_selectors
from vault.trash import services as trash

# --- trash ---------------------------------------------------------------------------------


FREED = inline_serializer(
    "TrashFreed",
    {
        "freed": serializers.IntegerField(help_text="Bytes of storage given back (what the quota counts)."),
        "freed_text": serializers.CharField(help_text="The same in human units (67 B, 1.5 MiB)."),
        "detail": serializers.CharField(help_text="A sentence saying so."),
    },
)


def _freed(freed: int, done: str) -> dict:
    """What a purge answers. ``freed`` is the storage given back: the encrypted bytes of every version of every
    file purged, which is what the quota counts (``FileVersion.stored_size``), so it is exactly how much the usage
    of ``GET /api/v1/me`` (and the quota bar) went down. It is more than the files' listed sizes (each version is
    stored encrypted, with a header and 16 bytes of tag per 64 KiB, and older versions count too): a 26 B file
    frees 67 B. ``detail`` says it in the quota bar's units."""
    return {
        "freed": freed,
        "freed_text": format_bytes(freed),
        "detail": f"{done}: {format_bytes(freed)} of storage freed.",
    }


class TrashListApi(APIView):
    @extend_schema(
        responses={200: results_of("TrashList", TrashEntrySerializer), **ERRORS},
        tags=["vault"],
        operation_id="v1_trash_list",
    )
    def get(self, request):
        keys = vault_keys(request)
        keys.preload(selectors.all_folders(user=request.user))
        entries = trash_selectors.trash_list(user=request.user)
        return Response({"results": TrashEntrySerializer(entries, many=True, context={"keys": keys}).data})

    @extend_schema(
        responses={200: FREED, **ERRORS},
        tags=["vault"],
        description="Empty the trash (purge all).",
        operation_id="v1_trash_empty",
    )
    def delete(self, request):
        freed = trash.trash_empty(user=request.user, meta=RequestMeta.from_request(request))
        return Response(_freed(freed, "Emptied the trash"))


class TrashRestoreApi(APIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, **ERRORS}, tags=["vault"])
    def post(self, request, pk):
        keys = vault_keys(request)
        item = trash.trash_restore(user=request.user, keys=keys, item_id=pk, meta=RequestMeta.from_request(request))
        if isinstance(item, Folder):
            return Response({"kind": "folder", "folder": FolderSerializer(item, context={"keys": keys}).data})
        if isinstance(item, Note):
            from vault.serializers import NoteDetailSerializer

            return Response({"kind": "note", "note": NoteDetailSerializer(item, context={"keys": keys}).data})
        return Response(
            {
                "kind": "file",
                "file": _serialize_file(request, selectors.file_get(user=request.user, file_id=item.pk), keys),
            }
        )


class TrashPurgeApi(APIView):
    @extend_schema(
        responses={200: FREED, **ERRORS},
        tags=["vault"],
        description="Purge one entry now (crypto-shred).",
    )
    def delete(self, request, pk):
        freed = trash.trash_purge(user=request.user, item_id=pk, meta=RequestMeta.from_request(request))
        return Response(_freed(freed, "Deleted for good"))
