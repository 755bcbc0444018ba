"""An admin invites a user in Chromium: registration closed in the admin, an invitation link shown once, the
invited person signs up through it in another browser and lands signed in with an unlocked vault; the same link
then says it is not valid. Their device appears by name on the settings page, and they rename it."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from accounts.models import Invitation, User
from accounts.selectors import registration_open
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP
from tests.browser.test_accounts_flow import RECOVERY_KEY, sign_in
from tests.factories import DEFAULT_PASSWORD, make_account


def _new_page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            msg.type == "error" and "status of 404" not in msg.text and errors.append(msg.text)  # the invalid page
        ),
    )
    return context, page, errors


def test_admin_invites_a_user_who_signs_up_through_the_link_once(page, browser, live_server, screenshot):
    admin = make_account("root", role=User.Role.ADMIN)
    base = live_server.url
    sign_in(page, base, "root", admin.password)
    page.wait_for_url(re.compile(r"/$"))

    # Close open registration in the admin.
    page.goto(f"{base}/admin/")
    expect(page.locator("#content-main")).to_contain_text("Site settings")
    expect(page.locator("#content-main")).not_to_contain_text("Outstanding tokens")
    page.get_by_role("link", name="Site settings").first.click()
    page.wait_for_url(re.compile(r"/admin/accounts/sitesettings/1/change/$"))
    page.locator("input[name=registration_open]").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/accounts/sitesettings/1/change/$"))
    assert not registration_open()

    # The user list says why there is no "Add user" and offers an invitation instead.
    page.goto(f"{base}/admin/accounts/user/")
    expect(page.locator("[data-testid=no-add-user]")).to_contain_text("must never know")
    page.get_by_role("link", name="Invite a user").click()
    page.wait_for_url(re.compile(r"/admin/accounts/invitation/add/$"))
    expect(page.locator("[data-testid=invite-explainer]")).to_contain_text("cannot create an account")
    page.fill("input[name=username_hint]", "erin")
    page.fill("input[name=storage_quota]", "2 GiB")
    page.fill("input[name=valid_days]", "3")
    page.get_by_role("button", name="Create invitation link").click()
    link_box = page.locator("[data-testid=invitation-link]")
    expect(link_box).to_have_text(re.compile(r"/invite/[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$"))
    link = link_box.inner_text().strip()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link
    screenshot(page, "admin-invitation-created", sizes=("desktop",))
    page.goto(f"{base}/admin/accounts/invitation/")
    expect(page.locator("#result_list")).to_contain_text("Pending")
    expect(page.locator("#result_list")).to_contain_text("2 GiB")
    assert link.rsplit("/", 1)[1] not in page.content()  # never shown again

    # Registration is closed for everyone else.
    visitor_context, visitor, visitor_errors = _new_page(browser)
    try:
        visitor.goto(f"{base}/register")
        expect(visitor.locator("[data-testid=registration-closed]")).to_contain_text("Registration is closed")
    finally:
        visitor_context.close()

    # The invited person signs up through the link in a browser of their own.
    invitee_context, invitee, invitee_errors = _new_page(browser)
    try:
        invitee.goto(link)
        expect(invitee.locator("input[name=username]")).to_have_value("erin")
        invitee.fill("input[name=email]", "erin@example.org")
        invitee.fill("input[name=password]", DEFAULT_PASSWORD)
        invitee.fill("input[name=password_confirm]", DEFAULT_PASSWORD)
        invitee.get_by_role("button", name="Create account").click()
        expect(invitee.locator("[data-testid=recovery-key]")).to_have_text(RECOVERY_KEY)
        invitee.locator("#saved").check()
        invitee.locator("#continue").click()
        invitee.wait_for_url(lambda url: urlsplit(url).path == "/")
        expect(invitee.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")
        erin = User.objects.get(username="erin")
        assert erin.storage_quota == 2 * 1024**3 and erin.role == User.Role.REGULAR

        # Their browser is listed by name; they give it one of their own.
        invitee.goto(f"{base}/settings")
        row = invitee.locator("[data-testid=session-row]").filter(has_text="(this browser)")
        expect(row.locator("[data-testid=device-name]")).to_have_text(re.compile(r"Chrome on Linux$"))
        row.locator("summary", has_text="Rename").click()
        row.locator("input[name=name]").fill("Erin's desk")
        row.get_by_role("button", name="Save name").click()
        invitee.wait_for_url(re.compile(r"/settings#sessions$"))
        expect(invitee.locator("[data-testid=device-name]").first).to_have_text("Erin's desk")
        screenshot(invitee, "settings-devices")
        assert not invitee_errors, invitee_errors
    finally:
        invitee_context.close()

    # A second use of the link is refused, with no detail.
    second_context, second, second_errors = _new_page(browser)
    try:
        response = second.goto(link)
        assert response.status == 404
        expect(second.get_by_role("heading", name="This invitation is not valid")).to_be_visible()
        expect(second.locator("input[name=password]")).to_have_count(0)
        assert not second_errors, second_errors
    finally:
        second_context.close()
    assert Invitation.objects.get().used_by.username == "erin"

    # The admin sees it used.
    page.goto(f"{base}/admin/accounts/invitation/")
    expect(page.locator("#result_list")).to_contain_text("Used")
    assert not page.problems()
