from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/register", apis.RegisterApi.as_view(), name="api-register"),
    path("auth/token", apis.TokenApi.as_view(), name="api-token"),
    path("auth/token/refresh", apis.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="api-logout"),
    path("auth/password", apis.PasswordChangeApi.as_view(), name="api-password"),
    path("auth/recover", apis.RecoverApi.as_view(), name="api-recover"),
    path("auth/app-passwords/", apis.AppPasswordListCreateApi.as_view(), name="api-app-passwords"),
    path("auth/app-passwords/<uuid:pk>/", apis.AppPasswordDetailApi.as_view(), name="api-app-password"),
    path("auth/sessions/", apis.SessionListApi.as_view(), name="api-sessions"),
    path("auth/sessions/<uuid:pk>/", apis.SessionDetailApi.as_view(), name="api-session"),
    path("me", apis.MeApi.as_view(), name="api-me"),
]
