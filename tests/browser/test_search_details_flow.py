"""Search results' details, the trash's freed storage and the 404 page, in a real Chromium.

A note's result shows its words without Markdown (task boxes as ☐/☑) with the matched word marked; a file found
by its text shows the words around the match; every result names its folder and links to it, on the search
page and in the header's quick search. Purging a file says how much storage was freed, and that is what the
usage went down by. The 404 page has the site header and a way back to the files.
"""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.test_vault_flow import signed_in
from tests.vault.conftest import keys_for, make_upload
from vault.files import services
from vault.notes import services as notes
from vault.trash import services as trash


def test_results_show_plain_snippets_marks_and_their_folder(page, live_server, screenshot):
    base = live_server.url
    account = signed_in(page, base, "alice")
    user, keys = account.user, keys_for(account)
    plans = services.folder_create(user=user, keys=keys, name="Plans")
    taxes = services.folder_create(user=user, keys=keys, name="Taxes")
    notes.note_create(
        user=user,
        keys=keys,
        title="Holiday",
        body="# Trip\n\n- [ ] call **Bob** about the [ferry](https://example.org)\n- [x] pack",
        folder_id=plans.pk,
    )
    letter = ("Dear sir, " * 30) + "the invoice from Zanzibar Ltd is due in March. " + ("Regards. " * 30)
    services.file_upload(
        user=user, keys=keys, upload=make_upload(keys, "letter.txt", letter.encode()), folder_id=taxes.pk
    )

    # The search page: the note's plain words, the matched word marked, its folder by name.
    page.goto(f"{base}/search/?q=ferry")
    result = page.get_by_test_id("search-result").filter(has_text="Holiday")
    expect(result.get_by_test_id("result-snippet")).to_have_text("Trip ☐ call Bob about the ferry ☑ pack")
    expect(result.locator("mark")).to_have_text(["ferry"])
    folder_link = result.get_by_test_id("result-folder")
    expect(folder_link).to_have_text("Plans")
    expect(folder_link).to_have_attribute("href", f"/files/{plans.pk}/")
    screenshot(page, "search-note-snippet")

    # A file found by its text: the words around the match, marked; its folder links to it.
    page.goto(f"{base}/search/?q=zanzibar")
    result = page.get_by_test_id("search-result").filter(has_text="letter.txt")
    expect(result.get_by_test_id("result-snippet")).to_contain_text("the invoice from Zanzibar Ltd is due in March.")
    expect(result.locator(".result-snippet mark")).to_have_text(["Zanzibar"])
    result.get_by_test_id("result-folder").click()
    page.wait_for_url(lambda url: urlsplit(url).path == f"/files/{taxes.pk}/")

    # The header's quick search says where each result is and marks the snippet's words.
    page.goto(f"{base}/notifications")
    box = page.get_by_test_id("site-search")
    if not box.is_visible():  # a phone-sized header opens the box from a button
        page.get_by_test_id("search-toggle").click()
    box.fill("ferry")
    option = page.get_by_test_id("site-search-results").get_by_role("option").filter(has_text="Holiday")
    expect(option.get_by_test_id("site-search-where")).to_have_text(" in Plans")
    expect(option.locator(".ss-snippet mark")).to_have_text(["ferry"])
    box.fill("zanzibar")
    option = page.get_by_test_id("site-search-results").get_by_role("option").filter(has_text="letter.txt")
    expect(option.get_by_test_id("site-search-where")).to_have_text(" in Taxes")
    expect(option.locator(".ss-snippet")).to_contain_text("Zanzibar Ltd")

    # With filters the files come from the listing, which has no folder names: each folder is read once.
    page.goto(f"{base}/search/?q=letter&mime_group=text")
    result = page.get_by_test_id("search-result").filter(has_text="letter.txt")
    expect(result.get_by_test_id("result-folder")).to_have_text("Taxes")
    expect(result.get_by_test_id("result-folder")).to_have_attribute("href", f"/files/{taxes.pk}/")

    # Hostile names and words stay text: the folder's name is shown as typed, nothing runs.
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    hostile = services.folder_create(user=user, keys=keys, name='<img src=x onerror=alert(1)> "kayak"')
    notes.note_create(
        user=user, keys=keys, title="Paddle", body="<b>kayak</b> <script>alert(2)</script>", folder_id=hostile.pk
    )
    page.goto(f"{base}/search/?q=kayak")
    result = page.get_by_test_id("search-result").filter(has_text="Paddle")
    expect(result.get_by_test_id("result-folder")).to_have_text('<img src=x onerror=alert(1)> "kayak"')
    expect(result.get_by_test_id("result-snippet")).to_have_text("<b>kayak</b> <script>alert(2)</script>")
    expect(result.locator(".result-snippet mark")).to_have_text(["kayak"])
    assert page.locator("main img[src=x], main script:not([src])").count() == 0 and alerts == []


def test_purge_says_the_storage_freed_and_the_usage_agrees(page, live_server):
    base = live_server.url
    account = signed_in(page, base, "bob")
    user, keys = account.user, keys_for(account)
    file = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "a.txt", b"x" * 26)).file
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    before = page.request.get(f"{base}/api/v1/me").json()["usage"]
    page.goto(f"{base}/trash/")
    expect(page.locator("[data-testid=trash-row]")).to_have_count(1)
    expect(page.locator("#quota-text")).to_have_text(re.compile(rf"^{before} B of "))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete “a.txt” forever").click()
    message = page.get_by_test_id("vault-message")
    expect(message).to_contain_text(re.compile(r"Deleted “a\.txt” for good: \d+ B of storage freed\."))
    after = page.request.get(f"{base}/api/v1/me").json()["usage"]
    expect(message).to_contain_text(f"Deleted “a.txt” for good: {before - after} B of storage freed.")
    assert after == 0 and before > 26  # stored encrypted: more than the file's 26 bytes
    expect(page.locator("#quota-text")).to_have_text(re.compile(r"^0 B of "))


def test_404_page_has_the_header_and_a_way_to_the_files(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "carol")
    response = page.goto(f"{base}/no/such/page")
    assert response.status == 404
    expect(page.get_by_test_id("not-found")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    screenshot(page, "not-found")
    page.get_by_role("link", name="Open your files").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/files/")
