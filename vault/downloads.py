"""Reading a version's plaintext: stream-decrypt in constant memory, whole or by byte range."""

from __future__ import annotations

from collections.abc import Iterator

from locker.crypto.stream import decrypt_iter, decrypt_range
from vault.blobs import blob_open
from vault.keys import VaultKeys, aad_blob
from vault.models import File, FileVersion


def plaintext_chunks(
    keys: VaultKeys, file: File, version: FileVersion, *, start: int | None = None, end: int | None = None
) -> Iterator[bytes]:
    """Yield the plaintext of ``version`` (bytes ``start..end`` inclusive when given).

    Every chunk is authenticated before it is yielded; a tampered or truncated
    blob raises :class:`~locker.crypto.DecryptionError` part-way, so a caller
    streaming to a client must abort the response rather than finish it.
    """
    content_key = keys.content_key(version, keys.file_key(file))
    aad = aad_blob(file.owner_id, version.pk)
    handle = blob_open(version.blob)
    try:
        if start is None:
            yield from decrypt_iter(content_key, handle, aad=aad)
        else:
            yield from decrypt_range(content_key, handle, version.stored_size, start, end, aad=aad)
    finally:
        handle.close()
