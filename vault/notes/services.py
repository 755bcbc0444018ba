"""Encrypted notes: services and selectors.

A note sits in the same key hierarchy as a file: its key is wrapped by its
folder's key (or the UDK at the top level) and seals its title, Markdown body
and tags. A change of body or title keeps the previous one as a
:class:`~vault.models.NoteVersion`; bodies are bound to their version number,
so an old body cannot be passed off as the current one. Notes go to the trash
like files (see ``vault.files.services``) and are searchable (title, tags, body).
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from activity import actions
from locker.crypto.aead import context
from locker.errors import InvalidInput, NotFound
from locker.units import format_size_exact
from vault import access
from vault.access import Action
from vault.common import (
    UNSET,
    PreconditionFailed,
    changed,
    clean_tags,
    clean_title,
    is_uuid,
    owned_folder,
    owner_of,
    record,
    same_vault,
)
from vault.keys import VaultKeys, open_text, seal_text
from vault.models import Note, NoteVersion, SearchToken
from vault.search.index import index_item
from vault.search.snippets import window

MAX_TITLE = 500


# --- keys and sealed fields ----------------------------------------------------------------


def rewrap_note_key(keys: VaultKeys, note_id, key: bytes, folder) -> str:
    """The note key wrapped by ``folder``'s key (None: the top level), for a move or a restore."""
    return keys.wrap_note_key(note_id, key, folder)


def note_key(keys: VaultKeys, note: Note) -> bytes:
    return keys.note_key(note)


def _seal_title(key, owner_id, note_id, number: int, title: str) -> str:
    return seal_text(key, title, aad=context("note-title", owner_id, note_id, number))


def _seal_body(key, owner_id, note_id, number: int, body: str) -> str:
    return seal_text(key, body, aad=context("note-body", owner_id, note_id, number))


def note_title(keys: VaultKeys, note: Note, key: bytes | None = None) -> str:
    keys = keys.for_owner(note.owner_id)
    key = key or note_key(keys, note)
    return open_text(key, note.title_sealed, aad=context("note-title", keys.owner_id, note.pk, note.version))


def note_body(keys: VaultKeys, note: Note, key: bytes | None = None) -> str:
    keys = keys.for_owner(note.owner_id)
    key = key or note_key(keys, note)
    return open_text(key, note.body_sealed, aad=context("note-body", keys.owner_id, note.pk, note.version))


def note_tags(keys: VaultKeys, note: Note, key: bytes | None = None) -> list[str]:
    if not note.tags_sealed:
        return []
    keys = keys.for_owner(note.owner_id)
    key = key or note_key(keys, note)
    return json.loads(open_text(key, note.tags_sealed, aad=context("note-tags", keys.owner_id, note.pk)))


def version_texts(keys: VaultKeys, note: Note, version: NoteVersion) -> tuple[str, str]:
    keys = keys.for_owner(note.owner_id)
    key = note_key(keys, note)
    title = open_text(key, version.title_sealed, aad=context("note-title", keys.owner_id, note.pk, version.number))
    body = open_text(key, version.body_sealed, aad=context("note-body", keys.owner_id, note.pk, version.number))
    return title, body


def snippet(body: str, words: list[str], width: int = 160) -> str:
    """A window of plain ``body`` around the first query word found, matched as search matches words (a chat
    message's; a note's Markdown goes through ``vault.notes.kinds.note_snippet`` first)."""
    return window(body, words, width)


# --- validation --------------------------------------------------------------------------------


def _clean_body(body) -> str:
    if not isinstance(body, str):
        raise InvalidInput(errors={"body": ["Must be text."]})
    if len(body.encode()) > settings.LOCKER_MAX_NOTE_BYTES:
        raise InvalidInput(
            "This note is too long.",
            code="note_too_large",
            errors={"body": [f"At most {format_size_exact(settings.LOCKER_MAX_NOTE_BYTES)} of text."]},
        )
    if "\x00" in body:
        raise InvalidInput(errors={"body": ["Notes cannot contain NUL characters."]})
    return body


def index_note(user, keys: VaultKeys, note_id, title: str, body: str, tags: list[str]) -> None:
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.NOTE,
        item_id=note_id,
        fields={"name": [title], "tag": tags, "body": [body]},
    )


# --- services -----------------------------------------------------------------------------------


def note_create(*, user: User, keys: VaultKeys, title="", body="", tags=None, folder_id=None, meta=None) -> Note:
    title, body, tags = clean_title(title, max_length=MAX_TITLE), _clean_body(body), clean_tags(tags)
    with transaction.atomic():
        folder = owned_folder(user, folder_id, shared=True) if folder_id else None
        owner = owner_of(user, folder)
        keys = keys.for_owner(owner.pk)
        changed(owner)
        note_id, key = uuid.uuid4(), keys.new_key()
        note = Note.objects.create(
            id=note_id,
            owner=owner,
            folder=folder,
            key_wrapped=keys.wrap_note_key(note_id, key, folder),
            title_sealed=_seal_title(key, owner.pk, note_id, 1, title),
            body_sealed=_seal_body(key, owner.pk, note_id, 1, body),
            tags_sealed=seal_text(key, json.dumps(tags), aad=context("note-tags", owner.pk, note_id)) if tags else "",
        )
        keys.remember_note_key(note_id, key)
        index_note(owner, keys, note_id, title, body, tags)
        record(actions.NOTE_CREATED, user=user, owner=owner, meta=meta, object_type="note", object_id=note_id)
    return note


def _note(user: User, note_id, *, lock: bool = False) -> Note:
    """A live note ``user`` may see (vault.access); ``lock``: one they may edit, for a write."""
    notes = access.items(user, Note, Action.EDIT if lock else Action.VIEW)
    qs = notes.filter(pk=note_id, trashed_at__isnull=True).select_related("folder")
    note = (qs.select_for_update(of=("self",)) if lock else qs).first() if is_uuid(note_id) else None
    if note is None:
        raise NotFound("No such note.")
    return note


def note_update(
    *,
    user: User,
    keys: VaultKeys,
    note_id,
    title=None,
    body=None,
    tags=None,
    folder_id=UNSET,
    if_version=None,
    meta=None,
) -> Note:
    """Change title, body, tags or folder. A new title or body keeps the previous one as a version.

    ``if_version``: the version number the client edited; 412 if the note changed since (autosave safety).
    """
    with transaction.atomic():
        note = _note(user, note_id, lock=True)
        owner = owner_of(user, note)
        keys = keys.for_owner(owner.pk)
        changed(owner)
        if if_version is not None and if_version != note.version:
            raise PreconditionFailed(f"This note changed since version {if_version} (now {note.version}).")
        key = note_key(keys, note)
        old_title, old_body, old_tags = (
            note_title(keys, note, key),
            note_body(keys, note, key),
            note_tags(keys, note, key),
        )
        new_title = clean_title(title, max_length=MAX_TITLE) if title is not None else old_title
        new_body = _clean_body(body) if body is not None else old_body
        new_tags = clean_tags(tags) if tags is not None else old_tags
        now = timezone.now()
        if (new_title, new_body) != (old_title, old_body):
            note.modified_at = now  # the note's content changed; new tags or a move change only changed_at
            NoteVersion.objects.create(
                note=note, number=note.version, title_sealed=note.title_sealed, body_sealed=note.body_sealed
            )
            note.version += 1
            note.title_sealed = _seal_title(key, owner.pk, note.pk, note.version, new_title)
            note.body_sealed = _seal_body(key, owner.pk, note.pk, note.version, new_body)
        if tags is not None:
            note.tags_sealed = (
                seal_text(key, json.dumps(new_tags), aad=context("note-tags", owner.pk, note.pk)) if new_tags else ""
            )
        if folder_id is not UNSET and str(folder_id or "") != str(note.folder_id or ""):
            target = owned_folder(user, folder_id, shared=True) if folder_id else None
            same_vault(owner, target, user)
            note.folder = target
            note.key_wrapped = rewrap_note_key(keys, note.pk, key, target)
            keys.remember_note_key(note.pk, key)
        note.changed_at = now
        note.save()
        index_note(owner, keys, note.pk, new_title, new_body, new_tags)
        record(actions.NOTE_UPDATED, user=user, owner=owner, meta=meta, object_type="note", object_id=note.pk)
    return note


def note_version_restore(*, user: User, keys: VaultKeys, note_id, number: int, meta=None) -> Note:
    """Make an old version's title and body current again, as a new version."""
    note = _note(user, note_id)
    version = NoteVersion.objects.filter(note=note, number=number).first() if isinstance(number, int) else None
    if version is None:
        raise NotFound("No such version.")
    title, body = version_texts(keys, note, version)
    return note_update(user=user, keys=keys, note_id=note.pk, title=title, body=body, meta=meta)


# --- selectors ----------------------------------------------------------------------------------


def note_list(*, user: User, folder_id=None, all_folders: bool = False) -> QuerySet[Note]:
    if folder_id is not None and not all_folders:
        notes = access.in_folder(user, Note, folder_id)
    else:  # the top level and "everywhere" are the user's own
        notes = access.items(user, Note, shared=False)
        notes = notes if all_folders else notes.filter(folder_id=None)
    return notes.filter(trashed_at__isnull=True).order_by("-modified_at", "id")


def note_get(*, user: User, note_id) -> Note:
    return _note(user, note_id)


def note_versions(*, user: User, note_id) -> tuple[Note, QuerySet[NoteVersion]]:
    note = _note(user, note_id)
    return note, NoteVersion.objects.filter(note=note).order_by("-number")


def note_version_get(*, user: User, note_id, number: int) -> tuple[Note, NoteVersion]:
    note = _note(user, note_id)
    version = NoteVersion.objects.filter(note=note, number=number).first()
    if version is None:
        raise NotFound("No such version.")
    return note, version
