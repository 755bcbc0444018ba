"""Rotating a shared item's key when a share of it ends (SECURITY.md property 10; docs/sharing.md).

A revoked recipient may have kept the item's key. The item gets a fresh key, and everything that key wrapped or
sealed moves to the new one; no content is re-encrypted:

- a folder: its own wrap, name and tags; the wraps of its direct children (folders, files, notes, trashed ones
  too) and their name MACs (keyed by the parent's key, so each child's name is opened once);
- a file: its wrap, name and tags; each version's content-key wrap and each thumbnail's key wrap;
- a note: its wrap, and its title, body and tags and those of its earlier versions (a note's text is sealed
  under the note key itself: notes are small);
- and the wraps of the item's other shares, one per remaining recipient.

What is written afterwards gets keys the revoked recipient never saw: a new file in the folder (its key wrapped
by the new folder key), a new version of the file (its content key wrapped by the new file key). Subfolders keep
their keys (rotating them would cost the whole subtree): what is later written *inside a subfolder* stays within
reach of someone who kept that subfolder's key and also obtains the stored data; docs/sharing.md says so.
"""

from __future__ import annotations

import json

from django.db import connection

from accounts.models import Keyring
from locker.crypto.aead import context
from locker.crypto.keys import b64d, wrap_with_key
from vault.keys import VaultKeys, open_text, seal_text, wrap_for_recipient
from vault.models import Derived, File, FileVersion, Folder, Note, NoteVersion, Share


def rotate(keys: VaultKeys, share: Share) -> int:
    """Give ``share``'s item a new key (call inside the revoking transaction). Returns how many wraps and seals
    were redone."""
    item = getattr(share, share.kind)
    if share.kind == "folder":
        new, count = _rotate_folder(keys, Folder.objects.select_for_update().get(pk=item.pk))
    elif share.kind == "file":
        new, count = _rotate_file(
            keys, File.objects.select_for_update(of=("self",)).select_related("folder").get(pk=item.pk)
        )
    else:
        new, count = _rotate_note(
            keys, Note.objects.select_for_update(of=("self",)).select_related("folder").get(pk=item.pk)
        )
    others = list(Share.objects.filter(**{share.kind: item.pk}).exclude(pk=share.pk).select_related("recipient"))
    publics = dict(Keyring.objects.filter(user__in=[s.recipient_id for s in others]).values_list("user", "public_key"))
    for other in others:
        other.key_wrapped = wrap_for_recipient(
            new,
            kind=share.kind,
            item_id=item.pk,
            owner_id=share.owner_id,
            recipient_id=other.recipient_id,
            public_raw=b64d(publics[other.recipient_id]),
        )
    _update(Share, others, ["key_wrapped"])
    return count + len(others)


def _update(model, objects: list, fields: list[str]) -> None:
    """Write ``fields`` of many rows with one prepared UPDATE run for each (Django's ``bulk_update`` builds a CASE
    per field and row in Python: 10x slower on thousands of children)."""
    if not objects:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    sets = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in columns)
    table, key = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(pk.column)
    sql = f"UPDATE {table} SET {sets} WHERE {key} = %s"  # noqa: S608 (names from the model; values are parameters) # nosec B608
    rows = [
        [field.get_db_prep_value(getattr(obj, field.attname), connection) for field in columns]
        + [pk.get_db_prep_value(obj.pk, connection)]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _rotate_folder(keys: VaultKeys, folder: Folder) -> tuple[bytes, int]:
    old = keys.folder_key(folder)
    name, tags = keys.folder_name(folder), keys.folder_tags(folder)
    parent_key = keys.folder_key(folder.parent if folder.parent_id else None)
    new = keys.new_key()
    folder.key_wrapped = keys.wrap_folder_key(new, folder.pk, parent_key)
    folder.name_sealed = keys.seal_folder_name(new, folder.pk, name)
    folder.tags_sealed = keys.seal_folder_tags(new, folder.pk, tags)
    folder.save(update_fields=["key_wrapped", "name_sealed", "tags_sealed"])

    subfolders = list(Folder.objects.filter(parent=folder))
    for child in subfolders:
        child_key = keys.folder_key(child)  # unwrapped with the old key (still remembered)
        child.name_mac = keys.name_mac(new, keys.folder_name(child))
        child.key_wrapped = keys.wrap_folder_key(child_key, child.pk, new)
    files = list(File.objects.filter(folder=folder))
    for file in files:
        file_key = keys.file_key(file, old)
        file.name_mac = keys.name_mac(new, keys.file_name(file, old))
        file.key_wrapped = keys.wrap_file_key(file_key, file.pk, new)
    notes = list(Note.objects.filter(folder=folder))
    for note in notes:
        note.key_wrapped = wrap_with_key(keys.note_key(note), new, aad=context("note-key", keys.owner_id, note.pk))
    _update(Folder, subfolders, ["name_mac", "key_wrapped"])
    _update(File, files, ["name_mac", "key_wrapped"])
    _update(Note, notes, ["key_wrapped"])
    keys.remember_folder_key(folder.pk, new)
    return new, 3 + len(subfolders) + len(files) + len(notes)


def _rotate_file(keys: VaultKeys, file: File) -> tuple[bytes, int]:
    old = keys.file_key(file)
    name, tags = keys.file_name(file), keys.file_tags(file)
    new = keys.new_key()
    file.key_wrapped = keys.wrap_file_key(new, file.pk, keys.folder_key(file.folder))
    file.name_sealed = keys.seal_file_name(new, file.pk, name)
    file.tags_sealed = keys.seal_file_tags(new, file.pk, tags)
    file.save(update_fields=["key_wrapped", "name_sealed", "tags_sealed"])
    versions = list(FileVersion.objects.filter(file=file))
    for version in versions:
        version.content_key_wrapped = keys.wrap_content_key(keys.content_key(version, old), version.pk, new)
    derived = list(Derived.objects.filter(version__file=file).exclude(preview_key_wrapped=""))
    for row in derived:
        row.preview_key_wrapped = keys.wrap_preview_key(keys.preview_key(row, old), row.version_id, new)
    _update(FileVersion, versions, ["content_key_wrapped"])
    _update(Derived, derived, ["preview_key_wrapped"])
    keys.remember_file_key(file.pk, new)
    return new, 3 + len(versions) + len(derived)


def _rotate_note(keys: VaultKeys, note: Note) -> tuple[bytes, int]:
    old, owner = keys.note_key(note), keys.owner_id
    new = keys.new_key()

    def reseal(sealed: str, *aad) -> str:
        return seal_text(new, open_text(old, sealed, aad=context(*aad)), aad=context(*aad))

    note.title_sealed = reseal(note.title_sealed, "note-title", owner, note.pk, note.version)
    note.body_sealed = reseal(note.body_sealed, "note-body", owner, note.pk, note.version)
    if note.tags_sealed:
        tags = json.loads(open_text(old, note.tags_sealed, aad=context("note-tags", owner, note.pk)))
        note.tags_sealed = seal_text(new, json.dumps(tags), aad=context("note-tags", owner, note.pk))
    note.key_wrapped = keys.wrap_note_key(note.pk, new, note.folder)
    note.save(update_fields=["title_sealed", "body_sealed", "tags_sealed", "key_wrapped"])
    versions = list(NoteVersion.objects.filter(note=note))
    for version in versions:
        version.title_sealed = reseal(version.title_sealed, "note-title", owner, note.pk, version.number)
        version.body_sealed = reseal(version.body_sealed, "note-body", owner, note.pk, version.number)
    _update(NoteVersion, versions, ["title_sealed", "body_sealed"])
    return new, 4 + 2 * len(versions)
