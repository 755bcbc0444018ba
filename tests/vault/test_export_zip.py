"""The personal export: ``POST /api/v1/me/export`` gives an AES-256 zip that opens in 7-Zip (docs/export.md)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_account
from tests.vault.test_backup import login, populate

pytestmark = pytest.mark.django_db

PASSPHRASE = "tangerine kayak 42"


def seven_zip() -> str:
    found = shutil.which("7z") or shutil.which("7zz")
    if not found:
        pytest.skip("7-Zip is not installed (Debian: apt-get install 7zip)")
    return found


def exported(api, **body) -> bytes:
    response = api.post("/api/v1/me/export", {"passphrase": PASSPHRASE, **body}, format="json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="locker-alice-')
    return b"".join(response.streaming_content)


def extract(data: bytes, tmp_path, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess:
    tmp_path.mkdir(parents=True, exist_ok=True)
    archive = tmp_path / "export.zip"
    archive.write_bytes(data)
    target = tmp_path / "out"
    return subprocess.run(
        [seven_zip(), "x", f"-p{passphrase}", f"-o{target}", "-y", str(archive)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def file_bytes(api, name: str) -> bytes:
    files = api.get("/api/v1/files/?all=1").json()["results"]
    file = next(f for f in files if f["name"] == name)
    return b"".join(api.get(f"/api/v1/files/{file['id']}/content").streaming_content)


def test_the_export_opens_in_7zip_with_the_passphrase_and_holds_everything(tmp_path):
    alice = login(make_account("alice"))
    populate(alice, login(make_account("bob")))
    data = exported(alice)
    # contents are encrypted; the zip format leaves member names, sizes and dates readable (docs/export.md)
    assert b"the plan, take" not in data and b"Today" not in data and b"see attached" not in data

    wrong = extract(data, tmp_path / "wrong", passphrase="not the passphrase")
    assert wrong.returncode != 0

    opened = extract(data, tmp_path)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    out = tmp_path / "out"
    assert (out / "Files" / "plan.txt").read_bytes() == b"the plan, take 4" == file_bytes(alice, "plan.txt")
    assert (out / "Files" / "r.bin").read_bytes() == file_bytes(alice, "r.bin")
    assert (out / "Files" / "Projects" / "2026" / "deep.txt").read_bytes() == b"deep down"
    assert not list(out.rglob("old.txt"))  # the trash stays out
    assert (out / "Notes" / "Diary.md").read_text() == "# Today\n\nrain"
    chat = json.loads((out / "Chats" / "Assistant" / "chat.json").read_text())
    message = chat["messages"][0]
    assert message["content"] == "see attached" and message["role"] == "user"
    paths = sorted(a["path"] for a in message["attachments"])
    for path in paths:
        assert (out / path).is_file()
    assert "see attached" in (out / "Chats" / "Assistant" / "chat.md").read_text()

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "locker-export" and manifest["username"] == "alice"
    import hashlib

    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    plan = next(e for e in manifest["files"] if e["name"] == "plan.txt")
    assert plan["current"]["number"] == 4 and plan["versions"] == []
    folders = {(f["path"], tuple(f["tags"])) for f in manifest["folders"]}
    assert folders >= {("Projects", ("work",)), ("Projects/2026", ())}
    assert [n["tags"] for n in manifest["notes"]] == [["me"]]


def test_all_versions_adds_the_older_ones(tmp_path):
    alice = login(make_account("alice"))
    populate(alice, login(make_account("bob")))
    opened = extract(exported(alice, all_versions=True), tmp_path)
    assert opened.returncode == 0, opened.stderr
    older = sorted((tmp_path / "out" / "Versions" / "plan.txt").iterdir())
    assert [p.name for p in older] == ["1 plan.txt", "2 plan.txt", "3 plan.txt"]
    assert older[0].read_bytes() == b"the plan, first" and older[2].read_bytes() == b"the plan, take 3"


def test_names_that_no_file_system_takes_are_made_safe_and_unique(tmp_path):
    alice = login(make_account("alice"))
    for name in ("a:b?.txt", "a_b_.txt", "tab\there.txt", "CON .txt"):
        posted = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile(name, name.encode())]})
        assert posted.status_code in (201, 400), posted.content
    opened = extract(exported(alice), tmp_path)
    assert opened.returncode == 0, opened.stderr
    names = sorted(p.name for p in (tmp_path / "out" / "Files").iterdir())
    assert "a_b_.txt" in names and "a_b_ (2).txt" in names
    assert all(".." not in p.relative_to(tmp_path).parts for p in (tmp_path / "out").rglob("*"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "passphrase"),
        ({"passphrase": "short"}, "passphrase"),
        ({"passphrase": 12345678}, "passphrase"),
        ({"passphrase": "x" * 1025}, "passphrase"),
        ({"passphrase": PASSPHRASE, "all_versions": "perhaps"}, "all_versions"),
        ({"passphrase": PASSPHRASE, "background": [1]}, "background"),
    ],
    ids=["missing", "too-short", "a-number", "too-long", "not-a-boolean", "background-not-a-boolean"],
)
def test_a_bad_request_gets_a_clear_error_and_no_zip(body, field):
    alice = login(make_account("alice"))
    response = alice.post("/api/v1/me/export", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.content


def test_the_export_takes_no_file_and_needs_a_signed_in_user():
    alice = login(make_account("alice"))
    part = SimpleUploadedFile("x.txt", b"x")
    refused = alice.post("/api/v1/me/export", {"passphrase": PASSPHRASE, "file": part}, format="multipart")
    assert (refused.status_code, refused.json()["code"]) == (400, "files_not_accepted")
    from rest_framework.test import APIClient

    assert APIClient().post("/api/v1/me/export", {"passphrase": PASSPHRASE}, format="json").status_code == 401


def test_an_export_is_recorded_in_the_activity_log():
    alice = login(make_account("alice"))
    exported(alice)
    events = alice.get("/api/v1/activity/").json()["results"]
    assert any(e["action"] == "account.data_exported" and e["data"].get("what") == "zip" for e in events)


@pytest.mark.parametrize("passphrase", ["café crème 42", "東京 kayak Ā 7", "0000000\u0100"])
def test_a_passphrase_beyond_ascii_opens_in_7zip_and_imports_back(tmp_path, passphrase):
    """The zip's key comes from the passphrase's UTF-8 bytes, as 7-Zip and the import read it (a character past
    U+00FF once broke the stream after its first bytes; one past ASCII made an export the import could not open)."""
    alice = login(make_account("alice"))
    alice.post("/api/v1/notes/", {"title": "Today", "body": "the plan"}, format="json")
    response = alice.post("/api/v1/me/export", {"passphrase": passphrase}, format="json")
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    opened = extract(data, tmp_path, passphrase)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    wrong = extract(data, tmp_path / "wrong", passphrase.encode("utf-8").decode("latin-1"))
    assert wrong.returncode != 0  # the Latin-1 reading of those bytes is not the passphrase
    archive = SimpleUploadedFile("export.zip", data, content_type="application/zip")
    back = alice.post(
        "/api/v1/me/import", {"archive": archive, "passphrase": passphrase, "dry_run": "true"}, format="multipart"
    )
    assert back.status_code == 200, back.content[:300]
