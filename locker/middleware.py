"""Middleware of our own."""

from django.conf import settings

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
