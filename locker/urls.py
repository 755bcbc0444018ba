"""Locker's URLs: pages, the v1 API, its documentation, the admin and the health check."""

from csp.decorators import csp_update
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from locker import views

# Swagger UI and Redoc set inline styles and Redoc runs a blob: worker; scripts stay 'self' only.
docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

api_v1 = [
    path("", views.ApiRoot.as_view(), name="api-root"),
    path("", include("accounts.urls_api")),
    path("", include("activity.urls_api")),
    path("", include("vault.urls_api")),
    path("", include("chats.urls_api")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("img/locker.svg"), permanent=True)),
    path("api/v1/", include(api_v1)),
    path("api/", include("chats.urls_compat")),  # the assistant seed's routes, as aliases
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("", include("vault.urls")),
    path("", include("chats.urls")),
    path("", include("activity.urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("dav", include("vault.transfers.dav.urls")),  # WebDAV: docs/webdav.md
]

handler400 = "locker.errors.bad_request"
handler403 = "locker.errors.permission_denied"
handler404 = "locker.errors.page_not_found"
handler500 = "locker.errors.server_error"
