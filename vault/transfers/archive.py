"""A zip of vault files, built while it streams: constant memory whatever its size, no temporary file, each member
decrypted straight into it (``stream_zip``: zip64 where a member needs it, deflate level 1, which costs little on
data that does not compress). Used by the file browser's "Download as zip" and by a public folder link."""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from stream_zip import ZIP_32, ZIP_AUTO, stream_zip

from vault.keys import VaultKeys
from vault.models import File
from vault.transfers.downloads import plaintext_chunks


def _members(keys: VaultKeys, entries: Iterable[tuple[str, File | None]]) -> Iterator[tuple]:
    for path, file in entries:
        if file is None:  # an empty folder: its own directory entry
            yield path, timezone.now(), stat.S_IFDIR | 0o700, ZIP_32, ()
        else:
            modified: datetime = file.modified_at
            yield (
                path,
                modified,
                stat.S_IFREG | 0o600,
                ZIP_AUTO(file.size, level=1),
                plaintext_chunks(keys, file, file.current_version),
            )


def zip_response(
    keys: VaultKeys, entries: Iterable[tuple[str, File | None]], *, filename: str, on_complete=None
) -> StreamingHttpResponse:
    """``entries`` (``(path, file)``, ``file`` None for an empty folder) as a streamed ``application/zip``
    attachment named ``filename``; ``on_complete()`` runs once its last byte has been produced (never for a zip
    cut short by damaged data or a client that left)."""

    def body():
        yield from stream_zip(_members(keys, entries))
        if on_complete is not None:
            on_complete()

    response = StreamingHttpResponse(body(), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
