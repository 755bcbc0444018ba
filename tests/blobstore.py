"""The ``blob_dir`` of a test when the vault's blobs are in the object store (``LOCKER_BLOB_STORAGE=s3``): the
test's prefix in the bucket, with the few ``pathlib.Path`` operations the tests use on stored blobs (read, write,
unlink, list), so the same tests check the same bytes in either storage."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from botocore.exceptions import ClientError

IN_OBJECT_STORE = os.environ.get("LOCKER_BLOB_STORAGE", "").lower() == "s3"
# A test of what only a directory of blobs has (file times, partial files, a full disk, writeback).
local_blobs_only = pytest.mark.skipif(IN_OBJECT_STORE, reason="about blobs in a local directory")
object_store_only = pytest.mark.skipif(not IN_OBJECT_STORE, reason="about blobs in an object store")


class ObjectPath:
    """A key (or a prefix, for a "directory") of the test's bucket, used like a ``Path``."""

    def __init__(self, storage, key: str, parent: Path | ObjectPath):
        self._storage = storage
        self.key = key.strip("/")
        self._parent = parent

    # -- naming ---------------------------------------------------------------------------------------------------
    def __truediv__(self, part) -> ObjectPath:
        return ObjectPath(self._storage, f"{self.key}/{str(part).strip('/')}", self)

    @property
    def parent(self):
        return self._parent

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def relative_to(self, other: ObjectPath) -> PurePosixPath:
        return PurePosixPath(self.key).relative_to(other.key)

    def __str__(self) -> str:
        return f"s3://{self._storage.bucket_name}/{self.key}"

    __repr__ = __str__

    def __eq__(self, other) -> bool:
        return isinstance(other, ObjectPath) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other) -> bool:
        return self.key < other.key

    # -- the store ------------------------------------------------------------------------------------------------
    @property
    def _client(self):
        from vault.transfers.objects import _client

        return _client(self._storage)

    def _head(self):
        try:
            return self._client.head_object(Bucket=self._storage.bucket_name, Key=self.key)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise

    def is_file(self) -> bool:
        return self._head() is not None

    def is_dir(self) -> bool:
        return not self.is_file() and any(True for _ in self.rglob("*"))

    def exists(self) -> bool:
        return self.is_file() or self.is_dir()

    def stat(self):
        head = self._head()
        if head is None:
            raise FileNotFoundError(str(self))

        class Stat:
            st_size = head["ContentLength"]
            st_mtime = head["LastModified"].timestamp()

        return Stat()

    def read_bytes(self) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self._storage.bucket_name, Key=self.key)
        except ClientError as error:
            raise FileNotFoundError(str(self)) from error
        return answer["Body"].read()

    def write_bytes(self, data: bytes) -> int:
        self._client.put_object(Bucket=self._storage.bucket_name, Key=self.key, Body=bytes(data))
        return len(data)

    def unlink(self, missing_ok: bool = False) -> None:
        if not missing_ok and not self.is_file():
            raise FileNotFoundError(str(self))
        self._client.delete_object(Bucket=self._storage.bucket_name, Key=self.key)

    def mkdir(self, *args, **kwargs) -> None:
        """Prefixes need no making."""

    def rglob(self, pattern: str):
        assert pattern == "*", "only rglob('*') is supported on the object store"
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._storage.bucket_name, Prefix=self.key + "/"):
            for item in page.get("Contents", []):
                yield ObjectPath(self._storage, item["Key"], self)

    def wipe(self) -> None:
        """Delete every object under this prefix (``shutil.rmtree`` and ``mkdir`` for a directory)."""
        for path in list(self.rglob("*")):
            path.unlink(missing_ok=True)


def wipe(blob_dir) -> None:
    """Empty the test's blob storage, in either kind of storage."""
    if isinstance(blob_dir, ObjectPath):
        blob_dir.wipe()
        return
    import shutil

    shutil.rmtree(blob_dir, ignore_errors=True)
    blob_dir.mkdir()


def blob_env(blob_dir) -> dict[str, str]:
    """The environment that points a subprocess (a management command) at the test's blobs in the object store
    (the rest of the store's settings are in the environment already); nothing for a directory."""
    return {"LOCKER_S3_PREFIX": blob_dir.key} if isinstance(blob_dir, ObjectPath) else {}
