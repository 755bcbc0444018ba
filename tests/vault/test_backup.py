"""Instance backups: ``manage.py backup``, ``backup_verify`` and ``restore`` (docs/backup.md).

A real instance's worth of data (two users, nested folders, versions, notes, chats with an attachment and a voice
recording, trash, a share and a link) goes through backup and restore; every API listing and every file's bytes
are compared, and the users sign in with their passwords.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.blobstore import blob_env, wipe
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


def manifest_of(archive) -> dict:
    import json
    import tarfile

    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def wipe_blobs(blob_dir) -> None:
    wipe(blob_dir)


def test_backup_and_restore_give_back_every_listing_and_every_byte(tmp_path, blob_dir):
    from activity.chain import verify

    alice_account, bob_account = make_account("alice"), make_account("bob")
    populate(login(alice_account), login(bob_account))
    before = {name: state(login(account)) for name, account in (("alice", alice_account), ("bob", bob_account))}

    archive = tmp_path / "instance.tar"
    out = io.StringIO()
    call_command("backup", str(archive), "--no-progress", stdout=out)
    assert "Backed up" in out.getvalue() and archive.stat().st_mode & 0o777 == 0o600
    manifest = manifest_of(archive)
    assert manifest["format"] == "locker-backup" and manifest["app_version"] and manifest["migrations"]["vault"]
    assert manifest["counts"]["accounts.user"] == 2 and manifest["blobs"] >= 8
    assert all(len(m["crc32"]) == 8 for m in manifest["members"].values())
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
    if env.get("LOCKER_BLOB_STORAGE") == "s3":  # an instance of its own in the bucket too
        env["LOCKER_S3_PREFIX"] = f"tests/{uuid.uuid4().hex}"
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


READ_AS_ALICE = """
from accounts.models import User
from accounts.services import keyring_unlock
from vault.keys import VaultKeys
from vault.models import File
user = User.objects.get(username="alice")
keys = VaultKeys(user.pk, keyring_unlock(user=user, password="%s"))
print(sorted(keys.file_name(f) for f in File.objects.filter(owner=user, trashed_at__isnull=True)))
"""


def signs_in_and_reads(env) -> list[str]:
    """In the restored instance's own process: alice's password opens her keys, and they open her file names."""
    import ast

    from tests.factories import DEFAULT_PASSWORD

    done = manage(env, "shell", "-c", READ_AS_ALICE % DEFAULT_PASSWORD)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


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
        # (after the backup: a sign-in under production settings re-wraps the data key with stronger Argon2 costs)
        assert signs_in_and_reads(on_postgres) == sorted(["plan.txt", "r.bin", "deep.txt", "memo.txt", "v.wav"])
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


# --- encryption, damage and hostile archives: a clear error, nothing written ------------------------------------


@pytest.fixture
def archive(tmp_path):
    """A real archive of a small instance (one user, a few files), and the instance emptied of it."""
    populate(login(make_account("alice")), login(make_account("bob")))
    path = tmp_path / "instance.tar"
    call_command("backup", str(path), "--no-progress", stdout=io.StringIO())
    return path


def empty_instance(blob_dir) -> None:
    """Make this instance the fresh one an archive is restored into: no rows of any user, no blobs."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.app_label in ("accounts", "vault", "chats", "activity", "token_blacklist"):
            model._base_manager.all().delete()
    wipe_blobs(blob_dir)


def assert_nothing_restored(blob_dir) -> None:
    from accounts.models import User

    assert not User.objects.exists()
    assert not [p for p in blob_dir.rglob("*") if p.is_file()]


def rewritten(source, target, change) -> None:
    """Copy a tar archive member by member through ``change(info, data) -> [(info, data), ...]``."""
    import tarfile

    with tarfile.open(source, "r|") as tar_in, tarfile.open(target, "w|", format=tarfile.PAX_FORMAT) as tar_out:
        for info in tar_in:
            data = tar_in.extractfile(info).read() if info.isreg() else b""
            for new_info, new_data in change(info, data):
                new_info.size = len(new_data) if new_info.isreg() else 0
                tar_out.addfile(new_info, io.BytesIO(new_data) if new_info.isreg() else None)


def test_an_encrypted_archive_needs_its_passphrase(tmp_path, blob_dir):
    populate(login(make_account("alice")), login(make_account("bob")))
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    path = tmp_path / "instance.tar.enc"
    call_command("backup", str(path), "--passphrase-file", str(secret), "--no-progress", stdout=io.StringIO())
    assert path.read_bytes().startswith(b"LOCKER-BACKUP-ENCRYPTED 1 ")
    assert b"manifest.json" not in path.read_bytes() and b"alice" not in path.read_bytes()
    with pytest.raises(CommandError, match="encrypted: give its passphrase"):
        call_command("backup_verify", str(path), "--no-progress")
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    with pytest.raises(CommandError, match="does not decrypt"):
        call_command("backup_verify", str(path), "--passphrase-file", str(wrong), "--no-progress")
    out = io.StringIO()
    call_command("backup_verify", str(path), "--passphrase-file", str(secret), "--no-progress", stdout=out)
    assert "sound" in out.getvalue()
    empty_instance(blob_dir)
    with pytest.raises(CommandError, match="does not decrypt"):
        call_command("restore", str(path), "--passphrase-file", str(wrong), "--no-progress")
    assert_nothing_restored(blob_dir)
    call_command("restore", str(path), "--passphrase-file", str(secret), "--no-progress", stdout=io.StringIO())
    from accounts.models import User
    from tests.factories import DEFAULT_PASSWORD, Account

    alice = login(Account(user=User.objects.get(username="alice"), password=DEFAULT_PASSWORD, recovery_key=None))
    assert alice.get("/api/v1/files/?all=1").json()["count"] == 5  # plan, r.bin, deep, the chat's memo and voice


def _flip_blob(info, data):
    if info.name.startswith("blobs/") and data:
        data = bytes([data[0] ^ 1]) + data[1:]
    return [(info, data)]


def _after_manifest(info, data):
    import tarfile

    out = [(info, data)]
    if info.name == "manifest.json":
        extra = tarfile.TarInfo("db/999999.jsonl.gz")
        out.append((extra, b""))
    return out


def _symlink(info, data):
    import tarfile

    out = [(info, data)]
    if info.name == "locker-backup.json":
        link = tarfile.TarInfo("blobs/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        out.append((link, b""))
    return out


def _escape(info, data):
    import tarfile

    out = [(info, data)]
    if info.name == "locker-backup.json":
        out.append((tarfile.TarInfo("../../outside"), b"x"))
    return out


def _lying_manifest(info, data):
    import json

    if info.name == "manifest.json":
        manifest = json.loads(data)
        manifest["counts"]["accounts.user"] += 1
        data = json.dumps(manifest).encode()
    return [(info, data)]


def _no_manifest(info, data):
    return [] if info.name == "manifest.json" else [(info, data)]


def _zip_bomb(info, data):
    import gzip

    if info.name == "db/000001.jsonl.gz":
        data = gzip.compress(b" " * (300 * 1024 * 1024), compresslevel=9)  # 300 MiB of spaces, about 300 KB packed
    return [(info, data)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_blob, "does not match the manifest"),
        (_after_manifest, "members after its manifest"),
        (_symlink, "link or a special file"),
        (_escape, "unexpected member"),
        (_lying_manifest, "row counts differ"),
        (_no_manifest, "no manifest"),
        (_zip_bomb, "unpacks to more than"),
    ],
    ids=["flipped-byte", "after-manifest", "symlink", "path-escape", "lying-manifest", "no-manifest", "zip-bomb"],
)
def test_a_damaged_or_hostile_archive_is_refused_and_nothing_is_written(archive, tmp_path, blob_dir, change, message):
    bad = tmp_path / "bad.tar"
    rewritten(archive, bad, change)
    with pytest.raises(CommandError, match=message):
        call_command("backup_verify", str(bad), "--no-progress")
    empty_instance(blob_dir)
    with pytest.raises(CommandError, match=f"Nothing was restored: .*{message}"):
        call_command("restore", str(bad), "--no-progress")
    assert_nothing_restored(blob_dir)


def test_a_truncated_archive_or_another_format_is_refused(archive, tmp_path, blob_dir):
    data = archive.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    other = tmp_path / "other.zip"
    import zipfile

    with zipfile.ZipFile(other, "w") as z:
        z.writestr("locker-backup.json", "{}")
    empty_instance(blob_dir)
    for path, message in ((cut, "truncated"), (other, "not a Locker backup")):
        with pytest.raises(CommandError, match=message):
            call_command("backup_verify", str(path), "--no-progress")
        with pytest.raises(CommandError, match=f"Nothing was restored: .*{message}"):
            call_command("restore", str(path), "--no-progress")
        assert_nothing_restored(blob_dir)


def test_backup_refuses_to_overwrite_and_restore_asks_before_deleting(archive, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(archive), "--no-progress")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("restore", str(archive), "--force", "--no-progress", stdout=out)
    assert "deletes everything this instance holds" in out.getvalue() and "accounts.user" in out.getvalue()


def test_a_backup_taken_while_files_come_and_go_restores_without_orphans_or_missing_blobs(tmp_path, blob_dir):
    """Another thread uploads and purges files during the backup: the archive holds exactly the blobs of its snapshot,
    purges wait for the backup's end and then happen."""
    import threading
    import time

    from vault.backup import write
    from vault.transfers.fsck import vault_fsck

    account = make_account("alice")
    api = login(account)
    for n in range(12):
        api.post("/api/v1/files/", {"file": [SimpleUploadedFile(f"before-{n}.bin", os.urandom(50_000))]})
    stop, errors, purged = threading.Event(), [], []

    def writer():
        from django.db import connection

        mine = login(account)
        try:
            n = 0
            while not stop.is_set():
                part = SimpleUploadedFile(f"during-{n}.bin", os.urandom(30_000))
                made = mine.post("/api/v1/files/", {"file": [part]})
                assert made.status_code == 201, made.content
                file_id = made.json()[0]["file"]["id"]
                if n % 2:  # every other one is trashed and purged at once: its blob deletion must wait
                    assert mine.delete(f"/api/v1/files/{file_id}/").status_code == 204
                    assert mine.delete(f"/api/v1/trash/{file_id}/").status_code in (200, 204)
                    purged.append(file_id)
                n += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    slow_open = write.blob_open

    def opening(name):
        time.sleep(0.05)  # the other thread gets its turns while the blobs are read
        return slow_open(name)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(write, "blob_open", opening)
            path = tmp_path / "busy.tar"
            call_command("backup", str(path), "--no-progress", stdout=io.StringIO())
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not errors, errors
    assert purged, "the writer purged nothing during the backup"
    assert vault_fsck(remove=False, min_age_seconds=0).clean  # purges happened once the backup ended
    call_command("backup_verify", str(path), "--no-progress", stdout=io.StringIO())

    empty_instance(blob_dir)
    call_command("restore", str(path), "--no-progress", stdout=io.StringIO())
    report = vault_fsck(remove=False, min_age_seconds=0)
    assert report.clean, (report.orphans, report.missing)


def test_a_backup_piped_to_standard_output_verifies_from_standard_input(archive, tmp_path, blob_dir):
    """``backup -`` writes the archive to a pipe; ``backup_verify -`` reads one (in a real shell pipeline)."""
    import subprocess
    import sys

    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the pipeline reads this test's SQLite file")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "LOCKER_BACKUP_HOLDS_DIR": str(tmp_path / "holds"),
        "LOCKER_BLOB_DIR": str(blob_dir),
        **blob_env(blob_dir),
    }
    backup = subprocess.Popen([sys.executable, "manage.py", "backup", "-"], stdout=subprocess.PIPE, env=env)
    verify = subprocess.run(
        [sys.executable, "manage.py", "backup_verify", "-", "--no-progress"],
        stdin=backup.stdout,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    backup.stdout.close()
    assert backup.wait(timeout=300) == 0
    assert verify.returncode == 0 and "The archive is sound" in verify.stdout, verify.stderr


def test_progress_bars_show_on_a_terminal_only():
    from vault.backup.progress import progress_bars

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown, hidden = Terminal(), io.StringIO()
    for stream, quiet in ((shown, False), (hidden, False), (Terminal(), True)):
        with progress_bars(quiet=quiet, stream=stream) as bars:
            step = bars.task("Blobs", 10, "MiB")
            step(10)
    assert "Blobs" in shown.getvalue() and "10 of 10 MiB" in shown.getvalue()
    assert hidden.getvalue() == ""


def test_deletions_held_by_a_crashed_backup_are_carried_out_by_fsck(tmp_path, blob_dir, settings):
    """A hold nobody touches any more holds nothing; the list it left is worked off by vault_fsck."""
    from vault.transfers import blobs

    api = login(make_account("alice"))
    made = api.post("/api/v1/files/", {"file": [SimpleUploadedFile("gone.txt", b"soon gone")]}).json()[0]
    holds = settings.LOCKER_BACKUP_HOLDS_DIR
    holds.mkdir(parents=True, exist_ok=True)
    (holds / "1-crashed.hold").touch()
    api.delete(f"/api/v1/files/{made['file']['id']}/")
    api.delete(f"/api/v1/trash/{made['file']['id']}/")
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 1  # held: the blob is still there
    old = os.path.getmtime(holds / "1-crashed.hold") - blobs.HOLD_STALE - 1
    os.utime(holds / "1-crashed.hold", (old, old))
    out = io.StringIO()
    call_command("vault_fsck", "--min-age", "3600", stdout=out)
    assert "carried out 1 blob deletion" in out.getvalue()
    assert not [p for p in blob_dir.rglob("*") if p.is_file()]


def test_rows_read_as_tuples_are_written_exactly_as_djangos_serializer_writes_them():
    """The backup's fast row writer (``row_lines``) and Django's own serializer give the same lines, every table."""
    from vault.backup.write import ExactEncoder, RowSerializer, dumped_models, row_lines

    populate(login(make_account("alice")), login(make_account("bob")))
    compared = 0
    for model in dumped_models():
        text = io.StringIO()
        RowSerializer().serialize(model._base_manager.order_by("pk"), stream=text, cls=ExactEncoder)
        assert "".join(row_lines(model)) == text.getvalue(), model._meta.label
        compared += text.getvalue().count("\n")
    assert compared > 100
