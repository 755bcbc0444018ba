"""Who may do what to a vault item: the one place that answers it.

Services and selectors find folders, files and notes only through :func:`items` (and check a loaded item with
:func:`may`), so an item the acting user may not touch is simply not found (404, never 403).

An item's owner may do anything with it. Another user may act on it through a :class:`~vault.models.Share`:
a shared file or note itself, or anything inside a shared folder (found by walking down from the shared
folders in one recursive query, so items added later are in the share too). ``view`` lets a recipient list,
preview, download and search; ``edit`` also lets them change and add; ``delete`` also lets them trash.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL

from vault.models import File, Folder, Note, Share


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    DELETE = "delete"


# The permissions of a share that allow each action.
PERMITS = {
    Action.VIEW: (Share.Permission.VIEW, Share.Permission.EDIT, Share.Permission.DELETE),
    Action.EDIT: (Share.Permission.EDIT, Share.Permission.DELETE),
    Action.DELETE: (Share.Permission.DELETE,),
}


def receives_shares(user) -> bool:
    """Whether anything is shared with ``user`` (asked once per request: an owner's lookups stay as they were)."""
    if getattr(user, "pk", None) is None:
        return False
    cached = getattr(user, "_locker_receives_shares", None)
    if cached is None:
        cached = user._locker_receives_shares = Share.objects.filter(recipient_id=user.pk).exists()
    return cached


def forget(user) -> None:
    """Drop what :func:`receives_shares` remembered on this user object (after a share of theirs changes)."""
    user.__dict__.pop("_locker_receives_shares", None)


def granted_folders(user, action: Action = Action.VIEW) -> RawSQL:
    """A subquery of the ids of every folder shared with ``user`` for ``action`` and of every folder below one."""
    prep = Share._meta.get_field("recipient").target_field.get_db_prep_value
    share, folder = Share._meta.db_table, Folder._meta.db_table
    permits = PERMITS[action]
    sql = (
        f"WITH RECURSIVE granted(id) AS ("  # noqa: S608 (table names from the models; values are parameters) # nosec B608
        f"SELECT folder_id FROM {share} WHERE recipient_id = %s AND folder_id IS NOT NULL "
        f"AND permission IN ({', '.join(['%s'] * len(permits))}) "
        f"UNION SELECT f.id FROM {folder} f JOIN granted g ON f.parent_id = g.id"
        f") SELECT id FROM granted"
    )
    return RawSQL(sql, [prep(user.pk, connection, prepared=False), *[str(p) for p in permits]])  # noqa: S611 (the SQL above) # nosec B611


def subtree(folder_id) -> RawSQL:
    """A subquery of the ids of ``folder_id`` and of every folder below it (a public link's reach)."""
    prep = Folder._meta.get_field("id").get_db_prep_value
    folder = Folder._meta.db_table
    sql = (
        f"WITH RECURSIVE below(id) AS (SELECT %s "  # noqa: S608 (table name from the model; values are parameters) # nosec B608
        f"UNION SELECT f.id FROM {folder} f JOIN below b ON f.parent_id = b.id) SELECT id FROM below"
    )
    return RawSQL(sql, [prep(folder_id, connection, prepared=False)])  # noqa: S611 (the SQL above) # nosec B611


def _granted_directly(user, kind: str, action: Action):
    return Share.objects.filter(recipient_id=user.pk, kind=kind, permission__in=PERMITS[action]).values(kind)


def items(user, model: type[models.Model], action: Action = Action.VIEW, *, shared: bool = True) -> models.QuerySet:
    """The rows of ``model`` that ``user`` may ``action``; ``shared=False``: only the user's own."""
    own = model.objects.filter(owner_id=getattr(user, "pk", None))
    if not shared or not receives_shares(user):
        return own
    if model is Folder:
        return model.objects.filter(Q(owner_id=user.pk) | Q(pk__in=granted_folders(user, action)))
    if model in (File, Note):
        kind = "file" if model is File else "note"
        return model.objects.filter(
            Q(owner_id=user.pk)
            | Q(folder_id__in=granted_folders(user, action))
            | Q(pk__in=_granted_directly(user, kind, action))
        )
    return own


def in_folder(user, model: type[models.Model], folder_id, action: Action = Action.VIEW) -> models.QuerySet:
    """The rows of ``model`` directly in the folder ``folder_id`` that ``user`` may ``action``. When the folder itself
    is reachable, that is every row of its owner in it: the query an owner's own listing makes (one indexed lookup
    more), rather than the recursive grant check on every row."""
    field = "parent_id" if model is Folder else "folder_id"
    if receives_shares(user):
        owner_id = items(user, Folder, action).filter(pk=folder_id).values_list("owner_id", flat=True).first()
        if owner_id is not None:
            return model.objects.filter(owner_id=owner_id, **{field: folder_id})
    return items(user, model, action).filter(**{field: folder_id})


def may(user, item, action: Action = Action.VIEW) -> bool:
    """Whether ``user`` may ``action`` this loaded item."""
    if item.owner_id == getattr(user, "pk", None):
        return True
    return items(user, type(item), action).filter(pk=item.pk).exists()
