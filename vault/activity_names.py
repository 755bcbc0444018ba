"""The names of vault items in a page of activity events, opened with the reader's keys (``activity.naming``).

Only items the reader may see (their own, and what is shared with them) are named, and only while their vault is
unlocked; a damaged name or a purged item stays unnamed. One query per kind of item on the page. ``refs`` are the
items the page points at (``activity.naming.Ref``: the events' own items and the folders named in their data).
"""

from __future__ import annotations

from locker.errors import VaultLocked
from vault import access, kinds
from vault.common import is_uuid
from vault.models import Folder
from vault.transfers.integrity import CRYPTO_FAILURES

NAMED_KINDS = ("folder", "file", "note")


def name_events(request, refs: list) -> dict[tuple[str, str], str]:
    from vault.files.apis import vault_keys

    wanted: dict[str, set[str]] = {}
    for ref in refs:
        if ref.object_type in NAMED_KINDS and is_uuid(ref.object_id):
            wanted.setdefault(ref.object_type, set()).add(ref.object_id)
    if not wanted or not getattr(request.user, "is_authenticated", False):
        return {}
    try:
        keys = vault_keys(request)
    except VaultLocked:  # nothing can be opened: every item gets its neutral word
        return {}
    found = []
    for kind_name in NAMED_KINDS:
        if kind_name in wanted:
            kind = kinds.get(kind_name)
            rows = access.items(request.user, kind.model).filter(pk__in=wanted[kind_name])
            found += [(kind, item) for item in rows.select_related(*kind.select_related)]
    _preload_folders_above(keys, request.user, [item for _, item in found])
    names = {}
    for kind, item in found:
        try:
            names[(kind.name, str(item.pk))] = kind.describe(keys, item, []).name
        except CRYPTO_FAILURES:
            continue
    return names


def _preload_folders_above(keys, user, items) -> None:
    """The keys of every folder above the reader's own ``items``, one query per level of depth (not per item):
    without them each item would look its folders up one by one."""
    rows: dict = {}
    wanted = {_parent_id(item) for item in items if item.owner_id == user.pk}
    while wanted := {folder_id for folder_id in wanted if folder_id is not None and folder_id not in rows}:
        level = list(
            Folder.objects.filter(owner=user, pk__in=wanted).only("id", "owner_id", "parent_id", "key_wrapped")
        )
        if not level:
            break
        rows.update((folder.pk, folder) for folder in level)
        wanted = {folder.parent_id for folder in level}
    if rows and all(folder.parent_id is None or folder.parent_id in rows for folder in rows.values()):
        try:
            keys.preload(rows.values())
        except CRYPTO_FAILURES:  # a damaged folder key: its items stay unnamed, one at a time below
            return


def _parent_id(item):
    return item.parent_id if isinstance(item, Folder) else item.folder_id
