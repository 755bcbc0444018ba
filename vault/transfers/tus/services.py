"""Resumable uploads (tus 1.0): create, append, finish, terminate, expire (docs/uploads.md).

Bytes are encrypted as they arrive, in the stream format, under the content key the finished version will have:
whole 64 KiB chunks are appended to the upload's blob, the plaintext after the last whole chunk is kept sealed in
the row (``Upload.pending_sealed``) until the next bytes complete it, so a client may send pieces of any size and
nothing of an unfinished upload is readable at rest. Each append is made durable (fsync) before its offset is
saved; bytes of a torn append beyond the saved ``blob_size`` are cut off by the next one.

One request at a time appends to an upload: it takes a lease (``busy_until``, renewed while it reads) with one
conditional ``UPDATE``; a second request meanwhile is refused with 423, never interleaved. The room the finished
file will take is held from creation (``reserved``, counted by ``vault.files.services._charge_quota``) until it
finishes, is terminated or expires (``LOCKER_UPLOAD_EXPIRE_HOURS`` after its last change; housekeeping removes
expired ones). The finished upload becomes a file, or a new version of one, through ``vault.files.services``, so
it is versioned, indexed, shared, notified and logged like any other upload.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from activity import actions
from activity.services import event_record
from locker.crypto.keys import new_key
from locker.crypto.stream import Encryptor, ciphertext_size, decrypt_iter
from locker.errors import Conflict, InvalidInput, LockerError, NotFound
from vault.common import QuotaExceeded, clean_name, clean_tags, is_uuid, owned_file, owned_folder, owner_of
from vault.derived.derive import derive_upload
from vault.files import services as files
from vault.keys import VaultKeys, aad_blob
from vault.models import Upload
from vault.transfers.blobs import Writeback, _write_all, blob_delete, blob_put, blob_storage, new_blob_name
from vault.transfers.pipeline import HASH_POOL, SEAL_POOL, Stage
from vault.transfers.receive import IncompleteUpload
from vault.transfers.uploads import SNIFF_BYTES, EncryptedUpload, FileTooLarge, sniff_mime

CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
CONFLICT_CHOICES = ("version", "rename", "error")
LEASE = timedelta(seconds=60)
RENEW_EVERY = 15.0  # seconds between two renewals of the lease while a body is read


class UploadBusy(LockerError):
    status_code = 423
    code = "upload_busy"
    detail = "Another request is sending bytes to this upload; wait for it to end (or for 60 s after it stopped)."


class OffsetMismatch(Conflict):
    code = "offset_mismatch"


class UploadExpired(LockerError):
    status_code = 410
    code = "upload_expired"
    detail = "This upload expired: its bytes were removed. Start it again."


class ChecksumMismatch(LockerError):
    status_code = 460
    code = "checksum_mismatch"
    detail = "The bytes sent do not match Upload-Checksum; nothing of them was kept. Send them again."


class LengthExceeded(LockerError):
    status_code = 413
    code = "upload_length_exceeded"
    detail = "More bytes were sent than the upload's Upload-Length; nothing of them was kept."


@dataclass
class Target:
    """Where a finished upload goes: a new file (name, folder, tags, what to do when the name is taken) or a new
    version of ``file_id``."""

    name: str
    folder_id: str | None = None
    tags: tuple[str, ...] = ()
    file_id: str | None = None
    on_conflict: str = "version"


def _expiry():
    return timezone.now() + timedelta(hours=settings.LOCKER_UPLOAD_EXPIRE_HOURS)


def _target_from(user, keys: VaultKeys, metadata: dict[str, str]) -> tuple[Target, User]:
    """The finished upload's target from ``Upload-Metadata``, checked now (404 for what the user may not write),
    and whose storage it takes."""
    file_id = metadata.get("file") or None
    if file_id is not None:
        if not is_uuid(file_id):
            raise NotFound("No such file.")
        file = owned_file(user, file_id, shared=True)
        return Target(name=keys.file_name(file), file_id=str(file.pk)), owner_of(user, file)
    name = clean_name(metadata.get("name") or metadata.get("filename") or "")
    raw_tags = metadata.get("tags", "")
    try:
        tags = json.loads(raw_tags) if raw_tags.startswith("[") else [t for t in raw_tags.split(",") if t.strip()]
    except ValueError:
        raise InvalidInput(errors={"tags": ["A JSON list or comma-separated tags."]}) from None
    tags = clean_tags(tags)
    on_conflict = metadata.get("on_conflict") or "version"
    if on_conflict not in CONFLICT_CHOICES:
        raise InvalidInput(errors={"on_conflict": [f"One of: {', '.join(CONFLICT_CHOICES)}."]})
    folder_id = metadata.get("folder") or None
    folder = None
    if folder_id is not None:
        if not is_uuid(folder_id):
            raise NotFound("No such folder.")
        folder = owned_folder(user, folder_id, shared=True)
    target = Target(name=name, folder_id=folder and str(folder.pk), tags=tuple(tags), on_conflict=on_conflict)
    return target, owner_of(user, folder)


def upload_create(*, user: User, keys: VaultKeys, length: int, metadata: dict[str, str], meta=None) -> Upload:
    """Start an upload of ``length`` bytes; holds the room it will take in its target's owner's quota."""
    if length > settings.LOCKER_MAX_UPLOAD_SIZE:
        raise FileTooLarge(settings.LOCKER_MAX_UPLOAD_SIZE)
    target, quota_user = _target_from(user, keys, metadata)
    upload_id = uuid.uuid4()
    version_id = uuid.uuid4()
    content_key = new_key()
    reserved = ciphertext_size(length)
    header = Encryptor(content_key, aad=aad_blob(user.pk, version_id)).header
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=quota_user.pk)
        held = files.reserved_bytes(quota_user)
        if locked.storage_used + held + reserved > locked.storage_quota:
            refusal = QuotaExceeded.needing(
                needed=reserved, free=locked.storage_quota - locked.storage_used - held, quota=locked.storage_quota
            )
        else:
            refusal = None
            upload = Upload.objects.create(
                id=upload_id,
                owner=user,
                quota_user=quota_user,
                version_id=version_id,
                length=length,
                reserved=reserved,
                key_wrapped=keys.wrap_upload_key(upload_id, content_key),
                meta_sealed=base64.b64encode(
                    keys.seal_upload_part(content_key, upload_id, "meta", json.dumps(target.__dict__).encode())
                ).decode(),
                header=header,
                blob=new_blob_name(user.pk),
                expires_at=_expiry(),
            )
    if refusal is not None:
        event_record(action=actions.QUOTA_REFUSED, user=user, outcome="failure", meta=meta, data={"bytes": reserved})
        raise refusal
    return upload


def upload_get(*, user: User, upload_id) -> Upload:
    """The user's own upload (404 for anyone else's), 410 once expired."""
    if not is_uuid(upload_id):
        raise NotFound("No such upload.")
    upload = Upload.objects.filter(owner=user, pk=upload_id).first()
    if upload is None:
        raise NotFound("No such upload.")
    if upload.expires_at <= timezone.now():
        raise UploadExpired()
    return upload


def _lease(upload: Upload):
    """Take the upload for this request, or 423. Returns the lease's time (its token)."""
    now = timezone.now()
    until = now + LEASE
    taken = Upload.objects.filter(pk=upload.pk, busy_until__isnull=True).update(busy_until=until)
    taken = taken or Upload.objects.filter(pk=upload.pk, busy_until__lt=now).update(busy_until=until)
    if not taken:
        raise UploadBusy()
    return until


def _renew(upload: Upload, held):
    until = timezone.now() + LEASE
    if not Upload.objects.filter(pk=upload.pk, busy_until=held).update(busy_until=until):
        raise UploadBusy("The upload was taken over by another request after this one stalled.")
    return until


def _release(upload: Upload, held) -> None:
    Upload.objects.filter(pk=upload.pk, busy_until=held).update(busy_until=None)


def _staged() -> bool:
    """Whether unfinished uploads grow outside the blob storage: an object store cannot append, so their bytes
    grow in ``LOCKER_UPLOAD_DIR`` (shared by the app servers) and go to the store when the last byte arrives."""
    return not isinstance(blob_storage(), FileSystemStorage)


def _blob_path(upload: Upload) -> str:
    if _staged():
        path = os.path.join(settings.LOCKER_UPLOAD_DIR, upload.blob)
    else:
        path = blob_storage().path(upload.blob)  # grows in place, under the name its version will keep
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    return path


def _partial_delete(blob: str) -> None:
    """Delete an unfinished upload's bytes."""
    if _staged():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(settings.LOCKER_UPLOAD_DIR, blob))
    else:
        blob_delete(blob)


def _file_pieces(path: str, size: int = 8 * 1024 * 1024):
    with open(path, "rb") as handle:
        while piece := handle.read(size):
            yield piece


class _Append:
    """One request's bytes, appended: encrypted on arrival, written after the blob's saved size."""

    def __init__(self, upload: Upload, keys: VaultKeys):
        self.upload = upload
        self.keys = keys
        self.content_key = keys.upload_key(upload)
        pending = b""
        if upload.pending_sealed:
            pending = keys.open_upload_part(
                self.content_key, upload.pk, "pending", upload.pending_sealed, position=upload.offset
            )
        self.encryptor = Encryptor.resume(
            self.content_key,
            aad=aad_blob(upload.owner_id, upload.version_id),
            header=bytes(upload.header),
            sealed_chunks=upload.sealed_chunks,
            pending=pending,
        )
        # the content MAC and the MIME sniff can run along only when the bytes start here
        self.mac = hmac.new(keys.content_mac_key(), digestmod=hashlib.sha256) if upload.offset == 0 else None
        self.head = bytearray()
        self.fd = os.open(_blob_path(upload), os.O_WRONLY | os.O_CREAT, 0o600)
        self._writeback = Writeback(self.fd)
        os.ftruncate(self.fd, upload.blob_size)  # a torn append's bytes go
        os.lseek(self.fd, upload.blob_size, os.SEEK_SET)
        self.written = upload.blob_size
        if upload.blob_size == 0:
            self._write([bytes(upload.header)])
        self.received = 0
        self._hashing = Stage(HASH_POOL)
        self._sealing = Stage(SEAL_POOL)

    def _write(self, pieces) -> None:
        pieces = [piece for piece in pieces if piece]
        _write_all(self.fd, pieces)
        size = sum(len(piece) for piece in pieces)
        self.written += size
        self._writeback.wrote(size)  # to disk while more arrives: the fsync at the end has little left

    def add(self, piece: bytes) -> None:
        # This thread goes back to reading the body while others hash the piece and seal and write it (as
        # vault.transfers.uploads does: each step keeps its order, one piece in flight).
        if self.mac is not None:
            self._hashing.submit(self.mac.update, piece)
            if len(self.head) < SNIFF_BYTES:
                self.head += piece[: SNIFF_BYTES - len(self.head)]
        self._sealing.submit(self._seal, piece)
        self.received += len(piece)

    def _seal(self, piece: bytes) -> None:
        self._write(self.encryptor.update_pieces(piece))

    def settle(self) -> None:
        """Wait for the pieces in flight (raising what went wrong in them)."""
        self._hashing.wait()
        self._sealing.wait()

    def rollback(self) -> None:
        self._hashing.drain()
        self._sealing.drain()
        if self.fd is not None:
            os.ftruncate(self.fd, self.upload.blob_size)
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def save(self) -> int:
        """Make what arrived durable and save the new offset; returns it."""
        self.settle()
        os.fsync(self.fd)
        self.close()
        sealed_chunks, pending = self.encryptor.state()
        offset = self.upload.offset + self.received
        Upload.objects.filter(pk=self.upload.pk).update(
            offset=offset,
            blob_size=self.written,
            sealed_chunks=sealed_chunks,
            pending_sealed=self.keys.seal_upload_part(
                self.content_key, self.upload.pk, "pending", pending, position=offset
            )
            if pending
            else b"",
            expires_at=_expiry(),
        )
        return offset

    def finalize(self) -> EncryptedUpload:
        """The final chunk written, the blob durable: the upload as an encrypted file, ready for the services."""
        self.settle()
        self._write([self.encryptor.finalize()])
        os.fsync(self.fd)
        self.close()
        target = self.target()
        if self.mac is not None:
            mac, head = self.mac.hexdigest()[:32], bytes(self.head)
        else:
            mac, head = self._read_back()
        if _staged():  # into the object store under its name, then the staged copy goes
            path = _blob_path(self.upload)
            blob_put(self.upload.blob, _file_pieces(path))
            os.unlink(path)
        return EncryptedUpload(
            version_id=self.upload.version_id,
            content_key=self.content_key,
            blob=self.upload.blob,
            size=self.upload.length,
            stored_size=self.written,
            content_mac=mac,
            mime_type=sniff_mime(head, target.name),
            name=target.name,
            writer_id=self.upload.owner_id,
        )

    def _read_back(self) -> tuple[str, bytes]:
        """The content MAC and first bytes of an upload that arrived over several requests: one decrypting pass
        over the finished blob (which checks every chunk of it too)."""
        mac = hmac.new(self.keys.content_mac_key(), digestmod=hashlib.sha256)
        head = bytearray()
        with open(_blob_path(self.upload), "rb") as handle:
            for piece in decrypt_iter(
                self.content_key, handle, aad=aad_blob(self.upload.owner_id, self.upload.version_id)
            ):
                mac.update(piece)
                if len(head) < SNIFF_BYTES:
                    head += piece[: SNIFF_BYTES - len(head)]
        return mac.hexdigest()[:32], bytes(head)

    def target(self) -> Target:
        sealed = base64.b64decode(self.upload.meta_sealed)
        return Target(**json.loads(self.keys.open_upload_part(self.content_key, self.upload.pk, "meta", sealed)))


@dataclass
class AppendResult:
    offset: int
    file_id: uuid.UUID | None = None  # set once the upload finished
    created: bool = False


def upload_append(
    *, user: User, keys: VaultKeys, upload_id, offset: int, pieces, checksum: tuple[str, bytes] | None = None, meta=None
) -> AppendResult:
    """Append a request body (``pieces``) at ``offset``; finishes the upload when its last byte arrives.

    Without a checksum, the bytes of a body that ends early are kept (the client resumes after them); with one
    (``(algorithm, digest)``) the whole body must arrive and match, else nothing of it is kept (460)."""
    upload = upload_get(user=user, upload_id=upload_id)
    if upload.finished:
        if offset == upload.length:
            return AppendResult(offset=upload.length, file_id=upload.file_id)
        raise OffsetMismatch(f"The upload is complete: its offset is {upload.length}.")
    if offset != upload.offset:
        raise OffsetMismatch(f"The upload's offset is {upload.offset}, not {offset}: resume from there.")
    held = _lease(upload)
    try:
        upload.refresh_from_db()
        if upload.offset != offset:  # another request appended between the check and the lease
            raise OffsetMismatch(f"The upload's offset is {upload.offset}, not {offset}: resume from there.")
        return _append_leased(user, keys, upload, held, pieces, checksum, meta)
    finally:
        _release(upload, held)


def _append_leased(user, keys, upload: Upload, held, pieces, checksum, meta) -> AppendResult:
    append = _Append(upload, keys)
    digest = CHECKSUMS[checksum[0]]() if checksum else None
    room = upload.length - upload.offset
    renewed = time.monotonic()
    try:
        try:
            for piece in pieces:
                if append.received + len(piece) > room:
                    raise LengthExceeded()
                if digest is not None:
                    digest.update(piece)
                append.add(piece)
                if time.monotonic() - renewed > RENEW_EVERY:
                    held = _renew(upload, held)
                    renewed = time.monotonic()
        except (IncompleteUpload, OSError) as exc:
            if digest is not None or (isinstance(exc, OSError) and not _client_gone(exc)):
                raise
            # the client went away: keep what arrived, it resumes after it
        if digest is not None and not hmac.compare_digest(digest.digest(), checksum[1]):
            raise ChecksumMismatch()
    except BaseException:
        append.rollback()
        raise
    if upload.offset + append.received < upload.length:
        return AppendResult(offset=append.save())
    return _finish(user, keys, upload, append, meta)


def _client_gone(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError)


def _finish(user, keys: VaultKeys, upload: Upload, append: _Append, meta) -> AppendResult:
    try:
        encrypted = append.finalize()
    except BaseException:
        append.rollback()
        raise
    target = append.target()
    derive_upload(keys=keys, upload=encrypted)  # thumbnail and text, before any transaction
    try:
        with transaction.atomic():
            # its own room is no longer held: the file's stored size (the same bytes) is charged instead
            Upload.objects.filter(pk=upload.pk).update(reserved=0, offset=upload.length, blob_size=append.written)
            if target.file_id:
                files.file_version_add(user=user, keys=keys, file_id=target.file_id, upload=encrypted, meta=meta)
                file_id, created = uuid.UUID(target.file_id), False
            else:
                result = files.file_upload(
                    user=user,
                    keys=keys,
                    upload=encrypted,
                    folder_id=target.folder_id,
                    tags=list(target.tags),
                    on_conflict=target.on_conflict,
                    meta=meta,
                )
                file_id, created = result.file.pk, result.created
            Upload.objects.filter(pk=upload.pk).update(file_id=file_id, pending_sealed=b"", expires_at=_expiry())
    except BaseException:
        # the services removed the blob; the upload cannot be finished any more (its target went away, its name
        # is taken): it goes, and the room it held with it
        Upload.objects.filter(pk=upload.pk).delete()
        raise
    return AppendResult(offset=upload.length, file_id=file_id, created=created)


def upload_terminate(*, user: User, upload_id) -> None:
    """Forget an upload: an unfinished one's bytes are deleted and its room freed (423 while a request appends)."""
    upload = upload_get(user=user, upload_id=upload_id)
    if upload.finished:
        Upload.objects.filter(pk=upload.pk).delete()  # its blob is its file's now
        return
    held = _lease(upload)
    with transaction.atomic():
        deleted, _ = Upload.objects.filter(pk=upload.pk, busy_until=held).delete()
    if deleted:
        _partial_delete(upload.blob)


def uploads_expire(*, now=None) -> int:
    """Delete uploads past their expiry: an unfinished one's bytes, and its reservation. Returns how many."""
    now = now or timezone.now()
    expired = Upload.objects.filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now), expires_at__lte=now)
    rows = list(expired.values_list("pk", "blob", "file_id"))
    Upload.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    for _, blob, file_id in rows:
        if file_id is None:
            _partial_delete(blob)
    return len(rows)


def metadata_parse(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (a value may be absent), keys unique."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        if not key or not key.isascii() or key in found or " " in value.strip():
            raise InvalidInput("Upload-Metadata is malformed: comma-separated 'key base64value' pairs, keys unique.")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value.strip() else ""
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8 text.") from None
    return found
