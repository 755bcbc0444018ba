"""The vault over a real HTTP server (live_server): data at rest, crash safety, concurrency."""

import json
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from accounts.models import User
from tests.blobstore import local_blobs_only
from tests.factories import make_account
from tests.vault.conftest import blob_files
from vault.models import File, FileVersion
from vault.transfers.fsck import vault_fsck

pytestmark = pytest.mark.django_db(transaction=True)


class NamedBytes:
    """What encode_multipart needs of a file: a name and read()."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def read(self):
        return self._data


def call(base, method, path, *, token=None, body=None, headers=None, timeout=60):
    request = urllib.request.Request(f"{base}{path}", data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the live server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def login(base, account) -> str:
    body = json.dumps({"username": account.username, "password": account.password}).encode()
    status, raw = call(base, "POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
    assert status == 200, raw
    return json.loads(raw)["access"]


def multipart(fields: dict) -> tuple[bytes, dict]:
    return encode_multipart(BOUNDARY, fields), {"Content-Type": MULTIPART_CONTENT}


def upload(base, token, files, **fields):
    body, headers = multipart({"file": [NamedBytes(name, data) for name, data in files], **fields})
    return call(base, "POST", "/api/v1/files/", token=token, body=body, headers=headers)


def test_nothing_readable_at_rest(live_server, blob_dir, tmp_path, monkeypatch):
    """Acceptance 2: a marker in bytes, names and tags is nowhere in the database, WAL, blobs or temp dir."""
    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    marker = "ZEBRA" + os.urandom(6).hex().upper()
    status, raw = call(
        base,
        "POST",
        "/api/v1/folders/",
        token=token,
        body=json.dumps({"name": f"folder {marker}"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, raw
    folder_id = json.loads(raw)["id"]
    data = (f"line with {marker}\n" * 200_000).encode()  # ~7 MiB: Django would spool this to the temp dir
    status, raw = upload(base, token, [(f"{marker}.txt", data)], folder=folder_id, tags=f"{marker},tag2")
    assert status == 201 and json.loads(raw)[0]["ok"], raw
    file_id = json.loads(raw)[0]["file"]["id"]
    status, raw = call(base, "PUT", f"/api/v1/files/{file_id}/content", token=token, body=data[::-1] + marker.encode())
    assert status == 200, raw
    status, got = call(base, "GET", f"/api/v1/files/{file_id}/versions/1/content", token=token)
    assert status == 200 and got == data  # readable for the owner

    needles = [marker.encode(), marker.lower().encode(), marker.encode("utf-16-le")]
    for path in _stored_files(blob_dir, system_tmp):
        content = path.read_bytes()
        assert not any(needle in content for needle in needles), f"marker found in {path}"
    for value in _database_dump():
        assert marker.lower() not in value.lower(), "marker found in the database"


def _stored_files(blob_dir, system_tmp):
    files = [*blob_files(blob_dir), *(p for p in system_tmp.rglob("*") if p.is_file())]
    if connection.vendor == "sqlite":
        database = str(connection.settings_dict["NAME"])
        files += [Path(p) for p in (database, database + "-wal", database + "-shm") if os.path.exists(p)]
    # what is stored: blobs, or, for an unfinished upload with blobs in an object store, its staged bytes
    assert blob_files(blob_dir) or blob_files(settings.LOCKER_UPLOAD_DIR), "the scan must see the blobs"
    return [*files, *blob_files(settings.LOCKER_UPLOAD_DIR)]


def _database_dump() -> list[str]:
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            values.extend(str(v) for row in cursor.fetchall() for v in row if v is not None)
    return values


def _assert_nothing_kept(account, blob_dir, used_before):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and blob_files(blob_dir):
        time.sleep(0.05)  # the server thread may still be cleaning up after the client left
    assert not File.objects.exists() and not FileVersion.objects.exists()
    assert blob_files(blob_dir) == []
    assert User.objects.get(pk=account.user.pk).storage_used == used_before
    assert vault_fsck(remove=False, min_age_seconds=0).clean


def _send_half_and_hang_up(base, path, token, body: bytes, headers: dict):
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {parts.hostname}",
            f"Authorization: Bearer {token}",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_WR)
        try:
            sock.recv(4096)
        except OSError:
            pass


def test_client_disconnect_mid_upload_keeps_nothing(live_server, blob_dir):
    """Acceptance 4a: the client goes away after half the bytes (multipart and raw PUT)."""
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    body, headers = multipart({"file": [NamedBytes("big.bin", os.urandom(3 * 1024 * 1024))]})
    _send_half_and_hang_up(base, "/api/v1/files/", token, body, headers)
    _assert_nothing_kept(account, blob_dir, 0)


def test_client_disconnect_mid_put_keeps_no_version(live_server, blob_dir):
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    status, raw = upload(base, token, [("a.bin", b"first")])
    file_id = json.loads(raw)[0]["file"]["id"]
    used = User.objects.get(pk=account.user.pk).storage_used
    parts = urlsplit(base)
    body = os.urandom(2 * 1024 * 1024)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"PUT /api/v1/files/{file_id}/content HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while piece := sock.recv(4096):
                reply += piece
        except OSError:
            pass
    assert b'"code":"incomplete_upload"' in reply  # the body was being read and encrypted, not refused up front
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(blob_files(blob_dir)) > 1:
        time.sleep(0.05)
    assert FileVersion.objects.count() == 1 and len(blob_files(blob_dir)) == 1
    assert User.objects.get(pk=account.user.pk).storage_used == used


def test_server_error_mid_upload_keeps_nothing(live_server, blob_dir, monkeypatch):
    """Acceptance 4b: a server error injected after half the bytes: no row, no blob, quota unchanged."""
    from vault.transfers import uploads

    original = uploads.UploadSink.write

    def failing_write(self, data):
        original(self, data)
        if self.size > 1024 * 1024:
            raise RuntimeError("injected failure")

    monkeypatch.setattr(uploads.UploadSink, "write", failing_write)
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    status, raw = upload(base, token, [("one.bin", os.urandom(100)), ("two.bin", os.urandom(2 * 1024 * 1024))])
    assert status == 500 and json.loads(raw)["code"] == "server_error"
    _assert_nothing_kept(account, blob_dir, 0)


@local_blobs_only  # a full local disk (os.writev); the object store's failures: tests/vault/test_object_store.py
@pytest.mark.parametrize("how", ["multipart", "put"])
def test_disk_full_mid_upload_is_507_and_keeps_nothing(live_server, blob_dir, monkeypatch, how):
    """The disk fills up half-way (on the writer thread): a clear 507, no row, no blob, quota unchanged."""
    import errno

    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    status, raw = upload(base, token, [("one.bin", b"first version")])
    file_id = json.loads(raw)[0]["file"]["id"]
    used = User.objects.get(pk=account.user.pk).storage_used
    real, written = os.writev, []

    def fills_up(fd, buffers):
        if sum(written) > 1024 * 1024:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(real(fd, buffers))
        return written[-1]

    monkeypatch.setattr(os, "writev", fills_up)
    data = os.urandom(3 * 1024 * 1024)
    if how == "multipart":
        status, raw = upload(base, token, [("two.bin", data)])
    else:
        status, raw = call(base, "PUT", f"/api/v1/files/{file_id}/content", token=token, body=data)
    assert status == 507, raw[:300]
    assert json.loads(raw)["code"] == "storage_full"
    assert FileVersion.objects.count() == 1 and File.objects.count() == 1
    assert len(blob_files(blob_dir)) == 1
    assert User.objects.get(pk=account.user.pk).storage_used == used
    monkeypatch.undo()
    assert vault_fsck(remove=False, min_age_seconds=0).clean


def test_twenty_concurrent_uploaders(live_server, blob_dir, settings):
    """Acceptance 5: 20 threads upload new versions of one file and of their own files; nothing fails."""
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "upload_user": "10000/m"}
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    status, raw = upload(base, token, [("shared.txt", b"v0")])
    shared_id = json.loads(raw)[0]["file"]["id"]
    rounds = 3
    errors, lock = [], threading.Lock()

    def worker(n):
        for r in range(rounds):
            status, raw = call(base, "PUT", f"/api/v1/files/{shared_id}/content", token=token, body=f"{n}-{r}".encode())
            status2, raw2 = upload(base, token, [(f"own-{n}.txt", f"{n}-{r}".encode())])
            if status != 200 or status2 != 201:
                with lock:
                    errors.append((status, raw[:200], status2, raw2[:200]))

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(worker, range(20)))
    assert errors == []
    assert FileVersion.objects.filter(file_id=shared_id).count() == 1 + 20 * rounds
    numbers = sorted(FileVersion.objects.filter(file_id=shared_id).values_list("number", flat=True))
    assert numbers == list(range(1, 2 + 20 * rounds))  # every version numbered once, no gaps
    assert File.objects.count() == 21
    for file in File.objects.exclude(pk=shared_id):
        assert file.versions.count() == rounds
    assert len(blob_files(blob_dir)) == FileVersion.objects.count()
    used = User.objects.get(pk=account.user.pk).storage_used
    assert used == sum(FileVersion.objects.values_list("stored_size", flat=True))


def test_client_gone_mid_download_closes_the_blob_and_the_server_carries_on(live_server, blob_dir, monkeypatch):
    """A client that stops reading after the first mebibyte: the server stops decrypting and closes the blob."""
    from vault.transfers import downloads

    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    data = os.urandom(24 * 1024 * 1024)  # far more than the socket buffers hold
    status, raw = upload(base, token, [("big.bin", data)])
    file_id = json.loads(raw)[0]["file"]["id"]
    opened = []
    real_open = downloads.blob_open
    monkeypatch.setattr(downloads, "blob_open", lambda name: opened.append(real_open(name)) or opened[-1])
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = f"GET /api/v1/files/{file_id}/content HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        sock.sendall(f"{head}Authorization: Bearer {token}\r\n\r\n".encode())
        received = b""
        while len(received) < 1024 * 1024 and (piece := sock.recv(65536)):
            received += piece
        assert received.startswith(b"HTTP/1.1 200"), received[:300]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (opened and opened[0].closed):
        time.sleep(0.05)
    assert opened and opened[0].closed
    status, raw = call(base, "GET", f"/api/v1/files/{file_id}/content", token=token)
    assert status == 200 and raw == data
    # the server records each download once its response is closed, after the client has everything: let it
    # finish before the test database is emptied (PostgreSQL would find the two deadlocked)
    from activity.models import Event

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Event.objects.filter(action="file.downloaded").count() < 2:
        time.sleep(0.05)
