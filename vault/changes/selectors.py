"""The change feed (``GET /api/v1/changes``, docs/changes.md): what happened to the folders and files a user can
see since a cursor, so that a sync client finds remote changes without walking the remote tree.

It reads the activity log, which every vault service writes in the same transaction as its change
(``vault.common.record``): the user's own log for their vault, and the log of each user who shares folders or
files with them for the items of theirs the user can see now. A cursor is opaque to clients: per owner, the last
position read in their log (``Event.seq``, indexed with ``user_key``), and a fingerprint of what is shared with the
user. When that fingerprint changed (a share given or taken back), the feed answers ``reset``: the client walks
the tree once more, then goes on from the new cursor.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from django.db.models import Max

from activity import actions
from activity.models import Event
from locker.errors import InvalidInput
from vault import access
from vault.models import File, Folder, Share

# event → what a sync client needs to know of it
CHANGES = {
    actions.FOLDER_CREATED: "created",
    actions.FOLDER_RENAMED: "renamed",
    actions.FOLDER_MOVED: "moved",
    actions.FILE_UPLOADED: "created",
    actions.FILE_VERSION_ADDED: "changed",
    actions.FILE_VERSION_RESTORED: "changed",
    actions.FILE_RENAMED: "renamed",
    actions.FILE_MOVED: "moved",
    actions.FILE_RETAGGED: "retagged",
    actions.ITEM_TRASHED: "trashed",
    actions.ITEM_RESTORED: "restored",
    actions.ITEM_PURGED: "purged",
}
KINDS = ("file", "folder")
MAX_LIMIT = 2000


class BadCursor(InvalidInput):
    code = "invalid_cursor"
    detail = "That cursor is not one this server gave: start again without one (and walk the tree)."


@dataclass
class Change:
    owner_id: object
    seq: int
    action: str
    kind: str
    item_id: str
    at: object
    item: Folder | File | None = None  # its state now (None: purged, or no longer visible)


def _owners(user) -> list[str]:
    """The user and everyone who shares something with them, as the ids their logs are kept under."""
    sharing = Share.objects.filter(recipient=user).values_list("owner_id", flat=True).distinct()
    return [str(user.pk), *sorted({str(owner) for owner in sharing} - {str(user.pk)})]


def _shares_fingerprint(user) -> str:
    granted = (
        Share.objects.filter(recipient=user).order_by("pk").values_list("pk", "folder_id", "file_id", "permission")
    )
    return hashlib.sha256(json.dumps([list(map(str, row)) for row in granted]).encode()).hexdigest()[:16]


def _encode(positions: dict[str, int], fingerprint: str) -> str:
    raw = json.dumps({"v": 1, "o": positions, "s": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dict[str, int], str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        positions = {str(owner): int(seq) for owner, seq in raw["o"].items()}
        if raw.get("v") != 1 or any(seq < 0 for seq in positions.values()):
            raise ValueError
        return positions, str(raw["s"])
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BadCursor() from None


def _latest(owner_key: str) -> int:
    return Event.objects.filter(user_key=owner_key).aggregate(top=Max("seq"))["top"] or 0


def latest_cursor(*, user) -> str:
    """A cursor at the present moment: changes after it are what the feed will list."""
    return _encode({owner: _latest(owner) for owner in _owners(user)}, _shares_fingerprint(user))


@dataclass
class Feed:
    changes: list[Change]
    cursor: str
    has_more: bool
    reset: bool = False


def changes_since(*, user, cursor: str, limit: int = 500) -> Feed:
    """Changes after ``cursor``, oldest first within each owner's log, at most ``limit``."""
    positions, fingerprint = _decode(cursor)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if fingerprint != _shares_fingerprint(user) or str(user.pk) not in positions:
        return Feed(changes=[], cursor=latest_cursor(user=user), has_more=False, reset=True)
    owners = _owners(user)
    if set(owners) - set(positions):
        return Feed(changes=[], cursor=latest_cursor(user=user), has_more=False, reset=True)
    changes: list[Change] = []
    has_more = False
    new_positions = {owner: positions[owner] for owner in owners}
    for owner in owners:
        room = limit - len(changes)
        if room <= 0:
            has_more = has_more or _latest(owner) > positions[owner]
            continue
        rows = list(
            Event.objects.filter(user_key=owner, seq__gt=positions[owner])
            .order_by("seq")
            .values_list("seq", "action", "object_type", "object_id", "created_at", "data")[: room + 1]
        )
        if len(rows) > room:
            has_more = True
            rows = rows[:room]
        if rows:
            new_positions[owner] = rows[-1][0]
        for seq, action, kind, item_id, at, data in rows:
            if action not in CHANGES or kind not in KINDS or not item_id:
                continue
            if owner == str(user.pk) and (data or {}).get("owner"):
                continue  # the user wrote in someone else's vault: that owner's log lists it
            changes.append(Change(owner_id=owner, seq=seq, action=CHANGES[action], kind=kind, item_id=item_id, at=at))
    _attach_items(user, changes)
    # from other owners' logs: only what the user can see now
    visible = [c for c in changes if c.owner_id == str(user.pk) or c.item is not None]
    return Feed(changes=visible, cursor=_encode(new_positions, fingerprint), has_more=has_more)


def _attach_items(user, changes: list[Change]) -> None:
    for kind, model in (("file", File), ("folder", Folder)):
        ids = {c.item_id for c in changes if c.kind == kind}
        if not ids:
            continue
        rows = access.items(user, model).filter(pk__in=ids)
        if model is File:
            rows = rows.select_related("current_version")
        found = {str(row.pk): row for row in rows}
        for change in changes:
            if change.kind == kind:
                change.item = found.get(change.item_id)
