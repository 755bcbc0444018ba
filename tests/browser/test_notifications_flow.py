"""Live notifications in a real Chromium (issue 15, acceptance 5): alice's pages hear of what happens elsewhere
without reloading. bob shares a folder with her, her second device signs in and uploads into the folder her first
one shows, bob adds a file to a folder she shares: each time a toast says so in plain words, the bell counts one
more, and the file browser lists the new file. Her activity page lists the events with their filters and a CSV of
them; her notifications page lists the notifications, takes new ones at the top, and marks them read.

Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800 and phone 390x844).
"""

import csv
import io
import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from activity.models import Notification
from activity.notifications import notify
from tests.browser.test_accounts_flow import sign_in
from tests.browser.test_sharing_flow import create_folder, new_page, open_folder, share_with, upload
from tests.browser.test_vault_flow import row, signed_in
from tests.factories import make_account
from tests.vault.test_live import call, login
from tests.vault.test_live import upload as api_upload

JSON = {"Content-Type": "application/json"}


def bell(page):
    """The bell, in the header beside the main navigation (outside it since the phone header)."""
    return page.get_by_role("banner").get_by_role("link", name=re.compile(r"^Notifications"))


def expect_unread(page, count: int) -> None:
    """The bell says how many are unread, to the eye (its badge) and to a screen reader (its name)."""
    expect(bell(page)).to_have_attribute(
        "aria-label", f"Notifications, {count} unread" if count else "Notifications, none unread"
    )
    badge = page.locator("[data-testid=bell-count]")
    if count:
        expect(badge).to_have_text(str(count))
    else:
        expect(badge).to_be_hidden()


def toast(page, text: str):
    return page.locator("[data-testid=toast]").filter(has_text=text)


def api_json(base, method, path, token, body=None):
    status, raw = call(base, method, path, token=token, body=json.dumps(body).encode() if body else None, headers=JSON)
    return status, json.loads(raw) if raw else None


def not_reloaded(page) -> None:
    """Marks the page: ``still_the_same(page)`` is then true only if it was never reloaded."""
    page.evaluate("window.sameDocument = true")


def still_the_same(page) -> bool:
    return page.evaluate("window.sameDocument === true")


def no_sideways_scroll(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert widths[0] <= widths[1], widths


def test_live_toasts_bell_listing_activity_and_notifications_page(page, browser, live_server, screenshot):
    base = live_server.url
    bob = make_account("bob")
    alice = signed_in(page, base, "alice")
    bob_token = login(base, bob)

    # Her own sign-in is her first notification: there before the page, so counted but not shown as news.
    expect_unread(page, 1)
    page.goto(f"{base}/files/")
    create_folder(page, "Inbox")
    expect(page.locator("[data-testid=shared-with-me-empty]")).to_be_visible()
    expect(page.locator("[data-testid=toast]")).to_have_count(0)
    not_reloaded(page)

    # (a) bob shares a folder with her: a toast, one more on the bell, and "Shared with me" lists it.
    status, holiday = api_json(base, "POST", "/api/v1/folders/", bob_token, {"name": "Holiday"})
    assert status == 201, holiday
    status, share = api_json(
        base, "POST", "/api/v1/shares/", bob_token, {"item": holiday["id"], "username": "alice", "permission": "edit"}
    )
    assert status == 201, share
    # The stream's sentence says "a folder" (a stream holds no keys); the toast then takes the API's, which names it.
    shared = toast(page, "bob shared Holiday with you (you can edit)")
    expect(shared).to_be_visible()
    expect(shared.get_by_role("link", name="Shared with me")).to_have_attribute("href", "/files/#shared-with-me")
    expect_unread(page, 2)
    expect(page.locator("[data-testid=shared-with-me-row]")).to_contain_text("Holiday")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    screenshot(page, "notifications-toast")
    shared.get_by_role("button", name="Dismiss this notification").click()
    expect(page.locator("[data-testid=toast]")).to_have_count(0)
    assert still_the_same(page)

    # (b) Her second device signs in, then uploads into the folder her first device shows.
    open_folder(page, "Inbox")
    inbox_url = page.url
    inbox_id = urlsplit(inbox_url).path.rstrip("/").rsplit("/", 1)[-1]
    not_reloaded(page)
    phone = new_page(browser)
    try:
        sign_in(phone, base, "alice", alice.password)
        phone.wait_for_url(lambda url: urlsplit(url).path == "/")
        device = toast(page, "A device signed in to your account")
        expect(device).to_be_visible()
        expect(device.get_by_role("link", name="Review your devices")).to_have_attribute("href", "/settings#sessions")
        expect_unread(page, 3)

        phone.goto(inbox_url)
        upload(phone, ("from-phone.txt", b"written on the phone\n"))
        uploaded = toast(page, "You uploaded from-phone.txt to Inbox")
        expect(uploaded).to_be_visible()
        expect(row(page, "from-phone.txt")).to_have_count(1)  # the listing loaded itself again
        expect_unread(page, 4)
        file_id = row(page, "from-phone.txt").get_attribute("data-id")
        expect(uploaded.get_by_role("link", name="Show the file")).to_have_attribute(
            "href", f"/files/?preview={file_id}"
        )

        # From the phone she shares Inbox with bob, who may add to it.
        phone.goto(f"{base}/files/")
        share_with(phone, "Inbox", "bob", "edit").get_by_role("button", name="Close", exact=True).click()
        assert not phone.problems(), phone.problems()
    finally:
        phone.context.close()

    # bob adds a file to the folder she shares: she hears of it, and sees it.
    status, raw = api_upload(base, bob_token, [("from-bob.txt", b"hello from bob\n")], folder=inbox_id)
    assert status == 201, raw
    expect(toast(page, "bob uploaded from-bob.txt to Inbox")).to_be_visible()
    expect(row(page, "from-bob.txt")).to_have_count(1)
    expect_unread(page, 5)
    assert page.locator("[data-testid=toast]").count() <= 3  # a few at most, the oldest leave first
    assert still_the_same(page)

    # (c) The activity page, from the header: her events in sentences from the server, with the names opened for
    # her as the page is read (the log itself holds ids only), and where they came from; the code on hover.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    page.wait_for_url(f"{base}/activity")
    rows = page.locator("[data-testid=activity-row]")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_text="You shared Inbox with bob (they can edit)")).to_have_count(1)
    expect(rows.filter(has_text="bob shared Holiday with you (you can edit)")).to_have_count(1)
    phone_upload = rows.filter(has_text="You uploaded from-phone.txt to Inbox")
    expect(phone_upload).to_have_count(1)
    expect(phone_upload.locator("[data-testid=activity-summary-text]")).to_have_attribute("title", "file.uploaded")
    expect(rows.filter(has_text="bob uploaded from-bob.txt to Inbox")).to_have_count(1)
    expect(rows.filter(has_text="You created the folder Inbox")).to_have_count(1)
    sign_ins = rows.filter(has_text="You signed in from Chrome on Linux")
    expect(sign_ins).to_have_count(2)
    expect(sign_ins.first).to_contain_text("Succeeded")
    expect(sign_ins.first).to_contain_text("127.0.0.1")
    expect(phone_upload.locator(".sr-only")).to_have_text("(code file.uploaded)")  # and for screen readers
    csv_link = page.get_by_role("link", name="Download as CSV")
    expect(csv_link).to_have_attribute("href", "/api/v1/activity/?format=csv")
    screenshot(page, "activity-page")
    no_sideways_scroll(page)

    # Only uploads: the filter is kept in the address, the form and the CSV link.
    page.get_by_label("What", exact=True).select_option("file.uploaded")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/activity\?type=file\.uploaded"))
    expect(rows).to_have_count(2)
    for action in rows.evaluate_all("rs => rs.map((r) => r.dataset.action)"):
        assert action == "file.uploaded"
    expect(page.get_by_label("What", exact=True)).to_have_value("file.uploaded")
    expect(page.locator("[data-testid=activity-summary]")).to_have_text("2 events")
    href = csv_link.get_attribute("href")
    assert parse_qs(urlsplit(href).query) == {"type": ["file.uploaded"], "format": ["csv"]}, href
    with page.expect_download() as download_info:
        csv_link.click()
    lines = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert [line["action"] for line in lines] == ["file.uploaded", "file.uploaded"], lines
    assert sum("bob" in line["data"] for line in lines) == 1

    # Days: nothing before today, everything of today.
    page.goto(f"{base}/activity?until=2000-01-01")
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
    expect(rows).to_have_count(0)

    # A failed sign-in to her account, heard on any page: its toast leads to the failed sign-ins.
    status, _ = call(
        base,
        "POST",
        "/api/v1/auth/token",
        body=json.dumps({"username": "alice", "password": "not hers"}).encode(),
        headers=JSON,
    )
    assert status == 401
    failed = toast(page, "A sign-in to your account failed")
    expect(failed).to_be_visible()
    expect_unread(page, 6)
    failed.get_by_role("link", name="See failed sign-ins").click()
    page.wait_for_url(re.compile(r"/activity\?type=auth\.login&outcome=failure$"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("A sign-in to your account failed: wrong password")
    expect(rows).to_contain_text("Failed")
    expect(page.get_by_label("Result", exact=True)).to_have_value("failure")

    # (d) The notifications page, from the bell: newest first, every one unread.
    bell(page).click()
    page.wait_for_url(f"{base}/notifications")
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    notices = page.locator("[data-testid=notice]")
    expect(notices).to_have_text(  # the server's sentences, with the names she can open
        [
            re.compile("A sign-in to your account failed: wrong password"),
            re.compile("bob uploaded from-bob.txt to Inbox"),
            re.compile("You uploaded from-phone.txt to Inbox"),
            re.compile("A device signed in to your account: Chrome on Linux"),
            re.compile("bob shared Holiday with you \\(you can edit\\)"),
            re.compile("A device signed in to your account: Chrome on Linux"),
        ]
    )
    expect(notices.filter(has=page.locator("[data-testid=notice-unread]"))).to_have_count(6)
    expect(page.locator("[data-testid=notices-summary]")).to_have_text("6 notifications not read yet.")

    # One marked read: no longer marked, and the bell counts one less.
    from_bob = notices.filter(has_text="bob shared Holiday with you")
    from_bob.get_by_role("button", name="Mark as read: bob shared Holiday with you (you can edit)").click()
    expect(from_bob.locator("[data-testid=notice-unread]")).to_have_count(0)
    expect(from_bob).to_have_attribute("data-unread", "false")
    expect_unread(page, 5)
    expect(page.locator("[data-testid=notices-summary]")).to_have_text("5 notifications not read yet.")

    # A new one arrives at the top while the page is open: bob lets her only view Holiday now.
    status, _ = api_json(base, "PATCH", f"/api/v1/shares/{share['id']}/", bob_token, {"permission": "view"})
    assert status == 200
    expect(notices).to_have_count(7)
    expect(notices.first).to_contain_text("bob changed what you may do with Holiday: you can now view")  # named
    expect(notices.first.locator("[data-testid=notice-unread]")).to_have_count(1)
    expect_unread(page, 6)
    screenshot(page, "notifications-page")
    no_sideways_scroll(page)

    # All read: the bell's badge goes, and so does every mark; the server keeps it.
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("[data-testid=notice-unread]")).to_have_count(0)
    expect_unread(page, 0)
    expect(page.get_by_role("button", name="Mark all read")).to_be_disabled()
    expect(page.locator("[data-testid=notices-summary]")).to_have_text("All read.")
    assert not Notification.objects.filter(user=alice.user, read_at__isnull=True).exists()
    page.reload()
    expect(notices).to_have_count(7)
    expect(page.locator("[data-testid=notice-unread]")).to_have_count(0)
    expect_unread(page, 0)

    assert not page.problems(), page.problems()


def test_older_notifications_page_by_page_and_toasts_stay_few(page, live_server):
    """GIVEN 25 notifications from before she signs in WHEN she opens the notifications page THEN it shows 20 and
    "Show older" the rest; and a burst of 5 new ones shows at most 3 toasts at once, while all 5 join the list."""
    base = live_server.url
    erin = make_account("erin")
    for _ in range(25):
        notify(user_id=erin.user.pk, kind="upload.finished", object_type="file", object_id=uuid.uuid4())
    sign_in(page, base, "erin", erin.password)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect_unread(page, 26)

    bell(page).click()
    notices = page.locator("[data-testid=notice]")
    expect(notices).to_have_count(20)
    page.get_by_role("button", name="Show older notifications").click()
    expect(notices).to_have_count(26)
    expect(page.get_by_role("button", name="Show older notifications")).to_be_hidden()
    expect(notices.last).to_contain_text("A file finished uploading")

    page.wait_for_timeout(4000)  # longer than a stream lives: the page hears the rest on its next one
    for _ in range(5):
        notify(user_id=erin.user.pk, kind="quota.90", data={"used": 95, "quota": 100})
    expect(notices).to_have_count(31)
    expect(notices.first).to_contain_text("Your storage is 95% full")
    expect(page.locator("[data-testid=toast]")).to_have_count(3)
    expect_unread(page, 31)
    assert not page.problems(), page.problems()


def test_the_tabs_of_one_browser_share_one_stream(page, live_server, live_streams):
    """GIVEN two tabs of one signed-in browser WHEN a notification comes THEN both show it, over one stream (a
    browser holds at most 6 connections to a server over HTTP/1.1); when the tab that holds it closes, the other
    one takes it over and hears what comes next, once."""
    base = live_server.url
    fay = make_account("fay")
    sign_in(page, base, "fay", fay.password)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    second = page.context.new_page()
    errors = []
    second.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    second.on("pageerror", lambda exc: errors.append(str(exc)))
    second.goto(f"{base}/notifications")
    expect_unread(page, 1)
    expect_unread(second, 1)
    expect(second.locator("[data-testid=notice]")).to_have_count(1)
    for _ in range(10):  # across a reconnection (a stream lives 3 s): never a second stream
        page.wait_for_timeout(500)
        assert len(live_streams) <= 1, live_streams

    notify(user_id=fay.user.pk, kind="share.received", object_type="note", object_id=uuid.uuid4(), data={"by": "gus"})
    for tab in (page, second):
        expect(toast(tab, "gus shared a note with you")).to_be_visible()
        expect_unread(tab, 2)
    expect(second.locator("[data-testid=notice]")).to_have_count(2)

    assert not page.problems(), page.problems()
    page.close()  # the tab that held the stream: the other one opens it
    notify(user_id=fay.user.pk, kind="share.revoked", object_type="folder", object_id=uuid.uuid4(), data={"by": "gus"})
    expect(toast(second, "gus stopped sharing a folder with you")).to_be_visible()
    expect(second.locator("[data-testid=notice]")).to_have_count(3)
    expect_unread(second, 3)
    expect(toast(second, "gus shared a note with you")).to_have_count(1)  # not heard twice
    assert not errors, errors
