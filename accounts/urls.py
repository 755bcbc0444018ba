from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views

# The browsable API's "Log in" link points at our login, which unlocks the vault.
drf_auth = (
    [path("login/", views.login_view, name="login"), path("logout/", views.logout_view, name="logout")],
    "rest_framework",
)

urlpatterns = [
    path("", views.home_view, name="home"),
    path("register", views.register_view, name="register"),
    path("invite/<str:token>", views.invitation_view, name="invitation"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("recover", views.recover_view, name="recover"),
    path("settings", views.settings_view, name="settings"),
    path("settings/password", views.password_change_view, name="settings-password"),
    path("settings/app-passwords", views.app_password_create_view, name="settings-app-password-create"),
    path(
        "settings/app-passwords/<uuid:pk>/revoke", views.app_password_revoke_view, name="settings-app-password-revoke"
    ),
    path("settings/sessions/<uuid:pk>/revoke", views.session_revoke_view, name="settings-session-revoke"),
    path("settings/sessions/<uuid:pk>/rename", views.session_rename_view, name="settings-session-rename"),
    path("settings/delete", views.account_delete_view, name="settings-delete"),
    path("settings/two-factor/enrol", views.two_factor_enrol_view, name="settings-two-factor-enrol"),
    path("settings/two-factor/confirm", views.two_factor_confirm_view, name="settings-two-factor-confirm"),
    path("settings/two-factor/backup-codes", views.two_factor_codes_view, name="settings-two-factor-codes"),
    path("settings/two-factor/disable", views.two_factor_disable_view, name="settings-two-factor-disable"),
    path("api-auth/", include(drf_auth)),
    # The admin signs in and out through our pages, which unlock and lock the vault, and changes
    # passwords only through ours (a plain hash change would leave the data key wrapped by the old one).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/logout/", views.logout_view),
    path("admin/password_change/", RedirectView.as_view(url="/settings#password-h")),
]
