"""Instance backups: ``manage.py backup``, ``backup_verify`` and ``restore`` (docs/backup.md).

A real instance's worth of data (two users, nested folders, versions, notes, chats with an attachment and a voice
recording, trash, a share and a link) goes through backup and restore; every API listing and every file's bytes
are compared, and the users sign in with their passwords.
"""

from __future__ import annotations

import io
import os
import shutil
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.chats.test_multipart import wav
from tests.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)


def login(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def populate(alice, bob) -> None:
    """Two users' worth of everything the vault and the chats keep."""
    top = alice.post("/api/v1/folders/", {"name": "Projects", "tags": ["work"]}, format="json").json()
    deep = alice.post("/api/v1/folders/", {"name": "2026", "parent": top["id"]}, format="json").json()
    uploaded = alice.post(
        "/api/v1/files/",
        {"file": [SimpleUploadedFile("plan.txt", b"the plan, first"), SimpleUploadedFile("r.bin", os.urandom(70_000))]},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    plan = uploaded.json()[0]["file"]["id"]
    for n in range(2, 5):
        put = alice.generic(
            "PUT", f"/api/v1/files/{plan}/content", f"the plan, take {n}".encode(), content_type="text/plain"
        )
        assert put.status_code == 200, put.content
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("deep.txt", b"deep down")], "folder": deep["id"]})
    gone = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("old.txt", b"to the trash")]}).json()[0]
    assert alice.delete(f"/api/v1/files/{gone['file']['id']}/").status_code == 204
    alice.post("/api/v1/notes/", {"title": "Diary", "body": "# Today\n\nrain", "tags": ["me"]}, format="json")
    chat = alice.post("/api/v1/chats/", {"title": "Assistant"}, format="json").json()
    posted = alice.post(
        f"/api/v1/chats/{chat['id']}/messages/",
        {
            "content": "see attached",
            "file": [SimpleUploadedFile("memo.txt", b"memo")],
            "audio": SimpleUploadedFile("v.wav", wav(1)),
        },
        format="multipart",
    )
    assert posted.status_code == 201, posted.content
    assert (
        alice.post(
            "/api/v1/shares/", {"item": top["id"], "username": "bob", "permission": "edit"}, format="json"
        ).status_code
        == 201
    )
    expires = (timezone.now() + timedelta(days=3)).isoformat()
    assert alice.post("/api/v1/links/", {"item": top["id"], "expires_at": expires}, format="json").status_code == 201
    bob.post("/api/v1/files/", {"file": [SimpleUploadedFile("bobs.txt", b"bob's own")]})


def state(api) -> dict:
    """What a user sees through the API, file bytes included."""
    seen = {}
    for path in (
        "/api/v1/folders/?all=1",
        "/api/v1/files/?all=1",
        "/api/v1/notes/?all=1",
        "/api/v1/chats/",
        "/api/v1/trash/",
        "/api/v1/shares/",
        "/api/v1/links/",
        "/api/v1/shared-with-me/",
        "/api/v1/tags/",
        "/api/v1/me/storage",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content)
        seen[path] = response.json()
    for file in seen["/api/v1/files/?all=1"]["results"]:
        versions = api.get(f"/api/v1/files/{file['id']}/versions/").json()
        seen[f"versions {file['id']}"] = versions
        for version in versions["results"]:
            body = api.get(f"/api/v1/files/{file['id']}/versions/{version['number']}/content")
            seen[f"bytes {file['id']} {version['number']}"] = b"".join(body.streaming_content)
    for chat in seen["/api/v1/chats/"]["results"]:
        seen[f"messages {chat['id']}"] = api.get(f"/api/v1/chats/{chat['id']}/messages/").json()
    return seen


def wipe_blobs(blob_dir) -> None:
    shutil.rmtree(blob_dir)
    blob_dir.mkdir()


def test_backup_and_restore_give_back_every_listing_and_every_byte(tmp_path, blob_dir):
    from activity.chain import verify

    alice_account, bob_account = make_account("alice"), make_account("bob")
    populate(login(alice_account), login(bob_account))
    before = {name: state(login(account)) for name, account in (("alice", alice_account), ("bob", bob_account))}

    archive = tmp_path / "instance.tar"
    out = io.StringIO()
    call_command("backup", str(archive), "--no-progress", stdout=out)
    assert "Backed up" in out.getvalue() and archive.stat().st_mode & 0o777 == 0o600
    out = io.StringIO()
    call_command("backup_verify", str(archive), "--no-progress", stdout=out)
    assert "The archive is sound" in out.getvalue()

    wipe_blobs(blob_dir)  # the blobs must come from the archive
    with pytest.raises(CommandError, match="already has accounts"):
        call_command("restore", str(archive), "--no-progress")
    out = io.StringIO()
    call_command("restore", str(archive), "--force", "--yes", "--no-progress", stdout=out)
    assert "Restored" in out.getvalue()

    after = {name: state(login(account)) for name, account in (("alice", alice_account), ("bob", bob_account))}
    for name in before:
        for key in before[name]:
            assert after[name][key] == before[name][key], (name, key)
    assert after == before
    assert list(verify()) == []  # every user's activity chain still verifies


# --- across databases: SQLite -> PostgreSQL -> SQLite, each a fresh instance in its own process ---------------------


def instance_env(data_dir, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env.update(LOCKER_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="locker.settings", LOCKER_HTTPS="0")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env, *args, check=True):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def contents(archive) -> tuple[list, dict]:
    """An archive's rows (sorted, as parsed JSON) and its blobs' checksums: what must survive any database."""
    import gzip
    import json
    import tarfile

    rows, blobs = [], {}
    with tarfile.open(archive, "r|") as tar:
        for info in tar:
            data = tar.extractfile(info).read()
            if info.name.startswith("db/"):
                rows.extend(json.loads(line) for line in gzip.decompress(data).splitlines() if line.strip())
            elif info.name.startswith("blobs/"):
                import hashlib

                blobs[info.name] = hashlib.sha256(data).hexdigest()
    return sorted(rows, key=lambda row: (row["model"], str(row["pk"]))), blobs


def postgres_database():
    """A new, empty PostgreSQL database on 127.0.0.1 (skips when there is no server), dropped afterwards."""
    import uuid

    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"locker_restore_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    return admin, name


def test_an_archive_moves_from_sqlite_to_postgresql_and_back_unchanged(tmp_path):
    alice, bob = make_account("alice"), make_account("bob")
    populate(login(alice), login(bob))
    first = tmp_path / "first.tar"
    call_command("backup", str(first), "--no-progress", stdout=io.StringIO())

    admin, name = postgres_database()
    try:
        on_postgres = instance_env(tmp_path / "pg", f"postgres://postgres@127.0.0.1:5432/{name}")
        manage(on_postgres, "restore", str(first), "--no-progress")
        second = tmp_path / "second.tar"
        manage(on_postgres, "backup", str(second), "--no-progress")
        on_sqlite = instance_env(tmp_path / "sqlite", None)
        manage(on_sqlite, "restore", str(second), "--no-progress")
        third = tmp_path / "third.tar"
        manage(on_sqlite, "backup", str(third), "--no-progress")
        fsck = manage(on_sqlite, "vault_fsck", "--dry-run", "--min-age", "0")
        assert "vault is consistent" in fsck.stdout
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    original = contents(first)
    assert contents(second) == original and contents(third) == original
    assert len(original[1]) >= 8  # versions, thumbnails, the attachment and the recording
