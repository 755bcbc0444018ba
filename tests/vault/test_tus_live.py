"""tus over the real HTTP server with a real client (tuspy): a 50 MiB upload in odd-sized pieces, killed and resumed
twice; checksums; expiry; nothing readable at rest while an upload is half done (docs/uploads.md)."""

import base64
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from tests.factories import make_account
from tests.vault.conftest import blob_files
from tests.vault.test_live import _database_dump, _stored_files, call, login
from vault.files.services import reserved_bytes
from vault.models import File, Upload
from vault.transfers.fsck import vault_fsck

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT = Path(__file__).with_name("tus_client.py")
TUS = {"Tus-Resumable": "1.0.0"}


def _meta(**fields) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


def _client(base, token, path, store, chunk):
    return subprocess.Popen(  # noqa: S603 - our own client script
        [sys.executable, str(CLIENT), base, token, str(path), str(store), str(chunk)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _offset_reaches(limit: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = Upload.objects.order_by("-created_at").first()
        if upload is not None and upload.offset >= limit:
            return upload.offset
        time.sleep(0.02)
    raise AssertionError(f"the upload never reached {limit} bytes")


def test_tuspy_upload_killed_twice_resumes_and_is_byte_identical(live_server, tmp_path, blob_dir):
    """Acceptance 1: 50 MiB in pieces of 1,000,003 bytes (no multiple of 64 KiB); the client process is killed
    twice with SIGKILL in the middle of the upload and started again; the file is whole and identical."""
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    data = os.urandom(50 * 2**20)
    path = tmp_path / "big file ünïcode.bin"
    path.write_bytes(data)
    store = tmp_path / "tus-urls.json"
    offsets = []
    for stop_after in (12 * 2**20, 31 * 2**20):
        process = _client(base, token, path, store, 1_000_003)
        reached = _offset_reaches(stop_after)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        time.sleep(0.3)  # the server thread notices the connection is gone and saves what arrived
        offsets.append(Upload.objects.get().offset)
        assert reached <= offsets[-1] < len(data)
    assert offsets[0] < offsets[1]
    process = _client(base, token, path, store, 1_000_003)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    upload = Upload.objects.get()
    assert out.strip().endswith(str(upload.pk)) and upload.finished  # the same upload all along
    file = File.objects.get()
    status, body = call(base, "GET", f"/api/v1/files/{file.pk}/content", token=token)
    assert status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    status, raw = call(base, "GET", f"/api/v1/files/{file.pk}/", token=token)
    assert status == 200 and b"big file \xc3\xbcn\xc3\xafcode.bin" in raw
    assert reserved_bytes(account.user) == 0
    assert User.objects.get(pk=account.user.pk).storage_used == file.current_version.stored_size
    assert vault_fsck(min_age_seconds=0).clean


def _create(base, token, length: int, **meta):
    status, _raw, headers = _request(
        base,
        "POST",
        "/api/v1/uploads/",
        token,
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": _meta(**meta)},
    )
    assert status == 201, _raw
    return headers["Location"]


def _request(base, method, url, token, *, body=None, headers=None):
    import urllib.error
    import urllib.request

    target = url if url.startswith("http") else f"{base}{url}"
    request = urllib.request.Request(target, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the live server
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def _patch(base, url, token, offset: int, body: bytes, **headers):
    return _request(
        base,
        "PATCH",
        url,
        token,
        body=body,
        headers={**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **headers},
    )


def test_a_piece_whose_checksum_does_not_match_is_refused_with_460_and_the_offset_stays(live_server):
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    data = os.urandom(300_001)
    url = _create(base, token, len(data), name="checked.bin")
    first = data[:100_003]
    good = "sha256 " + base64.b64encode(hashlib.sha256(first).digest()).decode()
    status, _, headers = _patch(base, url, token, 0, first, **{"Upload-Checksum": good})
    assert status == 204 and headers["Upload-Offset"] == "100003"
    rest = data[100_003:]
    wrong = "sha256 " + base64.b64encode(hashlib.sha256(rest + b"x").digest()).decode()
    status, raw, headers = _patch(base, url, token, 100_003, rest, **{"Upload-Checksum": wrong})
    assert status == 460 and b"checksum_mismatch" in raw
    assert headers["Tus-Resumable"] == "1.0.0"
    status, _, headers = _request(base, "HEAD", url, token, headers=TUS)
    assert status == 200 and headers["Upload-Offset"] == "100003"
    for algorithm in ("sha1", "md5"):
        digest = hashlib.new(algorithm, rest).digest()
        bad = f"{algorithm} " + base64.b64encode(bytes(len(digest))).decode()
        assert _patch(base, url, token, 100_003, rest, **{"Upload-Checksum": bad})[0] == 460
    right = "sha1 " + base64.b64encode(hashlib.sha1(rest).digest()).decode()  # noqa: S324 - tus checksum
    status, _, headers = _patch(base, url, token, 100_003, rest, **{"Upload-Checksum": right})
    assert status == 204 and headers["Upload-Offset"] == str(len(data)) and headers["Locker-File-Id"]
    status, body = call(base, "GET", f"/api/v1/files/{headers['Locker-File-Id']}/content", token=token)
    assert status == 200 and body == data


def test_an_expired_upload_is_gone_and_its_quota_released(live_server, blob_dir, settings):
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    url = _create(base, token, 1_000_000, name="later.bin")
    assert _patch(base, url, token, 0, os.urandom(400_000))[0] == 204
    upload = Upload.objects.get()
    assert reserved_bytes(account.user) == upload.reserved > 1_000_000
    assert blob_files(blob_dir) or blob_files(settings.LOCKER_UPLOAD_DIR)  # in place, or staged (object store)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reserved_bytes(account.user) == 0  # an expired upload holds nothing, even before housekeeping
    status, raw, _ = _request(base, "HEAD", url, token, headers=TUS)
    assert status == 410
    assert _patch(base, url, token, 400_000, b"more")[0] == 410
    call_command("vault_purge_trash", stdout=open(os.devnull, "w"))  # noqa: SIM115 - housekeeping
    assert not Upload.objects.exists() and blob_files(blob_dir) == [] == blob_files(settings.LOCKER_UPLOAD_DIR)
    assert _request(base, "HEAD", url, token, headers=TUS)[0] == 404
    assert User.objects.get(pk=account.user.pk).storage_used == 0


def test_nothing_readable_at_rest_while_an_upload_is_half_done(live_server, blob_dir, tmp_path):
    account = make_account("alice")
    base, token = live_server.url, login(live_server.url, account)
    marker = "ZEBRA" + os.urandom(6).hex().upper()
    data = (f"line with {marker}\n" * 100_000).encode()  # ~3 MiB
    url = _create(base, token, len(data), name=f"{marker}.txt", tags=f"{marker},other")
    cut = 1_500_007  # in the middle of a chunk: a pending tail is kept (sealed)
    assert _patch(base, url, token, 0, data[:cut])[0] == 204
    assert bytes(Upload.objects.get().pending_sealed)
    needles = [marker.encode(), marker.lower().encode(), marker.encode("utf-16-le")]
    for stored in _stored_files(blob_dir, tmp_path):
        assert not any(needle in stored.read_bytes() for needle in needles), f"marker found in {stored}"
    for value in _database_dump():
        assert marker.lower() not in value.lower(), "marker found in the database"
    status, _, headers = _patch(base, url, token, cut, data[cut:])
    assert status == 204
    status, body = call(base, "GET", f"/api/v1/files/{headers['Locker-File-Id']}/content", token=token)
    assert status == 200 and body == data
