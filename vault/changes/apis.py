"""``GET /api/v1/changes``: the change feed (docs/changes.md). Thin: read the parameters, call the selector, render
each change with its item's state now (names opened with the user's keys)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from locker.errors import InvalidInput
from locker.http import whole_number
from locker.serializers import ErrorSerializer
from vault.changes import selectors
from vault.common import etag_of
from vault.files.apis import vault_keys
from vault.keys import VaultKeys
from vault.models import Folder


def _state(keys: VaultKeys, item) -> dict | None:
    if item is None:
        return None
    trashed = item.trashed_at is not None
    if isinstance(item, Folder):
        return {"name": keys.folder_name(item), "parent": item.parent_id and str(item.parent_id), "trashed": trashed}
    version = item.current_version
    return {
        "name": keys.file_name(item),
        "folder": item.folder_id and str(item.folder_id),
        "size": item.size,
        "version": version.number if version else None,
        "etag": etag_of(item.current_version_id) if item.current_version_id else None,
        "modified_at": item.modified_at.isoformat() if item.modified_at else None,
        "trashed": trashed,
    }


def _limit(request) -> int:
    raw = request.query_params.get("limit", "500")
    limit = whole_number(raw)
    if limit is None or not 1 <= limit <= selectors.MAX_LIMIT:
        raise InvalidInput(errors={"limit": [f"A whole number from 1 to {selectors.MAX_LIMIT}."]})
    return limit


class ChangeFeedApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="From a previous answer; leave it out for the present one."),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": selectors.MAX_LIMIT},
                description=f"At most this many changes (1-{selectors.MAX_LIMIT}, 500).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(ErrorSerializer)},
        summary="What changed in your folders and files (and those shared with you) since a cursor",
    )
    def get(self, request):
        limit = _limit(request)
        cursor = request.query_params.get("cursor")
        if not cursor:
            return Response(
                {"cursor": selectors.latest_cursor(user=request.user), "has_more": False, "reset": False, "changes": []}
            )
        feed = selectors.changes_since(user=request.user, cursor=cursor, limit=limit)
        keys = vault_keys(request)
        return Response(
            {
                "cursor": feed.cursor,
                "has_more": feed.has_more,
                "reset": feed.reset,
                "changes": [
                    {
                        "action": change.action,
                        "kind": change.kind,
                        "id": change.item_id,
                        "at": change.at.isoformat(),
                        "item": _state(keys, change.item),
                    }
                    for change in feed.changes
                ],
            }
        )
