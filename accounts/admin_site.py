"""The Django admin site of Locker: for the Admin role only, and plain about it.

Django's admin answers a signed-in user who may not use it with a redirect to
its sign-in page. Locker's sign-in page sends a signed-in user back where they
came from, so a Regular user opening ``/admin/`` bounced between the two for
ever. This site answers such a user with a page that says the admin is not for
them (403: the page exists and they know it); visitors who are not signed in
are still sent to sign in. When the site asks admins for two-factor sign-in,
an admin without it gets a page that sends them to turn it on (403) instead.
"""

from functools import wraps

from django.contrib import admin
from django.shortcuts import render


def _second_factor_missing(user) -> bool:
    """The site asks admins for two-factor sign-in (``SiteSettings.admins_need_two_factor``) and this one has none."""
    from accounts import selectors, twofactor

    return selectors.site_settings().admins_need_two_factor and not twofactor.is_enabled(user)


class LockerAdminSite(admin.AdminSite):
    site_header = "Locker administration"
    site_title = "Locker admin"

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                return render(request, "accounts/admin_not_allowed.html", status=403)
            if request.user.is_authenticated and _second_factor_missing(request.user):
                return render(request, "accounts/admin_needs_two_factor.html", status=403)
            return guarded(request, *args, **kwargs)

        inner.admin_site = self
        return inner
