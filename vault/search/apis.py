"""Search, tags and reindex over HTTP."""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from locker import ratelimit
from locker.errors import InvalidInput
from locker.params import flag, pattern_param
from locker.serializers import ErrorSerializer
from locker.textrules import NOT_BLANK_PATTERN
from vault import kinds as item_kinds
from vault.derived import ocr
from vault.files import selectors
from vault.files.apis import ERRORS, _uuid_param, _with_tag, vault_keys
from vault.files.filters import FileFilter
from vault.models import File
from vault.search import selectors as search_selectors
from vault.serializers import (
    SearchResultSerializer,
)

# --- search --------------------------------------------------------------------------------------


MAX_QUERY = 500


def kind_pattern() -> str:
    """The ``kind`` parameter: comma-separated names of registered kinds (``vault.kinds``), or nothing."""
    names = "|".join(item_kinds.names()) or "file"
    return rf"\A(?:(?:{names})(?:,(?:{names}))*)?\Z"


class SearchApi(GenericAPIView):
    serializer_class = SearchResultSerializer
    queryset = File.objects.none()  # for the schema; reads go through selectors
    filterset_class = FileFilter  # documents the file filters, applied to file results

    @extend_schema(
        parameters=[
            pattern_param(
                "q",
                NOT_BLANK_PATTERN,
                f"Words (all must match); 3+ letters match prefixes. 1 to {MAX_QUERY} characters, not all spaces.",
                required=True,
                max_length=MAX_QUERY,
            ),
            pattern_param("kind", kind_pattern(), "Comma-separated: file, folder, note, message (default all)."),
        ],
        responses={200: SearchResultSerializer(many=True), **ERRORS},
        tags=["search"],
    )
    def get(self, request):
        params = request.query_params
        query = params.get("q", "")
        if not query.strip() or len(query) > MAX_QUERY:
            raise InvalidInput(
                f"Give 1 to {MAX_QUERY} characters to search for.", code="invalid_query", errors={"q": ["Required."]}
            )
        kind = params.get("kind") or params.get("type") or ""
        kinds = [k for k in kind.split(",") if k]
        unknown = sorted(set(kinds) - set(search_selectors.search_kinds()))
        if unknown or not re.fullmatch(kind_pattern(), kind):
            raise InvalidInput(errors={"kind": [f"Unknown kind: {', '.join(unknown) or repr(kind)}."]})
        keys = vault_keys(request)
        ocr.resume_for(request.user, keys)  # text recognition jobs a stopped server left (once a minute)
        file_filter = FileFilter(params, queryset=File.objects.none())
        if not file_filter.is_valid():
            raise InvalidInput(errors={k: list(v) for k, v in file_filter.errors.items()})
        file_only = [k for k in ("mime", "mime_group", "min_size", "max_size") if params.get(k)]
        if file_only:
            kinds = ["file"]
        folder_id = _uuid_param(request, "folder")
        folder_ids, shared = None, False
        if folder_id is not None:
            folder = selectors.folder_get(user=request.user, folder_id=folder_id)
            shared = folder.owner_id != request.user.pk  # someone shares it with this user: see search_shared
            recursive = flag(request, "recursive")
            folder_ids = (
                selectors.folder_subtree_ids(user=folder.owner, folder_id=folder_id) if recursive else [folder_id]
            )
        dates = {
            "after": file_filter.form.cleaned_data.get("modified_after"),
            "before": file_filter.form.cleaned_data.get("modified_before"),
        }

        def narrow(kind_name, candidates):
            kind = item_kinds.get(kind_name)
            if kind_name == "file":
                candidates = FileFilter(params, queryset=candidates).qs
            else:
                if dates["after"]:
                    candidates = candidates.filter(**{f"{kind.date_field}__gte": dates["after"]})
                if dates["before"]:
                    candidates = candidates.filter(**{f"{kind.date_field}__lt": dates["before"]})
            if folder_ids is not None:
                field = kind.folder_field
                candidates = candidates.filter(**{f"{field}__in": folder_ids}) if field else candidates.none()
            candidates = _with_tag(request, keys, candidates, kind.code)
            return candidates

        if shared:
            results = search_selectors.search_shared(
                user=request.user, keys=keys, query=query, folder_ids=folder_ids, kinds=kinds or None, narrow=narrow
            )
        else:
            results = search_selectors.search(
                user=request.user, keys=keys, query=query, kinds=kinds or None, narrow=narrow
            )
            keys.preload(selectors.all_folders(user=request.user))
        page = self.paginate_queryset(results)
        return self.get_paginated_response(SearchResultSerializer(page, many=True, context={"keys": keys}).data)


class TagListApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS}, tags=["search"], description="My tags with counts.")
    def get(self, request):
        keys = vault_keys(request)
        return Response({"results": search_selectors.tag_list(user=request.user, keys=keys)})


class ReindexApi(APIView):
    @extend_schema(
        request=None,
        responses={200: OpenApiTypes.OBJECT, 429: ErrorSerializer, **ERRORS},
        tags=["search"],
        description="Rebuild my search and tag indexes from my decrypted data (after an upgrade).",
    )
    def post(self, request):
        from vault.search.reindex import vault_reindex

        ratelimit.enforce(request, group="reindex_user", value=str(request.user.pk))
        keys = vault_keys(request)
        counts = vault_reindex(user=request.user, keys=keys)
        # text recognition not run yet (off until now, stored before it existed) is queued, off this request
        counts["text_recognition_queued"] = ocr.queue_unread(request.user, keys)
        return Response(counts)
