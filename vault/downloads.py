"""Reading a version's plaintext: stream-decrypt in bounded memory, whole or by byte range.

A download is cut into runs of :data:`BATCH_CHUNKS` chunks (1 MiB). Each run is read
with a positional read and decrypted on a pool thread, up to :data:`AHEAD` runs at
once, and handed to the caller in order: while gunicorn sends one run, the next ones
are being read and decrypted on the other cores (file I/O and AES-GCM release the GIL).
"""

from __future__ import annotations

import io
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator

from locker.crypto.stream import HEADER_SIZE, ChunkReader, decrypt_range
from vault.blobs import blob_open
from vault.keys import VaultKeys, aad_blob
from vault.models import File, FileVersion
from vault.pipeline import READ_POOL

BATCH_CHUNKS = 16  # chunks per run: 1 MiB of plaintext with the default chunk size
AHEAD = 2  # runs read and decrypted ahead of the one being sent (more only adds thread switches on 2 cores)


def plaintext_chunks(
    keys: VaultKeys, file: File, version: FileVersion, *, start: int | None = None, end: int | None = None
) -> Iterator[bytes]:
    """Yield the plaintext of ``version`` (bytes ``start..end`` inclusive when given) in pieces of up to 1 MiB.

    Every chunk is authenticated before it is yielded, in order; a tampered or truncated
    blob raises :class:`~locker.crypto.DecryptionError` part-way, so a caller streaming to
    a client must abort the response rather than finish it. The keys are unwrapped here,
    before the first piece (they may need the database); the pool threads only read the
    blob and decrypt. Closing the iterator early (the client went away) stops the work.
    """
    content_key = keys.content_key(version, keys.file_key(file))
    aad = aad_blob(file.owner_id, version.pk)
    return _decrypted(content_key, aad, version, start, end)


def _positional(handle) -> Callable[[int, int], bytes]:
    """``read_at(offset, size)`` on an open blob: ``pread`` on a real file (safe from several threads at once)."""
    try:
        fd = handle.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        lock = threading.Lock()

        def read_at(offset: int, size: int) -> bytes:
            with lock:
                handle.seek(offset)
                return handle.read(size)

        return read_at

    def pread_all(offset: int, size: int) -> bytes:
        parts = []
        while size > 0:
            part = os.pread(fd, size, offset)
            if not part:
                break
            parts.append(part)
            offset, size = offset + len(part), size - len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    return pread_all


def _decrypted(content_key: bytes, aad: bytes, version: FileVersion, start: int | None, end: int | None):
    handle = blob_open(version.blob)
    pending: deque = deque()
    try:
        read_at = _positional(handle)
        chunks = ChunkReader(content_key, read_at(0, HEADER_SIZE), version.stored_size, aad=aad)
        if start is None:
            start, end = 0, max(chunks.size - 1, 0)
        elif not 0 <= start <= end < chunks.size:
            raise ValueError("range outside the plaintext")
        size = chunks.chunk_size
        first, last = start // size, end // size

        def run(index: int) -> bytes:
            count = min(BATCH_CHUNKS, last - index + 1)
            plain = chunks.open(index, read_at(*chunks.span(index, count)), count)
            low, high = max(start - index * size, 0), end - index * size + 1
            return plain[low:high] if low or high < len(plain) else plain

        index = first
        while pending or index <= last:
            while index <= last and len(pending) < AHEAD:
                pending.append(READ_POOL.submit(run, index))
                index += BATCH_CHUNKS
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        for future in pending:
            if not future.cancelled():
                future.exception()  # let it finish before its file is closed
        handle.close()


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
