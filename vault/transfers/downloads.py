"""Reading a version's plaintext: stream-decrypt in bounded memory, whole or by byte range.

A download is cut into runs of :data:`BATCH_CHUNKS` chunks (1 MiB). Each run is read
with ``preadv`` into one reused buffer and decrypted with ``decrypt_into`` into another,
in the request's own thread. Measured on 2 cores, this beat handing runs to a thread
pool (thread switches and the GIL cost what the overlap gained) and allocating per
chunk (fresh pages faulted in for every mebibyte): see docs/vault.md.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator

from locker.crypto.errors import DecryptionError
from locker.crypto.stream import DEFAULT_CHUNK_SIZE, HEADER_SIZE, TAG_SIZE, ChunkReader
from vault.keys import VaultKeys, aad_blob
from vault.models import File, FileVersion
from vault.transfers.blobs import blob_open

BATCH_CHUNKS = 16  # chunks per run: 1 MiB of plaintext with the default chunk size
KEEP_BUFFERS = 2  # buffer pairs kept between downloads (2 MiB each)


class _Buffers:
    """Run buffers kept between downloads.

    Fresh ones cost a page fault per 4 KiB on first touch: about 2 ms before the first byte of
    every download over 1 MiB. Up to ``keep`` pairs of the full run size are kept; a download
    takes one if it is free (a shorter run uses its beginning) and otherwise allocates its own.
    A buffer is always written before it is read, so nothing of one download reaches another.
    """

    def __init__(self, keep: int, sealed_size: int, plain_size: int):
        self._keep, self._sizes = keep, (sealed_size, plain_size)
        self._free: list[tuple[memoryview, memoryview]] = []
        self._lock = threading.Lock()

    def take(self, sealed_size: int, plain_size: int) -> tuple[memoryview, memoryview]:
        """A pair of buffers of at least these sizes."""
        with self._lock:
            if self._free and sealed_size <= self._sizes[0] and plain_size <= self._sizes[1]:
                return self._free.pop()
        return memoryview(bytearray(sealed_size)), memoryview(bytearray(plain_size))

    def give(self, pair: tuple[memoryview, memoryview]) -> None:
        with self._lock:
            if (len(pair[0]), len(pair[1])) == self._sizes and len(self._free) < self._keep:
                self._free.append(pair)


BUFFERS = _Buffers(KEEP_BUFFERS, BATCH_CHUNKS * (DEFAULT_CHUNK_SIZE + TAG_SIZE), BATCH_CHUNKS * DEFAULT_CHUNK_SIZE)


def plaintext_chunks(
    keys: VaultKeys,
    file: File,
    version: FileVersion,
    *,
    start: int | None = None,
    end: int | None = None,
    reuse: bool = False,
) -> Iterator[bytes | memoryview]:
    """Yield the plaintext of ``version`` (bytes ``start..end`` inclusive when given) in pieces of up to 1 MiB.

    Pieces are ``bytes``; with ``reuse``, ``memoryview`` slices of one buffer that the next piece overwrites
    (no copy: for a consumer that is done with each piece before asking for the next, such as a socket).

    Every chunk is authenticated before it is yielded, in order; a tampered or truncated
    blob raises :class:`~locker.crypto.DecryptionError` part-way, so a caller streaming to
    a client must abort the response rather than finish it. The keys are unwrapped here,
    before the first piece (they may need the database); the blob is opened at the first
    piece. Closing the iterator early (the client went away) closes the blob.
    """
    keys = keys.for_owner(file.owner_id)
    content_key = keys.content_key(version, keys.file_key(file))
    aad = aad_blob(version.writer_id(file), version.pk)
    return _decrypted(content_key, aad, version, start, end, reuse)


def _positional(handle) -> Callable[[int, memoryview], int]:
    """``read_into(offset, buffer)`` on an open blob: fills ``buffer`` from ``offset`` and returns the bytes read
    (fewer only at the end of the blob). ``preadv`` on a real file; seek and read on other storage."""
    if hasattr(handle, "pread"):  # a blob in an object store: ranged GETs (vault.transfers.objects)
        return handle.pread
    try:
        fd = handle.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):

        def read_into(offset: int, buffer: memoryview) -> int:
            handle.seek(offset)
            data = handle.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

        return read_into

    def preadv_all(offset: int, buffer: memoryview) -> int:
        done = 0
        while done < len(buffer):
            got = os.preadv(fd, [buffer[done:]], offset + done)
            if not got:
                break
            done += got
        return done

    return preadv_all


def _chunk_reader(read_into, content_key: bytes, aad: bytes, version) -> ChunkReader:
    """The chunks of ``version``'s blob, once the blob is known to end exactly where its record says.

    The stream's final chunk is found from the length (its last flag is authenticated), so bytes
    appended after it, or a blob cut short, would otherwise go unnoticed by reads that stop at the
    recorded length, and by every range that does not reach the end.
    """
    header = bytearray(HEADER_SIZE)
    header_read = read_into(0, memoryview(header))
    edge = bytearray(2)  # the last recorded byte and the one after it: exactly one must exist
    if version.stored_size < 1 or read_into(version.stored_size - 1, memoryview(edge)) != 1:
        raise DecryptionError("the stored blob's length differs from its record (extended or truncated)")
    return ChunkReader(content_key, bytes(header[:header_read]), version.stored_size, aad=aad)


def _decrypted(
    content_key: bytes, aad: bytes, version: FileVersion, start: int | None, end: int | None, reuse: bool = False
):
    handle = blob_open(version.blob)
    try:
        read_into = _positional(handle)
        chunks = _chunk_reader(read_into, content_key, aad, version)
        if start is None:
            start, end = 0, max(chunks.size - 1, 0)
        elif not 0 <= start <= end < chunks.size:
            raise ValueError("range outside the plaintext")
        size = chunks.chunk_size
        first, last = start // size, end // size
        if hasattr(handle, "expect"):  # fetch the chunks of the range, and only them, in one request
            span_start, _ = chunks.span(first)
            span_end = sum(chunks.span(last))
            handle.expect(span_start, span_end)
        batch = min(BATCH_CHUNKS, last - first + 1)
        # Two buffers for the whole download: no allocation per chunk and no fresh pages to fault in.
        buffers = BUFFERS.take(batch * chunks.sealed_size, batch * size)
        try:
            sealed, plain = buffers
            for index in range(first, last + 1, batch):
                count = min(batch, last - index + 1)
                offset, length = chunks.span(index, count)
                opened = chunks.open_into(index, sealed[: read_into(offset, sealed[:length])], count, plain)
                low, high = max(start - index * size, 0), min(end - index * size + 1, opened)
                yield plain[low:high] if reuse else bytes(plain[low:high])
        finally:
            BUFFERS.give(buffers)
    finally:
        handle.close()


class PlaintextReader(io.RawIOBase):
    """A seekable, read-only view of a version's plaintext that decrypts only the chunks it is asked for.

    For libraries that need a file object (audio probing), which read a few bytes at a time:
    the header is parsed and the payload key derived once, and the chunk last decrypted is
    kept, so each chunk is read and decrypted once however small the reads. Memory stays at
    about one chunk.
    """

    def __init__(self, keys: VaultKeys, file: File, version: FileVersion):
        keys = keys.for_owner(file.owner_id)
        content_key = keys.content_key(version, keys.file_key(file))
        self._open(version, content_key, aad_blob(version.writer_id(file), version.pk))

    @classmethod
    def of_upload(cls, owner_id, upload) -> PlaintextReader:
        """The plaintext of a finished upload (``vault.transfers.uploads.EncryptedUpload``) before any row holds it."""
        reader = cls.__new__(cls)
        reader._open(upload, upload.content_key, aad_blob(owner_id, upload.version_id))
        return reader

    def _open(self, stored, content_key: bytes, aad: bytes) -> None:
        """``stored``: anything with the blob's name and stored size (a version, an upload)."""
        super().__init__()
        self._pos = 0
        self._handle = blob_open(stored.blob)
        try:
            self._read_into = _positional(self._handle)
            self._chunks = _chunk_reader(self._read_into, content_key, aad, stored)
        except BaseException:
            self._handle.close()
            raise
        self._size = self._chunks.size
        self._current: tuple[int, bytes] = (-1, b"")  # (chunk index, its plaintext)

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

    def _chunk(self, index: int) -> bytes:
        if self._current[0] != index:
            offset, length = self._chunks.span(index)
            sealed = memoryview(bytearray(length))
            self._current = (index, self._chunks.open(index, sealed[: self._read_into(offset, sealed)]))
        return self._current[1]

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        pieces, chunk_size = [], self._chunks.chunk_size
        while self._pos < end:
            index, within = divmod(self._pos, chunk_size)
            piece = self._chunk(index)[within : within + end - self._pos]
            if not piece:  # cannot happen with a stream that authenticates; never loop on it
                break
            pieces.append(piece)
            self._pos += len(piece)
        return b"".join(pieces)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()
