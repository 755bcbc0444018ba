"""Writing activity events. Call inside the action's own transaction (STYLE.md: audit inside the action)."""

from django.db import transaction

from activity import actions, chain, notifications
from activity.models import Event
from locker.http import RequestMeta


def event_record(
    *,
    action: str,
    user=None,
    user_id=None,
    outcome: str = Event.Outcome.SUCCESS,
    meta: RequestMeta | None = None,
    object_type: str = "",
    object_id: str = "",
    data: dict | None = None,
) -> Event:
    """Append one event (for ``user``, or the user with id ``user_id``), and the notification it gives them if
    any (``activity.notifications``). ``data`` must hold metadata only, never user content or secrets."""
    meta = meta or RequestMeta()
    owner = {"user": user} if user is not None or user_id is None else {"user_id": user_id}
    key = str(user.pk if user is not None else user_id or "")
    with transaction.atomic():
        event = chain.append(
            Event(
                **owner,
                user_key=key,
                action=action,
                outcome=outcome,
                ip=meta.ip,
                user_agent=meta.user_agent,
                object_type=object_type,
                object_id=str(object_id or ""),
                data=data or {},
            )
        )
        notifications.from_event(event)
    return event


def export_record(*, user, what: str, meta: RequestMeta | None = None, data: dict | None = None) -> Event:
    """An export of ``user``'s data (``what``: "data" for the whole export, "activity" for the log as CSV), recorded
    before its first byte leaves: a copy of everything is worth an entry in the log whether or not it completes."""
    return event_record(action=actions.DATA_EXPORTED, user=user, meta=meta, data={"what": what, **(data or {})})
