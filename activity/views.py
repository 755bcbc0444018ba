"""Activity pages: the notifications and the activity log, thin shells like the vault pages.

Each renders a template whose entry module (``static/js/notifications.js``, ``static/js/activity.js``, over
``static/js/activity/``) reads and writes through the v1 JSON API (``/api/v1/notifications/``,
``/api/v1/activity/``) with the browser's session cookie; the CSRF token travels in a ``data-csrf`` attribute.
The bell in the header and the live stream (``static/js/live.js``) are in ``base.html`` on every page.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_required
@never_cache
@require_safe
def notifications_view(request):
    return render(request, "activity/notifications.html")


@login_required
@never_cache
@require_safe
def activity_view(request):
    """The log and its filters: the script reads the query string (``type``, ``outcome``, ``since``, ``until``)."""
    return render(request, "activity/activity.html")
