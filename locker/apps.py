"""App configuration of the project itself (Django's recipe for overriding the default admin site)."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class LockerConfig(AppConfig):
    """The project package as an app, first in ``INSTALLED_APPS``: its management commands replace Django's where
    Django's would break the key hierarchy (``changepassword``)."""

    name = "locker"
    verbose_name = "Locker"


class LockerAdminConfig(AdminConfig):
    """``django.contrib.admin`` with Locker's site, which says "not allowed" to Regular users."""

    default_site = "accounts.admin_site.LockerAdminSite"
