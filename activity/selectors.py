"""Reading the activity log. Users see their own events; admins may name any user."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from activity.models import Event
from locker.errors import NotFound


class UserNotFound(NotFound):
    detail = "No such user."


def event_list(*, actor, user_id=None, every: bool = False) -> QuerySet[Event]:
    """Events visible to ``actor``: their own, or ``user_id``'s when the actor is an admin, or (``every``, admins
    only) every event of the instance, failed sign-ins for unknown names and deleted users' events included.

    Naming another user is answered like any object that is not the actor's:
    404 for a regular user, whether that user exists or not (SECURITY.md: never
    403); an admin gets 404 only for an id that names nobody.
    """
    if every:
        if not actor.is_admin:
            raise UserNotFound()
        return Event.objects.all()
    if user_id is not None and str(user_id) != str(actor.pk):
        if not actor.is_admin or not get_user_model().objects.filter(pk=user_id).exists():
            raise UserNotFound()
        return Event.objects.filter(user_id=user_id)
    return Event.objects.filter(user=actor)
