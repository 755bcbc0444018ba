"""Two-factor sign-in in a real Chromium: set it up from the settings page by "scanning" the QR code the page shows
(a screenshot of it, decoded with zxing-cpp: the secret comes from what the QR code holds, not from the text beside
it), sign in with a code computed from it, then with a backup code once and not twice."""

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_accounts_flow import sign_in, sign_out
from tests.factories import DEFAULT_PASSWORD, make_account


def scanned_secret(page) -> str:
    """What an authenticator app reads off the page: the QR code's otpauth:// URI, and its secret."""
    png = page.locator("[data-testid=two-factor-qr] svg").screenshot()
    found = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert len(found) == 1 and found[0].startswith("otpauth://totp/"), found
    uri = urlsplit(found[0])
    assert uri.path == "/Locker:erin" and parse_qs(uri.query)["issuer"] == ["Locker"]
    return parse_qs(uri.query)["secret"][0]


def second_step(page, password: str, code: str) -> None:
    expect(page.locator("input[name=otp]")).to_be_focused()
    page.fill("input[name=password]", password)
    page.fill("input[name=otp]", code)
    page.get_by_role("button", name="Sign in and unlock").click()


def test_enrol_by_scanning_then_sign_in_with_a_code_and_a_backup_code_once(page, live_server, screenshot):
    base = live_server.url
    make_account("erin")
    sign_in(page, base, "erin", DEFAULT_PASSWORD)
    page.wait_for_url(re.compile(r"/(home)?$"))

    page.goto(f"{base}/settings#two-factor")
    section = page.locator("[data-testid=two-factor]")
    expect(section.locator("[data-testid=two-factor-state]")).to_contain_text("Off")
    section.locator("input[name=tf-password]").fill(DEFAULT_PASSWORD)
    section.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("[data-testid=two-factor-qr] svg")).to_be_visible()
    screenshot(page, "two-factor-enrolment")
    secret = scanned_secret(page)
    assert page.locator("[data-testid=two-factor-secret]").inner_text() == secret  # the key to type matches
    totp = pyotp.TOTP(secret)
    page.fill("input[name=tf-code]", totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.locator("[data-testid=backup-codes] li code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code) for code in codes)
    expect(page.locator("[data-testid=two-factor-state]")).to_contain_text("On")
    screenshot(page, "two-factor-backup-codes")
    sign_out(page)

    # a code from the app (the next step's: the current one went to turning it on)
    sign_in(page, base, "erin", DEFAULT_PASSWORD)
    expect(page.locator("[role=status]")).to_contain_text("authenticator app")
    screenshot(page, "two-factor-sign-in")
    second_step(page, DEFAULT_PASSWORD, totp.at(time.time() + 30))
    page.wait_for_url(re.compile(r"/(home)?$"))
    sign_out(page)

    # a backup code: once
    sign_in(page, base, "erin", DEFAULT_PASSWORD)
    second_step(page, DEFAULT_PASSWORD, codes[0])
    page.wait_for_url(re.compile(r"/(home)?$"))
    sign_out(page)
    sign_in(page, base, "erin", DEFAULT_PASSWORD)
    second_step(page, DEFAULT_PASSWORD, codes[0])
    expect(page.locator(".errorlist, [role=alert]").first).to_contain_text("Wrong two-factor code")
    assert "/login" in page.url
    # signed out, the page's notification stream is refused (401) until the page is left: expected
    problems = page.problems(expected_statuses=(400,))
    assert [p for p in problems if "/api/v1/notifications/stream" not in p] == []
