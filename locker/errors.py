"""Errors with a stable ``code`` and a human ``detail``, and the API's exception handler.

Services raise :class:`LockerError` subclasses; API views turn any exception
into ``{"code": ..., "detail": ..., "errors"?: {...}}`` with the right status
(API.md). Page views show the same ``detail`` to the person.
"""

import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response

from locker.units import format_bytes

logger = logging.getLogger(__name__)


class LockerError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"
    detail = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, code: str | None = None, errors: dict | None = None):
        self.detail = detail or self.detail
        self.code = code or self.code
        self.errors = errors
        super().__init__(self.detail)

    def as_dict(self) -> dict:
        body = {"code": self.code, "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        return body


class InvalidInput(LockerError):
    code = "validation_error"
    detail = "Some fields are missing or invalid."


class InvalidCredentials(LockerError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_credentials"
    detail = "Wrong username or password."


class TwoFactorRequired(InvalidCredentials):
    code = "otp_required"
    detail = (
        "This account signs in with a second factor: send the code from the authenticator app (or a backup code) "
        "as otp, with the password."
    )


class NotFound(LockerError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    detail = "Not found."


class Conflict(LockerError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class VaultLocked(LockerError):
    status_code = status.HTTP_423_LOCKED
    code = "vault_locked"
    detail = "Your vault is locked: sign in again to unlock it."


class RateLimited(LockerError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    detail = "Too many attempts; try again later."

    def __init__(self, retry_after: int, detail: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail or f"Too many attempts; try again in {self.retry_after} seconds.")


class BodyStalled(LockerError):
    """The request body stopped arriving (the server's body timeout) or its connection broke."""

    status_code = status.HTTP_408_REQUEST_TIMEOUT
    code = "request_timeout"
    detail = "The request body stopped arriving; send the request again."


class BodyTooLarge(LockerError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"
    detail = "The request body is too large."


def multipart_limit_error(exc: Exception) -> LockerError | None:
    """The clear error for one of Django's request-body limits (it names the limit), or None for other errors."""
    if isinstance(exc, TooManyFilesSent):
        return InvalidInput(
            f"A request may carry at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files; nothing was stored.",
            code="too_many_files",
        )
    if isinstance(exc, TooManyFieldsSent):
        return InvalidInput(
            f"A request may carry at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields; nothing was stored.",
            code="too_many_fields",
        )
    if isinstance(exc, RequestDataTooBig):
        limit = format_bytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, trim=True)
        return BodyTooLarge(
            f"Form fields and bodies read into memory are limited to {limit} (files excepted); nothing was stored."
        )
    return None


def _flatten(detail) -> dict:
    """DRF's nested error detail as ``{field: [messages]}``."""
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list[str]:
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out.extend(_messages(item) if isinstance(item, list | tuple | dict) else [str(item)])
        return out
    if isinstance(value, dict):
        return [f"{key}: {msg}" for key, item in value.items() for msg in _messages(item)]
    return [str(value)]


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.Throttled: "rate_limited",
}


def api_exception_handler(exc, context):
    """DRF exception handler: every error becomes ``{code, detail, errors?}``, rendered as JSON."""
    from rest_framework.renderers import JSONRenderer

    response = _api_exception_response(exc, context)
    request = context.get("request")
    if response is not None and request is not None:
        # Never the browsable API's HTML page, whatever Accept or ?format= asked for (API.md).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response


def _api_exception_response(exc, context):
    from rest_framework.views import exception_handler  # late: DRF's views import our auth classes

    if isinstance(exc, LockerError):
        response = Response(exc.as_dict(), status=exc.status_code)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    limit = multipart_limit_error(exc)
    if limit is not None:
        return Response(limit.as_dict(), status=limit.status_code)
    if isinstance(exc, UnreadablePostError):  # reading the body failed: the client, not the server
        return Response(BodyStalled().as_dict(), status=BodyStalled.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request was malformed.")

    response = exception_handler(exc, context)
    if response is None:
        return None  # Django's 500 handler answers (JSON for /api/, see server_error)
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "validation_error",
            "detail": "Some fields are missing or invalid.",
            "errors": _flatten(exc.detail),
        }
    else:
        code = _DRF_CODES.get(type(exc)) or getattr(exc, "default_code", "error")
        detail = exc.detail
        if isinstance(detail, dict):
            code = str(detail.get("code", code))
            detail = detail.get("detail", "")
        body = {"code": code, "detail": str(detail)}
    response.data = body
    return response


def _json_or_none(request, status_code: int, code: str, detail: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail}, status=status_code)
    return None


def bad_request(request, exception=None):
    from django.views.defaults import bad_request as default

    limit = multipart_limit_error(exception)
    if limit is not None:
        response = _json_or_none(request, limit.status_code, limit.code, limit.detail)
        return response or default(request, exception)
    detail = str(exception) if isinstance(exception, BadRequest) and str(exception) else "The request was malformed."
    return _json_or_none(request, 400, "bad_request", detail) or default(request, exception)


def page_not_found(request, exception=None):
    from django.views.defaults import page_not_found as default

    return _json_or_none(request, 404, "not_found", "Not found.") or default(request, exception)


def permission_denied(request, exception=None):
    from django.views.defaults import permission_denied as default

    return _json_or_none(request, 403, "permission_denied", "You do not have permission to do this.") or default(
        request, exception
    )


_BARE_500 = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Something went wrong · Locker</title>"
    "<h1>Something went wrong on our side</h1><p>Nothing that was saved is affected. <a href=/>Go home</a></p>"
)


def server_error(request):
    """The 500 answer: JSON under /api/, else ``500.html`` with the site header, rendered with no request context
    (no user, no session, no database: the fault may be any of them); a bare page if even that fails."""
    from django.http import HttpResponseServerError
    from django.views.defaults import server_error as default

    response = _json_or_none(request, 500, "server_error", "Something went wrong on our side; nothing was changed.")
    if response is not None:
        return response
    try:
        return default(request)
    except Exception:  # noqa: BLE001 - an error page must answer whatever broke
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(_BARE_500)
