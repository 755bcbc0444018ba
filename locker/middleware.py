"""Middleware of our own."""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest

from locker.errors import bad_request
from locker.http import whole_number

# Pages whose HTML we do not write (Django admin, DRF's browsable API, API docs) set
# inline style attributes. They may use inline *styles*; scripts stay 'self' everywhere.
INLINE_STYLE_PREFIXES = ("/admin/", "/api/")


class ThirdPartyPagesCSPMiddleware:
    """Relax ``style-src`` (never ``script-src``) for HTML rendered by Django's and DRF's own templates.

    Listed after ``csp.middleware.CSPMiddleware`` so that it sees the response first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(INLINE_STYLE_PREFIXES)
            and response.get("Content-Type", "").startswith("text/html")
            and getattr(response, "_csp_update", None) is None
        ):
            response._csp_update = {
                "style-src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"] + ["'unsafe-inline'"]
            }
        return response


def is_utf8_form(raw: bytes) -> bool:
    """Whether ``key=value&...`` (a query string or a form body) decodes, percent escapes and all, to UTF-8."""
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class MalformedRequestMiddleware:
    """What Django would read leniently is a 400 instead:

    - a query string that is not UTF-8 (``?q=%ff``), which Django reads with ``errors="replace"``: a search or a
      filter never runs on words nobody sent;
    - a Content-Length that is not a whole number, which Django reads as 0: the body would be taken as empty (a
      PATCH that changes nothing answers 200, a POST makes an empty note). gunicorn refuses it before us; this
      holds behind any other server too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = None
        raw = request.META.get("QUERY_STRING", "")
        if raw and not is_utf8_form(raw.encode("latin-1", "replace")):
            problem = "The query string is not UTF-8."
        declared = request.META.get("CONTENT_LENGTH")
        if declared and whole_number(declared) is None:
            problem = "Content-Length is not a whole number."
        if problem is None:
            return self.get_response(request)
        return bad_request(request, BadRequest(problem))
