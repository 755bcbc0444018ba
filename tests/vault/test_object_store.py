"""Blobs in an S3-compatible object store (``LOCKER_BLOB_STORAGE=s3``), against a real one: SeaweedFS's S3 gateway
(``tests/s3server.py``; ``.ci/run`` starts it). Uploads go up in parts while they are encrypted, with bounded memory
and no local copy; range downloads fetch the chunks of their range and nothing else; failures leave nothing.

The rest of the vault's tests run against the store too, in the PostgreSQL + Redis run of ``.ci/run``."""

from __future__ import annotations

import os
import tempfile
import tracemalloc
import uuid

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.storage import storages

from tests import s3server
from tests.blobstore import ObjectPath
from tests.vault.conftest import make_upload
from vault.files import services
from vault.transfers import objects
from vault.transfers.blobs import BlobWriter, blob_open, blob_put
from vault.transfers.downloads import plaintext_chunks
from vault.transfers.objects import PART_SIZE

pytestmark = pytest.mark.django_db
BUCKET = "locker-tests"


@pytest.fixture
def store(settings, tmp_path):
    """The vault's blobs in the test store, under a prefix of this test's own."""
    if not s3server.running():
        if os.environ.get("CI"):
            pytest.fail(f"the S3 test server does not answer on {s3server.ENDPOINT} (python -m tests.s3server start)")
        pytest.skip(f"no S3 test server on {s3server.ENDPOINT}: python -m tests.s3server start DIR")
    env = s3server.s3_environment(BUCKET)
    prefix = f"tests/{uuid.uuid4().hex}"
    settings.LOCKER_BLOB_STORAGE = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": env["LOCKER_S3_ENDPOINT_URL"],
                "region_name": env["LOCKER_S3_REGION"],
                "access_key": env["LOCKER_S3_ACCESS_KEY_ID"],
                "secret_key": env["LOCKER_S3_SECRET_ACCESS_KEY"],
                "location": prefix,
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": False,
                "client_config": CONFIG,
            },
        },
    }
    storage = storages["vault"]
    client = objects._client(storage)
    try:
        client.head_bucket(Bucket=BUCKET)
    except ClientError:
        client.create_bucket(Bucket=BUCKET)
    return ObjectPath(storage, prefix, tmp_path)


CONFIG = Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 2})


def requests_seen(store, operation: str) -> list[dict]:
    """Record the parameters of every ``operation`` call the vault's client makes from now on."""
    seen: list[dict] = []
    client = objects._client(store._storage)
    client.meta.events.register(f"provide-client-params.s3.{operation}", lambda params, **_: seen.append(params))
    return seen


def test_a_large_blob_goes_up_in_parts_with_bounded_memory_and_no_local_copy(store, user, monkeypatch):
    parts = requests_seen(store, "UploadPart")

    def no_temporary_file(*args, **kwargs):
        raise AssertionError("a blob for the object store went through a local file")

    monkeypatch.setattr(tempfile, "mkstemp", no_temporary_file)
    piece = os.urandom(1 << 20)
    tracemalloc.start()
    try:
        writer = BlobWriter(user.pk)
        for _ in range(40):
            writer.write(piece)
        name = writer.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parts) == 5  # 40 MiB in 8 MiB parts
    assert peak < 3 * PART_SIZE  # one part buffered, one on the wire: not the 40 MiB
    with blob_open(name) as handle:
        assert handle.size == 40 << 20
        assert handle.read(1 << 20) == piece and handle.read(1 << 20) == piece
    assert [p.relative_to(store).parts[0] for p in store.rglob("*")] == [str(user.pk)]  # random name, owner's prefix


def test_a_small_blob_is_one_request_and_an_empty_one_exists(store, user):
    parts, puts = requests_seen(store, "UploadPart"), requests_seen(store, "PutObject")
    for data in (b"tiny", b""):
        writer = BlobWriter(user.pk)
        writer.write(data)
        name = writer.commit()
        assert (store / name).read_bytes() == data
    assert len(puts) == 2 and not parts


def test_a_failed_part_reaches_the_caller_and_leaves_nothing(store, user, monkeypatch):
    client = objects._client(store._storage)
    real = client.upload_part
    calls = []

    def fails_the_second(**kwargs):
        calls.append(kwargs["PartNumber"])
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "disk gone"}}, "UploadPart")
        return real(**kwargs)

    monkeypatch.setattr(client, "upload_part", fails_the_second)
    writer = BlobWriter(user.pk)
    with pytest.raises(ClientError):
        for _ in range(3):
            writer.write(os.urandom(PART_SIZE))
        writer.commit()
    writer.abort()
    assert list(store.rglob("*")) == []
    unfinished = client.list_multipart_uploads(Bucket=BUCKET, Prefix=store.key).get("Uploads", [])
    assert unfinished == []  # the parts sent were given up


def test_an_upload_refused_over_quota_leaves_nothing_in_the_store(store, user, keys):
    user.storage_quota = 1000
    user.save(update_fields=["storage_quota"])
    from vault.common import QuotaExceeded

    with pytest.raises(QuotaExceeded):
        services.file_upload(user=user, keys=keys, upload=make_upload(keys, "big.bin", os.urandom(5000)))
    assert list(store.rglob("*")) == []


def test_a_range_download_fetches_only_the_chunks_of_its_range(store, user, keys):
    data = os.urandom(3 * (1 << 20) + 1234)
    result = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "r.bin", data, piece=1 << 20))
    gets = requests_seen(store, "GetObject")
    start, end = 1_500_000, 1_600_000  # inside chunks 22..24 of 64 KiB
    got = b"".join(plaintext_chunks(keys, result.file, result.version, start=start, end=end))
    assert got == data[start : end + 1]
    ranges = [params["Range"] for params in gets]
    fetched = []
    for wanted in ranges:
        low, high = (int(x) for x in wanted.removeprefix("bytes=").split("-"))
        fetched.append(high - low + 1)
    # the stream's header, the edge that proves its length, and one request for the three chunks of the range
    assert len(ranges) == 3, ranges
    assert fetched[2] == 3 * (65_536 + 16) and sum(fetched) < 4 * 65_536, ranges


def test_a_whole_download_is_one_streamed_request(store, user, keys):
    data = os.urandom(5 * (1 << 20))
    result = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "w.bin", data, piece=1 << 20))
    gets = requests_seen(store, "GetObject")
    assert b"".join(plaintext_chunks(keys, result.file, result.version)) == data
    assert len(gets) == 3  # header, edge, then every chunk in one ranged GET


def test_a_tampered_or_truncated_blob_is_refused(store, user, keys):
    from locker.crypto import DecryptionError

    data = os.urandom(200_000)
    result = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "t.bin", data))
    path = store / result.version.blob
    stored = path.read_bytes()
    path.write_bytes(stored[:100] + bytes([stored[100] ^ 1]) + stored[101:])
    with pytest.raises(DecryptionError):
        b"".join(plaintext_chunks(keys, result.file, result.version))
    path.write_bytes(stored[:-10])
    with pytest.raises(DecryptionError):
        b"".join(plaintext_chunks(keys, result.file, result.version))


def test_blob_put_replaces_under_its_name_and_reads_back(store, user):
    name = f"{user.pk}/{'a' * 32}"
    assert blob_put(name, [b"old"]) == 3
    pieces = [os.urandom(PART_SIZE // 2) for _ in range(3)]
    assert blob_put(name, pieces) == sum(map(len, pieces))
    assert (store / name).read_bytes() == b"".join(pieces)


def test_a_missing_blob_is_file_not_found(store, user):
    with pytest.raises(FileNotFoundError):
        blob_open(f"{user.pk}/{'0' * 32}").read(10)
