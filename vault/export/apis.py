"""``GET /api/v1/me/data``: the data export over HTTP."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from activity.services import export_record
from locker.errors import InvalidInput
from locker.http import RequestMeta
from vault.files.apis import ERRORS, vault_keys


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
