"""The account pages in a real Chromium: register, recovery key, sign out and in, app passwords.

Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800
and phone 390x844).
"""

import base64
import json
import re
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, make_account

USERNAME = "dora"
EMAIL = "dora@example.org"
RECOVERY_KEY = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


def path_of(page) -> str:
    return urlsplit(page.url).path


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in and unlock").click()


def sign_out(page) -> None:
    page.locator("[data-testid=logout]").click()
    page.wait_for_url(re.compile(r"/login(\?|$)"))
    expect(page.locator(".messages")).to_contain_text("You are signed out")


def api_me_with_basic_auth(base_url: str, username: str, password: str) -> tuple[int, dict]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        f"{base_url}/api/v1/me", headers={"Authorization": f"Basic {token}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_register_recovery_key_sign_in_app_password_sign_out(page, live_server, screenshot):
    base = live_server.url

    # Register.
    page.goto(f"{base}/register")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=password_confirm]", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # The recovery key, shown once; Continue waits for the checkbox.
    key_box = page.locator("[data-testid=recovery-key]")
    expect(key_box).to_have_text(RECOVERY_KEY)
    recovery_key = key_box.inner_text().strip()
    checkbox, continue_button = page.locator("#saved"), page.locator("#continue")
    expect(continue_button).to_be_disabled()
    expect(checkbox).not_to_be_checked()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as text file").click()
    download = download_info.value
    assert download.suggested_filename == "locker-recovery-key.txt"
    assert download.failure() is None
    with open(download.path(), encoding="utf-8") as handle:
        assert handle.read().strip() == recovery_key

    # Copy puts the key on the clipboard (http://localhost is a secure context).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    copy_button = page.locator("button[data-copy]")
    copy_button.click()
    expect(copy_button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == recovery_key
    expect(copy_button).to_have_text("Copy")  # the label comes back after 1.5 s

    screenshot(page, "accounts-recovery-key")
    checkbox.check()
    expect(continue_button).to_be_enabled()
    checkbox.uncheck()
    expect(continue_button).to_be_disabled()
    checkbox.check()
    continue_button.click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")
    expect(page.get_by_role("heading", name=f"Hello, {USERNAME}")).to_be_visible()
    screenshot(page, "accounts-home")

    # Sign out, then in again with the same credentials.
    sign_out(page)
    screenshot(page, "accounts-login")
    sign_in(page, base, USERNAME, DEFAULT_PASSWORD)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")

    # Settings: create an app password; it is shown once and listed.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/settings")
    expect(page.locator("[data-testid=app-password-row]")).to_have_count(0)
    page.fill("input[name=name]", "laptop sync")
    page.get_by_role("button", name="Create app password").click()
    new_password_box = page.locator("[data-testid=new-app-password]")
    expect(new_password_box).to_be_visible()
    app_password = new_password_box.inner_text().strip()
    assert len(app_password) >= 20
    rows = page.locator("[data-testid=app-password-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("laptop sync")
    expect(rows.first).to_contain_text("never")
    screenshot(page, "accounts-settings-new-app-password")

    # The app password works for the API over plain HTTP Basic.
    status, body = api_me_with_basic_auth(base, USERNAME, app_password)
    assert status == 200
    assert body["username"] == USERNAME

    # Sign out: the settings page now asks to sign in.
    sign_out(page)
    page.goto(f"{base}/settings")
    assert path_of(page) == "/login"
    assert urlsplit(page.url).query == "next=/settings"
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    assert not page.problems(), page.problems()


def test_form_errors_stay_on_the_page(page, live_server, screenshot):
    base = live_server.url
    make_account("erin")

    # Wrong password: an error, still on /login, still signed out.
    sign_in(page, base, "erin", "not the right password")
    expect(page.locator(".errors[role=alert]")).to_have_text("Wrong username or password.")
    assert path_of(page) == "/login"
    expect(page.locator("input[name=username]")).to_have_value("erin")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.locator("[data-testid=logout]")).to_have_count(0)

    # Registration with two different passwords: an error on the second field, no account.
    page.goto(f"{base}/register")
    page.fill("input[name=username]", "frank")
    page.fill("input[name=email]", "frank@example.org")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=password_confirm]", DEFAULT_PASSWORD + "!")
    page.get_by_role("button", name="Create account").click()
    field = page.locator(".field.has-error", has=page.locator("input[name=password_confirm]"))
    expect(field.locator(".error")).to_have_text("The two passwords differ.")
    assert path_of(page) == "/register"
    expect(page.locator("[data-testid=recovery-key]")).to_have_count(0)
    screenshot(page, "accounts-register-error")

    # Then the right password signs in.
    sign_in(page, base, "erin", DEFAULT_PASSWORD)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")

    problems = page.problems(expected_statuses=(400,))  # both forms answer 400 with their errors
    assert not problems, problems


def test_a_browser_signed_out_from_another_one_lands_on_a_working_sign_in(page, browser, live_server, screenshot):
    """GIVEN one user signed in in browsers A and B WHEN B signs A out (Settings, Signed-in devices) THEN A's next
    request ends its stale sign-in: 'Sign in again' leads to a sign-in form that works (not back to the locked
    page), and no page of A says the vault is unlocked."""
    base = live_server.url
    account = make_account("gina")
    sign_in(page, base, "gina", account.password)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()

    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        b = other.new_page()
        sign_in(b, base, "gina", account.password)
        b.wait_for_url(lambda url: urlsplit(url).path == "/")
        b.goto(f"{base}/settings")
        rows = b.locator("[data-testid=session-row]")
        expect(rows).to_have_count(2)
        b.on("dialog", lambda dialog: dialog.accept())  # "Sign this device out?"
        rows.filter(has_not_text="(this browser)").get_by_role("button", name="Sign out").click()
        expect(b.locator(".messages")).to_contain_text("That device is signed out.")
        expect(rows).to_have_count(1)
    finally:
        other.close()

    # A, still on its files page, tries to do something: refused, with a way to sign in again.
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", "After sign-out")
    page.get_by_role("button", name="Create folder").click()
    message = page.locator("[data-testid=vault-message]")
    expect(message).to_contain_text("Could not create the folder.")
    message.get_by_role("link", name="Sign in again").click()
    page.wait_for_url(re.compile(r"/login\?next=/files/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("[data-testid=logout]")).to_have_count(0)  # the stale sign-in is over
    expect(page.locator(".messages")).to_contain_text("signed out")
    screenshot(page, "accounts-signed-out-elsewhere", sizes=("desktop",))

    # No page claims the vault is unlocked: home asks to sign in.
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/login\?next=/$"))
    expect(page.locator("[data-testid=vault-state]")).to_have_count(0)

    # And signing in works, back to the files page, unlocked.
    page.goto(f"{base}/login?next=/files/")
    page.fill("input[name=username]", "gina")
    page.fill("input[name=password]", account.password)
    page.get_by_role("button", name="Sign in and unlock").click()
    page.wait_for_url(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    page.goto(f"{base}/")
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")

    problems = [p for p in page.problems() if not re.search(r"status of (401|423) .*/api/v1/folders/", p)]
    assert not problems, page.problems()
