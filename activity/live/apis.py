"""``GET /api/v1/notifications/stream`` (Server-Sent Events) and ``GET /api/v1/notifications/ws`` (WebSocket).

Both are authenticated like the rest of the API (Bearer token, app password, or the browser's session) and
resume after the client's last notification id. Under Locker's gunicorn worker the connection is then handed to
this process's hub (:mod:`activity.live.hub`) and holds no thread. Under a server that cannot hand over a
connection (``manage.py runserver``, Django's test server), the SSE stream is served by its request thread
(:mod:`activity.streams`) and a WebSocket is refused with 503 ``websocket_unavailable``.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from activity import streams
from activity.live import credentials
from activity.live.hub import Stream, hub
from activity.live.transports import SSE, BadHandshake, WebSocket, websocket_accept
from locker.errors import InvalidInput, LockerError
from locker.http import server_detach, whole_number
from locker.serializers import ErrorSerializer

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 503)}
AFTER = OpenApiParameter(
    "after",
    {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    description="The last notification id seen (or the Last-Event-ID header).",
)
# One event of the stream, as an SSE client reads it (OpenAPI 3.0: the schema of an event-stream is one event's)
SSE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The notification's id."},
        "event": {"type": "string", "enum": ["notification"]},
        "data": {"type": "string", "description": "The notification as JSON: the fields of the list's items."},
        "retry": {"type": "integer", "minimum": 0, "description": "Milliseconds to wait before reconnecting."},
    },
    "required": ["data", "event"],
}


class Unavailable(LockerError):
    status_code = 503
    code = "stream_unavailable"
    detail = "The server holds as many live connections as it may. Try again shortly."


class Refused(LockerError):
    status_code = 400
    code = "bad_websocket_request"

    def __init__(self, problem: BadHandshake):
        super().__init__(str(problem))
        self.status_code = problem.status


class CrossOrigin(LockerError):
    status_code = 403
    code = "cross_origin"
    detail = "A browser may open this stream from Locker's own pages only."


def resume_point(request) -> int:
    """The last id the client saw: ``Last-Event-ID`` or ``?after=`` (0: from the beginning)."""
    raw = request.headers.get("Last-Event-ID") or request.query_params.get("after") or "0"
    number = whole_number(raw)
    if number is None or len(raw) > 18:
        raise InvalidInput(errors={"after": ["A notification id (a whole number)."]})
    return number


def hand_over(request, transport, after: int) -> bool:
    """Give the connection to the hub with ``transport``; False when the server cannot hand it over."""
    detach = server_detach(request)
    if detach is None:
        return False
    live = hub()
    if live.count() >= settings.LOCKER_STREAM_MAX:
        raise Unavailable()
    sock, received = detach()
    live.add(Stream(sock, request.user.pk, transport, after, received, credentials.identify(request)))
    return True


class EventStreamRenderer(renderers.BaseRenderer):
    """``text/event-stream`` for the stream (an error before it starts is its JSON body)."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()


class NotificationStreamApi(APIView):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    @extend_schema(
        parameters=[AFTER],
        responses={(200, "text/event-stream"): SSE_EVENT, 404: OpenApiResponse(ErrorSerializer), **ERRORS},
        tags=["activity"],
        description="Server-Sent Events: each notification after the last one seen, then new ones as they come "
        "(`id`, `event: notification`, JSON `data`), a heartbeat comment when quiet; the stream ends after "
        "LOCKER_STREAM_SECONDS and the client resumes from its last id.",
    )
    def get(self, request):
        after = resume_point(request)
        if hand_over(request, SSE(), after):
            return HttpResponse(status=200)  # nothing of it is sent: the hub has the connection
        response = StreamingHttpResponse(
            streams.notification_events(user_id=request.user.pk, after=after), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response


class NotificationSocketApi(APIView):
    @extend_schema(
        parameters=[AFTER],
        responses={101: None, 403: OpenApiResponse(ErrorSerializer), 426: None, **ERRORS},
        tags=["activity"],
        description="WebSocket (RFC 6455): one JSON text message per notification (the same fields as the list), "
        "after the last one seen (`?after=`), then as they come; pings when quiet; a close frame (1001) after "
        "LOCKER_STREAM_SECONDS, and the client reconnects from its last id. A browser signed in with its "
        "session connects from Locker's own pages only (the Origin must be this site).",
    )
    def get(self, request):
        after = resume_point(request)
        try:
            accept = websocket_accept(request.headers)
        except BadHandshake as problem:
            raise Refused(problem) from None
        # Cookies ride along on a cross-site WebSocket, and no CSRF check covers a GET: the Origin must be ours.
        by_session = isinstance(request.successful_authenticator, SessionAuthentication)
        if by_session and request.headers.get("Origin") != f"{request.scheme}://{request.get_host()}":
            raise CrossOrigin()
        if not hand_over(request, WebSocket(accept), after):
            raise Unavailable(
                "WebSocket needs Locker's own server (make run, or gunicorn with locker/gunicorn.conf.py); "
                "use the Server-Sent Events stream instead.",
                code="websocket_unavailable",
            )
        return HttpResponse(status=101)  # nothing of it is sent: the hub has the connection
