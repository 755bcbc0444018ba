"""Faults: the database failing inside a transaction, and the server killed (SIGKILL) in the middle of an upload,
a version restore, a share, an import and a backup. Afterwards the vault and the activity log are whole
(``vault_fsck``, ``activity_verify``) and nothing committed is lost. A full disk mid-write is shown by
``tests/vault/test_live.py::test_disk_full_mid_upload_is_507_and_keeps_nothing`` and
``tests/vault/test_pipeline.py``.

Where the server is killed:

- an upload: half of its body sent, the rest never comes (the blob is being written);
- a restore, a share, an import: inside the request's transaction, waiting on a lock this test holds. Under
  PostgreSQL the test locks the activity log against writes, so the request has made its other changes and waits
  to record its event; under SQLite it holds the database's write lock, so the request waits to begin writing.
  The server dies there, and the lock is let go after;
- a backup (``manage.py backup -``): while writing the archive, blocked on its output, holding blob deletions.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import DatabaseError, connection
from rest_framework.test import APIClient

from tests.served import call, database, serve, sign_in, upload
from tests.test_server import ROOT, Server

pytestmark = pytest.mark.django_db

# --- the database failing mid-transaction (in process) ---------------------------------------------------------


@contextmanager
def failing_sql(fragment: str):
    """Every SQL statement that holds ``fragment`` fails as a lost database connection would."""

    def wrapper(execute, sql, params, many, context):
        if fragment in sql:
            raise DatabaseError(f"injected fault on: {sql[:60]}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def _whole(blob_dir) -> None:
    from activity.chain import verify
    from vault.transfers.fsck import vault_fsck

    report = vault_fsck(remove=False, min_age_seconds=0)
    assert report.clean, (report.orphans, report.missing)
    assert list(verify()) == []


def _rows() -> dict:
    from django.apps import apps

    return {
        model.__name__: model.objects.count()
        for label in ("vault", "chats", "activity")
        for model in apps.get_app_config(label).get_models()
    }


def _client(auth_client) -> APIClient:
    auth_client.raise_request_exception = False
    return auth_client


@pytest.mark.parametrize(
    "fragment", ['INSERT INTO "activity_event"', 'INSERT INTO "vault_fileversion"', 'UPDATE "accounts_user"']
)
def test_an_upload_whose_database_fails_mid_transaction_leaves_nothing(auth_client, blob_dir, fragment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(auth_client)
    before = _rows()
    with failing_sql(fragment):
        response = client.post("/api/v1/files/", {"file": SimpleUploadedFile("a.txt", b"data" * 1000)})
    assert response.status_code == 500 and response.json()["code"], response.content[:300]
    assert _rows() == before
    _whole(blob_dir)
    assert client.post("/api/v1/files/", {"file": SimpleUploadedFile("a.txt", b"data")}).status_code == 201
    _whole(blob_dir)


def test_a_restore_share_and_note_edit_whose_database_fails_change_nothing(auth_client, other_account, blob_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(auth_client)
    file = client.post("/api/v1/files/", {"file": SimpleUploadedFile("a.txt", b"one")}).json()[0]["file"]["id"]
    assert client.put(f"/api/v1/files/{file}/content", b"two", content_type="text/plain").status_code == 200
    note = client.post("/api/v1/notes/", {"title": "n", "body": "first"}, format="json").json()["id"]
    before = _rows()
    with failing_sql('INSERT INTO "activity_event"'):
        restore = client.post(f"/api/v1/files/{file}/versions/1/restore")
        share = client.post(
            "/api/v1/shares/", {"item": file, "username": other_account.username, "permission": "view"}, format="json"
        )
        edit = client.patch(f"/api/v1/notes/{note}/", {"body": "second"}, format="json")
    for response in (restore, share, edit):
        assert response.status_code == 500 and response.json()["code"], response.content[:300]
    assert _rows() == before
    assert b"".join(client.get(f"/api/v1/files/{file}/content").streaming_content) == b"two"
    assert client.get(f"/api/v1/notes/{note}/").json()["body"] == "first"
    _whole(blob_dir)


# --- the server killed (real gunicorn) ---------------------------------------------------------------------------


class Site:
    """gunicorn on a data dir of its own, restarted on the same data after it is killed."""

    def __init__(self, data_dir: Path, db: dict):
        self.data_dir, self.db = data_dir, db
        data_dir.mkdir(parents=True, exist_ok=True)
        self.server, passwords = serve(data_dir, "erin", "frank", **db)
        self.password = passwords["erin"]
        self.auth = sign_in(self.server.port, "erin", self.password)

    @property
    def port(self) -> int:
        return self.server.port

    def kill(self) -> None:
        os.killpg(self.server.proc.pid, signal.SIGKILL)
        self.server.proc.wait(timeout=10)

    def restart(self) -> None:
        log = self.data_dir / "gunicorn.log"
        if log.exists():  # the killed server's, kept beside the new one's
            log.replace(self.data_dir / f"gunicorn-killed-{time.monotonic_ns()}.log")
        self.server = Server(self.data_dir, RATELIMIT_ENABLE="0", **self.db)
        self.auth = sign_in(self.port, "erin", self.password)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        env = {**self.server.env, "DJANGO_SETTINGS_MODULE": "locker.settings"}
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    def json(self, method: str, path: str, body=None, status=200):
        headers = {**self.auth, "Content-Type": "application/json"}
        got, _, answer = call(self.port, method, path, json.dumps(body) if body is not None else None, headers)
        assert got == status, (method, path, got, answer[:300], self.log_tail())
        return json.loads(answer) if answer else None

    def log_tail(self) -> str:
        return (self.data_dir / "gunicorn.log").read_text()[-3000:]

    def content(self, file_id: str) -> bytes:
        status, _, body = call(self.port, "GET", f"/api/v1/files/{file_id}/content", None, self.auth)
        assert status == 200, status
        return body

    def recovered(self) -> None:
        """The operator's step after a crash (``vault_fsck`` removes what the dead server left half-written),
        then the checks: nothing missing, nothing left over, the log's chain whole."""
        repair = self.manage("vault_fsck", "--min-age", "0")
        assert repair.returncode == 0, repair.stdout + repair.stderr
        check = self.manage("vault_fsck", "--dry-run", "--min-age", "0")
        assert check.returncode == 0 and "vault is consistent" in check.stdout, check.stdout + check.stderr
        verify = self.manage("activity_verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr

    def killed_during(self, method: str, path: str, body=None, headers=None) -> None:
        """Send a request, kill the server while it waits inside its transaction, let the lock go, restart and
        recover."""
        with writes_held(self) as waiting:
            _in_background(self, method, path, body, headers or {})
            assert waiting(), "the request never reached its write"
            self.kill()
        self.restart()
        self.recovered()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def site(tmp_path):
    with database() as db:
        running = Site(tmp_path / "data", db)
        try:
            yield running
        finally:
            running.stop()


@contextmanager
def writes_held(site: Site):
    """Hold the database so that the server's next write waits (see the module's docstring)."""
    url = site.db.get("DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute("LOCK TABLE activity_event IN SHARE ROW EXCLUSIVE MODE")
            yield lambda: _pg_waiting(url)
            conn.rollback()
    else:
        conn = sqlite3.connect(site.data_dir / "locker.sqlite3", timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield lambda: time.sleep(1.5) or True
        finally:
            conn.execute("ROLLBACK")
            conn.close()


def _pg_waiting(url: str) -> bool:
    import psycopg

    deadline = time.monotonic() + 20
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return True
            time.sleep(0.1)
    return False


def _in_background(site: Site, method: str, path: str, body, headers: dict) -> threading.Thread:
    def send():
        try:
            call(site.port, method, path, body, {**site.auth, **headers})
        except OSError:
            pass  # the server died under it

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_killed_mid_upload(site):
    kept = upload(site.port, site.auth, "kept.txt", b"committed before the crash\n")
    body = b"x" * (4 << 20)
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    conn.putrequest("POST", "/api/v1/files/")
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    for name, value in {**site.auth, "Content-Type": "multipart/form-data; boundary=b"}.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(head) + len(body) + 8))
    conn.endheaders()
    conn.send(head + body[: len(body) // 2])
    time.sleep(1)  # the server is writing the blob
    site.kill()
    conn.close()
    site.restart()
    site.recovered()
    names = [item["name"] for item in site.json("GET", "/api/v1/files/")["results"]]
    assert names == ["kept.txt"] and site.content(kept) == b"committed before the crash\n"


def test_killed_mid_version_restore(site):
    file = upload(site.port, site.auth, "doc.txt", b"first\n")
    status, _, _ = call(site.port, "PUT", f"/api/v1/files/{file}/content", b"second\n", site.auth)
    assert status == 200
    site.killed_during("POST", f"/api/v1/files/{file}/versions/1/restore")
    versions = site.json("GET", f"/api/v1/files/{file}/versions/")["results"]
    assert len(versions) == 2 and site.content(file) == b"second\n"  # all or nothing: here nothing


def test_killed_mid_share(site):
    folder = site.json("POST", "/api/v1/folders/", {"name": "Shared"}, status=201)["id"]
    body = json.dumps({"item": folder, "username": "frank", "permission": "edit"})
    site.killed_during("POST", "/api/v1/shares/", body, {"Content-Type": "application/json"})
    assert site.json("GET", "/api/v1/shares/")["results"] == []
    again = site.json("POST", "/api/v1/shares/", json.loads(body), status=201)  # the share can be made again
    assert again["permission"] == "edit"
    site.recovered()


def _listing(site: Site) -> dict:
    """The top folder's files by id, without their URLs (which name the server's port)."""
    items = site.json("GET", "/api/v1/files/")["results"]
    return {item["id"]: {k: v for k, v in item.items() if not k.endswith("_url")} for item in items}


def test_killed_mid_import(site):
    upload(site.port, site.auth, "a.txt", b"alpha\n")
    site.json("POST", "/api/v1/notes/", {"title": "n", "body": "note"}, status=201)
    status, _, archive = call(
        site.port,
        "POST",
        "/api/v1/me/export",
        json.dumps({"passphrase": "a long passphrase"}),
        {**site.auth, "Content-Type": "application/json"},
    )
    assert status == 200 and zipfile.is_zipfile(io.BytesIO(archive))
    body = (
        b'--b\r\nContent-Disposition: form-data; name="archive"; filename="export.zip"\r\n\r\n'
        + archive
        + b'\r\n--b\r\nContent-Disposition: form-data; name="passphrase"\r\n\r\na long passphrase\r\n--b--\r\n'
    )
    before = _listing(site)
    site.killed_during("POST", "/api/v1/me/import", body, {"Content-Type": "multipart/form-data; boundary=b"})
    after = _listing(site)
    assert {key: after.get(key) for key in before} == before  # what was there is there, unchanged
    (first,) = [key for key, item in before.items() if item["name"] == "a.txt"]
    assert site.content(first) == b"alpha\n"


def test_killed_mid_backup(site):
    big = upload(site.port, site.auth, "big.bin", os.urandom(2 << 20))
    env = {**site.server.env, "DJANGO_SETTINGS_MODULE": "locker.settings"}
    backup = subprocess.Popen(
        [sys.executable, "manage.py", "backup", "-", "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,  # never read: the archive fills the pipe and the backup waits on it
        stderr=subprocess.DEVNULL,
    )
    holds = site.data_dir / "backup-holds"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(holds.glob("*.hold")):
        time.sleep(0.1)
    assert list(holds.glob("*.hold")), "the backup never started"
    time.sleep(1)
    backup.send_signal(signal.SIGKILL)
    backup.wait(timeout=10)
    backup.stdout.close()
    # a deletion while the dead backup's hold looks alive waits; it is carried out once the hold is stale
    assert call(site.port, "DELETE", f"/api/v1/files/{big}/", None, site.auth)[0] == 204
    assert call(site.port, "DELETE", f"/api/v1/trash/{big}/", None, site.auth)[0] in (200, 204)
    assert (holds / "deferred").read_text().strip(), "the purge's blob deletion was not held"
    stale = time.time() - 3600
    for hold in holds.glob("*.hold"):
        os.utime(hold, (stale, stale))
    site.recovered()
    assert site.manage("backup", str(site.data_dir / "after.locker"), "--no-progress").returncode == 0
    check = site.manage("backup_verify", str(site.data_dir / "after.locker"))
    assert check.returncode == 0, check.stdout + check.stderr
