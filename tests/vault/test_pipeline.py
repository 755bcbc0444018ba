"""The transfer pipeline: writes, hashing and sealing on other threads; downloads decrypted one batch ahead.

Whatever runs on another thread must keep the order of the bytes, report its errors to
the request thread, and leave nothing behind when the transfer is abandoned.
"""

import errno
import os
import threading

import pytest

from locker.crypto import DecryptionError
from tests.vault.conftest import blob_files, make_upload
from vault import blobs
from vault.blobs import BlobWriter, _write_all
from vault.downloads import plaintext_chunks, read_ahead
from vault.pipeline import WRITE_POOL, Stage
from vault.uploads import StorageFull, UploadSink

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


def test_read_ahead_batches_keep_every_byte_in_order():
    pieces = [bytes([i % 251]) * (1000 + i) for i in range(300)]
    out = list(read_ahead(iter(pieces), batch=50_000))
    assert b"".join(out) == b"".join(pieces)
    assert all(len(batch) >= 50_000 for batch in out[:-1])
    assert list(read_ahead(iter([]))) == []
    assert list(read_ahead(iter([b""]))) == []


def test_read_ahead_raises_in_order_after_what_authenticated():
    def pieces():
        yield b"a" * 10
        yield b"b" * 10
        raise DecryptionError("stream chunk does not authenticate")

    reader = read_ahead(pieces(), batch=10)
    assert next(reader) == b"a" * 10
    assert next(reader) == b"b" * 10
    with pytest.raises(DecryptionError):
        next(reader)


def test_read_ahead_closed_early_closes_its_source():
    closed = threading.Event()

    def pieces():
        try:
            while True:
                yield b"x" * 1000
        finally:
            closed.set()

    reader = read_ahead(pieces(), batch=4000)
    assert len(next(reader)) == 4000
    reader.close()  # the client went away
    assert closed.is_set()


def test_download_of_a_tampered_blob_stops_before_the_bad_chunk(blob_dir, user, keys):
    from vault import services

    data = os.urandom(3 << 20)
    result = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "t.bin", data, piece=1 << 20))
    version = result.version
    path = blob_dir / version.blob
    raw = bytearray(path.read_bytes())
    raw[25 + 40 * 65_552 + 7] ^= 1  # inside chunk 40, in the second batch of 1 MiB
    path.write_bytes(bytes(raw))
    received = b""
    with pytest.raises(DecryptionError):
        for batch in read_ahead(plaintext_chunks(keys, result.file, version)):
            received += batch
    assert received == data[: len(received)]
    assert len(received) <= 40 * 65_536
