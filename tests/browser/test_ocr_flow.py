"""Text recognition in a real Chromium: a photo of a receipt uploaded from the files page is read after the upload
(the details panel says so), found by a word on it with that word in the snippet; the settings page turns text
recognition off, and a photo uploaded then is not read."""

import random

from playwright.sync_api import expect

from tests.browser.test_vault_flow import row, signed_in
from tests.vault.test_ocr import tesseract_needed
from tests.vault.test_ocr_jobs import marker, picture
from vault.derived import ocr


def details_of(page, name: str):
    row(page, name).get_by_role("button", name=f"Actions for “{name}”").click()
    page.get_by_role("menu").get_by_role("menuitem", name="Details").click()
    details = page.locator("[data-testid=details]")
    expect(details.locator("[data-testid=details-name]")).to_have_text(name)
    return details


def test_a_photo_is_read_after_upload_found_by_a_word_and_the_setting_turns_it_off(page, live_server, screenshot):
    tesseract_needed()
    base = live_server.url
    signed_in(page, base, "alice")
    word = marker(random.Random(31), "TICKET")
    page.goto(f"{base}/files/")
    page.set_input_files(
        "#upload-input", [{"name": "receipt.png", "mimeType": "image/png", "buffer": picture(f"Ticket {word} paid")}]
    )
    expect(row(page, "receipt.png")).to_be_visible()
    assert ocr.wait_idle(120)
    page.reload()
    expect(details_of(page, "receipt.png")).to_contain_text("Read: the words on it are searchable.")
    screenshot(page, "ocr-details")

    page.goto(f"{base}/search/?q={word.lower()}")
    result = page.get_by_test_id("search-result").filter(has_text="receipt.png")
    expect(result.get_by_test_id("result-snippet")).to_contain_text(word)
    expect(result.locator(".result-snippet mark")).to_have_text([word])
    screenshot(page, "ocr-search-result")

    page.goto(f"{base}/settings#text-recognition")
    section = page.get_by_test_id("text-recognition")
    expect(section.get_by_label("Read the text of my images and scanned PDFs")).to_be_checked()
    expect(section.get_by_label("eng")).to_be_checked()
    expect(section.get_by_test_id("ocr-counts")).to_contain_text("1 read")
    section.get_by_label("Read the text of my images and scanned PDFs").uncheck()
    section.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Text recognition is off.")
    expect(page.get_by_label("Read the text of my images and scanned PDFs")).not_to_be_checked()
    screenshot(page, "ocr-settings")

    page.goto(f"{base}/files/")
    page.set_input_files(
        "#upload-input", [{"name": "later.png", "mimeType": "image/png", "buffer": picture("Later words")}]
    )
    expect(row(page, "later.png")).to_be_visible()
    page.reload()
    expect(details_of(page, "later.png")).to_contain_text("Not read: Text recognition is off in your settings.")
    assert not page.problems(), page.problems()
