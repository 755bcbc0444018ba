"""Reading a version's plaintext: stream-decrypt in constant memory, whole or by byte range."""

from __future__ import annotations

import io
from collections.abc import Iterator

from locker.crypto.stream import decrypt_iter, decrypt_range
from vault.blobs import blob_open
from vault.keys import VaultKeys, aad_blob
from vault.models import File, FileVersion
from vault.pipeline import READ_POOL

READ_AHEAD_BATCH = 1024 * 1024


def plaintext_chunks(
    keys: VaultKeys, file: File, version: FileVersion, *, start: int | None = None, end: int | None = None
) -> Iterator[bytes]:
    """Yield the plaintext of ``version`` (bytes ``start..end`` inclusive when given).

    Every chunk is authenticated before it is yielded; a tampered or truncated
    blob raises :class:`~locker.crypto.DecryptionError` part-way, so a caller
    streaming to a client must abort the response rather than finish it.
    The keys are unwrapped here, before the first chunk (they may need the
    database); the returned iterator itself only reads the blob, so it may run
    on another thread (:func:`read_ahead`).
    """
    content_key = keys.content_key(version, keys.file_key(file))
    aad = aad_blob(file.owner_id, version.pk)
    return _decrypted(content_key, aad, version, start, end)


def _decrypted(content_key: bytes, aad: bytes, version: FileVersion, start: int | None, end: int | None):
    handle = blob_open(version.blob)
    try:
        if start is None:
            yield from decrypt_iter(content_key, handle, aad=aad)
        else:
            yield from decrypt_range(content_key, handle, version.stored_size, start, end, aad=aad)
    finally:
        handle.close()


def read_ahead(pieces: Iterator[bytes], batch: int = READ_AHEAD_BATCH) -> Iterator[bytes]:
    """Yield ``pieces`` joined into batches of about ``batch`` bytes, preparing the next batch on another thread.

    While the caller sends one batch to the client, the next is read from disk and decrypted
    (both release the GIL). At most one batch is held ahead; an error (a chunk that does not
    authenticate) is raised to the caller in order, before anything after it is yielded.
    Closing this iterator early (the client went away) closes ``pieces``.
    """

    def next_batch() -> bytes:
        taken, size = [], 0
        for piece in pieces:
            taken.append(piece)
            size += len(piece)
            if size >= batch:
                break
        return b"".join(taken)

    future = READ_POOL.submit(next_batch)
    try:
        while data := future.result():
            future = READ_POOL.submit(next_batch)
            yield data
    finally:
        if not future.done():
            future.exception()  # wait for it: a generator must not be closed while it runs elsewhere
        if hasattr(pieces, "close"):
            pieces.close()


class PlaintextReader(io.RawIOBase):
    """A seekable, read-only view of a version's plaintext that decrypts only the chunks it is asked for.

    For libraries that need a file object (audio probing); memory stays at about one chunk.
    """

    def __init__(self, keys: VaultKeys, file: File, version: FileVersion):
        super().__init__()
        self._keys, self._file, self._version = keys, file, version
        self._size = version.size
        self._pos = 0
        self._handle = blob_open(version.blob)
        self._content_key = keys.content_key(version, keys.file_key(file))
        self._aad = aad_blob(file.owner_id, version.pk)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._size or size == 0:
            return b""
        end = self._size - 1 if size is None or size < 0 else min(self._size, self._pos + size) - 1
        data = b"".join(
            decrypt_range(self._content_key, self._handle, self._version.stored_size, self._pos, end, aad=self._aad)
        )
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()
