"""Text recognition as a job after the upload commits (issue: OCR): images and an image-only PDF uploaded through the
API are read by Tesseract off the request, then found by a word on them, with a snippet; nothing of their text is
readable at rest; hostile images fail their job with a reason; the setting, the languages, orphaned jobs, new
versions, shares, ``vault_reindex`` and the admin's view.

Real parts: the API in-process on a real database (transactional: the job runs after the commit, in the pool's
thread), the real worker process and Tesseract.
"""

from __future__ import annotations

import io
import logging
import os
import random
import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from tests.at_rest import files_holding, tables_holding
from tests.factories import make_account
from tests.vault.conftest import bearer, blob_files
from tests.vault.test_ocr import HOSTILE, _bomb, encoded, rendered, tesseract_needed
from vault.derived import derive, ocr
from vault.models import ContentWords, Derived, File

pytestmark = pytest.mark.usefixtures("transactional_db")

LETTERS = "ABCDEFGHKMNPRSTUVWXYZ"  # no I, J, L, O, Q: none a reader takes for a digit, a bracket or another letter


@pytest.fixture(autouse=True)
def _tesseract(monkeypatch):
    monkeypatch.setattr(derive, "_languages", None)
    tesseract_needed()


@pytest.fixture
def alice(account):
    return bearer(account)


def marker(rng: random.Random, stem: str) -> str:
    return stem + "".join(rng.choice(LETTERS) for _ in range(5))


def upload(api, name: str, data: bytes, **fields):
    response = api.post("/api/v1/files/", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")
    assert response.status_code == 201, response.content
    (result,) = response.json()
    assert result["ok"], result
    return result["file"]


def settle() -> None:
    assert ocr.wait_idle(120), "text recognition jobs still running after two minutes"


def state(api, file_id) -> dict:
    return api.get(f"/api/v1/files/{file_id}/").json()["text_recognition"]


def search(api, word: str) -> list[dict]:
    response = api.get("/api/v1/search", {"q": word, "kind": "file"})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def picture(text: str) -> bytes:
    """A PNG of one line of text in DejaVu Sans, 48 px."""
    return encoded(rendered([text], face="dejavu/DejaVuSans.ttf", size=48))


def image_only_pdf(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return out.getvalue()


def heic(image: Image.Image) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image.convert("RGB").save(out, "HEIF", quality=90)
    return out.getvalue()


def test_photos_scans_and_an_image_only_pdf_are_found_by_a_word_on_them(alice):
    rng = random.Random(2212)
    words = {name: marker(rng, stem) for name, stem in [
        ("receipt.png", "RECEIPT"), ("letter.jpg", "LETTER"), ("tilted.png", "TILTED"), ("scan.tiff", "SCANNED"),
        ("photo.webp", "PHOTO"), ("phone.heic", "PHONE"), ("scan.pdf", "INVOICE"),
    ]}  # fmt: skip
    sans, serif, mono = "dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSansMono.ttf"
    files = {
        "receipt.png": encoded(rendered([f"Total {words['receipt.png']} paid"], face=sans, size=40)),
        "letter.jpg": encoded(rendered([f"Dear {words['letter.jpg']} friend"], face=serif, size=32), "JPEG"),
        "tilted.png": encoded(rendered([f"Noisy {words['tilted.png']} page"], face=mono, size=48, angle=4, noise=0.02)),
        "scan.tiff": encoded(rendered([f"Archive {words['scan.tiff']} copy"], face=sans, size=28), "TIFF"),
        "photo.webp": encoded(rendered([f"Photo {words['photo.webp']} here"], face=serif, size=56), "WEBP"),
        "phone.heic": heic(rendered([f"Phone {words['phone.heic']} shot"], face=sans, size=48)),
        "scan.pdf": image_only_pdf(
            [
                rendered(["First page of the scan"], face=sans, size=36),
                rendered([f"Amount due {words['scan.pdf']} now"], face=serif, size=36),
            ]
        ),
    }
    ids = {}
    for name, data in files.items():
        stored = upload(alice, name, data)
        ids[name] = stored["id"]
        # the upload answers before the text is read: the job waits for the commit, off the request
        assert stored["text_recognition"]["state"] == "pending"
    settle()
    for name, word in words.items():
        assert state(alice, ids[name]) == {"state": "done", "reason": ""}, name
        results = search(alice, word.lower())
        assert [result["name"] for result in results] == [name]
        assert word.lower() in (results[0]["snippet"] or "").lower()  # the snippet shows the text read
    assert alice.get("/api/v1/files/", {"q": "nothing"}).status_code == 200
    summary = alice.get("/api/v1/me/text-recognition").json()
    assert summary["files"] == {"pending": 0, "done": 7, "failed": 0, "skipped": 0}
    assert search(alice, "scan")[0]["name"] == "scan.pdf"  # a PDF's first pages are read too


def test_the_text_read_is_nowhere_at_rest(alice, account, blob_dir, tmp_path, monkeypatch, caplog):
    """The marker on the image is in no database value, blob, temporary file or log line once it is searchable."""
    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    word = marker(random.Random(os.getpid()), "WOMBAT")
    with caplog.at_level(logging.DEBUG):
        stored = upload(alice, "note.png", picture(f"Secret {word} code"))
        settle()
        assert [r["name"] for r in search(alice, word.lower())] == ["note.png"]
    assert Derived.objects.get(version__file_id=stored["id"]).text_sealed  # the snippet's text is kept, sealed
    temporary = [p for p in system_tmp.rglob("*") if p.is_file()]
    assert files_holding(word, [*blob_files(blob_dir), *temporary]) == []
    assert tables_holding(word) == []
    assert word.lower() not in caplog.text.lower()


def test_hostile_images_fail_their_job_with_a_reason_and_others_are_read(alice):
    ids = {name: upload(alice, f"{name}.png", data)["id"] for name, (data, _reason) in HOSTILE.items()}
    word = marker(random.Random(5), "GOODS")
    good = upload(alice, "good.png", picture(f"Fine {word} text"))
    assert alice.get("/api/v1/files/").status_code == 200  # the server answers while the jobs are queued
    settle()
    for name, (_data, reason) in HOSTILE.items():
        job = state(alice, ids[name])
        assert job["state"] == "failed" and reason.lower() in job["reason"].lower(), (name, job)
    assert state(alice, good["id"])["state"] == "done"
    assert [r["name"] for r in search(alice, word.lower())] == ["good.png"]
    summary = ocr.server_summary()
    assert summary["failed"] == len(HOSTILE) and summary["pending"] == 0
    assert {reason for reason, _count in summary["failures"]} == {reason for _data, reason in HOSTILE.values()}


def test_an_image_without_text_is_done_with_nothing_found(alice):
    blank = Image.new("L", (600, 400), 255)
    stored = upload(alice, "blank.png", encoded(blank))
    settle()
    assert state(alice, stored["id"]) == {"state": "done", "reason": ocr.NO_TEXT}
    assert not Derived.objects.get(version__file_id=stored["id"]).text_indexed


def test_text_files_and_other_types_have_no_recognition(alice):
    assert upload(alice, "a.txt", b"plain words here")["text_recognition"] is None
    assert upload(alice, "a.bin", os.urandom(300))["text_recognition"] is None


# --- the user's setting -------------------------------------------------------------------------------------


def test_turned_off_an_upload_is_skipped_and_turning_it_on_reads_what_was_skipped(alice):
    response = alice.patch("/api/v1/me/text-recognition", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False
    word = marker(random.Random(9), "LATER")
    stored = upload(alice, "later.png", picture(f"Read {word} later"))
    assert stored["text_recognition"] == {"state": "skipped", "reason": ocr.OFF}
    settle()
    assert search(alice, word.lower()) == []
    response = alice.patch("/api/v1/me/text-recognition", {"enabled": True}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is True
    settle()
    assert state(alice, stored["id"])["state"] == "done"
    assert [r["name"] for r in search(alice, word.lower())] == ["later.png"]


def test_the_setting_takes_installed_languages_only(alice, account):
    body = alice.get("/api/v1/me/text-recognition").json()
    assert body["available"] is True and "eng" in body["installed"] and body["languages"] == ["eng"]
    bad = {
        "unknown language": {"languages": ["xyz"]},
        "not a list": {"languages": "eng"},
        "empty list": {"languages": []},
        "too many": {"languages": ["eng"] * 9},
        "not a name": {"languages": ["../etc"]},
        "a number": {"languages": [7]},
        "enabled as text": {"enabled": "yes"},
        "enabled as a number": {"enabled": 1},
    }
    for case, data in bad.items():
        response = alice.patch("/api/v1/me/text-recognition", data, format="json")
        assert response.status_code == 400, case
        assert set(response.json()["errors"]) <= {"languages", "enabled"}, case
    account.user.refresh_from_db()
    assert account.user.vault_ocr is True and account.user.vault_ocr_languages == ""  # nothing changed
    response = alice.patch("/api/v1/me/text-recognition", {"languages": ["eng"]}, format="json")
    assert response.status_code == 200 and response.json()["languages"] == ["eng"]
    assert alice.patch("/api/v1/me/text-recognition", "[]", content_type="application/json").status_code == 400
    assert alice.get("/api/v1/activity/").json()["results"][0]["action"] == "account.updated"


def test_the_setting_needs_a_signed_in_user(api_client):
    assert api_client.get("/api/v1/me/text-recognition").status_code == 401
    assert api_client.patch("/api/v1/me/text-recognition", {"enabled": False}, format="json").status_code == 401


def test_without_tesseract_uploads_are_skipped_as_unavailable(alice, monkeypatch):
    monkeypatch.setattr(derive, "_languages", [])
    stored = upload(alice, "x.png", encoded(rendered(["words"], face="dejavu/DejaVuSans.ttf", size=40)))
    assert stored["text_recognition"] == {"state": "skipped", "reason": ocr.UNAVAILABLE}
    body = alice.get("/api/v1/me/text-recognition").json()
    assert body["available"] is False and body["installed"] == []


# --- jobs a server left, new versions, shares, reindex --------------------------------------------------------


def test_a_job_left_by_a_stopped_server_resumes_on_the_owners_next_search(alice, settings):
    settings.LOCKER_OCR_WORKERS = 0  # a server that stops before its jobs run: they stay pending
    word = marker(random.Random(11), "ORPHAN")
    stored = upload(alice, "orphan.png", picture(f"Left {word} here"))
    Derived.objects.filter(version__file_id=stored["id"]).update(ocr_claimed_at=None)
    settings.LOCKER_OCR_WORKERS = 1
    assert search(alice, word.lower()) == []  # this search finds the orphan and queues it
    settle()
    assert state(alice, stored["id"])["state"] == "done"
    assert [r["name"] for r in search(alice, word.lower())] == ["orphan.png"]


def test_a_fresh_claim_of_another_server_is_left_alone(alice, settings):
    settings.LOCKER_OCR_WORKERS = 0
    stored = upload(alice, "claimed.png", picture("Claimed"))
    settings.LOCKER_OCR_WORKERS = 1
    from django.utils import timezone

    Derived.objects.filter(version__file_id=stored["id"]).update(ocr_claimed_at=timezone.now())
    search(alice, "claimed")
    settle()
    assert state(alice, stored["id"])["state"] == "pending"  # another server holds it


def test_a_version_replaced_before_its_job_runs_is_skipped(alice, settings):
    settings.LOCKER_OCR_WORKERS = 0
    first = upload(alice, "page.png", picture("Old words"))
    old_version = File.objects.get(pk=first["id"]).current_version_id
    word = marker(random.Random(3), "NEWER")
    upload(alice, "page.png", picture(f"Newer {word} words"))
    settings.LOCKER_OCR_WORKERS = 1
    search(alice, "anything")
    settle()
    old = Derived.objects.get(version_id=old_version)
    assert (old.ocr_state, old.ocr_reason) == ("skipped", ocr.REPLACED)  # not current: nobody reads it
    assert state(alice, first["id"])["state"] == "done"
    assert [r["name"] for r in search(alice, word.lower())] == ["page.png"]


def test_an_image_uploaded_into_a_shared_folder_is_found_by_owner_and_recipient(alice, account):
    bob_account = make_account("bob")
    bob = bearer(bob_account)
    folder = alice.post("/api/v1/folders/", {"name": "Receipts"}, format="json").json()["id"]
    assert (
        alice.post(
            "/api/v1/shares/", {"item": folder, "username": "bob", "permission": "edit"}, format="json"
        ).status_code
        == 201
    )
    word = marker(random.Random(13), "SHARED")
    data = picture(f"Bill {word} paid")
    stored = upload(bob, "bill.png", data, folder=folder)
    settle()
    assert state(bob, stored["id"])["state"] == "done"
    assert [r["name"] for r in search(alice, word.lower())] == ["bill.png"]  # the owner's index (applied late)
    found = bob.get("/api/v1/search", {"q": word.lower(), "folder": folder}).json()["results"]
    assert [r["name"] for r in found] == ["bill.png"]  # the recipient searches the sealed words


def test_vault_reindex_keeps_the_words_read_and_reads_what_was_not(alice, account, settings, monkeypatch):
    word = marker(random.Random(17), "KEPT")
    read = upload(alice, "read.png", picture(f"Kept {word} here"))
    settle()
    settings.LOCKER_OCR_WORKERS = 0
    later = marker(random.Random(19), "UNREAD")
    unread = upload(alice, "unread.png", picture(f"Not {later} yet"))
    assert state(alice, unread["id"])["state"] == "pending"

    calls = []
    real = derive.ocr_read

    def counted(kind, data, *, languages):
        calls.append(kind)
        return real(kind, data, languages=languages)

    monkeypatch.setattr(ocr, "ocr_read", counted)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(account.password + "\n"))
    call_command("vault_reindex", "--user", "alice", "--password-stdin", stdout=out)
    assert "Text recognition: 1 done." in out.getvalue()
    assert calls == ["image"]  # only the unread one: the words read before come from their sealed list
    assert [r["name"] for r in search(alice, word.lower())] == ["read.png"]
    assert [r["name"] for r in search(alice, later.lower())] == ["unread.png"]
    assert ContentWords.objects.filter(version__file_id=read["id"]).exists()

    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(account.password + "\n"))
    call_command("vault_reindex", "--user", "alice", "--password-stdin", "--ocr-again", stdout=out)
    assert "Text recognition: 2 done." in out.getvalue() and len(calls) == 3
    assert [r["name"] for r in search(alice, word.lower())] == ["read.png"]


def test_the_api_reindex_queues_what_was_never_read(alice):
    word = marker(random.Random(23), "BEFORE")
    stored = upload(alice, "old.png", picture(f"Stored {word} before"))
    settle()
    # as a version stored before text recognition existed: no state, no words
    Derived.objects.filter(version__file_id=stored["id"]).update(ocr_state="", text_indexed=False, text_sealed="")
    ContentWords.objects.filter(version__file_id=stored["id"]).delete()
    response = alice.post("/api/v1/search/reindex")
    assert response.status_code == 200 and response.json()["text_recognition_queued"] == 1
    settle()
    assert [r["name"] for r in search(alice, word.lower())] == ["old.png"]


# --- the admin ------------------------------------------------------------------------------------------------


def test_the_admin_sees_the_queue_and_failures_without_content(alice, client):
    bomb = upload(alice, "bomb.png", _bomb(20_000))
    word = marker(random.Random(29), "PRIVATE")
    upload(alice, "private.png", picture(f"Private {word}"))
    settle()
    admin = make_account("root", role="admin")
    client.force_login(admin.user)
    page = client.get("/admin/vault/textrecognitionjob/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1</strong> failed" in html and "0</strong> pending" in html and "too large" in html
    assert word.lower() not in html.lower() and "private.png" not in html and "bomb.png" not in html
    assert str(File.objects.get(pk=bomb["id"]).current_version_id) in html
    response = client.post(
        "/admin/vault/textrecognitionjob/",
        {"action": "try_again", "_selected_action": [str(File.objects.get(pk=bomb["id"]).current_version_id)]},
    )
    assert response.status_code == 302
    assert Derived.objects.get(version__file_id=bomb["id"]).ocr_state == "pending"


# --- the settings page ------------------------------------------------------------------------------------------


def test_the_settings_page_turns_it_off_and_on_and_chooses_languages(account, client):
    client.force_login(account.user)
    page = client.get("/settings").content.decode()
    assert 'id="text-recognition"' in page and 'id="ocr-enabled" name="enabled" value="true" checked' in page
    assert 'value="eng" checked' in page
    response = client.post("/settings/text-recognition", {"languages": ["eng"]})
    assert response.status_code == 302 and response["Location"] == "/settings#text-recognition"
    account.user.refresh_from_db()
    assert account.user.vault_ocr is False and account.user.vault_ocr_languages == "eng"
    page = client.get("/settings").content.decode()
    assert "Text recognition is off." in page and 'name="enabled" value="true">' in page
    response = client.post("/settings/text-recognition", {"enabled": "true", "languages": ["eng", "xyz"]}, follow=True)
    assert "Not installed on this server: xyz" in response.content.decode()
    account.user.refresh_from_db()
    assert account.user.vault_ocr is False  # a refused form changes nothing
    client.post("/settings/text-recognition", {"enabled": "true", "languages": ["eng"]})
    account.user.refresh_from_db()
    assert account.user.vault_ocr is True
    assert client.get("/settings/text-recognition").status_code == 405


def test_the_settings_page_says_once_that_it_is_unavailable(account, client, monkeypatch):
    monkeypatch.setattr(derive, "_languages", [])
    client.force_login(account.user)
    page = client.get("/settings").content.decode()
    assert page.count("Unavailable on this server.") == 1 and 'id="ocr-enabled"' not in page
