"""Project-level views."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers and the database takes a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


# The collections a client starts from, by URL name: the API root links to each (``GET /api/v1/``).
API_ROOT = {
    "me": "api-me",
    "register": "api-register",
    "token": "api-token",
    "token_refresh": "api-token-refresh",
    "app_passwords": "api-app-passwords",
    "sessions": "api-sessions",
    "folders": "api-folders",
    "files": "api-files",
    "trash": "api-trash",
    "notes": "api-notes",
    "search": "api-search",
    "tags": "api-tags",
    "chats": "api-chats",
    "activity": "api-activity",
    "my_data": "api-me-data",
    "schema": "schema",
    "docs": "swagger-ui",
}


class ApiRoot(APIView):
    """The entry point of the v1 API: a link to each collection (browsable in a signed-in browser)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["meta"], operation_id="v1_root")
    def get(self, request):
        return Response({name: reverse(url_name, request=request) for name, url_name in API_ROOT.items()})
