"""The notes API (API.md: ``/api/v1/notes/``). Thin views over ``vault.notes.services``."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from locker.http import RequestMeta
from locker.parsers import LimitedJSONParser
from locker.schema import results_of
from locker.serializers import ErrorSerializer, validated
from vault import common
from vault.files.apis import ERRORS, _listing_scope, _with_tag, vault_keys
from vault.models import Note, SearchToken
from vault.notes import services as notes
from vault.serializers import NoteDetailSerializer, NoteInput, NoteListSerializer, NoteVersionSerializer
from vault.trash import services as trash


class NoteJSONParser(LimitedJSONParser):
    """Notes may be longer than other JSON bodies (``LOCKER_MAX_NOTE_BYTES`` plus room for the fields)."""

    @property
    def limit(self) -> int:
        return settings.LOCKER_MAX_NOTE_BYTES * 2 + 64 * 1024


class NoteListCreateApi(GenericAPIView):
    serializer_class = NoteListSerializer
    queryset = Note.objects.none()  # for the schema; reads go through vault.notes.services
    parser_classes = [NoteJSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("folder", OpenApiTypes.UUID, description="Folder id; omit for the top level."),
            OpenApiParameter("all", OpenApiTypes.BOOL, description="1: notes of every folder."),
            OpenApiParameter("tag", OpenApiTypes.STR, description="Only notes with this tag."),
        ],
        responses={200: NoteListSerializer(many=True), **ERRORS},
        tags=["notes"],
    )
    def get(self, request):
        keys = vault_keys(request)
        folder_id, every, _ = _listing_scope(request, keys)
        listing = _with_tag(
            request,
            keys,
            notes.note_list(user=request.user, folder_id=folder_id, all_folders=every),
            SearchToken.Kind.NOTE,
        )
        page = self.paginate_queryset(listing)
        return self.get_paginated_response(NoteListSerializer(page, many=True, context={"keys": keys}).data)

    @extend_schema(request=NoteInput, responses={201: NoteDetailSerializer, **ERRORS}, tags=["notes"])
    def post(self, request):
        data = validated(NoteInput, request.data)
        keys = vault_keys(request)
        note = notes.note_create(
            user=request.user,
            keys=keys,
            title=data.get("title", ""),
            body=data.get("body", ""),
            tags=data.get("tags"),
            folder_id=data.get("folder"),
            meta=RequestMeta.from_request(request),
        )
        return Response(NoteDetailSerializer(note, context={"keys": keys}).data, status=status.HTTP_201_CREATED)


class NoteDetailApi(APIView):
    parser_classes = [NoteJSONParser]

    @extend_schema(responses={200: NoteDetailSerializer, **ERRORS}, tags=["notes"])
    def get(self, request, pk):
        keys = vault_keys(request)
        return Response(
            NoteDetailSerializer(notes.note_get(user=request.user, note_id=pk), context={"keys": keys}).data
        )

    @extend_schema(
        request=NoteInput, responses={200: NoteDetailSerializer, 412: ErrorSerializer, **ERRORS}, tags=["notes"]
    )
    def patch(self, request, pk):
        data = validated(NoteInput, request.data)
        keys = vault_keys(request)
        note = notes.note_update(
            user=request.user,
            keys=keys,
            note_id=pk,
            title=data.get("title"),
            body=data.get("body"),
            tags=data.get("tags"),
            folder_id=data.get("folder", common.UNSET),
            if_version=data.get("version"),
            meta=RequestMeta.from_request(request),
        )
        return Response(NoteDetailSerializer(note, context={"keys": keys}).data)

    @extend_schema(responses={204: None, **ERRORS}, tags=["notes"], description="Move the note to the trash.")
    def delete(self, request, pk):
        trash.item_trash(user=request.user, kind="note", item_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoteVersionListApi(APIView):
    @extend_schema(
        responses={200: results_of("NoteVersionList", NoteVersionSerializer), **ERRORS},
        tags=["notes"],
        operation_id="v1_notes_versions_list",
    )
    def get(self, request, pk):
        _, versions = notes.note_versions(user=request.user, note_id=pk)
        return Response({"results": NoteVersionSerializer(versions, many=True).data})


class NoteVersionDetailApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS}, tags=["notes"])
    def get(self, request, pk, number):
        keys = vault_keys(request)
        note, version = notes.note_version_get(user=request.user, note_id=pk, number=number)
        title, body = notes.version_texts(keys, note, version)
        return Response({"number": version.number, "created_at": version.created_at, "title": title, "body": body})


class NoteVersionRestoreApi(APIView):
    @extend_schema(request=None, responses={200: NoteDetailSerializer, **ERRORS}, tags=["notes"])
    def post(self, request, pk, number):
        keys = vault_keys(request)
        note = notes.note_version_restore(
            user=request.user, keys=keys, note_id=pk, number=number, meta=RequestMeta.from_request(request)
        )
        return Response(NoteDetailSerializer(note, context={"keys": keys}).data)
