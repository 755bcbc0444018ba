"""Writing activity events. Call inside the action's own transaction (STYLE.md: audit inside the action)."""

from activity.models import Event
from locker.http import RequestMeta


def event_record(
    *,
    action: str,
    user=None,
    outcome: str = Event.Outcome.SUCCESS,
    meta: RequestMeta | None = None,
    object_type: str = "",
    object_id: str = "",
    data: dict | None = None,
) -> Event:
    """Append one event. ``data`` must hold metadata only, never user content or secrets."""
    meta = meta or RequestMeta()
    return Event.objects.create(
        user=user,
        action=action,
        outcome=outcome,
        ip=meta.ip,
        user_agent=meta.user_agent,
        object_type=object_type,
        object_id=str(object_id or ""),
        data=data or {},
    )
