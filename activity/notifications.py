"""Notifications: what a user should hear about, written in the same transaction as the action behind it.

Most come from the activity events the services already write (:func:`from_event`, called by
``activity.services.event_record``): an upload or new version finished, a change or a download made by someone
an item is shared with (events that name them with ``by``), a public link used, a sign-in and a failed one.
Others are written by the service that knows who should hear (a share received, changed or ended: the
recipient; storage at 90% and 100%: the owner) with :func:`notify`.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from activity import actions
from activity.live import fanout
from activity.models import Event, Notification
from locker.errors import NotFound

Kind = Notification.Kind
_UPLOADS = {actions.FILE_UPLOADED, actions.FILE_VERSION_ADDED}


def notify(*, user_id, kind: str, object_type: str = "", object_id="", data: dict | None = None, event=None):
    """Write one notification for the user ``user_id`` (metadata only, never content); once the transaction
    commits, the live streams hear of it (``activity.live``)."""
    notification = Notification.objects.create(
        user_id=user_id,
        kind=kind,
        object_type=object_type,
        object_id=str(object_id or ""),
        data=data or {},
        event=getattr(event, "pk", None),
    )
    transaction.on_commit(partial(fanout.announce, uuid.UUID(str(user_id))))
    return notification


def _kind_of(event: Event) -> str | None:
    if event.action == actions.LOGIN:
        return Kind.NEW_DEVICE if event.outcome == Event.Outcome.SUCCESS else Kind.LOGIN_FAILED
    if event.outcome != Event.Outcome.SUCCESS:
        return None
    if event.action == actions.LINK_USED:
        return Kind.LINK_USED
    if "by" in event.data:  # written for an item's owner when someone it is shared with acted on it
        return Kind.DOWNLOADED if event.action == actions.FILE_DOWNLOADED else Kind.SHARED_ITEM_CHANGED
    if event.action in _UPLOADS and "owner" not in event.data:  # not a recipient's write into another vault
        return Kind.UPLOAD_FINISHED
    return None


def from_event(event: Event):
    """The notification an activity event gives its user, if any."""
    kind = _kind_of(event) if event.user_id is not None else None
    if kind is None:
        return None
    data = {"action": event.action, **{k: v for k, v in event.data.items() if k in {"by", "link", "download"}}}
    return notify(
        user_id=event.user_id,
        kind=kind,
        object_type=event.object_type,
        object_id=event.object_id,
        data=data,
        event=event,
    )


def quota_crossed(*, user_id, quota: int, before: int, after: int) -> None:
    """Tell the user when their usage passes 90% or 100% of their quota."""
    for share, kind in ((1.0, Kind.QUOTA_100), (0.9, Kind.QUOTA_90)):
        limit = quota * share
        if before < limit <= after:
            notify(user_id=user_id, kind=kind, data={"used": after, "quota": quota})
            return


# --- reads and marks ---------------------------------------------------------------------------------


def notification_list(*, user, unread: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user)
    return (rows.filter(read_at__isnull=True) if unread else rows).order_by("-id")


def notification_read(*, user, notification_id) -> Notification:
    """Mark one of the user's notifications read (404 for any other id)."""
    found = Notification.objects.filter(user=user, pk=notification_id).first()
    if found is None:
        raise NotFound("No such notification.")
    if found.read_at is None:
        found.read_at = timezone.now()
        found.save(update_fields=["read_at"])
    return found


def notifications_read_all(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
