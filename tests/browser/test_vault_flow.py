"""The vault pages in a real Chromium: upload many files with progress, folders, move, rename,
versions, trash and restore, download; hostile names stay text; errors are shown per file.

Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800
and phone 390x844).
"""

import os
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from accounts.models import User
from tests.browser.files_page import download_href, menu_click
from tests.browser.test_accounts_flow import sign_in
from tests.factories import make_account

NOTES_V1 = b"Meeting notes\nversion one\n"
NOTES_V2 = b"Meeting notes\nversion TWO, rewritten\n"
PHOTO = os.urandom(768 * 1024)  # about 3 s at the throttled upload speed
CSV = b"name,amount\nrent,1200\nfood,300\n"
HOSTILE = "<img src=x onerror=alert(1)>.txt"
FOLDER_NAME = "<svg onload=alert(2)> & <b>bold"  # names cannot hold "/", so no closing tags
FOLDER_URL = re.compile(r"/files/[0-9a-f-]{36}/$")


def path_of(page) -> str:
    return urlsplit(page.url).path


def signed_in(page, base: str, username: str):
    account = make_account(username)
    sign_in(page, base, username, account.password)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    return account


def row(page, name: str):
    """The listing row whose name is exactly ``name``."""
    return page.locator("[data-testid=item-row]").filter(
        has=page.locator(".item-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def watch_uploads(page) -> None:
    """Record every state and progress value each upload item goes through (MutationObserver)."""
    page.evaluate(
        """() => {
        window.uploadLog = {};
        const note = (li) => {
          const name = li.querySelector('.upload-name').textContent;
          const bar = li.querySelector('progress');
          const entry = (window.uploadLog[name] ||= {states: [], values: []});
          if (entry.states.at(-1) !== li.dataset.state) entry.states.push(li.dataset.state);
          if (bar) entry.values.push([bar.value, bar.max]);
        };
        new MutationObserver((records) => {
          for (const r of records) {
            const li = (r.target.closest && r.target.closest('li.upload')) || null;
            if (li) note(li);
            for (const n of r.addedNodes) if (n.matches && n.matches('li.upload')) note(n);
          }
        }).observe(document.getElementById('upload-list'), {subtree: true, childList: true, attributes: true});
      }"""
    )


def no_horizontal_overflow(page) -> None:
    """At phone width nothing may scroll sideways: not the page, not the listing."""
    page.set_viewport_size({"width": 390, "height": 844})
    widths = page.evaluate(
        """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,
                  ...[...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth)]"""
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    scroll_width, client_width, *wraps = widths
    assert scroll_width <= client_width, widths
    assert all(extra <= 1 for extra in wraps), widths


# True once the named upload's bar is strictly between empty and full.
PART_WAY = """(name) => [...document.querySelectorAll('li.upload')].some((li) => {
  const bar = li.querySelector('progress');
  return li.querySelector('.upload-name').textContent === name && bar && bar.value > 0 && bar.value < bar.max;
})"""


def throttle(page, bytes_per_second: int):
    """Slow the page's uploads down (DevTools network emulation) so that progress can be seen part-way."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second}
    cdp.send("Network.emulateNetworkConditions", conditions)
    return cdp


def unthrottle(cdp) -> None:
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", conditions)
    cdp.detach()


def accept_next_dialog(page, expected: str):
    """Answer the next confirm() with OK; the returned callable checks (later) that it asked ``expected``."""
    asked = []

    def handle(dialog):
        asked.append((dialog.type, dialog.message))
        dialog.accept()

    page.once("dialog", handle)

    def check():
        assert len(asked) == 1 and asked[0][0] == "confirm" and expected in asked[0][1], asked

    return check


def test_upload_folder_move_rename_versions_trash_restore_download(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "vera")
    expect(page.get_by_test_id("open-files")).to_be_visible()  # the home page's "Upload" into the files

    # The file browser, empty, from the header.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    page.wait_for_url(f"{base}/files/")
    expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()
    expect(page.locator("#items-empty")).to_be_visible()
    expect(page.locator("[data-testid=quota]")).to_contain_text("0 B of 10.0 GiB used")

    # Three files at once through the picker: one progress bar each, and one for them all.
    watch_uploads(page)
    files = [
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES_V1},
        {"name": "photo.bin", "mimeType": "application/octet-stream", "buffer": PHOTO},
        {"name": "budget.csv", "mimeType": "text/csv", "buffer": CSV},
    ]
    network = throttle(page, 256 * 1024)  # the photo takes about 3 s: its bar is seen part-way
    page.set_input_files("#upload-input", files)
    items = page.locator("[data-testid=upload-item]")
    expect(items).to_have_count(3)
    page.wait_for_function(PART_WAY, arg="photo.bin")
    expect(items.filter(has_text="photo.bin")).to_have_attribute("data-state", "uploading")
    assert page.locator("#upload-overall").evaluate("p => p.value > 0 && p.value < p.max")
    expect(page.get_by_test_id("upload-overall-bytes")).to_contain_text(" of 768.1 KiB")
    screenshot(page, "vault-uploading", sizes=("desktop",))
    unthrottle(network)
    for spec in files:
        item = items.filter(has_text=spec["name"])
        expect(item.locator("progress")).to_have_count(1)
        expect(item).to_have_attribute("data-state", "done")
        expect(item.locator(".upload-status")).to_have_text("Uploaded")
        assert item.locator("progress").evaluate("p => p.value === p.max && p.max >= 1")
    expect(page.locator("#uploads")).to_have_attribute("data-state", "idle")
    expect(page.locator("#upload-overall-text")).to_have_text("3 uploaded")
    assert page.locator("#upload-overall").evaluate("p => p.value === p.max")
    log = page.evaluate("window.uploadLog")
    for spec in files:
        states = log[spec["name"]]["states"]
        assert states[0] in ("queued", "uploading") and states[-1] == "done" and "uploading" in states, states
        value, maximum = log[spec["name"]]["values"][-1]
        assert value == maximum, log
    expect(page.locator("[data-testid=item-row]")).to_have_count(3)
    expect(page.locator("[data-testid=quota]")).not_to_contain_text("0 B of")

    # Client-side sort: by size (largest first after a second click), by name, keyboard-operable.
    names = page.locator("[data-testid=item-row] .item-name")
    page.get_by_role("button", name="Size", exact=True).click()
    expect(names).to_have_text(["notes.txt", "budget.csv", "photo.bin"])
    page.get_by_role("button", name="Size", exact=True).press("Enter")
    expect(names).to_have_text(["photo.bin", "budget.csv", "notes.txt"])
    expect(page.locator("th[data-sort=size]")).to_have_attribute("aria-sort", "descending")
    page.get_by_role("button", name="Name", exact=True).click()
    expect(names).to_have_text(["budget.csv", "notes.txt", "photo.bin"])

    # A folder.
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", "Projects")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Created the folder “Projects”.")
    expect(row(page, "Projects")).to_have_attribute("data-kind", "folder")
    screenshot(page, "vault-files")

    # Move notes.txt into it with the "Move" dialog's folder picker.
    menu_click(page, "notes.txt", "Move…")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Already here")).to_be_disabled()
    dialog.get_by_role("button", name="Open “Projects”").click()
    expect(dialog.locator("#move-path")).to_have_text("Files / Projects")
    dialog.get_by_role("button", name="Move here").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-testid=vault-message]")).to_contain_text("Moved “notes.txt” to “Projects”.")
    expect(row(page, "notes.txt")).to_have_count(0)

    # Into the folder: breadcrumbs, then rename the file.
    row(page, "Projects").get_by_role("link", name="Projects").click()
    page.wait_for_url(FOLDER_URL)
    folder_path = path_of(page)
    crumbs = page.locator("[data-testid=breadcrumbs] li")
    expect(crumbs).to_have_text(["Files", "Projects"])
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    expect(page).to_have_title("Projects · Locker")
    menu_click(page, "notes.txt", "Rename…")
    rename = page.locator("#rename-dialog")
    expect(rename.locator("#rename-input")).to_have_value("notes.txt")
    rename.locator("#rename-input").fill("plan.txt")
    rename.get_by_role("button", name="Rename").click()
    expect(rename).to_be_hidden()
    expect(row(page, "plan.txt")).to_have_count(1)
    expect(row(page, "notes.txt")).to_have_count(0)

    # Versions: upload a new one (raw PUT with progress), then restore the first.
    menu_click(page, "plan.txt", "Versions…")
    versions = page.locator("#versions-dialog")
    expect(versions.get_by_role("heading")).to_have_text("Versions of “plan.txt”")
    expect(versions.locator("[data-testid=version-row]")).to_have_count(1)
    versions.locator("#version-input").set_input_files(
        {"name": "plan-rewritten.txt", "mimeType": "text/plain", "buffer": NOTES_V2}
    )
    expect(versions.locator("#version-status")).to_have_text("Saved as version 2.")
    assert versions.locator("#version-progress").evaluate("p => p.value === p.max")
    expect(versions.locator("[data-testid=version-row]")).to_have_count(2)
    expect(versions.locator("[data-testid=version-row].current")).to_have_attribute("data-number", "2")
    versions.get_by_role("button", name="Restore version 1").click()
    expect(versions.locator("#version-status")).to_have_text("Restored version 1 as version 3.")
    expect(versions.locator("[data-testid=version-row]")).to_have_count(3)
    expect(versions.locator("[data-testid=version-row].current")).to_have_attribute("data-number", "3")
    screenshot(page, "vault-versions")
    v2_link = versions.get_by_role("link", name="Download version 2").get_attribute("href")
    versions.get_by_role("button", name="Close").click()
    expect(versions).to_be_hidden()
    expect(row(page, "plan.txt").locator(".tag")).to_have_text("v3")
    assert page.request.get(f"{base}{v2_link}").body() == NOTES_V2

    # Delete (to the trash), after a confirmation.
    confirmed = accept_next_dialog(page, "Move “plan.txt” to the trash?")
    menu_click(page, "plan.txt", "Move to trash")
    expect(page.locator("[data-testid=vault-message]")).to_contain_text("Moved “plan.txt” to the trash.")
    confirmed()
    expect(page.locator("[data-testid=item-row]")).to_have_count(0)
    expect(page.locator("#items-empty")).to_be_visible()

    # The trash page: restore it, then follow the link back to its folder.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
    page.wait_for_url(f"{base}/trash/")
    trash_rows = page.locator("[data-testid=trash-row]")
    expect(trash_rows).to_have_count(1)
    expect(trash_rows.first).to_contain_text("plan.txt")
    expect(page.get_by_role("button", name="Empty trash")).to_be_enabled()
    screenshot(page, "vault-trash")
    trash_rows.first.get_by_role("button", name="Restore").click()
    expect(page.locator("[data-testid=vault-message]")).to_contain_text("Restored “plan.txt”.")
    expect(trash_rows).to_have_count(0)
    expect(page.locator("#items-empty")).to_be_visible()
    expect(page.get_by_role("button", name="Empty trash")).to_be_disabled()
    page.get_by_role("link", name="Open its folder").click()
    page.wait_for_url(f"{base}{folder_path}")

    # Download: the restored content (version 1's bytes), under its new name.
    with page.expect_download() as download_info:
        menu_click(page, "plan.txt", "Download")
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == "plan.txt"
    with open(download.path(), "rb") as handle:
        assert handle.read() == NOTES_V1

    # The top level still holds the two other files and the folder; the photo's bytes are intact.
    page.locator("[data-testid=breadcrumbs]").get_by_role("link", name="Files").click()
    page.wait_for_url(f"{base}/files/")
    expect(page.locator("[data-testid=item-row]")).to_have_count(3)
    photo_href = download_href(page, "photo.bin")
    assert page.request.get(f"{base}{photo_href}").body() == PHOTO

    no_horizontal_overflow(page)
    page.goto(f"{base}/trash/")
    expect(page.locator("#items-empty")).to_be_visible()
    no_horizontal_overflow(page)
    assert not page.problems(), page.problems()


def test_hostile_names_are_text(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "mallory")
    alerts = []  # an injected onerror=alert(1) would land here

    def on_dialog(dialog):
        if dialog.type == "alert":
            alerts.append(dialog.message)
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()

    page.set_input_files("#upload-input", {"name": HOSTILE, "mimeType": "text/plain", "buffer": b"<script>x</script>"})
    expect(page.locator("[data-testid=upload-item]")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-testid=upload-item] .upload-name")).to_have_text(HOSTILE)
    expect(row(page, HOSTILE)).to_have_count(1)
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", FOLDER_NAME)
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("[data-testid=vault-message]")).to_have_text(f"Created the folder “{FOLDER_NAME}”.")
    row(page, FOLDER_NAME).get_by_role("link").click()
    page.wait_for_url(FOLDER_URL)
    expect(page.locator("h1")).to_have_text(FOLDER_NAME)
    expect(page.locator("[data-testid=breadcrumbs] li").last).to_have_text(FOLDER_NAME)
    page.go_back()
    expect(row(page, HOSTILE)).to_have_count(1)
    screenshot(page, "vault-hostile-names", sizes=("desktop",))

    # No element came out of a name, in the listing, the uploads or the trash.
    assert page.locator("#vault img, #vault svg, #vault b, #vault script").count() == 0
    confirmed = accept_next_dialog(page, f"Move “{HOSTILE}” to the trash?")
    menu_click(page, HOSTILE, "Move to trash")
    expect(row(page, HOSTILE)).to_have_count(0)
    confirmed()
    page.goto(f"{base}/trash/")
    expect(page.locator("[data-testid=trash-row] .item-name")).to_have_text(HOSTILE)
    assert page.locator("#vault img, #vault script").count() == 0
    assert alerts == []
    assert not page.problems(), page.problems()


def test_drop_errors_cancel_and_trash_purge(page, live_server, screenshot, blob_dir):
    base = live_server.url
    account = signed_in(page, base, "wendy")
    User.objects.filter(pk=account.user.pk).update(storage_quota=64 * 1024)
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()

    # Drag and drop two files: the small one is stored, the one over the quota fails with the API's reason.
    data_transfer = page.evaluate_handle(
        """() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["small and fine"], "small.txt", {type: "text/plain"}));
        dt.items.add(new File([new Uint8Array(200 * 1024)], "huge.bin", {type: "application/octet-stream"}));
        return dt;
      }"""
    )
    # The whole page is the drop target: the overlay names the folder while files are over it.
    overlay = page.get_by_test_id("drop-overlay")
    expect(overlay).to_be_hidden()
    page.dispatch_event("body", "dragenter", {"dataTransfer": data_transfer})
    page.dispatch_event("body", "dragover", {"dataTransfer": data_transfer})
    expect(overlay).to_be_visible()
    expect(overlay).to_have_text("Drop to upload to Files")
    page.dispatch_event("body", "dragleave", {"dataTransfer": data_transfer})
    expect(overlay).to_be_hidden()
    # A row dragged within the page carries no files: no overlay.
    page.evaluate(
        """() => { const dt = new DataTransfer(); dt.setData("text/plain", "a row");
                  document.body.dispatchEvent(new DragEvent("dragenter", {bubbles: true, dataTransfer: dt})); }"""
    )
    expect(overlay).to_be_hidden()
    page.dispatch_event("body", "dragenter", {"dataTransfer": data_transfer})
    expect(overlay).to_be_visible()
    page.dispatch_event("body", "drop", {"dataTransfer": data_transfer})
    expect(overlay).to_be_hidden()
    small = page.locator("[data-testid=upload-item]").filter(has_text="small.txt")
    huge = page.locator("[data-testid=upload-item]").filter(has_text="huge.bin")
    expect(small).to_have_attribute("data-state", "done")
    expect(huge).to_have_attribute("data-state", "error")
    expect(huge.locator(".upload-status[role=alert]")).to_contain_text(
        re.compile(r"needs [0-9.]+ (B|KiB|MiB) of storage")
    )
    expect(huge.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)
    expect(page.locator("#upload-overall-text")).to_have_text("1 uploaded, 1 failed")
    expect(row(page, "small.txt")).to_have_count(1)
    expect(row(page, "huge.bin")).to_have_count(0)
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 1  # small.txt's, encrypted
    screenshot(page, "vault-upload-error")

    # Cancel: a slow upload (throttled network), part-way through, aborted by its own Cancel button.
    network = throttle(page, 32 * 1024)
    page.set_input_files("#upload-input", {"name": "slow.bin", "mimeType": "text/plain", "buffer": bytes(256 * 1024)})
    slow = page.locator("[data-testid=upload-item]").filter(has_text="slow.bin")
    page.wait_for_function(PART_WAY, arg="slow.bin")
    expect(slow).to_have_attribute("data-state", "uploading")
    slow.get_by_role("button", name="Cancel upload of “slow.bin”").click()
    expect(slow).to_have_attribute("data-state", "cancelled")
    expect(slow.locator(".upload-status")).to_have_text("Cancelled")
    unthrottle(network)
    page.get_by_role("button", name="Clear finished").click()
    expect(page.locator("#uploads")).to_be_hidden()

    # A name taken in the folder: the API's 409 reason, shown in the dialog, which stays open to fix it.
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", "small.txt")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("#new-folder-error")).to_have_text('"small.txt" already exists in this folder.')
    page.locator("#new-folder-dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator("#new-folder-dialog")).to_be_hidden()

    # Trash then delete forever, and empty the trash: both ask first and free the storage.
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", "Old stuff")
    page.get_by_role("button", name="Create folder").click()
    expect(row(page, "Old stuff")).to_have_count(1)
    for name in ("small.txt", "Old stuff"):
        confirmed = accept_next_dialog(page, "to the trash?")
        menu_click(page, name, "Move to trash")
        expect(row(page, name)).to_have_count(0)
        confirmed()
    page.goto(f"{base}/trash/")
    expect(page.locator("[data-testid=trash-row]")).to_have_count(2)
    used_before = page.locator("#quota-text").inner_text()
    assert not used_before.startswith("0 B")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel" keeps it
    page.get_by_role("button", name="Delete “small.txt” forever").click()
    expect(page.locator("[data-testid=trash-row]")).to_have_count(2)
    confirmed = accept_next_dialog(page, "Delete “small.txt” forever?")
    page.get_by_role("button", name="Delete “small.txt” forever").click()
    expect(page.locator("[data-testid=vault-message]")).to_contain_text(
        re.compile(r"Deleted “small\.txt” for good: [0-9.]+ (B|KiB) of storage freed\.")
    )
    confirmed()
    expect(page.locator("[data-testid=trash-row]")).to_have_count(1)
    expect(page.locator("#quota-text")).to_have_text(re.compile(r"^0 B of 64\.0 KiB used$"))
    confirmed = accept_next_dialog(page, "Delete all 1 item in the trash forever?")
    page.get_by_role("button", name="Empty trash").click()
    expect(page.locator("[data-testid=vault-message]")).to_contain_text(
        "Emptied the trash: no storage was in use."
    )  # an empty folder
    confirmed()
    expect(page.locator("#items-empty")).to_be_visible()
    # Nothing is left on disk: not the refused upload, not the cancelled one, not the purged ones.
    assert [p for p in blob_dir.rglob("*") if p.is_file()] == []

    # The expected refusals (413 over quota, 409 name taken) are the only console errors.
    expected = [
        re.compile(r"status of 413 .*\(" + re.escape(f"{base}/api/v1/files/") + r"\)$"),
        re.compile(r"status of 409 .*\(" + re.escape(f"{base}/api/v1/folders/") + r"\)$"),
    ]
    problems = [p for p in page.problems() if not any(e.search(p) for e in expected)]
    assert not problems, page.problems()


def test_locked_vault_says_so_and_signing_in_again_unlocks(page, live_server):
    base = live_server.url
    page.goto(f"{base}/files/")  # signed out: the pages ask to sign in first
    page.wait_for_url(re.compile(r"/login\?next=/files/$"))
    page.goto(f"{base}/trash/")
    page.wait_for_url(re.compile(r"/login\?next=/trash/$"))
    account = signed_in(page, base, "lena")
    page.context.clear_cookies(name="locker_unlock")  # still signed in, but the vault key is gone
    page.goto(f"{base}/files/")
    message = page.locator("[data-testid=vault-message]")
    expect(message).to_have_text(
        "Could not load this folder. Your vault is locked: sign in again to unlock it. Sign in again"
    )
    page.set_input_files("#upload-input", {"name": "a.txt", "mimeType": "text/plain", "buffer": b"a"})
    upload = page.locator("[data-testid=upload-item]")
    expect(upload).to_have_attribute("data-state", "error")
    expect(upload.locator(".upload-status")).to_have_text("Your vault is locked: sign in again to unlock it.")

    message.get_by_role("link", name="Sign in again").click()
    page.wait_for_url(re.compile(r"/login\?next=/files/$"))
    page.fill("input[name=password]", account.password)
    page.fill("input[name=username]", account.username)
    page.get_by_role("button", name="Sign in and unlock").click()
    page.wait_for_url(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    expect(message).to_have_count(0)

    problems = [p for p in page.problems() if "the server responded with a status of 423" not in p]
    assert not problems, page.problems()
