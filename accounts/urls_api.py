from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/register", apis.RegisterApi.as_view(), name="api-register"),
    path("auth/token", apis.TokenApi.as_view(), name="api-token"),
    path("auth/token/refresh", apis.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="api-logout"),
    path("auth/password", apis.PasswordChangeApi.as_view(), name="api-password"),
    path("auth/recover", apis.RecoverApi.as_view(), name="api-recover"),
    path("auth/two-factor", apis.TwoFactorApi.as_view(), name="api-two-factor"),
    path("auth/two-factor/enrol", apis.TwoFactorEnrolApi.as_view(), name="api-two-factor-enrol"),
    path("auth/two-factor/confirm", apis.TwoFactorConfirmApi.as_view(), name="api-two-factor-confirm"),
    path("auth/two-factor/disable", apis.TwoFactorDisableApi.as_view(), name="api-two-factor-disable"),
    path("auth/two-factor/backup-codes", apis.BackupCodesApi.as_view(), name="api-two-factor-backup-codes"),
    path("auth/app-passwords/", apis.AppPasswordListCreateApi.as_view(), name="api-app-passwords"),
    path("auth/app-passwords/<uuid:pk>/", apis.AppPasswordDetailApi.as_view(), name="api-app-password"),
    path("auth/sessions/", apis.SessionListApi.as_view(), name="api-sessions"),
    path("auth/sessions/<uuid:pk>/", apis.SessionDetailApi.as_view(), name="api-session"),
    path("me", apis.MeApi.as_view(), name="api-me"),
]
