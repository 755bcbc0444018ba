"""Encrypt an upload while it streams in.

An :class:`UploadSink` takes plaintext pieces as they arrive (from a Django
upload handler, a raw ``PUT`` body or a local file), encrypts them with a fresh
content key in the LKS1 format and writes ciphertext to a new blob. It keeps a
keyed HMAC of the plaintext and the first bytes for MIME sniffing; no
plaintext reaches the disk and no whole file is held in memory.

``finish()`` makes the blob durable and returns an :class:`EncryptedUpload`
that a service turns into database rows in one transaction; ``abort()`` (or
any error) removes the blob.
"""

from __future__ import annotations

import errno
import hmac
import mimetypes
import uuid
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import filetype
from django.conf import settings

from locker.crypto.keys import new_key
from locker.crypto.stream import Encryptor
from locker.errors import LockerError
from locker.units import format_bytes
from vault.keys import aad_blob
from vault.transfers.blobs import BlobWriter, blob_delete
from vault.transfers.pipeline import HASH_POOL, SEAL_POOL, Stage

SNIFF_BYTES = 8192


class FileTooLarge(LockerError):
    status_code = 413
    code = "file_too_large"

    def __init__(self, limit: int):
        super().__init__(f"Files are limited to {format_bytes(limit, trim=True)} each.")


class StorageFull(LockerError):
    status_code = 507
    code = "storage_full"
    detail = "The server has no room left on its disk for this upload; nothing was stored."


_FULL = {errno.ENOSPC, errno.EDQUOT}


@dataclass
class EncryptedUpload:
    version_id: uuid.UUID
    content_key: bytes
    blob: str
    size: int
    stored_size: int
    content_mac: str
    mime_type: str
    name: str
    writer_id: Any = None  # the account whose id binds the blob (FileVersion.author)
    derivation: Any = None  # vault.derived.derive.DerivedResult, once derived (its thumbnail blob goes with the upload)
    modified_at: Any = None  # the content's time as the client gives it (WebDAV's X-OC-Mtime); None: now

    def discard(self) -> None:
        blob_delete(self.blob)
        if self.derivation is not None:
            self.derivation.discard()


def sniff_mime(head: bytes, name: str) -> str:
    """The MIME type from the content's first bytes; the name only refines plain text."""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return kind.mime
    try:
        head.decode("utf-8")
        is_text = True
    except UnicodeDecodeError:
        # a multi-byte character cut at the sniff boundary is still text
        is_text = len(head) >= SNIFF_BYTES and _decodes_after_trim(head)
    if not head:
        return "application/octet-stream"
    if is_text:
        guessed, _ = mimetypes.guess_type(name or "")
        if guessed and (guessed.startswith("text/") or guessed in {"application/json", "application/xml"}):
            # served with nosniff and as an attachment; never executed
            return guessed
        return "text/plain"
    return "application/octet-stream"


def _decodes_after_trim(head: bytes) -> bool:
    for cut in range(1, 4):
        try:
            head[:-cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


class UploadSink:
    def __init__(self, *, owner_id, mac_key: bytes, name: str = "", max_size: int | None = None):
        self.owner_id = owner_id
        self.name = name
        self.version_id = uuid.uuid4()
        self.content_key = new_key()
        self.max_size = settings.LOCKER_MAX_UPLOAD_SIZE if max_size is None else max_size
        self._encryptor = Encryptor(self.content_key, aad=aad_blob(owner_id, self.version_id))
        self._writer = BlobWriter(owner_id)
        self._mac = hmac.new(mac_key, digestmod=sha256)
        self._hashing = Stage(HASH_POOL)
        self._sealing = Stage(SEAL_POOL)
        self._head = bytearray()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        try:
            self._write(data)
        except OSError as exc:
            self._disk_error(exc)

    def _disk_error(self, exc: OSError):
        """Abort, and tell a full disk apart from other failures (which stay server errors)."""
        self.abort()
        if exc.errno in _FULL:
            raise StorageFull() from exc
        raise exc

    def _write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_size:
            self.abort()
            raise FileTooLarge(self.max_size)
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
        # This thread goes back to reading the next piece while others hash this one, seal it and
        # write it (a pipeline: vault.transfers.pipeline); each step keeps its order and one piece in flight.
        self._hashing.submit(self._mac.update, data)
        self._sealing.submit(self._seal, data)

    def _seal(self, data: bytes) -> None:
        self._writer.write(self._encryptor.update_pieces(data))

    def finish(self) -> EncryptedUpload:
        try:
            self._sealing.wait()
            self._writer.write(self._encryptor.finalize())
            blob = self._writer.commit()
        except OSError as exc:
            self._disk_error(exc)
        self.closed = True
        return EncryptedUpload(
            version_id=self.version_id,
            content_key=self.content_key,
            blob=blob,
            size=self.size,
            stored_size=self._writer.size,
            content_mac=self._mac_digest(),
            mime_type=sniff_mime(bytes(self._head), self.name),
            name=self.name,
            writer_id=self.owner_id,
        )

    def _mac_digest(self) -> str:
        self._hashing.wait()
        return self._mac.hexdigest()[:32]

    def abort(self) -> None:
        self._hashing.drain()
        self._sealing.drain()
        self._writer.abort()
        self.closed = True


def upload_from_iterable(
    *, owner_id, mac_key: bytes, name: str, pieces, max_size: int | None = None
) -> EncryptedUpload:
    """Encrypt an iterable of byte pieces (a raw body, a local file) into a finished upload."""
    sink = UploadSink(owner_id=owner_id, mac_key=mac_key, name=name, max_size=max_size)
    try:
        for piece in pieces:
            sink.write(piece)
        return sink.finish()
    except BaseException:
        if not sink.closed:
            sink.abort()
        raise
