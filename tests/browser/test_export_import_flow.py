"""The settings page's "Your data" section in a real Chromium (templates/vault/your_data.html, docs/export.md).

Alice exports through the form (a real form post, saved by the browser's download manager), the zip opens in
7-Zip with her passphrase and holds her bytes; Bob imports it through the page: "Check only" reports what would
be created and writes nothing, "Import" writes it and reports it, a second "Import" creates nothing, and a wrong
passphrase shows the server's sentence. The section fits a 360 px phone.
"""

import os
import re
import shutil
import subprocess
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.test_accounts_flow import sign_out
from tests.browser.test_phone_layout import CONTROLS, SMALL_PHONE, SMALL_TARGETS, TARGET
from tests.browser.test_vault_flow import signed_in, throttle, unthrottle
from tests.vault.test_backup import login

PASSPHRASE = "plum tractor 1987"
PLAN_V1 = b"The plan, first draft\n"
PLAN_V2 = b"The plan, second draft, with more\n"
PHOTO = os.urandom(200 * 1024)
NOTE = "# Packing\n\n- passport\n- charger"
IMPORTED = re.compile(r"^Imported \d{4}-\d{2}-\d{2} \d{2}:\d{2}$")

# Every text the import's progress label shows, in order (a MutationObserver: the upload is quick on localhost).
WATCH_PROGRESS = """() => {
    window.progressLog = [];
    const label = document.getElementById("import-progress-label");
    new MutationObserver(() => {
        const text = label.textContent;
        if (window.progressLog.at(-1) !== text) window.progressLog.push(text);
    }).observe(label, {childList: true, characterData: true, subtree: true});
}"""


def populate(api) -> None:
    """A folder with a file in two versions, a file at the top, a note and a chat."""
    folder = api.post("/api/v1/folders/", {"name": "Projects"}, format="json").json()
    first = {"file": [SimpleUploadedFile("plan.txt", PLAN_V1)], "folder": folder["id"]}
    sent = api.post("/api/v1/files/", first, format="multipart")
    assert sent.status_code == 201, sent.content
    plan = sent.json()[0]["file"]["id"]
    put = api.generic("PUT", f"/api/v1/files/{plan}/content", PLAN_V2, content_type="text/plain")
    assert put.status_code == 200, put.content
    sent = api.post("/api/v1/files/", {"file": [SimpleUploadedFile("photo.bin", PHOTO)]}, format="multipart")
    assert sent.status_code == 201, sent.content
    made = api.post("/api/v1/notes/", {"title": "Packing", "body": NOTE}, format="json")
    assert made.status_code == 201, made.content
    chat = api.post("/api/v1/chats/", {"title": "Trip"}, format="json").json()
    said = api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "When do we leave?"}, format="json")
    assert said.status_code == 201, said.content


def holdings(api) -> dict:
    """What an account holds: file names with their bytes (every version), folder names, note titles, chats."""
    files = {}
    for file in api.get("/api/v1/files/?all=1").json()["results"]:
        versions = api.get(f"/api/v1/files/{file['id']}/versions/").json()["results"]
        files[file["name"]] = [
            b"".join(api.get(f"/api/v1/files/{file['id']}/versions/{v['number']}/content").streaming_content)
            for v in sorted(versions, key=lambda v: v["number"])
        ]
    folders, waiting = [], [None]
    while waiting:
        parent = waiting.pop()
        listed = api.get("/api/v1/folders/", {"parent": parent} if parent else {}).json()["results"]
        folders += [f["name"] for f in listed]
        waiting += [f["id"] for f in listed]
    notes = sorted(n["title"] for n in api.get("/api/v1/notes/?all=1").json()["results"])
    chats = sorted(c["title"] for c in api.get("/api/v1/chats/").json()["results"])
    return {"files": files, "folders": sorted(folders), "notes": notes, "chats": chats}


def seven_zip_extract(archive, target, passphrase: str) -> subprocess.CompletedProcess | None:
    tool = shutil.which("7z") or shutil.which("7zz")
    if tool is None:
        return None
    return subprocess.run(
        [tool, "x", f"-p{passphrase}", f"-o{target}", "-y", str(archive)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fits_small_phone(page) -> None:
    """At 360 px: no sideways scrolling, and the section's controls are full-size tap targets."""
    original = page.viewport_size
    page.set_viewport_size(SMALL_PHONE)
    try:
        assert axe.overflow(page) is None, axe.overflow(page)
        small = page.evaluate(SMALL_TARGETS, [", ".join(f"#your-data {c}" for c in CONTROLS.split(", ")), TARGET, None])
        assert not small, small
    finally:
        page.set_viewport_size(original)


def no_serious_axe_violations(page, axe_source) -> None:
    found = axe.run(page, axe_source)
    assert not found, axe.describe({"settings": found})


def test_export_on_the_settings_page_then_import_into_another_account(
    page, live_server, screenshot, tmp_path, axe_source
):
    base = live_server.url
    alice = signed_in(page, base, "alice")
    alice_api = login(alice)
    populate(alice_api)

    page.goto(f"{base}/settings")
    section = page.get_by_test_id("your-data")
    expect(section.get_by_role("heading", name="Your data")).to_be_visible()
    expect(section).to_contain_text("7-Zip")
    expect(section).to_contain_text("names of the files inside a zip are not hidden")
    expect(section).to_contain_text("Locker does not keep the passphrase")

    # Checked before anything is sent: too short, then not the same twice (the page stays, no download starts).
    posts = []
    page.on("request", lambda r: r.method == "POST" and "/me/export" in r.url and posts.append(r.url))
    passphrase = page.get_by_label("Passphrase for the zip")
    confirm = page.get_by_label("Passphrase again")
    download_button = page.get_by_role("button", name="Download encrypted zip")
    passphrase.fill("short")
    confirm.fill("short")
    download_button.click()
    expect(page.get_by_test_id("export-error")).to_contain_text("at least 8 characters")
    expect(passphrase).to_be_focused()
    expect(passphrase).to_have_attribute("aria-invalid", "true")
    passphrase.fill(PASSPHRASE)
    confirm.fill(PASSPHRASE + "x")
    download_button.click()
    expect(page.get_by_test_id("export-error")).to_contain_text("not the same")
    expect(confirm).to_be_focused()
    assert posts == []

    # The real export: a form post the browser saves as a download.
    confirm.fill(PASSPHRASE)
    expect(page.get_by_test_id("export-error")).to_be_empty()
    page.get_by_label("Include older versions of files").check()
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert re.fullmatch(r"locker-alice-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    archive = tmp_path / download.suggested_filename
    download.save_as(archive)
    assert posts == [f"{base}/api/v1/me/export"]
    expect(page).to_have_url(f"{base}/settings")
    expect(page.get_by_test_id("export-status")).to_contain_text("download starts")
    expect(passphrase).to_have_value("")  # not left in the page
    expect(confirm).to_have_value("")

    with zipfile.ZipFile(archive) as opened:  # names are readable, contents encrypted
        names = opened.namelist()
        assert all(info.flag_bits & 0x1 for info in opened.infolist() if not info.is_dir())
    assert "Files/Projects/plan.txt" in names and "Files/photo.bin" in names and "manifest.json" in names
    assert any(n.startswith("Versions/Projects/plan.txt/") for n in names), names
    assert PLAN_V2 not in archive.read_bytes()

    opened = seven_zip_extract(archive, tmp_path / "out", PASSPHRASE)
    if opened is not None:  # 7-Zip installed (Debian: apt-get install 7zip)
        assert opened.returncode == 0, opened.stdout + opened.stderr
        out = tmp_path / "out"
        assert (out / "Files" / "Projects" / "plan.txt").read_bytes() == PLAN_V2
        assert (out / "Files" / "photo.bin").read_bytes() == PHOTO
        assert [p.read_bytes() for p in (out / "Versions").rglob("*") if p.is_file()] == [PLAN_V1]
        assert (out / "Notes" / "Packing.md").read_text() == NOTE
        assert "When do we leave?" in (out / "Chats" / "Trip" / "chat.md").read_text()
    screenshot(page, "export-import-settings")
    sign_out(page)

    # Bob brings it into his own account.
    bob = signed_in(page, base, "bob")
    bob_api = login(bob)
    assert holdings(bob_api) == {"files": {}, "folders": [], "notes": [], "chats": []}
    page.goto(f"{base}/settings")
    page.evaluate(WATCH_PROGRESS)
    page.get_by_label("Exported zip").set_input_files(archive)
    page.get_by_label("Passphrase of the zip").fill(PASSPHRASE)
    expect(page.get_by_label("Into a new folder (recommended)")).to_be_checked()
    report = page.get_by_test_id("import-report")

    page.get_by_role("button", name="Check only").click()
    expect(report).to_contain_text("Nothing was written.")
    expect(report).to_contain_text(
        re.compile(
            r"An import would create 2 files \(1 older version\), 2 folders, 1 note and 1 chat "
            r"in “Imported \d{4}-\d{2}-\d{2} \d{2}:\d{2}” \([\d.]+ KiB\)\."
        )
    )
    expect(page.get_by_test_id("import-check")).to_be_enabled()
    expect(page.locator("#import-progress-box")).to_be_hidden()
    log = page.evaluate("window.progressLog")
    assert re.fullmatch(r"Uploading [\d.]+ (B|KiB) of [\d.]+ KiB", log[0]), log
    assert log[-1] == "Checking…", log
    assert holdings(bob_api) == {"files": {}, "folders": [], "notes": [], "chats": []}  # nothing written

    # The import itself, uploaded slowly enough to see its progress part-way.
    page.evaluate("window.progressLog = []")
    cdp = throttle(page, 80_000)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("progressbar", name=re.compile(r"^Uploading [\d.]+ KiB of [\d.]+ KiB$"))).to_be_visible()
    expect(page.get_by_test_id("import-run")).to_be_disabled()
    expect(page.get_by_test_id("import-check")).to_be_disabled()
    assert 0 < page.locator("#import-progress").evaluate("bar => bar.value / bar.max") < 1
    expect(report).to_contain_text(
        re.compile(
            r"^Imported 2 files \(1 older version\), 2 folders, 1 note and 1 chat "
            r"into “Imported \d{4}-\d{2}-\d{2} \d{2}:\d{2}” \([\d.]+ KiB\)\."
        )
    )
    unthrottle(cdp)
    expect(report).to_be_focused()  # the keyboard lands on the answer
    expect(report.get_by_role("link", name="Open your files")).to_be_visible()
    log = page.evaluate("window.progressLog")
    assert log[0].startswith("Uploading ") and log[-1] == "Checking and importing…", log
    no_serious_axe_violations(page, axe_source)
    held = holdings(bob_api)
    assert held["files"] == {"plan.txt": [PLAN_V1, PLAN_V2], "photo.bin": [PHOTO]}
    assert len(held["folders"]) == 2 and "Projects" in held["folders"]
    assert any(IMPORTED.match(name) for name in held["folders"]), held["folders"]
    assert held["notes"] == ["Packing"] and held["chats"] == ["Trip"]
    screenshot(page, "export-import-imported")

    # Again: everything is in place, nothing new.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(report).to_contain_text("Nothing new was imported: 2 files (1 older version), 2 folders, 1 note and 1 chat")
    assert holdings(bob_api) == held

    # A wrong passphrase, sent with Enter from the passphrase field (the form's first button: "Check only").
    page.get_by_label("Passphrase of the zip").fill("not the passphrase")
    page.get_by_label("Passphrase of the zip").press("Enter")
    error = page.get_by_test_id("import-error")
    expect(error).to_have_text("The passphrase does not open this archive (or the archive was altered).")
    expect(error).to_have_attribute("role", "alert")
    expect(report).to_be_empty()
    no_serious_axe_violations(page, axe_source)
    assert holdings(bob_api) == held

    # Nothing chosen: said on the page, nothing sent.
    page.get_by_label("Exported zip").set_input_files([])
    page.get_by_role("button", name="Import", exact=True).click()
    expect(error).to_have_text("Choose the exported zip to import.")
    expect(page.get_by_label("Exported zip")).to_be_focused()

    fits_small_phone(page)
    screenshot(page, "export-import-error")
    # The wrong passphrase is a 400 the page shows in words; Chromium logs that status line for the XHR.
    problems = [p for p in page.problems() if "status of 400" not in p or "/api/v1/me/import" not in p]
    assert not problems, problems


def test_the_section_fits_a_phone_and_works_from_the_keyboard(page, live_server, axe_source, tmp_path):
    """At 360 px, from the keyboard; the report's failures and a 413 as the page shows them (the answers are
    stood in for by the test: a real archive with a failing member or a full account is the API tests' part)."""
    base = live_server.url
    signed_in(page, base, "carol")
    page.set_viewport_size(SMALL_PHONE)
    page.goto(f"{base}/settings#your-data")
    assert axe.overflow(page) is None, axe.overflow(page)
    page.get_by_label("Passphrase for the zip").focus()
    page.keyboard.type("12345678")
    page.keyboard.press("Tab")
    page.keyboard.type("12345679")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("export-error")).to_contain_text("not the same")
    expect(page.get_by_label("Passphrase again")).to_be_focused()

    hostile = "Files/<img src=x onerror=alert(1)>.txt"
    answer = {
        "dry_run": False,
        "folder": None,
        "created": {"folders": 1, "files": 1, "versions": 0, "notes": 0, "chats": 0},
        "skipped": {"folders": 0, "files": 0, "versions": 0, "notes": 0, "chats": 0},
        "failed": [{"path": hostile, "reason": "Your storage is full."}],
        "bytes": 2048,
    }
    page.route("**/api/v1/me/import", lambda route: route.fulfill(status=201, json=answer))
    zip_file = tmp_path / "some.zip"
    zip_file.write_bytes(b"PK" + os.urandom(1000))
    page.get_by_label("Exported zip").set_input_files(zip_file)
    page.get_by_label("Passphrase of the zip").fill("anything at all")
    page.get_by_label("Merge into my folders").check()
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Imported 1 file and 1 folder into your folders (2.0 KiB).")
    expect(report).to_contain_text("1 item could not be imported:")
    expect(page.get_by_test_id("import-failed").get_by_role("listitem")).to_have_text(
        f"{hostile}: Your storage is full."
    )
    assert page.locator("#your-data img").count() == 0  # a name is text, never markup
    assert axe.overflow(page) is None, axe.overflow(page)
    no_serious_axe_violations(page, axe_source)

    page.unroute("**/api/v1/me/import")
    full = {"code": "quota_exceeded", "detail": "This needs 5.0 GiB; 1.0 GiB is free of your 10.0 GiB."}
    page.route("**/api/v1/me/import", lambda route: route.fulfill(status=413, json=full))
    page.get_by_role("button", name="Check only").click()
    expect(page.get_by_test_id("import-error")).to_have_text(full["detail"])
    expect(report).to_be_empty()
    problems = [p for p in page.problems() if "status of 413" not in p or "/api/v1/me/import" not in p]
    assert not problems, problems


def test_a_large_export_is_prepared_in_the_background_then_downloaded_and_deleted(page, live_server, tmp_path):
    """ "Prepare it in the background": the list under the form follows the job to "Ready", the download opens in
    7-Zip, Delete removes it; the notification says it is ready."""
    account = signed_in(page, live_server.url, "alice")
    populate(login(account))
    page.goto(f"{live_server.url}/settings")
    page.fill("#export-passphrase", PASSPHRASE)
    page.fill("#export-confirm", PASSPHRASE)
    page.check("#export-background")
    page.click("#export-submit")
    expect(page.get_by_test_id("export-status")).to_contain_text("Locker is preparing your export")
    job = page.get_by_test_id("export-job")
    expect(job).to_have_attribute("data-status", "ready", timeout=30_000)
    expect(page.locator("#export-passphrase")).to_have_value("")
    with page.expect_download() as caught:
        job.get_by_test_id("export-job-download").click()
    saved = tmp_path / "background.zip"
    caught.value.save_as(saved)
    opened = seven_zip_extract(saved, tmp_path / "out", PASSPHRASE)
    if opened is not None:
        assert opened.returncode == 0, opened.stderr
        assert (tmp_path / "out" / "Files" / "photo.bin").read_bytes() == PHOTO
    ready = [n for n in login(account).get("/api/v1/notifications/").json()["results"] if n["kind"] == "export.ready"]
    assert ready, "no notification said the export was ready"
    job.get_by_test_id("export-job-delete").click()
    expect(page.get_by_test_id("export-job")).to_have_count(0)
    expect(page.locator("#export-jobs")).to_be_hidden()
    assert not page.problems(), page.problems()
