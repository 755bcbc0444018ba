"""Rebuild a user's blind indexes (search tokens and tag index) from their decrypted data.

Needs the user's data key, so it runs inside the user's own request (``POST /api/v1/search/reindex``) or from
``manage.py vault_reindex --user NAME`` with their password. Each item is re-indexed in its own short
transaction (SQLite writers never wait long); tokens of items that no longer exist are removed first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from vault import notes, services
from vault.keys import VaultKeys
from vault.models import File, Folder, Note, SearchToken, TagIndex


def vault_reindex(*, user, keys: VaultKeys, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Re-index every folder, file (name, tags, text content) and note of ``user``. Returns counts per kind."""
    folders = list(Folder.objects.filter(owner=user))
    files = list(
        File.objects.filter(owner=user).only("id", "owner_id", "folder_id", "key_wrapped", "name_sealed", "tags_sealed")
    )
    all_notes = list(Note.objects.filter(owner=user))
    keys.preload(folders)
    live_ids = {f.pk for f in folders} | {f.pk for f in files} | {n.pk for n in all_notes}
    with transaction.atomic():
        for model in (SearchToken, TagIndex):
            stale = model.objects.filter(owner=user).exclude(item_id__in=live_ids)
            stale.delete()
    total = len(folders) + len(files) + len(all_notes)
    done = 0

    def step(kind: str) -> None:
        nonlocal done
        done += 1
        if progress and (done % 200 == 0 or done == total):
            progress(kind, done, total)

    for folder in folders:
        with transaction.atomic():
            services._index_folder(user, keys, folder.pk, keys.folder_name(folder), keys.folder_tags(folder))
        step("folder")
    for file in files:
        with transaction.atomic():
            services._index_file(user, keys, file.pk, keys.file_name(file), keys.file_tags(file))
        step("file")
    for note in all_notes:
        key = notes.note_key(keys, note)
        with transaction.atomic():
            notes._index(
                user,
                keys,
                note.pk,
                notes.note_title(keys, note, key),
                notes.note_body(keys, note, key),
                notes.note_tags(keys, note, key),
            )
        step("note")
    return {"folders": len(folders), "files": len(files), "notes": len(all_notes)}
