"""``/dav/``: one Django view for every method, so the request goes through the same server, middleware and
database handling as the rest of Locker (gunicorn in production, Django's live server in the tests).

The view authenticates (``auth``), serves a file's GET itself with the API's download response (Range, ETag,
decryption straight into the socket under Locker's gunicorn worker), and hands everything else to the WsgiDAV
application (``app``) with the request's WSGI environ, its ``PATH_INFO`` relative to ``/dav``.
"""

from __future__ import annotations

import io
from itertools import chain

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from wsgidav import util
from wsgidav.dav_error import DAVError

from locker.errors import LockerError, RateLimited
from locker.http import whole_number
from vault.files import services
from vault.transfers.dav.app import MOUNT, dav_app
from vault.transfers.dav.auth import REALM, dav_authenticate
from vault.transfers.dav.listing import MAX_BODY, propfind_response
from vault.transfers.dav.provider import DavSession, FileResource
from vault.transfers.http import content_response

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate"}
_SENT = {200, 206}


def _refusal(exc: LockerError) -> HttpResponse:
    response = JsonResponse({"code": exc.code, "detail": str(exc.detail)}, status=exc.status_code)
    if exc.status_code == 401:
        response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@csrf_exempt
def dav_view(request, path: str = ""):
    try:
        session = dav_authenticate(request)
    except LockerError as exc:
        return _refusal(exc)
    environ = dict(request.environ)
    raw_path = request.path_info  # decoded from UTF-8 by Django (WSGI's own is Latin-1)
    script = environ.get("SCRIPT_NAME", "").rstrip("/")
    try:
        # WsgiDAV refuses a path that climbs above the root from inside a generator that loses its body: refused here
        environ["PATH_INFO"] = util.normalize_path(raw_path[len(MOUNT) :] if raw_path.startswith(MOUNT) else raw_path)
    except DAVError:
        return JsonResponse({"code": "invalid_path", "detail": "The path climbs above /dav/."}, status=400)
    environ["SCRIPT_NAME"] = script
    environ["locker.dav"] = session
    environ["wsgidav.auth.user_name"] = session.user.username
    environ["wsgidav.auth.realm"] = REALM
    if request.method == "GET":
        try:
            response = _download(request, environ, session)
        except LockerError as exc:  # a missing or damaged blob (vault.transfers.integrity), said as the API says it
            return _refusal(exc)
        if response is not None:
            return response
    if request.method == "PROPFIND":
        if environ.get("HTTP_DEPTH", "infinity").strip().lower() == "infinity":
            return _infinite_depth()
        response = _propfind(request, environ)
        if response is not None:
            return response
    return _run(request, environ)


def _propfind(request, environ: dict) -> HttpResponse | None:
    """A folder's ``Depth: 1`` listing written directly (``listing``); None for WsgiDAV to answer. The (small)
    body is read here and handed on to WsgiDAV as it was."""
    declared = whole_number(environ.get("CONTENT_LENGTH") or "0")
    if declared is None or declared > MAX_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = request.body
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    environ["locker.dav.body"] = body
    node = _node(environ)
    return propfind_response(request, environ, node, MOUNT) if node is not None else None


def _node(environ: dict):
    _share, provider = dav_app().resolve_provider(environ["PATH_INFO"] or "/")
    environ["wsgidav.provider"] = provider
    return provider.get_resource_inst(environ["PATH_INFO"] or "/", environ)


def _download(request, environ: dict, session: DavSession) -> HttpResponse | None:
    """A file's GET, as the API serves it; None for anything else (a collection: WsgiDAV's answer)."""
    node = _node(environ)
    if not isinstance(node, FileResource) or node.item is None or not node.item.current_version_id:
        return None if node is not None else _not_found()
    file = node.item
    file.current_version = node.version()
    keys = session.keys
    response = content_response(request, keys=keys, file=file, version=file.current_version, name=node.name)
    if response.status_code in _SENT:
        user, meta = session.user, session.meta
        response._resource_closers.append(lambda: services.file_download_record(user=user, file=file, meta=meta))
    return response


def _infinite_depth() -> HttpResponse:
    """PROPFIND of a whole tree at once (``Depth: infinity``, or no Depth) is refused, as RFC 4918 section 9.1
    allows and as Nextcloud and Apache do by default: it would walk a whole vault in one request."""
    body = b'<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>'
    return HttpResponse(body, status=403, content_type="application/xml; charset=utf-8")


def _not_found() -> HttpResponse:
    return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)


def _run(request, environ: dict) -> HttpResponse:
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    app_iter = dav_app()(environ, start_response)
    pieces = iter(app_iter)
    first = next(pieces, b"")
    code, _, reason = captured["status"].partition(" ")
    response = StreamingHttpResponse(chain([first], pieces), status=int(code), reason=reason or None)
    response._resource_closers.append(getattr(app_iter, "close", lambda: None))
    gunicorn = "gunicorn.socket" in environ
    for name, value in captured["headers"]:
        if name.lower() in _HOP_BY_HOP and not (gunicorn and name.lower() == "connection"):
            continue
        response[name] = value
    if environ.get("locker.dav.mtime_accepted") and 200 <= int(code) < 300:
        response["X-OC-Mtime"] = "accepted"  # as Nextcloud answers: the client's time was kept
    return response
