"""The trash: move items (with their contents) to it, restore them, purge them (crypto-shred: their keys go,
their blobs after commit), empty it, expire it; and wipe a whole vault when its keys are shredded."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from activity import actions
from activity.services import event_record
from locker.errors import NotFound
from vault import access, kinds
from vault.access import Action
from vault.common import (
    changed,
    delete_blobs_after_commit,
    free_name,
    is_uuid,
    owned_file,
    owned_folder,
    owner_of,
    record,
)
from vault.derived.derive import preview_blobs
from vault.files.services import index_folder
from vault.keys import VaultKeys
from vault.models import File, FileVersion, Folder, Note, SearchToken, TagIndex, Upload
from vault.search.index import reindex_fields, unindex


def _subtree_folder_ids(user: User, root_id) -> list:
    ids, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(Folder.objects.filter(owner=user, parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def item_trash(*, user: User, kind: str, item_id, meta=None) -> None:
    """Move a file, a note, or a folder with everything in it, to the trash (its owner's: a share's recipient with
    the ``delete`` permission may trash what is shared with them)."""
    now = timezone.now()
    with transaction.atomic():
        if kind == "folder":
            folder = owned_folder(user, item_id, lock=True, action=Action.DELETE, shared=True)
            owner = owner_of(user, folder)
            ids = _subtree_folder_ids(owner, folder.pk)
            Folder.objects.filter(owner=owner, pk__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk, changed_at=now
            )
            File.objects.filter(owner=owner, folder_id__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk, changed_at=now
            )
            Note.objects.filter(owner=owner, folder_id__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk, changed_at=now
            )
        elif kind == "note":
            notes = access.items(user, Note, Action.DELETE).filter(trashed_at__isnull=True)
            note = notes.select_related("owner").filter(pk=item_id).first() if is_uuid(item_id) else None
            if note is None:
                raise NotFound("No such note.")
            owner = owner_of(user, note)
            Note.objects.filter(pk=note.pk).update(trashed_at=now, trashed_with=note.pk, changed_at=now)
        else:
            file = owned_file(user, item_id, lock=True, action=Action.DELETE, shared=True)
            owner = owner_of(user, file)
            File.objects.filter(pk=file.pk).update(trashed_at=now, trashed_with=file.pk, changed_at=now)
        changed(owner)
        record(actions.ITEM_TRASHED, user=user, owner=owner, meta=meta, object_type=kind, object_id=item_id)


def _trash_entry(user: User, item_id) -> tuple[str, Folder | File]:
    if not is_uuid(item_id):
        raise NotFound("Not in the trash.")
    folder = Folder.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("parent").first()
    if folder is not None:
        return "folder", folder
    file = File.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("folder").first()
    if file is not None:
        return "file", file
    note = Note.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("folder").first()
    if note is not None:
        return "note", note
    raise NotFound("Not in the trash.")


def _trash_entry_ids(user: User, **filters) -> list:
    """Ids of trash entries (items trashed directly), of every kind."""
    return [
        pk
        for model in (Folder, File, Note)
        for pk in model.objects.filter(owner=user, trashed_with=F("pk"), **filters).values_list("pk", flat=True)
    ]


def trash_restore(*, user: User, keys: VaultKeys, item_id, meta=None) -> Folder | File:
    """Put a trash entry back where it was, or at the top level if that place is gone.

    A name taken meanwhile gets a " (2)" suffix rather than failing.
    """
    with transaction.atomic():
        changed(user)
        kind, item = _trash_entry(user, item_id)
        if kind == "note":
            return _note_restore(user, keys, item, meta)
        parent = item.parent if kind == "folder" else item.folder
        home_alive = parent is None or parent.trashed_at is None
        item_key = keys.folder_key(item) if kind == "folder" else keys.file_key(item)
        name = keys.folder_name(item) if kind == "folder" else keys.file_name(item)
        old_name = name
        target = parent if home_alive else None
        target_key = keys.folder_key(target)
        name, mac = free_name(user, keys, target and target.pk, target_key, name, exclude_id=item.pk)
        if kind == "folder":
            item.name_sealed = keys.seal_folder_name(item_key, item.pk, name)
            if not home_alive:
                item.parent = None
                item.key_wrapped = keys.wrap_folder_key(item_key, item.pk, target_key)
        else:
            item.name_sealed = keys.seal_file_name(item_key, item.pk, name)
            if not home_alive:
                item.folder = None
                item.key_wrapped = keys.wrap_file_key(item_key, item.pk, target_key)
        item.name_mac = mac
        item.save()
        if kind == "folder":
            index_folder(user, keys, item.pk, name, keys.folder_tags(item))
        elif name != old_name:  # renamed to a free name: its name tokens only (the content words stay)
            reindex_fields(
                owner_id=user.pk,
                keys=keys.search,
                kind=SearchToken.Kind.FILE,
                item_id=item.pk,
                old={"name": [old_name]},
                new={"name": [name]},
            )
        now = timezone.now()
        for model in (Folder, File, Note):
            model.objects.filter(owner=user, trashed_with=item.pk).update(
                trashed_at=None, trashed_with=None, changed_at=now
            )
        event_record(action=actions.ITEM_RESTORED, user=user, meta=meta, object_type=kind, object_id=item.pk)
    return item


def _note_restore(user: User, keys: VaultKeys, note: Note, meta) -> Note:
    """A note back in its folder, or at the top level if the folder is gone (its key re-wrapped)."""
    from vault.notes.services import note_key, rewrap_note_key

    if note.folder_id and note.folder.trashed_at is not None:
        key = note_key(keys, note)
        note.folder = None
        note.key_wrapped = rewrap_note_key(keys, note.pk, key, None)
    note.trashed_at = note.trashed_with = None
    note.changed_at = timezone.now()
    note.save()
    event_record(action=actions.ITEM_RESTORED, user=user, meta=meta, object_type="note", object_id=note.pk)
    return note


def trash_purge(*, user: User, item_id, meta=None) -> int:
    """Delete a trash entry for good: wrapped keys first (crypto-shred), blobs after commit. Returns bytes freed."""
    with transaction.atomic():
        changed(user)
        kind, item = _trash_entry(user, item_id)
        freed = _purge_entries(user, [item.pk])
        event_record(
            action=actions.ITEM_PURGED, user=user, meta=meta, object_type=kind, object_id=item.pk, data={"bytes": freed}
        )
    return freed


def _purge_entries(user: User, entry_ids: list) -> int:
    """Delete trash entries with everything under them (including items trashed on their own before)."""
    folder_ids = set()
    for root in Folder.objects.filter(owner=user, trashed_with__in=entry_ids, pk__in=entry_ids).values_list(
        "pk", flat=True
    ):
        folder_ids.update(_subtree_folder_ids(user, root))
    in_entries = Q(trashed_with__in=entry_ids) | Q(folder_id__in=folder_ids)
    note_ids = list(Note.objects.filter(owner=user).filter(in_entries).values_list("pk", flat=True))
    Note.objects.filter(pk__in=note_ids).delete()  # with their versions
    unindex(kind=SearchToken.Kind.NOTE, item_ids=note_ids)
    files = File.objects.filter(owner=user).filter(in_entries)
    file_ids = list(files.values_list("pk", flat=True))
    versions = FileVersion.objects.filter(file_id__in=file_ids)
    blobs = list(versions.values_list("blob", flat=True)) + preview_blobs(versions)
    freed = sum(versions.values_list("stored_size", flat=True))
    # Wrapped keys go with the rows; the blobs, unreadable from then on, are removed after commit.
    File.objects.filter(pk__in=file_ids).update(current_version=None)
    versions.delete()
    File.objects.filter(pk__in=file_ids).delete()
    Folder.objects.filter(owner=user, pk__in=folder_ids).delete()
    unindex(kind=SearchToken.Kind.FILE, item_ids=file_ids)
    unindex(kind=SearchToken.Kind.FOLDER, item_ids=folder_ids)
    User.objects.filter(pk=user.pk).update(storage_used=F("storage_used") - freed)
    delete_blobs_after_commit(blobs)
    return freed


def trash_empty(*, user: User, meta=None) -> int:
    with transaction.atomic():
        changed(user)
        entries = _trash_entry_ids(user)
        freed = _purge_entries(user, entries)
        event_record(
            action=actions.ITEM_PURGED,
            user=user,
            meta=meta,
            object_type="trash",
            data={"bytes": freed, "items": len(entries)},
        )
    return freed


def trash_purge_expired(*, days: int | None = None, now=None) -> int:
    """Purge every user's trash entries older than ``days`` (default ``LOCKER_TRASH_DAYS``). Returns entries purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOCKER_TRASH_DAYS if days is None else days)
    count = 0
    for user in User.objects.filter(pk__in=_owners_with_old_trash(cutoff)):
        with transaction.atomic():
            changed(user)
            entries = _trash_entry_ids(user, trashed_at__lt=cutoff)
            freed = _purge_entries(user, entries)
            event_record(
                action=actions.ITEM_PURGED,
                user=user,
                object_type="trash",
                data={"bytes": freed, "items": len(entries), "expired": True},
            )
            count += len(entries)
    return count


def _owners_with_old_trash(cutoff) -> set:
    return {
        owner
        for model in (Folder, File, Note)
        for owner in model.objects.filter(trashed_at__lt=cutoff).values_list("owner_id", flat=True)
    }


def vault_wipe(*, user: User) -> int:
    """Delete every folder, file and version of ``user`` (after their keys were shredded).

    Used by account deletion and by an admin reset. Rows go in this transaction;
    blobs, already unreadable, are removed after it commits. Returns bytes freed.
    """
    changed(user)
    versions = FileVersion.objects.filter(file__owner=user)
    blobs = list(versions.values_list("blob", flat=True)) + preview_blobs(versions)
    freed = sum(versions.values_list("stored_size", flat=True))
    File.objects.filter(owner=user).update(current_version=None)
    versions.delete()
    File.objects.filter(owner=user).delete()
    Note.objects.filter(owner=user).delete()
    for kind in kinds.all_kinds():  # what apps above the vault keep under the user's keys (chats)
        if kind.wipe is not None:
            kind.wipe(user)
    Folder.objects.filter(owner=user).delete()
    SearchToken.objects.filter(owner=user).delete()
    TagIndex.objects.filter(owner=user).delete()
    # resumable uploads not finished: theirs, and others' into their shared folders (which are gone)
    unfinished = Upload.objects.filter(Q(owner=user) | Q(quota_user=user), file_id__isnull=True)
    blobs += list(unfinished.values_list("blob", flat=True))
    Upload.objects.filter(Q(owner=user) | Q(quota_user=user)).delete()
    User.objects.filter(pk=user.pk).update(storage_used=0)
    delete_blobs_after_commit(blobs)
    return freed
