"""The transfer pipeline: writes, hashing and sealing on other threads; downloads decrypted one batch ahead.

Whatever runs on another thread must keep the order of the bytes, report its errors to
the request thread, and leave nothing behind when the transfer is abandoned.
"""

import errno
import io
import os
import threading

import pytest

from locker.crypto import DecryptionError
from tests.blobstore import local_blobs_only
from tests.vault.conftest import blob_files, make_upload
from vault.transfers import blobs
from vault.transfers.blobs import BlobWriter, _write_all
from vault.transfers.downloads import BATCH_CHUNKS, PlaintextReader, plaintext_chunks
from vault.transfers.pipeline import WRITE_POOL, Stage
from vault.transfers.uploads import StorageFull, UploadSink

pytestmark = pytest.mark.django_db


def test_write_all_continues_after_short_writes(tmp_path, monkeypatch):
    real = os.writev
    calls = []

    def short_writev(fd, buffers):
        calls.append(len(buffers))
        first = bytes(buffers[0])
        return real(fd, [first[: max(1, len(first) // 3)]])  # never more than a third of one buffer

    monkeypatch.setattr(os, "writev", short_writev)
    pieces = [os.urandom(n) for n in (1, 70_000, 0, 5, 65_552)]
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        _write_all(fd, pieces)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"".join(pieces)
    assert len(calls) > len(pieces)


def test_writes_keep_their_order_and_commit_waits_for_them(blob_dir, user):
    pieces = [os.urandom(n) for n in (25, 65_552, 3, 1 << 20, 17)]
    writer = BlobWriter(user.pk)
    for piece in pieces[:2]:
        writer.write(piece)
    writer.write(pieces[2:])  # a list is one batch
    name = writer.commit()
    assert writer.size == sum(map(len, pieces))
    assert (blob_dir / name).read_bytes() == b"".join(pieces)
    assert not [p for p in blob_files(blob_dir) if p.name.startswith(blobs.TMP_PREFIX)]


@local_blobs_only  # the object store's own: tests/vault/test_object_store.py
def test_a_failed_write_reaches_the_caller_and_the_blob_is_removed(blob_dir, user, monkeypatch):
    def disk_full(fd, buffers):
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = BlobWriter(user.pk)
    writer.write(b"first")
    writer._writes.wait()  # the first batch is on disk
    monkeypatch.setattr(os, "writev", disk_full)
    writer.write(b"second")  # queued: the error happens on the writer thread
    with pytest.raises(OSError) as caught:
        writer.commit()
    assert caught.value.errno == errno.ENOSPC
    writer.abort()
    assert blob_files(blob_dir) == []


@local_blobs_only  # the object store's own: tests/vault/test_object_store.py
def test_an_upload_whose_disk_fills_up_leaves_nothing(blob_dir, user, keys, monkeypatch):
    real = os.writev
    written = []

    def fills_after_a_mebibyte(fd, buffers):
        if sum(written) > 1 << 20:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(real(fd, buffers))
        return written[-1]

    monkeypatch.setattr(os, "writev", fills_after_a_mebibyte)
    with pytest.raises(StorageFull):
        make_upload(keys, "big.bin", os.urandom(3 << 20), piece=256 * 1024)
    assert blob_files(blob_dir) == []


@local_blobs_only  # the object store's own: tests/vault/test_object_store.py
def test_abort_while_a_write_is_in_flight_waits_for_it_and_removes_the_blob(blob_dir, user, monkeypatch):
    real = os.writev
    started, release = threading.Event(), threading.Event()

    def slow_writev(fd, buffers):
        started.set()
        release.wait(10)
        return real(fd, buffers)

    monkeypatch.setattr(os, "writev", slow_writev)
    writer = BlobWriter(user.pk)
    writer.write(os.urandom(1000))
    assert started.wait(10)
    threading.Timer(0.05, release.set).start()
    writer.abort()  # must not close the file under the writer thread
    assert blob_files(blob_dir) == []


def test_sink_abort_mid_upload_removes_everything(blob_dir, user, keys):
    sink = UploadSink(owner_id=user.pk, mac_key=keys.content_mac_key(), name="x.bin")
    for _ in range(5):
        sink.write(os.urandom(300_000))
    sink.abort()
    assert sink.closed
    assert blob_files(blob_dir) == []


def test_stage_reports_errors_in_order_and_drain_swallows_them():
    stage = Stage(WRITE_POOL)
    seen = []
    stage.submit(seen.append, 1)

    def boom():
        raise ValueError("boom")

    stage.submit(boom)
    with pytest.raises(ValueError):
        stage.wait()
    stage.submit(boom)
    stage.drain()
    stage.wait()  # nothing left in flight
    assert seen == [1]


def _stored(user, keys, data, name="t.bin"):
    from vault.files import services

    result = services.file_upload(user=user, keys=keys, upload=make_upload(keys, name, data, piece=1 << 20))
    return result.file, result.version


@pytest.mark.parametrize("size", [0, 1, 65_536, BATCH_CHUNKS * 65_536, 3 * BATCH_CHUNKS * 65_536 + 5])
def test_downloads_come_in_order_in_runs_of_a_mebibyte(blob_dir, user, keys, size):
    data = os.urandom(size)
    file, version = _stored(user, keys, data)
    pieces = list(plaintext_chunks(keys, file, version))
    assert b"".join(pieces) == data
    assert all(len(piece) == BATCH_CHUNKS * 65_536 for piece in pieces[:-1])


@pytest.mark.parametrize(
    "start,end", [(0, 0), (5, 70_000), (65_535, 65_536), (1_000_000, 2_200_000), (100, 3 * (1 << 20) + 4)]
)
def test_ranges_across_runs(blob_dir, user, keys, start, end):
    data = os.urandom(3 * (1 << 20) + 5)
    file, version = _stored(user, keys, data)
    assert b"".join(plaintext_chunks(keys, file, version, start=start, end=end)) == data[start : end + 1]


def test_closing_a_download_early_stops_the_work_and_closes_the_blob(blob_dir, user, keys, monkeypatch):
    from vault.transfers import downloads

    file, version = _stored(user, keys, os.urandom(8 << 20))
    opened = []
    real_open = downloads.blob_open
    monkeypatch.setattr(downloads, "blob_open", lambda name: opened.append(real_open(name)) or opened[-1])
    reader = plaintext_chunks(keys, file, version)
    assert len(next(reader)) == 1 << 20
    reader.close()  # the client went away after the first run
    assert opened[0].closed


def test_downloads_reuse_their_buffers_and_never_show_one_another_bytes(blob_dir, user, keys):
    """Run buffers are kept between downloads (fresh ones cost ~2 ms of page faults before the first byte)."""
    from vault.transfers.downloads import BUFFERS

    big, small, other = os.urandom((2 << 20) + 9), os.urandom(4096), os.urandom((1 << 20) + 1)
    stored = {data: _stored(user, keys, data, name=f"{len(data)}.bin") for data in (big, small, other)}

    def download(data, **kwargs):
        return plaintext_chunks(keys, *stored[data], **kwargs)

    assert b"".join(download(big)) == big
    kept = BUFFERS.take(1, 1)
    BUFFERS.give(kept)
    assert b"".join(download(big)) == big
    assert BUFFERS.take(1, 1)[1].obj is kept[1].obj  # the second download ran in the same buffers
    BUFFERS.give(kept)
    # a short file after a long one: only its own bytes, none of the previous plaintext left in the buffer
    assert b"".join(download(small)) == small
    assert b"".join(download(big, start=10, end=20)) == big[10:21]
    # downloads alive at the same time never share buffers
    first, second, third = download(big), download(other), download(big, start=(1 << 20) - 3, end=len(big) - 1)
    pieces = {id(reader): [] for reader in (first, second, third)}
    for _ in range(3):
        for reader in (first, second, third):
            pieces[id(reader)].append(next(reader, b""))
    assert b"".join(pieces[id(first)]) == big and b"".join(pieces[id(second)]) == other
    assert b"".join(pieces[id(third)]) == big[(1 << 20) - 3 :]
    # an abandoned download and a failed one hand their buffers back in a usable state
    abandoned = download(big)
    next(abandoned)
    abandoned.close()
    path = blob_dir / stored[other][1].blob
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(DecryptionError):
        b"".join(download(other))
    assert b"".join(download(big)) == big and b"".join(download(small)) == small


def test_downloads_from_storage_without_a_file_descriptor(blob_dir, user, keys, monkeypatch):
    """Another storage backend may hand back a file object without ``fileno()``: seek and read instead."""
    from vault.transfers import downloads

    data = os.urandom((1 << 20) * 2 + 77)
    file, version = _stored(user, keys, data)
    blob = (blob_dir / version.blob).read_bytes()
    monkeypatch.setattr(downloads, "blob_open", lambda name: io.BytesIO(blob))
    assert b"".join(plaintext_chunks(keys, file, version)) == data
    assert b"".join(plaintext_chunks(keys, file, version, start=65_530, end=1_100_000)) == data[65_530:1_100_001]


def test_download_of_a_tampered_blob_stops_before_the_bad_chunk(blob_dir, user, keys):
    data = os.urandom(3 << 20)
    file, version = _stored(user, keys, data)
    path = blob_dir / version.blob
    raw = bytearray(path.read_bytes())
    raw[25 + 40 * 65_552 + 7] ^= 1  # inside chunk 40, in the third run of 16 chunks
    path.write_bytes(bytes(raw))
    received = b""
    with pytest.raises(DecryptionError):
        for piece in plaintext_chunks(keys, file, version):
            received += piece
    assert received == data[: 32 * 65_536]  # the two good runs before it, nothing after


def test_a_truncated_blob_is_detected(blob_dir, user, keys):
    file, version = _stored(user, keys, os.urandom(2 << 20))
    path = blob_dir / version.blob
    path.write_bytes(path.read_bytes()[: 25 + 20 * 65_552])  # cut at a chunk boundary
    with pytest.raises(DecryptionError):
        b"".join(plaintext_chunks(keys, file, version))


@local_blobs_only  # the object store's own: tests/vault/test_object_store.py
def test_writeback_is_started_along_the_way_and_the_blob_stays_whole(blob_dir, user, monkeypatch):
    calls = []
    real = blobs._sync_file_range

    def recording(fd, offset, size, flags):
        calls.append((offset, size))
        return real(fd, offset, size, flags) if real is not None else 0

    monkeypatch.setattr(blobs, "WRITEBACK_EVERY", 100_000)
    monkeypatch.setattr(blobs, "_sync_file_range", recording)
    pieces = [os.urandom(65_552) for _ in range(10)]
    writer = BlobWriter(user.pk)
    for piece in pieces:
        writer.write(piece)
    name = writer.commit()
    assert (blob_dir / name).read_bytes() == b"".join(pieces)
    assert calls and calls[0][0] == 0
    assert all(a + b == c for (a, b), (c, _) in zip(calls, calls[1:], strict=False))  # consecutive ranges


def test_plaintext_reader_seeks_and_reads_like_a_file(blob_dir, user, keys):
    import random

    data = os.urandom(5 * 65_536 + 123)
    file, version = _stored(user, keys, data)
    reader = PlaintextReader(keys, file, version)
    rng = random.Random(7)
    for _ in range(200):
        where = rng.randrange(0, len(data) + 10)
        size = rng.choice([0, 1, 3, 4096, 65_535, 65_536, 65_537, 200_000])
        assert reader.seek(where) == where
        expected = data[where : where + size]
        assert reader.read(size) == expected
        assert reader.tell() == where + len(expected)
    reader.seek(-5, io.SEEK_END)
    assert reader.read() == data[-5:]
    reader.seek(65_530)
    buffer = bytearray(10)
    assert reader.readinto(buffer) == 10 and bytes(buffer) == data[65_530:65_540]
    assert reader.read(0) == b"" and reader.seekable() and reader.readable()
    reader.close()
    assert reader.closed


def test_plaintext_reader_decrypts_each_chunk_once_for_small_reads(blob_dir, user, keys, monkeypatch):
    """Audio probing reads a few bytes at a time: the chunk in hand serves them (a 10-minute WebM took seconds)."""
    from locker.crypto.stream import ChunkReader

    opened = []
    real_open = ChunkReader.open
    monkeypatch.setattr(ChunkReader, "open", lambda self, first, *a: opened.append(first) or real_open(self, first, *a))
    data = os.urandom(3 * 65_536 + 7)
    file, version = _stored(user, keys, data)
    with PlaintextReader(keys, file, version) as reader:
        assert b"".join(iter(lambda: reader.read(3), b"")) == data
    assert opened == [0, 1, 2, 3]


def test_plaintext_reader_refuses_a_tampered_chunk(blob_dir, user, keys):
    data = os.urandom(3 * 65_536)
    file, version = _stored(user, keys, data)
    path = blob_dir / version.blob
    raw = bytearray(path.read_bytes())
    raw[25 + 2 * 65_552 + 9] ^= 1  # inside chunk 2
    path.write_bytes(bytes(raw))
    with PlaintextReader(keys, file, version) as reader:
        assert reader.read(2 * 65_536) == data[: 2 * 65_536]
        with pytest.raises(DecryptionError):
            reader.read(1)
