"""The vault's own kinds (file, folder, note) for the kinds registry (``vault.kinds``), registered at start-up.

Each says how a search result shows it and where it opens, and how its index is rebuilt: the words of a file's
content are read again (decrypted and extracted) outside any transaction, and only the index write takes
SQLite's write lock, briefly.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from vault import kinds, notes
from vault.derive import current_content_words
from vault.models import File, Folder, Note, SearchToken


def _files_url(folder_id) -> str:
    return reverse("files-folder", args=[folder_id]) if folder_id else reverse("files")


def describe_file(keys, file: File, _words) -> kinds.SearchView:
    parent = str(file.folder_id) if file.folder_id else None
    return kinds.SearchView(
        name=keys.file_name(file),
        parent=parent,
        tags=keys.file_tags(file),
        url=f"{_files_url(file.folder_id)}?preview={file.pk}",
    )


def describe_folder(keys, folder: Folder, _words) -> kinds.SearchView:
    return kinds.SearchView(
        name=keys.folder_name(folder),
        parent=str(folder.parent_id) if folder.parent_id else None,
        tags=keys.folder_tags(folder),
        url=_files_url(folder.pk),
    )


def describe_note(keys, note: Note, words) -> kinds.SearchView:
    key = notes.note_key(keys, note)
    return kinds.SearchView(
        name=notes.note_title(keys, note, key) or "Untitled note",
        parent=str(note.folder_id) if note.folder_id else None,
        tags=notes.note_tags(keys, note, key),
        snippet=notes.snippet(notes.note_body(keys, note, key), words),
        url=reverse("note", args=[note.pk]),
    )


def reindex_folders(user, keys, step) -> int:
    from vault.services import _index_folder

    folders = list(Folder.objects.filter(owner=user))
    keys.preload(folders)
    for folder in folders:
        name, tags = keys.folder_name(folder), keys.folder_tags(folder)
        with transaction.atomic():
            _index_folder(user, keys, folder.pk, name, tags)
        step()
    return len(folders)


def reindex_files(user, keys, step) -> int:
    from vault.services import _index_file

    keys.preload(Folder.objects.filter(owner=user))
    files = File.objects.filter(owner=user).only(
        "id", "owner_id", "folder_id", "key_wrapped", "name_sealed", "tags_sealed"
    )
    count = 0
    for file in kinds.each_row(files):
        name, tags = keys.file_name(file), keys.file_tags(file)
        words = current_content_words(keys=keys, file_id=file.pk)  # decrypt and extract: no lock held
        with transaction.atomic():
            _index_file(user, keys, file.pk, name, tags, content=words)
        count += 1
        step()
    return count


def reindex_notes(user, keys, step) -> int:
    count = 0
    for note in kinds.each_row(Note.objects.filter(owner=user)):
        key = notes.note_key(keys, note)
        title, body, tags = (
            notes.note_title(keys, note, key),
            notes.note_body(keys, note, key),
            notes.note_tags(keys, note, key),
        )
        with transaction.atomic():
            notes._index(user, keys, note.pk, title, body, tags)
        count += 1
        step()
    return count


def register() -> None:
    kinds.register(
        kinds.ItemKind(
            name="file",
            code=SearchToken.Kind.FILE,
            model=File,
            describe=describe_file,
            reindex=reindex_files,
        )
    )
    kinds.register(
        kinds.ItemKind(
            name="folder",
            code=SearchToken.Kind.FOLDER,
            model=Folder,
            describe=describe_folder,
            reindex=reindex_folders,
            folder_field="parent_id",
        )
    )
    kinds.register(
        kinds.ItemKind(
            name="note",
            code=SearchToken.Kind.NOTE,
            model=Note,
            describe=describe_note,
            reindex=reindex_notes,
        )
    )
