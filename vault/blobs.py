"""Encrypted blobs on Django's storage API.

Blob names are ``<owner uuid>/<32 random hex>``: a user-supplied name never
reaches a path. With the default ``FileSystemStorage`` (under
``LOCKER_DATA_DIR/blobs``) a blob is written to a temporary name in the same
directory, fsynced, and renamed into place, so a crash never leaves a partial
blob under a real name; callers commit the database row only after
:meth:`BlobWriter.commit`. Other storage backends receive the finished
ciphertext through ``storage.save``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.files import File as DjangoFile
from django.core.files.storage import FileSystemStorage, Storage, storages

TMP_PREFIX = ".partial-"
# Start writing back to disk every this many bytes, in the background, so that the
# final fsync (which the commit must wait for) has little left to flush.
WRITEBACK_EVERY = 32 * 1024 * 1024
_writeback_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blob-writeback")


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
        self._file = os.fdopen(fd, "wb")
        self._unsynced = 0
        self._writeback: Future | None = None

    def write(self, data: bytes) -> None:
        if data:
            self._file.write(data)
            self.size += len(data)
            self._unsynced += len(data)
            if self._unsynced >= WRITEBACK_EVERY and (self._writeback is None or self._writeback.done()):
                self._file.flush()
                self._writeback = _writeback_pool.submit(os.fdatasync, self._file.fileno())
                self._unsynced = 0

    def _wait_writeback(self) -> None:
        if self._writeback is not None:
            try:
                self._writeback.result()
            except OSError:
                pass  # the final fsync reports real problems
            self._writeback = None

    def commit(self) -> str:
        """Flush, fsync and move the blob into place. Returns its storage name."""
        self._file.flush()
        self._wait_writeback()
        os.fsync(self._file.fileno())
        self._file.close()
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
        self._wait_writeback()
        if not self._file.closed:
            self._file.close()
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
