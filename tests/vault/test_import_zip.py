"""``POST /api/v1/me/import``: a personal export brought back, and every kind of bad archive refused with nothing
written (docs/export.md)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from stream_zip import ZIP_64, stream_zip

from tests.factories import make_account
from tests.vault.test_backup import login, populate
from tests.vault.test_export_zip import PASSPHRASE, exported

pytestmark = pytest.mark.django_db


def send(api, data: bytes, passphrase: str = PASSPHRASE, **fields):
    archive = SimpleUploadedFile("export.zip", data, content_type="application/zip")
    return api.post("/api/v1/me/import", {"archive": archive, "passphrase": passphrase, **fields}, format="multipart")


def holdings(api) -> dict:
    """What an account holds, as its owner sees it (names, folders, tags, versions, bytes, notes, chats)."""
    files = api.get("/api/v1/files/?all=1").json()["results"]
    folders, waiting = {}, [None]
    while waiting:  # the folder listing goes one level at a time
        parent = waiting.pop()
        listed = api.get("/api/v1/folders/", {"parent": parent} if parent else {}).json()["results"]
        folders.update({f["id"]: f for f in listed})
        waiting.extend(f["id"] for f in listed)

    def path(folder_id):
        parts = []
        while folder_id:
            parts.insert(0, folders[folder_id]["name"])
            folder_id = folders[folder_id]["parent"]
        return "/".join(parts)

    out = {"folders": sorted((path(f["id"]), tuple(f["tags"])) for f in folders.values()), "files": {}}
    for file in files:
        versions = api.get(f"/api/v1/files/{file['id']}/versions/").json()["results"]
        contents = [
            b"".join(api.get(f"/api/v1/files/{file['id']}/versions/{v['number']}/content").streaming_content)
            for v in sorted(versions, key=lambda v: v["number"])
        ]
        out["files"][f"{path(file['folder'])}/{file['name']}"] = (tuple(file["tags"]), contents)
    notes = api.get("/api/v1/notes/?all=1").json()["results"]
    out["notes"] = sorted(
        (n["title"], api.get(f"/api/v1/notes/{n['id']}/").json()["body"], tuple(n["tags"])) for n in notes
    )
    chats = api.get("/api/v1/chats/").json()["results"]
    out["chats"] = sorted(
        (
            c["title"],
            tuple(
                (m["role"], m["content"], len(m.get("attachments", [])))
                for m in api.get(f"/api/v1/chats/{c['id']}/messages/").json()["results"]
            ),
        )
        for c in chats
    )
    return out


def count_everything() -> tuple:
    from activity.models import Event
    from chats.models import Chat, Message
    from vault.models import File, FileVersion, Folder, Note

    return tuple(m.objects.count() for m in (Folder, File, FileVersion, Note, Chat, Message)), Event.objects.count()


def test_an_export_imported_into_another_account_reproduces_folders_files_versions_notes_and_chats(tmp_path):
    alice = login(make_account("alice"))
    populate(alice, login(make_account("bob")))
    data = exported(alice, all_versions=True)
    carol = login(make_account("carol"))

    trial = send(carol, data, dry_run="true")
    assert trial.status_code == 200, trial.content
    assert trial.json()["dry_run"] is True and trial.json()["created"]["files"] == 5
    assert carol.get("/api/v1/files/?all=1").json()["count"] == 0  # a dry run writes nothing

    done = send(carol, data, mode="merge")
    assert done.status_code == 201, done.content
    report = done.json()
    assert report["created"] == {"folders": 3, "files": 5, "versions": 3, "notes": 1, "chats": 1}
    assert report["failed"] == []
    theirs, mine = holdings(alice), holdings(carol)
    assert mine["files"] == theirs["files"]  # every version's bytes, in order, with the tags
    assert mine["notes"] == theirs["notes"] and mine["chats"] == theirs["chats"]
    assert set(theirs["folders"]) <= set(mine["folders"])

    again = send(carol, data, mode="merge")
    assert again.status_code == 201, again.content
    assert again.json()["created"] == {"folders": 0, "files": 0, "versions": 0, "notes": 0, "chats": 0}
    assert holdings(carol) == mine  # idempotent


def test_the_default_mode_puts_everything_in_a_new_folder_named_after_the_export():
    alice = login(make_account("alice"))
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("one.txt", b"one")]})
    data = exported(alice)
    carol = login(make_account("carol"))
    done = send(carol, data)
    assert done.status_code == 201, done.content
    folder = done.json()["folder"]
    assert folder.startswith("Imported ")
    assert holdings(carol)["files"] == {f"{folder}/one.txt": ((), [b"one"])}
    assert send(carol, data).json()["created"]["files"] == 0


# --- bad archives: a clear 4xx, nothing written, the quota as it was ---------------------------------------------


def aes_zip(members, password: str = PASSPHRASE) -> bytes:
    """A zip written by stream-zip (as the export writes them) from ``(name, bytes[, mode])``."""
    now = datetime.now(UTC)
    entries = [
        (name, now, (rest[0] if rest else stat.S_IFREG | 0o600), ZIP_64, (data,)) for name, data, *rest in members
    ]
    return b"".join(stream_zip(entries, password=password))


def manifest_for(files: dict[str, bytes]) -> bytes:
    entries = [
        {
            "id": str(n),
            "path": path,
            "name": path.rsplit("/", 1)[-1],
            "folder": "",
            "tags": [],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "versions": [],
        }
        for n, (path, data) in enumerate(files.items())
    ]
    return json.dumps({"format": "locker-export", "format_version": 1, "files": entries}).encode()


def plain_zip(members) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


GOOD = {"Files/a.txt": b"alpha"}


def _lying():
    manifest = json.loads(manifest_for(GOOD))
    manifest["files"][0]["sha256"] = "0" * 64
    return aes_zip([("Files/a.txt", b"alpha"), ("manifest.json", json.dumps(manifest).encode())])


def _bomb():
    big = b"\0" * (64 * 1024 * 1024)
    return aes_zip([("Files/a.txt", big), ("manifest.json", manifest_for({"Files/a.txt": big}))])


HOSTILE = {
    "wrong-passphrase": (
        lambda: aes_zip([*GOOD.items(), ("manifest.json", manifest_for(GOOD))], "other"),
        "passphrase",
    ),
    "zip-slip": (
        lambda: aes_zip([("../evil.txt", b"x"), ("manifest.json", manifest_for({"../evil.txt": b"x"}))]),
        "leaves",
    ),
    "absolute": (
        lambda: aes_zip([("/etc/evil", b"x"), ("manifest.json", manifest_for({"/etc/evil": b"x"}))]),
        "leaves",
    ),
    "backslash": (lambda: aes_zip([("..\\evil", b"x"), ("manifest.json", manifest_for({"..\\evil": b"x"}))]), "leaves"),
    "symlink": (
        lambda: aes_zip([("Files/a.txt", b"/etc/passwd", stat.S_IFLNK | 0o777), ("manifest.json", manifest_for(GOOD))]),
        "link",
    ),
    "duplicate": (lambda: aes_zip([("Files/a.txt", b"1"), ("Files/A.txt", b"2"), ("manifest.json", b"{}")]), "twice"),
    "zip-bomb": (_bomb, "zip bomb"),
    "lying-manifest": (_lying, "does not match"),
    "unlisted-member": (
        lambda: aes_zip([*GOOD.items(), ("Files/extra.txt", b"x"), ("manifest.json", manifest_for(GOOD))]),
        "does not list",
    ),
    "no-manifest": (lambda: aes_zip(list(GOOD.items())), "no manifest"),
    "not-encrypted": (lambda: plain_zip([*GOOD.items(), ("manifest.json", manifest_for(GOOD))]), "encrypted"),
    "not-a-zip": (lambda: os.urandom(5000), "not a zip"),
    "truncated": (lambda: aes_zip([*GOOD.items(), ("manifest.json", manifest_for(GOOD))])[:-40], "not a zip"),
    "another-format": (
        lambda: aes_zip([("notes.txt", b"x"), ("manifest.json", b'{"format": "other"}')]),
        "not a Locker",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_bad_archive_is_refused_and_nothing_is_written(case):
    from accounts.models import User

    make_archive, message = HOSTILE[case]
    account = make_account("carol")
    carol = login(account)
    before, used = count_everything(), User.objects.get(pk=account.user.pk).storage_used
    response = send(carol, make_archive())
    assert response.status_code == 400, (case, response.content)
    assert response.json()["code"] == "invalid_archive" and message in response.json()["detail"], response.json()
    assert count_everything()[0] == before[0]
    assert User.objects.get(pk=account.user.pk).storage_used == used
    from vault.models import FileVersion

    assert not FileVersion.objects.exists()


def test_an_import_beyond_the_quota_is_refused_before_anything_is_written():
    from accounts.models import User

    alice = login(make_account("alice"))
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("big.bin", os.urandom(300_000))]})
    data = exported(alice)
    account = make_account("carol")
    User.objects.filter(pk=account.user.pk).update(storage_quota=100_000)
    carol = login(account)
    response = send(carol, data)
    assert (response.status_code, response.json()["code"]) == (413, "quota_exceeded"), response.content
    assert carol.get("/api/v1/files/?all=1").json()["count"] == 0
    assert carol.get("/api/v1/folders/").json()["count"] == 0
    assert User.objects.get(pk=account.user.pk).storage_used == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"passphrase": PASSPHRASE, "mode": "sideways"}, "mode"),
        ({"passphrase": PASSPHRASE, "dry_run": "perhaps"}, "dry_run"),
        ({}, "passphrase"),
    ],
    ids=["bad-mode", "bad-dry-run", "no-passphrase"],
)
def test_bad_fields_get_a_clear_error(fields, field):
    carol = login(make_account("carol"))
    archive = SimpleUploadedFile("export.zip", b"PK", content_type="application/zip")
    response = carol.post("/api/v1/me/import", {"archive": archive, **fields}, format="multipart")
    assert response.status_code == 400 and field in response.json().get("errors", {}), response.content
    from vault.models import FileVersion

    assert not FileVersion.objects.exists()


def test_an_archive_is_required_and_only_one():
    carol = login(make_account("carol"))
    missing = carol.post("/api/v1/me/import", {"passphrase": PASSPHRASE}, format="multipart")
    assert missing.status_code == 400 and "archive" in missing.json()["errors"]
    two = [SimpleUploadedFile("a.zip", b"PK"), SimpleUploadedFile("b.zip", b"PK")]
    response = carol.post("/api/v1/me/import", {"archive": two, "passphrase": PASSPHRASE}, format="multipart")
    assert response.status_code == 400 and "archive" in response.json()["errors"]
    elsewhere = carol.post(
        "/api/v1/me/import", {"file": SimpleUploadedFile("a.zip", b"PK"), "passphrase": PASSPHRASE}, format="multipart"
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (400, "files_not_accepted")
