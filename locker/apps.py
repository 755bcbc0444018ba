"""App configuration of the project itself (Django's recipe for overriding the default admin site)."""

from django.contrib.admin.apps import AdminConfig


class LockerAdminConfig(AdminConfig):
    """``django.contrib.admin`` with Locker's site, which says "not allowed" to Regular users."""

    default_site = "accounts.admin_site.LockerAdminSite"
