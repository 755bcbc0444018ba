"""The admin, the browsable API and the API docs in Chromium: they work under our CSP, offline."""

import re

from playwright.sync_api import expect

from accounts.models import User
from tests.browser.test_accounts_flow import sign_in
from tests.factories import make_account


def test_admin_pages_and_browsable_api_have_no_csp_errors(page, live_server, screenshot):
    admin = make_account("root", role=User.Role.ADMIN)
    make_account("alice")
    base = live_server.url
    page.goto(f"{base}/admin/")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", admin.password)
    page.get_by_role("button", name="Sign in and unlock").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/accounts/user/")
    expect(page.locator("#result_list")).to_contain_text("alice")
    page.get_by_role("link", name="alice").click()
    page.get_by_role("link", name=re.compile("Reset password")).click()
    expect(page.locator("[data-testid=reset-warning]")).to_contain_text("This destroys alice")
    screenshot(page, "admin-reset", sizes=("desktop",))
    page.goto(f"{base}/api/v1/me")
    expect(page.locator("body")).to_contain_text('"username": "root"')
    assert not page.problems()


def test_api_docs_render_offline(page, live_server):
    base = live_server.url
    external = []  # responses that came from another host (the CSP must stop such requests first)
    page.on(
        "requestfinished",
        lambda req: None if req.url.startswith((base, "data:", "blob:")) else external.append(req.url),
    )
    page.goto(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Locker API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.goto(f"{base}/api/redoc/")
    expect(page.locator("redoc h1, [role=main] h1").first).to_contain_text("Locker API", timeout=20_000)
    assert external == []

    # Redoc's bundle tries to show a logo from its vendor's CDN; our img-src 'self' blocks it (and Redoc hides it).
    def blocked_logo(problem: str) -> bool:
        return "https://cdn.redoc.ly/redoc/logo-mini.svg" in problem and "Content Security Policy" in problem

    assert [p for p in page.problems() if not blocked_logo(p)] == []


def test_login_then_browsable_api_as_regular_user(page, live_server):
    account = make_account("carol")
    sign_in(page, live_server.url, "carol", account.password)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/api/v1/activity/")
    expect(page.locator("body")).to_contain_text("auth.login")
    assert not page.problems()


def test_regular_user_opening_the_admin_sees_not_allowed(page, live_server):
    """It used to bounce between /admin/ and the sign-in page for ever (the browser gave up: too many redirects)."""
    account = make_account("dave")
    sign_in(page, live_server.url, "dave", account.password)
    page.wait_for_url(re.compile(r"/$"))
    response = page.goto(f"{live_server.url}/admin/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("[data-testid=admin-not-allowed]")).to_contain_text("only for administrators")
    page.get_by_role("link", name="Go to your home page").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("[data-testid=vault-state]")).to_contain_text("Vault unlocked")
    assert not page.problems(expected_statuses=(403,))
