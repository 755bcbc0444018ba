"""Sharing a note from the note page in a real Chromium: a view share opens read only for the recipient; once
the owner lets them edit, the recipient's text reaches the owner."""

from playwright.sync_api import expect

from tests.browser.test_sharing_flow import new_page
from tests.browser.test_vault_flow import signed_in


def open_note(page, base, note_id):
    page.goto(f"{base}/notes/{note_id}/")
    expect(page.locator("[data-testid=save-state]")).to_have_attribute("data-state", "saved")


def test_a_note_shared_to_view_then_to_edit(page, browser, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "alice")
    page.goto(f"{base}/notes/new/")
    page.fill("[data-testid=note-title]", "Trip plan")
    page.fill("[data-testid=note-body]", "Pack the tent.")
    page.get_by_role("button", name="Save now").click()
    page.wait_for_url(lambda url: "/notes/new/" not in url)
    note_id = page.url.rstrip("/").rsplit("/", 1)[1]
    open_note(page, base, note_id)

    page.get_by_role("button", name="Share").click()
    dialog = page.locator("[data-testid=note-share-dialog]")
    dialog.get_by_label("Their username").fill("nobody")
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("[data-testid=note-share-error]")).not_to_be_empty()
    bob_page = new_page(browser)
    bob = signed_in(bob_page, base, "bob")
    dialog.get_by_label("Their username").fill("bob")
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("[data-testid=note-share-row]")).to_have_count(1)
    screenshot(page, "note-share-dialog")

    open_note(bob_page, base, note_id)
    expect(bob_page.locator("[data-testid=shared-note]")).to_have_text("Shared with you by alice: you can view.")
    expect(bob_page.locator("[data-testid=note-body]")).to_have_value("Pack the tent.")
    assert bob_page.locator("[data-testid=note-body]").evaluate("el => el.readOnly")
    expect(bob_page.locator("[data-testid=share-note]")).to_be_hidden()

    dialog.locator("[data-testid=note-share-permission]").select_option("edit")
    expect(page.locator("#vault-message")).to_contain_text("bob can edit now")
    bob_page.reload()
    expect(bob_page.locator("[data-testid=save-state]")).to_have_attribute("data-state", "saved")
    expect(bob_page.locator("[data-testid=shared-note]")).to_have_text("Shared with you by alice: you can edit.")
    bob_page.fill("[data-testid=note-body]", "Pack the tent and the stove.")
    bob_page.get_by_role("button", name="Save now").click()
    expect(bob_page.locator("[data-testid=save-state]")).to_have_text("Saved")

    page.reload()
    expect(page.locator("[data-testid=note-body]")).to_have_value("Pack the tent and the stove.")
    assert bob.user.username == "bob"
    allowed = ("400",)  # the unknown username, refused on purpose
    assert not [p for p in page.problems() if not any(code in p for code in allowed)], page.problems()
    assert not bob_page.problems(), bob_page.problems()
    bob_page.context.close()
