"""Encrypted blobs on Django's storage API.

Blob names are ``<owner uuid>/<32 random hex>``: a user-supplied name never
reaches a path. With the default ``FileSystemStorage`` (under
``LOCKER_DATA_DIR/blobs``) a blob is written to a temporary name in the same
directory, fsynced, and renamed into place, so a crash never leaves a partial
blob under a real name; callers commit the database row only after
:meth:`BlobWriter.commit`. Other storage backends receive the finished
ciphertext through ``storage.save``.

Writes happen on a pool thread (``vault.transfers.pipeline``), one batch in flight per
blob, so the caller prepares the next piece while the disk takes the last one
(the system calls release the GIL). A write error surfaces at the next
``write()`` or at ``commit()``; memory stays bounded by one batch.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import tempfile
from collections.abc import Iterable

from django.conf import settings
from django.core.files import File as DjangoFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from vault.transfers.pipeline import WRITE_POOL, Stage

TMP_PREFIX = ".partial-"
# Every this many bytes, ask the kernel to start writing the blob back to disk (without waiting),
# so that the final fsync, which the commit must wait for, has little left to flush.
WRITEBACK_EVERY = 16 * 1024 * 1024
SYNC_FILE_RANGE_WRITE = 2


def _find_sync_file_range():
    """Linux's ``sync_file_range(2)`` (not in the os module): starts writeback and keeps the pages cached,
    so a download right after the upload reads from memory. None where the C library lacks it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _find_sync_file_range()


def _write_all(fd: int, pieces: list) -> None:
    """``writev`` the pieces, continuing after short writes."""
    views = [memoryview(piece) for piece in pieces]
    while views:
        written = os.writev(fd, views[:1024])  # IOV_MAX
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def blob_storage() -> Storage:
    """The ``vault`` entry of ``settings.STORAGES`` (another backend is a settings change)."""
    return storages["vault"]


def new_blob_name(owner_id) -> str:
    return f"{owner_id}/{secrets.token_hex(16)}"


class BlobWriter:
    """Write ciphertext pieces to a new blob; ``commit()`` makes it durable, ``abort()`` removes it."""

    def __init__(self, owner_id, storage: Storage | None = None):
        self.storage = storage or blob_storage()
        self.name = new_blob_name(owner_id)
        self.size = 0
        self._done = False
        if isinstance(self.storage, FileSystemStorage):
            directory = os.path.dirname(self.storage.path(self.name))
            os.makedirs(directory, mode=0o700, exist_ok=True)
            self._final_path = self.storage.path(self.name)
            fd, self._tmp_path = tempfile.mkstemp(prefix=TMP_PREFIX, dir=directory)
        else:
            self._final_path = None
            fd, self._tmp_path = tempfile.mkstemp(prefix=TMP_PREFIX, dir=settings.LOCKER_DATA_DIR)
        self._fd = fd
        self._closed = False
        self._writes = Stage(WRITE_POOL)
        self._unsynced = 0
        self._written_back = 0

    def write(self, data: bytes | Iterable[bytes]) -> None:
        """Queue ``data`` (bytes, or a list of pieces written as one batch) after what came before."""
        pieces = [data] if isinstance(data, bytes | bytearray | memoryview) else [piece for piece in data if piece]
        size = sum(len(piece) for piece in pieces)
        if not size:
            return
        self._writes.submit(self._write_now, pieces, size)
        self.size += size

    def _write_now(self, pieces: list, size: int) -> None:
        _write_all(self._fd, pieces)
        self._unsynced += size
        if self._unsynced >= WRITEBACK_EVERY:
            self._start_writeback()

    def _start_writeback(self) -> None:
        """Start asynchronous writeback of what is written so far; only a hint (fsync at commit is what counts)."""
        if _sync_file_range is not None:
            _sync_file_range(self._fd, self._written_back, self._unsynced, SYNC_FILE_RANGE_WRITE)
        self._written_back += self._unsynced
        self._unsynced = 0

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def commit(self) -> str:
        """Finish the writes, fsync and move the blob into place. Returns its storage name."""
        try:
            self._writes.wait()
            os.fsync(self._fd)
        finally:
            self._close()
        if self._final_path is not None:
            os.replace(self._tmp_path, self._final_path)
            dir_fd = os.open(os.path.dirname(self._final_path), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        else:
            with open(self._tmp_path, "rb") as handle:
                self.name = self.storage.save(self.name, DjangoFile(handle))
            os.unlink(self._tmp_path)
        self._done = True
        return self.name

    def abort(self) -> None:
        """Forget everything written (idempotent)."""
        self._writes.drain()  # the blob is being thrown away: a failed write changes nothing
        self._close()
        if os.path.exists(self._tmp_path):
            os.unlink(self._tmp_path)
        if self._done:
            blob_delete(self.name, storage=self.storage)
        self._done = False

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def blob_open(name: str, storage: Storage | None = None):
    return (storage or blob_storage()).open(name, "rb")


def blob_size(name: str, storage: Storage | None = None) -> int:
    return (storage or blob_storage()).size(name)


def blob_delete(name: str, storage: Storage | None = None) -> None:
    storage = storage or blob_storage()
    if storage.exists(name):
        storage.delete(name)
