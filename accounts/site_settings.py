"""The site's own switches, changed by an admin (``SiteSettings``): for now, whether registration is open.

Closing registration keeps the sign-up page and ``POST /api/v1/auth/register`` from making accounts (403
``registration_closed``); invitations (``accounts.invitations``) still work. The default, with no row yet, is
open: what the site did before the switch existed.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import SiteSettings, User
from activity import actions
from activity.services import event_record
from locker.errors import InvalidInput
from locker.http import RequestMeta


def site_settings_update(
    *, admin: User, registration_open, admins_need_two_factor=None, meta: RequestMeta | None = None
) -> SiteSettings:
    """Open or close registration, ask admins for two-factor sign-in or not (None: unchanged); recorded in the
    admin's activity log."""
    if not isinstance(registration_open, bool):
        raise InvalidInput(errors={"registration_open": ["Must be true or false."]})
    if admins_need_two_factor is not None and not isinstance(admins_need_two_factor, bool):
        raise InvalidInput(errors={"admins_need_two_factor": ["Must be true or false."]})
    with transaction.atomic():
        row, _ = SiteSettings.objects.select_for_update().get_or_create(pk=SiteSettings.SINGLETON_ID)
        row.registration_open = registration_open
        if admins_need_two_factor is not None:
            row.admins_need_two_factor = admins_need_two_factor
        row.save()
        event_record(
            action=actions.SITE_SETTINGS_CHANGED,
            user=admin,
            meta=meta,
            object_type="site_settings",
            object_id=row.pk,
            data={"registration_open": registration_open}
            | ({} if admins_need_two_factor is None else {"admins_need_two_factor": admins_need_two_factor}),
        )
    return row
