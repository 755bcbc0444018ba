"""Reading the activity log. Users see their own events; admins may name any user."""

from django.db.models import QuerySet

from activity.models import Event
from locker.errors import LockerError


class ForbiddenFilter(LockerError):
    status_code = 403
    code = "permission_denied"
    detail = "Only admins may read other users' activity."


def event_list(*, actor, user_id=None) -> QuerySet[Event]:
    """Events visible to ``actor``: their own, or ``user_id``'s when the actor is an admin."""
    if user_id is not None and str(user_id) != str(actor.pk):
        if not actor.is_admin:
            raise ForbiddenFilter()
        return Event.objects.filter(user_id=user_id)
    return Event.objects.filter(user=actor)
