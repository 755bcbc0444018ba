"""Notes as a kind of the vault's registry (``vault.kinds``): found by search, opened in the editor, re-indexed."""

from __future__ import annotations

from django.urls import reverse

from vault import kinds
from vault.models import Note, SearchToken
from vault.notes import services as notes


def describe_note(keys, note: Note, words) -> kinds.SearchView:
    key = keys.note_key(note)
    return kinds.SearchView(
        name=notes.note_title(keys, note, key) or "Untitled note",
        parent=str(note.folder_id) if note.folder_id else None,
        tags=notes.note_tags(keys, note, key),
        snippet=notes.snippet(notes.note_body(keys, note, key), words),
        url=reverse("note", args=[note.pk]),
    )


def _texts(keys, note: Note) -> tuple[str, str, list[str]]:
    key = keys.note_key(note)
    return notes.note_title(keys, note, key), notes.note_body(keys, note, key), notes.note_tags(keys, note, key)


def reindex_notes(user, keys, step) -> int:
    return kinds.reindex_rows(
        Note.objects.filter(owner=user),
        step,
        read=lambda note: _texts(keys, note),
        write=lambda note, texts: notes.index_note(user, keys, note.pk, *texts),
    )


def register() -> None:
    kinds.register(
        kinds.ItemKind(
            name="note", code=SearchToken.Kind.NOTE, model=Note, describe=describe_note, reindex=reindex_notes
        )
    )
