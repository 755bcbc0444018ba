"""Notes as a kind of the vault's registry (``vault.kinds``): found by search, opened in the editor, re-indexed."""

from __future__ import annotations

from django.urls import reverse

from locker.crypto.blind import tokenize
from vault import kinds
from vault.files.kinds import place_of
from vault.models import Note, SearchToken
from vault.notes import services as notes
from vault.notes.markdown import plain_text
from vault.search.snippets import locate, window

MAX_PLAIN = 20_000  # characters of a note's Markdown made plain for one snippet


def note_snippet(body: str, words) -> str:
    """Plain words of a note around the first match (Markdown's syntax gone, task boxes as ☐ / ☑)."""
    if len(body) > MAX_PLAIN:  # a long note: only the part around the match is made plain
        at = locate(body, words) or 0
        start = body.rfind("\n", 0, max(0, at - MAX_PLAIN // 4)) + 1
        body = body[start : start + MAX_PLAIN]
    return window(plain_text(body), words)


def describe_note(keys, note: Note, words) -> kinds.SearchView:
    key = keys.note_key(note)
    parent_name, parent_url = place_of(keys, note, note.folder if note.folder_id else None)
    return kinds.SearchView(
        name=notes.note_title(keys, note, key) or "Untitled note",
        parent=str(note.folder_id) if note.folder_id else None,
        tags=notes.note_tags(keys, note, key),
        snippet=note_snippet(notes.note_body(keys, note, key), words),
        url=reverse("note", args=[note.pk]),
        parent_name=parent_name,
        parent_url=parent_url,
    )


def _texts(keys, note: Note) -> tuple[str, str, list[str]]:
    key = keys.note_key(note)
    return notes.note_title(keys, note, key), notes.note_body(keys, note, key), notes.note_tags(keys, note, key)


def title_and_tags(keys, note: Note) -> list[str]:
    key = keys.note_key(note)
    return [notes.note_title(keys, note, key), *notes.note_tags(keys, note, key)]


def body_words(keys, items: list[Note]) -> dict:
    """The words of each note's text (a share's recipient searches them: docs/sharing.md)."""
    return {note.pk: sorted(tokenize(notes.note_body(keys, note, keys.note_key(note)))) for note in items}


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
            name="note",
            code=SearchToken.Kind.NOTE,
            model=Note,
            describe=describe_note,
            reindex=reindex_notes,
            select_related=("folder",),
            texts=title_and_tags,
            content_words=body_words,
        )
    )
