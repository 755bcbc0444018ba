"""Sharing in a real Chromium: alice shares a folder with bob (edit), bob works in it from his own
account, alice sees his changes and who wrote each version, then makes a password-protected public link
that an anonymous visitor opens, downloading a file and the whole folder as a zip. A view-only share
hides what the recipient may not do and explains a refused upload.

Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800 and phone 390x844).
"""

import io
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP
from tests.browser.files_page import menu_click, menu_entries
from tests.browser.test_accounts_flow import sign_in
from tests.browser.test_vault_flow import FOLDER_URL, accept_next_dialog, row, signed_in
from tests.factories import make_account

PLAN = b"plan v1"
DATA_V1 = os.urandom(64 * 1024)
DATA_V2 = os.urandom(48 * 1024)
FROM_BOB = b"hello from bob\n"
LINK_PASSWORD = "correct horse battery"


def new_page(browser):
    """A page in a fresh context (its own cookies), with ``problems()`` as the ``page`` fixture has."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(f"{msg.text} ({msg.location['url']})"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.problems = lambda: list(errors)
    return page


def upload(page, *files):
    """Upload ``(name, bytes)`` pairs through the page's file picker and wait until each is stored."""
    specs = [{"name": name, "mimeType": "application/octet-stream", "buffer": data} for name, data in files]
    page.set_input_files("#upload-input", specs)
    for name, _ in files:
        item = page.locator("[data-testid=upload-item]").filter(has_text=name)
        expect(item).to_have_attribute("data-state", "done")
        expect(row(page, name)).to_have_count(1)


def create_folder(page, name):
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", name)
    page.get_by_role("button", name="Create folder").click()
    expect(row(page, name)).to_have_count(1)


def open_folder(page, name):
    row(page, name).get_by_role("link", name=name).click()
    page.wait_for_url(FOLDER_URL)
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def share_with(page, name, username, permission):
    """Share the listed item ``name`` with ``username`` in the share dialog; returns the (open) dialog."""
    menu_click(page, name, "Share…")
    dialog = page.locator("[data-testid=share-dialog]")
    expect(dialog.get_by_role("heading", level=2)).to_have_text(f"Share “{name}”")
    expect(dialog.get_by_label("Their username")).to_be_focused()
    dialog.get_by_label("Their username").fill(username)
    dialog.get_by_label("What they may do").select_option(permission)
    dialog.get_by_role("button", name="Share", exact=True).click()
    shared = dialog.locator("[data-testid=share-row]").filter(has_text=username)
    expect(shared).to_have_count(1)
    expect(shared.get_by_label(f"What {username} may do")).to_have_value(permission)
    return dialog


def without(problems, *patterns):
    return [p for p in problems if not any(re.search(pattern, p) for pattern in patterns)]


def test_share_a_folder_work_in_it_together_and_publish_a_link(page, browser, live_server, screenshot):
    base = live_server.url
    bob = make_account("bob")
    signed_in(page, base, "alice")

    # alice: Work/Team with two files in it. Nothing shared yet: the top level says so.
    page.goto(f"{base}/files/")
    expect(page.locator("[data-testid=shared-with-me-empty]")).to_be_visible()
    expect(page.locator("[data-testid=shared-by-me-empty]")).to_be_visible()
    create_folder(page, "Work")
    open_folder(page, "Work")
    work_url = page.url
    create_folder(page, "Team")
    open_folder(page, "Team")
    team_url = page.url
    upload(page, ("plan.txt", PLAN), ("data.bin", DATA_V1))
    # Six buttons a file (Share included) still fit the desktop table without scrolling sideways.
    overflow = page.locator("#vault .table-wrap").evaluate("w => w.scrollWidth - w.clientWidth")
    assert overflow <= 1, overflow

    # The share dialog: an unknown username is explained next to the field, then bob gets "edit".
    page.goto(work_url)
    menu_click(page, "Team", "Share…")
    dialog = page.locator("[data-testid=share-dialog]")
    dialog.get_by_label("Their username").fill("nobody")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.locator("[data-testid=share-username-error]")).to_have_text(
        "Nobody here has the username “nobody”. Check the spelling."
    )
    expect(dialog.get_by_label("Their username")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog).to_be_hidden()
    dialog = share_with(page, "Team", "bob", "edit")
    expect(dialog.locator("#share-status")).to_have_text("Shared with bob: they can edit.")
    expect(dialog.locator("[data-testid=share-username-error]")).to_be_hidden()
    screenshot(page, "sharing-dialog")
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog).to_be_hidden()
    assert "Share…" in menu_entries(page, "Team")

    # The top level lists it under "Shared by me".
    page.goto(f"{base}/files/")
    by_me = page.locator("[data-testid=shared-by-me-row]")
    expect(by_me).to_have_count(1)
    expect(by_me).to_contain_text("Team")
    expect(by_me).to_contain_text("With bob · they can edit")
    expect(page.locator("[data-testid=shared-by-me-empty]")).to_be_hidden()
    by_me.get_by_role("button", name="Manage the sharing of “Team”").click()  # the same dialog, from here
    expect(dialog.get_by_role("heading", level=2)).to_have_text("Share “Team”")
    expect(dialog.locator("[data-testid=share-row]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # bob, in his own browser: "Shared with me" holds Team; inside it he adds, renames and saves a version.
    bob_page = new_page(browser)
    try:
        sign_in(bob_page, base, "bob", bob.password)
        bob_page.wait_for_url(lambda url: urlsplit(url).path == "/")
        bob_page.goto(f"{base}/files/")
        with_me = bob_page.locator("[data-testid=shared-with-me-row]")
        expect(with_me).to_have_count(1)
        expect(with_me).to_contain_text("From alice · you can edit")
        expect(bob_page.locator("[data-testid=shared-with-me-empty]")).to_be_hidden()
        expect(bob_page.locator("[data-testid=shared-by-me-empty]")).to_be_visible()
        screenshot(bob_page, "sharing-shared-with-me")
        with_me.get_by_role("link", name="Team").click()
        bob_page.wait_for_url(team_url)
        # The path starts at the shared folder (alice's "Work" is not his to see), from "Shared with me".
        expect(bob_page.locator("[data-testid=breadcrumbs] li")).to_have_text(["Shared with me", "Team"])
        expect(bob_page.locator("[data-testid=shared-note]")).to_have_text(
            "Shared with you by alice. You can see, download, add, rename and move things here."
        )
        expect(row(bob_page, "plan.txt")).to_have_count(1)
        entries = menu_entries(bob_page, "plan.txt")
        assert "Share…" not in entries and "Move to trash" not in entries  # only owners share; edit, not delete
        assert "Rename…" in entries and "Move…" in entries
        upload(bob_page, ("from-bob.txt", FROM_BOB))

        menu_click(bob_page, "plan.txt", "Rename…")
        rename = bob_page.locator("#rename-dialog")
        rename.locator("#rename-input").fill("plan-final.txt")
        rename.get_by_role("button", name="Rename").click()
        expect(rename).to_be_hidden()
        expect(row(bob_page, "plan-final.txt")).to_have_count(1)

        menu_click(bob_page, "data.bin", "Versions…")
        versions = bob_page.locator("#versions-dialog")
        versions.locator("#version-input").set_input_files(
            {"name": "data.bin", "mimeType": "application/octet-stream", "buffer": DATA_V2}
        )
        expect(versions.locator("#version-status")).to_have_text("Saved as version 2.")
        versions.get_by_role("button", name="Close").click()
        screenshot(bob_page, "sharing-recipient-folder", sizes=("desktop",))

        # The crumb leads back to the list of what is shared with him.
        bob_page.locator("[data-testid=breadcrumbs]").get_by_role("link", name="Shared with me").click()
        bob_page.wait_for_url(f"{base}/files/#shared-with-me")
        expect(bob_page.locator("[data-testid=shared-with-me-row]")).to_have_count(1)
        assert not bob_page.problems(), bob_page.problems()
    finally:
        bob_page.context.close()

    # alice sees bob's work, and who wrote each version of data.bin.
    page.goto(team_url)
    expect(row(page, "from-bob.txt")).to_have_count(1)
    expect(row(page, "plan-final.txt")).to_have_count(1)
    expect(row(page, "plan.txt")).to_have_count(0)
    menu_click(page, "data.bin", "Versions…")
    versions = page.locator("#versions-dialog")
    expect(versions.locator("[data-testid=version-row][data-number='2'] [data-testid=version-author]")).to_have_text(
        "by bob"
    )
    expect(versions.locator("[data-testid=version-row][data-number='1'] [data-testid=version-author]")).to_have_text(
        "by alice"
    )
    versions.get_by_role("button", name="Close").click()

    # A password-protected public link to Team; its URL is shown once, in a read-only field.
    page.goto(work_url)
    menu_click(page, "Team", "Share…")
    dialog = page.locator("[data-testid=share-dialog]")
    expect(dialog.get_by_label("Works for")).to_have_value("7")
    dialog.get_by_label("Password (optional)").fill(LINK_PASSWORD)
    dialog.get_by_role("button", name="Create link").click()
    url_field = dialog.get_by_label("Your new link")
    expect(url_field).to_have_value(re.compile(r"/s/[^/]+$"))
    expect(url_field).to_have_attribute("readonly", "")
    expect(dialog.locator("[data-testid=link-created]")).to_contain_text("it will not be shown again")
    link_url = url_field.input_value()
    assert link_url.startswith(base)
    links = dialog.locator("[data-testid=link-row]")
    expect(links).to_have_count(1)
    expect(links).to_contain_text("password")
    expect(links).to_contain_text("0 views")
    dialog.get_by_role("button", name="Copy link").click()
    expect(dialog.locator("#link-copied")).to_have_text(re.compile("Copied the link|The link is selected"))
    screenshot(page, "sharing-dialog-link")
    page.set_viewport_size({"width": 390, "height": 844})  # the dialog scrolls inside: its lower half too
    dialog.evaluate("d => { d.scrollTop = d.scrollHeight; }")
    screenshot(page, "sharing-dialog-link-bottom", sizes=("phone",))
    assert dialog.evaluate("d => d.scrollWidth - d.clientWidth") <= 1  # nothing wider than a phone
    page.set_viewport_size(DESKTOP)
    dialog.get_by_role("button", name="Close", exact=True).click()

    # An anonymous visitor: the password, then one file and the whole folder as a zip.
    visitor = new_page(browser)
    try:
        visitor.goto(link_url)
        visitor.get_by_label("Password").fill(LINK_PASSWORD)
        visitor.get_by_role("button", name="Open").click()
        link_rows = visitor.locator("[data-testid=link-row]")
        expect(link_rows).to_have_count(3)
        with visitor.expect_download() as download_info:
            link_rows.filter(has_text="data.bin").locator("[data-testid=link-download]").click()
        assert Path(download_info.value.path()).read_bytes() == DATA_V2
        with visitor.expect_download() as zip_info:
            visitor.locator("[data-testid=link-zip]").click()
        with zipfile.ZipFile(io.BytesIO(Path(zip_info.value.path()).read_bytes())) as archive:
            contents = {Path(name).name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
        assert contents == {"plan-final.txt": PLAN, "data.bin": DATA_V2, "from-bob.txt": FROM_BOB}
        assert not visitor.problems(), visitor.problems()
    finally:
        visitor.context.close()

    # alice's link now shows it was used; she turns it off.
    menu_click(page, "Team", "Share…")
    links = dialog.locator("[data-testid=link-row]")
    expect(links).not_to_contain_text("0 views")
    expect(links).not_to_contain_text(" 0 downloads")
    confirmed = accept_next_dialog(page, "Turn this link off?")
    links.get_by_role("button", name=re.compile("^Turn off")).click()
    expect(links).to_have_count(0)
    confirmed()

    # The only console error: the refused unknown username (400) at the start.
    problems = without(page.problems(), r"status of 400 .*/api/v1/shares/\)$")
    assert not problems, page.problems()


def test_view_only_share_hides_changes_and_explains_a_refused_upload(page, browser, live_server, screenshot):
    base = live_server.url
    carol = make_account("carol")
    signed_in(page, base, "dave")
    page.goto(f"{base}/files/")
    create_folder(page, "Photos")
    open_folder(page, "Photos")
    photos_url = page.url
    upload(page, ("cat.txt", b"meow"))
    page.goto(f"{base}/files/")
    share_with(page, "Photos", "carol", "view").get_by_role("button", name="Close", exact=True).click()

    viewer = new_page(browser)
    try:
        sign_in(viewer, base, "carol", carol.password)
        viewer.wait_for_url(lambda url: urlsplit(url).path == "/")
        viewer.goto(f"{base}/files/")
        shared = viewer.locator("[data-testid=shared-with-me-row]")
        expect(shared).to_contain_text("From dave · you can view")
        shared.get_by_role("link", name="Photos").click()
        viewer.wait_for_url(photos_url)
        expect(viewer.locator("[data-testid=shared-note]")).to_have_text(
            "Shared with you by dave. You can see and download what is here."
        )
        assert menu_entries(viewer, "cat.txt") == ["Preview", "Download", "Star", "Details", "Versions…"]
        for adds in ("New folder", "Upload files", "Upload folder"):  # nothing can be added here
            expect(viewer.get_by_role("button", name=adds, exact=True)).to_be_hidden()

        # A file dropped anyway: nothing is sent, and the page says why in plain words.
        data_transfer = viewer.evaluate_handle(
            """() => { const dt = new DataTransfer(); dt.items.add(new File(["x"], "sneaky.txt")); return dt; }"""
        )
        viewer.dispatch_event("body", "drop", {"dataTransfer": data_transfer})
        expect(viewer.locator("[data-testid=vault-message]")).to_have_text(
            "This folder is shared with you to view only, so files cannot be added here. Ask dave for edit permission."
        )
        expect(viewer.locator("[data-testid=upload-item]")).to_have_count(0)

        # A new version of a file is refused by the server (404): explained, not "No such file."
        menu_click(viewer, "cat.txt", "Versions…")
        versions = viewer.locator("#versions-dialog")
        new_cat = {"name": "cat.txt", "mimeType": "text/plain", "buffer": b"x"}
        versions.locator("#version-input").set_input_files(new_cat)
        expect(versions.locator("#versions-error")).to_have_text(
            "This folder is shared with you to view only, so nothing can be added or changed here. "
            "Ask dave for edit permission."
        )
        versions.get_by_role("button", name="Close").click()
        screenshot(viewer, "sharing-view-only", sizes=("phone",))

        # Searching inside the shared folder finds a file by a word of its text (opened with the share's keys).
        viewer.get_by_role("link", name="Search in this folder").click()
        expect(viewer.locator("[data-testid=search-scope]")).to_contain_text("Searching in “Photos”")
        viewer.get_by_test_id("search-page-input").fill("meow")
        found = viewer.locator("[data-testid=search-result]")
        expect(found).to_have_count(1)
        expect(found.locator(".result-name")).to_have_text("cat.txt")
        expect(found.locator("[data-testid=result-snippet]")).to_have_text("meow")
        viewer.get_by_role("button", name="Search everything").click()  # his own vault holds no "meow"
        expect(viewer.locator("[data-testid=search-scope]")).to_be_hidden()
        expect(found).to_have_count(0)

        # Leaving the share: it is gone from the list.
        viewer.goto(f"{base}/files/")
        confirmed = accept_next_dialog(viewer, "Leave “Photos”?")
        viewer.get_by_role("button", name="Leave “Photos”").click()
        expect(viewer.locator("[data-testid=shared-with-me-row]")).to_have_count(0)
        expect(viewer.locator("[data-testid=shared-with-me-empty]")).to_be_visible()
        confirmed()
        problems = without(viewer.problems(), r"status of 404 .*/api/v1/files/[0-9a-f-]+/content\)$")
        assert not problems, viewer.problems()
    finally:
        viewer.context.close()
    assert not page.problems(), page.problems()
