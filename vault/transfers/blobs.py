"""Encrypted blobs on Django's storage API.

Blob names are ``<owner uuid>/<32 random hex>``: a user-supplied name never
reaches a path. With the default ``FileSystemStorage`` (under
``LOCKER_DATA_DIR/blobs``) a blob is written to a temporary name in the same
directory, fsynced, and renamed into place, so a crash never leaves a partial
blob under a real name; callers commit the database row only after
:meth:`BlobWriter.commit`. Other storage backends receive the finished
ciphertext as it is produced (``vault.transfers.objects``: multipart uploads to
an S3-compatible store, ranged reads), with no local copy.

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
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.core.files import File as DjangoFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from vault.transfers import objects
from vault.transfers.objects import MultipartWrite, ObjectReader, is_object_storage
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


class Writeback:
    """Starts the kernel's writeback of a file every :data:`WRITEBACK_EVERY` bytes written to it (without waiting
    for it), so that a final fsync has little left to flush: writing to disk overlaps the rest of the work."""

    def __init__(self, fd: int):
        self.fd = fd
        self._unsynced = 0
        self._written_back = 0

    def wrote(self, size: int) -> None:
        self._unsynced += size
        if self._unsynced >= WRITEBACK_EVERY:
            if _sync_file_range is not None:
                _sync_file_range(self.fd, self._written_back, self._unsynced, SYNC_FILE_RANGE_WRITE)
            self._written_back += self._unsynced
            self._unsynced = 0


class WritebackFile:
    """A binary file (an archive being written) that starts its own writeback as it grows (:class:`Writeback`)."""

    def __init__(self, handle):
        self._handle = handle
        self._writeback = Writeback(handle.fileno())

    def write(self, data) -> int:
        written = self._handle.write(data)
        self._writeback.wrote(len(data))
        return written

    def flush(self) -> None:
        self._handle.flush()

    def fileno(self) -> int:
        return self._handle.fileno()


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
        self._writes = Stage(WRITE_POOL)
        self._object = None
        self._tmp_path = None
        self._closed = True
        if is_object_storage(self.storage):
            self._object = MultipartWrite(self.storage, self.name)
            return
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
        self._writeback = Writeback(fd)

    def write(self, data: bytes | Iterable[bytes]) -> None:
        """Queue ``data`` (bytes, or a list of pieces written as one batch) after what came before."""
        pieces = [data] if isinstance(data, bytes | bytearray | memoryview) else [piece for piece in data if piece]
        size = sum(len(piece) for piece in pieces)
        if not size:
            return
        self._writes.submit(self._write_now, pieces, size)
        self.size += size

    def _write_now(self, pieces: list, size: int) -> None:
        if self._object is not None:
            self._object.write(pieces)
            return
        _write_all(self._fd, pieces)
        self._writeback.wrote(size)  # only a hint: the fsync at commit is what counts

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def commit(self) -> str:
        """Finish the writes, fsync and move the blob into place. Returns its storage name."""
        if self._object is not None:
            self._writes.wait()
            self._object.complete()
            self._done = True
            return self.name
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
        if self._object is not None:
            self._object.abort()
        elif os.path.exists(self._tmp_path):
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
    """A blob as a read-only binary file (``.size`` its length). In an object store, it reads with ranged GETs
    (``pread``, ``expect``: :class:`vault.transfers.objects.ObjectReader`)."""
    storage = storage or blob_storage()
    if is_object_storage(storage):
        return ObjectReader(storage, name)
    return storage.open(name, "rb")


def blob_size(name: str, storage: Storage | None = None) -> int:
    storage = storage or blob_storage()
    if is_object_storage(storage):
        return ObjectReader(storage, name).size
    return storage.size(name)


def blob_exists(name: str, storage: Storage | None = None) -> bool:
    storage = storage or blob_storage()
    if is_object_storage(storage):
        return objects.blob_exists(storage, name)
    return storage.exists(name)


def _delete_now(storage: Storage, name: str) -> None:
    if is_object_storage(storage):
        objects.delete_blob(storage, name)
    elif storage.exists(name):
        storage.delete(name)


def blob_delete(name: str, storage: Storage | None = None) -> None:
    """Delete a blob, or, while an instance backup is being taken (:func:`deletions_held`), note it for deletion
    when the backup ends: the backup's database snapshot may still hold its row."""
    if storage is None and deletions_held():
        _defer_deletion(name)
        return
    _delete_now(storage or blob_storage(), name)


def blob_put(name: str, pieces: Iterable[bytes], storage: Storage | None = None) -> int:
    """Write a blob under a given name (a restore), atomically like :class:`BlobWriter`: a temporary name,
    fsync, rename. Returns its size."""
    storage = storage or blob_storage()
    size = 0
    if is_object_storage(storage):
        upload = MultipartWrite(storage, name)  # visible under its name only once complete
        try:
            for piece in pieces:
                upload.write([piece])
                size += len(piece)
            upload.complete()
        except BaseException:
            upload.abort()
            raise
        return size
    if isinstance(storage, FileSystemStorage):
        final = storage.path(name)
        os.makedirs(os.path.dirname(final), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=os.path.dirname(final))
        try:
            for piece in pieces:
                _write_all(fd, [piece])
                size += len(piece)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.replace(tmp, final)
        return size
    with tempfile.TemporaryFile(dir=settings.LOCKER_DATA_DIR) as handle:
        for piece in pieces:
            handle.write(piece)
            size += len(piece)
        handle.seek(0)
        _delete_now(storage, name)
        storage.save(name, DjangoFile(handle))
    return size


# --- holding deletions while a backup reads the blobs ------------------------------------------------------------
# A backup reads its rows from one database snapshot and then the blobs they name. A blob whose row is deleted
# after the snapshot must still be there when the backup reaches it, so while a backup runs, deletions are noted in
# a list and carried out when the last backup ends (or by ``manage.py locker_cleanup`` after a crash). A hold is a
# file under the data directory, touched every HOLD_BEAT seconds by the backup; one untouched for HOLD_STALE
# seconds is a crashed backup's and no longer holds anything.
HOLD_BEAT = 20
HOLD_STALE = 300


def _hold_dir() -> str:
    return str(settings.LOCKER_BACKUP_HOLDS_DIR)


def deletions_held() -> bool:
    directory = _hold_dir()
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return False
    now = time.time()
    for name in names:
        if name.endswith(".hold"):
            try:
                if now - os.stat(os.path.join(directory, name)).st_mtime < HOLD_STALE:
                    return True
            except FileNotFoundError:
                continue
    return False


def _defer_deletion(name: str) -> None:
    os.makedirs(_hold_dir(), mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(_hold_dir(), "deferred"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, f"{name}\n".encode())
    finally:
        os.close(fd)


@contextmanager
def deletions_hold():
    """Hold blob deletions for the duration of the block (an instance backup), then carry out those noted."""
    os.makedirs(_hold_dir(), mode=0o700, exist_ok=True)
    path = os.path.join(_hold_dir(), f"{os.getpid()}-{secrets.token_hex(8)}.hold")
    open(path, "w").close()
    stop = threading.Event()

    def beat():
        while not stop.wait(HOLD_BEAT):
            try:
                os.utime(path)
            except FileNotFoundError:
                return

    beater = threading.Thread(target=beat, name="backup-hold", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join()
        os.unlink(path)
        release_held_deletions()


def release_held_deletions() -> int:
    """Delete the blobs noted while deletions were held, unless a backup still holds them. Returns how many."""
    if deletions_held():
        return 0
    listed = os.path.join(_hold_dir(), "deferred")
    taken = f"{listed}.{secrets.token_hex(8)}"
    try:
        os.replace(listed, taken)  # a deletion noted from now on lands in a new list
    except FileNotFoundError:
        return 0
    with open(taken) as handle:
        names = [line.strip() for line in handle if line.strip()]
    storage = blob_storage()
    for name in names:
        _delete_now(storage, name)
    os.unlink(taken)
    return len(names)
