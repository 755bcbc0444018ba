"""What the vault's concerns share: input cleaning (names, tags, titles), the owner-checked lookups of
folders and files (through ``vault.access``), unique names within a folder, and the errors they raise."""

from __future__ import annotations

import unicodedata
import uuid

from django.db import transaction

from accounts.models import User
from activity import chain
from activity.services import event_record
from locker.errors import Conflict, InvalidInput, LockerError, NotFound
from locker.textrules import WINDOWS_RESERVED
from locker.units import format_bytes
from vault import access
from vault.access import Action
from vault.files.order_cache import bump_after_commit as changed_after_commit
from vault.keys import VaultKeys
from vault.models import File, Folder
from vault.transfers.blobs import blob_delete

MAX_NAME_LENGTH = 255


MAX_TAGS = 50


MAX_TAG_LENGTH = 64


UNSET = object()


class QuotaExceeded(LockerError):
    status_code = 413
    code = "quota_exceeded"

    @classmethod
    def needing(cls, *, needed: int, free: int, quota: int, errors: dict | None = None) -> QuotaExceeded:
        """The refusal of an upload that needs ``needed`` bytes of storage, in the units the quota bar shows."""
        free = max(0, free)
        room = f"only {format_bytes(free)}" if free else "none"
        return cls(
            f"This upload needs {format_bytes(needed)} of storage, but {room} of your {format_bytes(quota, trim=True)}"
            " is free. Delete files for good (empty the trash) to make room, or ask your administrator for more.",
            errors=errors,
        )


class PreconditionFailed(LockerError):
    status_code = 412
    code = "precondition_failed"
    detail = "The file changed since you read it (stale ETag)."


class NameConflict(Conflict):
    code = "name_conflict"


def changed(user) -> None:
    """Mark the user's vault as changed once this transaction commits (cached listings re-sort)."""
    changed_after_commit(user.pk)


def clean_name(name, *, field: str = "name") -> str:
    """A folder or file name: 1-255 characters, no slash, no control characters, not "." or ".."."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(errors={field: ["This field is required."]})
    name = unicodedata.normalize("NFC", name.strip())
    problems = []
    if len(name) > MAX_NAME_LENGTH:
        problems.append(f"Use at most {MAX_NAME_LENGTH} characters.")
    if "/" in name or "\\" in name:
        problems.append("Names cannot contain / or \\.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in name):
        problems.append("Names cannot contain control or invisible characters.")
    if name in {".", ".."}:
        problems.append('"." and ".." are not names.')
    if name.split(".", 1)[0].upper() in WINDOWS_RESERVED:
        problems.append(f'"{name.split(".", 1)[0]}" is a device name on Windows: no file there can have it.')
    if problems:
        raise InvalidInput("That name cannot be used.", code="invalid_name", errors={field: problems})
    return name


def clean_title(title, *, max_length: int) -> str:
    """A note's or a chat's title: text, whitespace runs collapsed, at most ``max_length`` characters."""
    if not isinstance(title, str):
        raise InvalidInput(errors={"title": ["Must be text."]})
    title = " ".join(title.split())
    if len(title) > max_length:
        raise InvalidInput(errors={"title": [f"Use at most {max_length} characters."]})
    return title


def clean_tags(tags) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidInput(errors={"tags": ["Tags must be a list of strings."]})
    cleaned = []
    for tag in tags:
        tag = " ".join(tag.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in tag):
            raise InvalidInput(errors={"tags": [f"Tags are 1-{MAX_TAG_LENGTH} printable characters."]})
        if tag.casefold() not in {t.casefold() for t in cleaned}:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(errors={"tags": [f"Use at most {MAX_TAGS} tags."]})
    return cleaned


def owned_folder(
    user: User, folder_id, *, live: bool = True, lock: bool = False, action=Action.EDIT, shared: bool = False
) -> Folder:
    """A folder ``user`` may ``action`` (vault.access), for a write; otherwise 404. ``shared``: also one reached
    through a share (the write then goes to the owner's vault: :func:`owner_of`)."""
    qs = access.items(user, Folder, action, shared=shared).filter(pk=folder_id)
    if live:
        qs = qs.filter(trashed_at__isnull=True)
    if lock:
        qs = qs.select_for_update()
    folder = qs.first() if is_uuid(folder_id) else None
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def owned_file(
    user: User, file_id, *, live: bool = True, lock: bool = False, action=Action.EDIT, shared: bool = False
) -> File:
    """A file ``user`` may ``action`` (vault.access), for a write; otherwise 404. ``shared``: as for folders."""
    qs = access.items(user, File, action, shared=shared).filter(pk=file_id).select_related("folder")
    if live:
        qs = qs.filter(trashed_at__isnull=True)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.first() if is_uuid(file_id) else None
    if found is None:
        raise NotFound("No such file.")
    return found


def owner_of(user: User, item) -> User:
    """Whose vault a write to ``item`` (a folder, a file, or None for the user's top level) goes to: its owner's
    keys, quota, index and trash, whoever writes."""
    return user if item is None or item.owner_id == user.pk else item.owner


def same_vault(owner: User, target, user: User) -> None:
    """A move stays in one vault: ``target`` (None: the acting user's top level) must belong to ``owner``."""
    if (target.owner_id if target is not None else user.pk) != owner.pk:
        raise InvalidInput(
            "An item cannot move into another person's vault; copy it instead.",
            code="other_vault",
            errors={"folder": ["That folder is in another vault."]},
        )


def record(action: str, *, user: User, owner: User, meta=None, object_type: str, object_id, data=None) -> None:
    """The event of a write by ``user`` in ``owner``'s vault: the actor's, and, when a share's recipient did it,
    the owner's too, naming them (without the recipient's address)."""
    data = data or {}
    if owner.pk == user.pk:
        event_record(action=action, user=user, meta=meta, object_type=object_type, object_id=object_id, data=data)
        return
    chain.lock_heads(user.pk, owner.pk)  # in one order: two users writing into each other's shares wait in turn
    event_record(
        action=action,
        user=user,
        meta=meta,
        object_type=object_type,
        object_id=object_id,
        data={**data, "owner": owner.username},
    )
    event_record(
        action=action, user=owner, object_type=object_type, object_id=object_id, data={**data, "by": user.username}
    )


def is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def name_taken(user: User, parent_id, name_mac: str, *, exclude_id=None) -> bool:
    folders = Folder.objects.filter(owner=user, parent_id=parent_id, name_mac=name_mac, trashed_at__isnull=True)
    files = File.objects.filter(owner=user, folder_id=parent_id, name_mac=name_mac, trashed_at__isnull=True)
    if exclude_id is not None:
        folders = folders.exclude(pk=exclude_id)
        files = files.exclude(pk=exclude_id)
    return folders.exists() or files.exists()


def free_name(
    user: User, keys: VaultKeys, parent_id, parent_key: bytes, name: str, *, exclude_id=None
) -> tuple[str, str]:
    """``name`` or the first free ``name (2)``, ``name (3)``... in the folder; returns ``(name, mac)``."""
    stem, dot, ext = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
    candidate, number = name, 1
    while True:
        mac = keys.name_mac(parent_key, candidate)
        if not name_taken(user, parent_id, mac, exclude_id=exclude_id):
            return candidate, mac
        number += 1
        candidate = f"{stem} ({number}){dot}{ext}"


def checked_name(user, keys, parent_id, parent_key, name, *, on_conflict: str, exclude_id=None) -> tuple[str, str]:
    mac = keys.name_mac(parent_key, name)
    if not name_taken(user, parent_id, mac, exclude_id=exclude_id):
        return name, mac
    if on_conflict == "rename":
        return free_name(user, keys, parent_id, parent_key, name, exclude_id=exclude_id)
    raise NameConflict(
        f'"{name}" already exists in this folder.', errors={"name": ["An item with this name exists here."]}
    )


def delete_blobs_after_commit(blobs: list[str]) -> None:
    if blobs:
        transaction.on_commit(lambda: [blob_delete(name) for name in blobs])


def etag_of(version_id) -> str:
    return f'"{version_id.hex}"' if version_id else '""'
