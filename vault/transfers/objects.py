"""Blobs in an S3-compatible object store (``LOCKER_BLOB_STORAGE=s3``), behind ``vault.transfers.blobs``.

django-storages' ``S3Storage`` holds the settings, the per-thread boto3 connection and the key prefix; its file
object would spool a whole blob to a temporary file, so blobs stream here instead, on its client:

- :class:`MultipartWrite`: the ciphertext goes up in parts of :data:`PART_SIZE` while it is produced (one part
  buffered, one on the wire: constant memory, no local copy of the blob); a blob smaller than one part is one
  ``PutObject``. Nothing is visible under the blob's name before ``complete``; ``abort`` leaves nothing behind.
- :class:`ObjectReader`: a read-only file over a blob. ``pread`` fetches exactly the bytes asked for (a ``Range``
  GET); after :meth:`ObjectReader.expect`, the reads of a known span come from one ranged GET streamed in order
  (a download asks for the chunks of its range and nothing else). Plain ``read`` streams from the position on.
"""

from __future__ import annotations

import io
import threading

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# S3's smallest part is 5 MiB (but the last); 8 MiB keeps a 1 GiB blob to 128 requests, and memory to two parts.
PART_SIZE = 8 * 1024 * 1024


def is_object_storage(storage) -> bool:
    # by its class: asking the instance for its ``connection`` would build a boto3 session for this thread
    return isinstance(storage, S3Storage)


def object_key(storage, name: str) -> str:
    """The bucket key of a blob name (the storage's prefix joined, the name checked not to leave it)."""
    return storage._normalize_name(clean_name(name))


_CLIENTS: dict[tuple, object] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(storage):
    """One boto3 client per store configuration, shared by every thread (boto3's clients are thread-safe):
    django-storages makes a session per thread and storage object, which costs tens of milliseconds each."""
    config = (
        storage.endpoint_url,
        storage.region_name,
        storage.access_key,
        storage.secret_key,
        id(storage.client_config),
    )
    client = _CLIENTS.get(config)
    if client is None:
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(config)
            if client is None:
                client = _CLIENTS[config] = storage.connection.meta.client
    return client


def _status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


class MultipartWrite:
    """One blob written to the object store in parts; call :meth:`write` in order, then :meth:`complete`."""

    def __init__(self, storage, name: str):
        self.storage = storage
        self.key = object_key(storage, name)
        self._buffer: bytearray | None = None  # one part, filled in place and sent as it is (no copy)
        self._filled = 0
        self._upload_id: str | None = None
        self._parts: list[dict] = []

    def write(self, pieces) -> None:
        for piece in pieces:
            view = memoryview(piece).cast("B")
            while len(view):
                if self._buffer is None:
                    self._buffer = bytearray(PART_SIZE)
                taken = min(len(view), PART_SIZE - self._filled)
                self._buffer[self._filled : self._filled + taken] = view[:taken]
                self._filled += taken
                view = view[taken:]
                if self._filled == PART_SIZE:
                    self._send_part(self._buffer)

    def _send_part(self, body) -> None:
        client = _client(self.storage)
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=self.storage.bucket_name, Key=self.key)["UploadId"]
        number = len(self._parts) + 1
        answer = client.upload_part(
            Bucket=self.storage.bucket_name, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        self._filled = 0

    def _rest(self) -> bytes:
        return bytes(memoryview(self._buffer)[: self._filled]) if self._buffer is not None else b""

    def complete(self) -> None:
        client = _client(self.storage)
        if self._upload_id is None:
            client.put_object(Bucket=self.storage.bucket_name, Key=self.key, Body=self._rest())
        else:
            if self._filled:
                self._send_part(self._rest())
            client.complete_multipart_upload(
                Bucket=self.storage.bucket_name,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
        self._buffer, self._filled = None, 0

    def abort(self) -> None:
        """Forget the parts sent (idempotent; a completed blob is deleted by the caller)."""
        self._buffer, self._filled = None, 0
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                _client(self.storage).abort_multipart_upload(
                    Bucket=self.storage.bucket_name, Key=self.key, UploadId=upload_id
                )
            except ClientError:
                pass  # the store expires abandoned multipart uploads by its lifecycle rules (docs/deploy.md)


class ObjectReader(io.RawIOBase):
    """A blob of the object store as a seekable, read-only binary file (see the module's docstring)."""

    def __init__(self, storage, name: str):
        super().__init__()
        self.storage = storage
        self.name = name
        self.key = object_key(storage, name)
        self._pos = 0
        self._size: int | None = None
        self._stream = None  # (botocore StreamingBody, its next offset, its end)
        self._window: tuple[int, int] | None = None

    # -- sizes and positions ------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        if self._size is None:
            try:
                head = _client(self.storage).head_object(Bucket=self.storage.bucket_name, Key=self.key)
            except ClientError as error:
                if _status(error) == 404:
                    raise FileNotFoundError(f"No blob {self.name}") from None
                raise
            self._size = head["ContentLength"]
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: None}[whence]
        self._pos = max(0, (self.size if base is None else base) + offset)
        return self._pos

    def fileno(self) -> int:
        raise io.UnsupportedOperation("an object in a bucket has no file descriptor")

    # -- fetching ------------------------------------------------------------------------------------------------
    def _open_stream(self, start: int, end: int | None) -> None:
        """A GET of ``start..end`` (exclusive; None: to the object's end) to read in order."""
        self._drop_stream()
        wanted = f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"
        try:
            answer = _client(self.storage).get_object(Bucket=self.storage.bucket_name, Key=self.key, Range=wanted)
        except ClientError as error:
            status = _status(error)
            if status == 416:  # nothing at or after start: the object ends before it
                self._stream = (None, start, start)
                return
            if status == 404:
                raise FileNotFoundError(f"No blob {self.name}") from None
            raise
        length = answer["ContentLength"]
        self._stream = (answer["Body"], start, start + length)

    def _drop_stream(self) -> None:
        if self._stream is not None:
            body = self._stream[0]
            self._stream = None
            if body is not None:
                body.close()

    def expect(self, start: int, end: int) -> None:
        """The next reads cover ``start..end`` (exclusive) in order: fetch that span with one request."""
        self._window = (start, end)

    def pread(self, offset: int, buffer: memoryview) -> int:
        """Fill ``buffer`` from ``offset``; returns the bytes read (fewer only at the object's end)."""
        wanted = len(buffer)
        if wanted == 0:
            return 0
        stream = self._stream
        if stream is None or stream[1] != offset or stream[2] < offset + wanted:
            window = self._window
            if window is not None and window[0] <= offset < window[1] and offset + wanted <= window[1]:
                self._open_stream(offset, window[1])
                self._window = None
            else:
                self._open_stream(offset, offset + wanted)
        return self._from_stream(buffer)

    def _from_stream(self, buffer: memoryview) -> int:
        body, at, end = self._stream
        done = 0
        while done < len(buffer) and at < end:
            data = body.read(min(len(buffer) - done, end - at))
            if not data:
                break
            buffer[done : done + len(data)] = data
            done += len(data)
            at += len(data)
        self._stream = (body, at, end)
        return done

    def read(self, size: int = -1) -> bytes:
        if self._stream is None or self._stream[1] != self._pos:
            self._open_stream(self._pos, None)
        body, at, end = self._stream
        if size is None or size < 0:
            size = end - at
        data = bytearray(min(size, end - at))
        got = self._from_stream(memoryview(data))
        self._pos += got
        return bytes(data[:got])

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._drop_stream()
        super().close()


def list_blobs(storage):
    """``(name, size, last modified as a timestamp)`` of every blob in the store (under its prefix)."""
    prefix = object_key(storage, "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    paginator = _client(storage).get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"][len(prefix) :], item["Size"], item["LastModified"].timestamp()


def delete_blob(storage, name: str) -> None:
    """Delete a blob (no error when it is gone already: S3's DELETE answers 204 either way)."""
    _client(storage).delete_object(Bucket=storage.bucket_name, Key=object_key(storage, name))


def blob_exists(storage, name: str) -> bool:
    try:
        _client(storage).head_object(Bucket=storage.bucket_name, Key=object_key(storage, name))
    except ClientError as error:
        if _status(error) == 404:
            return False
        raise
    return True


def abort_stale_uploads(storage, older_than: float) -> list[str]:
    """Abort the multipart uploads started before ``older_than`` (a timestamp) and never completed (a server
    that stopped mid-upload): their parts take room in the store but belong to no blob. Returns their names."""
    prefix = object_key(storage, "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    client = _client(storage)
    aborted = []
    paginator = client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=prefix):
        for upload in page.get("Uploads", []):
            if upload["Initiated"].timestamp() < older_than:
                client.abort_multipart_upload(
                    Bucket=storage.bucket_name, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted.append(upload["Key"][len(prefix) :])
    return aborted
