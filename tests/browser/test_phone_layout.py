"""Pages on a phone: the compact header (brand, search button, bell, menu button opening the navigation as a
panel), no page scrolling sideways at 360 px, and tap targets of at least 44x44 px on a touch screen.

Screenshots of the open menu land in ``test-artifacts/screenshots/``.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.conftest import ARTIFACTS_DIR, DEFAULT_TIMEOUT_MS, PHONE
from tests.browser.site_pages import (
    make_site,
    register_for_recovery_key,
    sign_in_admin,
    visit_files,
    visit_home,
    visit_signed_in,
    visit_signed_out,
)
from tests.browser.test_accounts_flow import sign_in
from tests.factories import make_account

SMALL_PHONE = {"width": 360, "height": 740}
TARGET = 44  # px, both ways
# What a finger has to hit: buttons, button-like links, the header's links, form controls that open or submit.
CONTROLS = "button, a.button, select, summary, input[type=submit], .topbar a, [role=button]"
# Third-party pages, not ours to lay out: their own controls are left out of the size check.
VENDOR = {"api-docs": "#swagger-ui", "api-redoc": "redoc"}

SMALL_TARGETS = """([selector, size, vendor]) => {
    const small = [];
    for (const el of document.querySelectorAll(selector)) {
        if (vendor && el.closest(vendor)) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;  // not shown
        const style = getComputedStyle(el);
        if (style.visibility === "hidden" || el.closest("[hidden], [inert]")) continue;
        if (box.width + 0.5 < size || box.height + 0.5 < size) {
            const name = (el.getAttribute("aria-label") || el.textContent || "").trim().replace(/\\s+/g, " ");
            const what = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
            small.push(`${what} “${name.slice(0, 40)}” ${Math.round(box.width)}x${Math.round(box.height)}`);
        }
    }
    return small;
}"""


def phone_page(browser, viewport=PHONE, **options):
    context = browser.new_context(viewport=viewport, locale="en-US", has_touch=True, is_mobile=True, **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def shoot(page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)


def test_phone_header_menu_and_search(browser, live_server, transactional_db):
    account = make_account("mia")
    page = phone_page(browser)
    try:
        sign_in(page, live_server.url, "mia", account.password)
        page.wait_for_url(re.compile(r"/$"))
        page.goto(f"{live_server.url}/notes/")
        menu, search = page.get_by_role("button", name="Menu"), page.get_by_role("button", name="Search", exact=True)
        nav = page.get_by_role("navigation", name="Main")
        # The compact header: brand, search button, bell, menu button; the links and the box wait behind them.
        for control in (page.locator(".topbar .brand"), search, page.locator("[data-testid=bell]"), menu):
            expect(control).to_be_visible()
        expect(nav).to_be_hidden()
        expect(page.locator("#site-search-input")).to_be_hidden()
        header = page.locator("#topbar").bounding_box()
        assert header["height"] < 70, header  # one row

        # The menu opens as a panel over the page; Escape closes it and the focus is back on the button.
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_have_attribute("aria-controls", "main-nav")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="Notes")).to_have_attribute("aria-current", "page")
        for link in nav.get_by_role("link").all() + [nav.get_by_role("button", name="Sign out")]:
            box = link.bounding_box()
            assert box["height"] >= TARGET and box["width"] >= TARGET, (link.inner_text(), box)
        shoot(page, "layout-phone-menu-open")
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()

        # A click outside closes it too, and the focus goes back to the button.
        menu.click()
        expect(nav).to_be_visible()
        nav.get_by_role("link", name="Files").focus()
        page.mouse.click(PHONE["width"] / 2, PHONE["height"] - 20)  # below the panel
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()

        # Tabbing past its last entry closes it (it would cover where the focus went).
        menu.click()
        nav.get_by_role("button", name="Sign out").focus()
        page.keyboard.press("Tab")
        expect(nav).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")

        # A link in the panel goes where it says.
        menu.click()
        nav.get_by_role("link", name="Trash").click()
        page.wait_for_url(re.compile(r"/trash/$"))
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()

        # The search button opens the box (focused), Escape closes it again.
        search = page.get_by_role("button", name="Search", exact=True)
        search.click()
        box = page.locator("#site-search-input")
        expect(box).to_be_visible()
        expect(box).to_be_focused()
        expect(search).to_have_attribute("aria-expanded", "true")
        shoot(page, "layout-phone-search-open")
        page.keyboard.press("Escape")
        expect(box).to_be_hidden()
        expect(search).to_be_focused()

        # Wide again: the plain links, no menu button.
        page.set_viewport_size({"width": 1280, "height": 800})
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.locator("#site-search-input")).to_be_visible()
        # Nor does the header push the page sideways at the sizes in between.
        for width in (701, 760, 900, 1024):
            page.set_viewport_size({"width": width, "height": 800})
            assert axe.overflow(page) is None, width
    finally:
        page.context.close()


def test_phone_header_without_javascript_shows_the_links(browser, live_server, transactional_db):
    account = make_account("noah")
    page = phone_page(browser, java_script_enabled=False)
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", "noah")
        page.fill("input[name=password]", account.password)
        page.get_by_role("button", name="Sign in and unlock").click()
        page.wait_for_url(re.compile(r"/$"))
        page.goto(f"{live_server.url}/settings")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_visible()
        for name in ("Home", "Files", "Notes", "Chats", "Trash", "Activity", "Settings"):
            link = nav.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
            assert link.bounding_box()["height"] >= TARGET
        expect(page.locator("#site-search-input")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.get_by_role("button", name="Search", exact=True)).to_be_hidden()
        assert axe.overflow(page) is None
    finally:
        page.context.close()


def fit_checker(page, found: dict):
    def check(name: str) -> None:
        wide = axe.overflow(page)
        if wide:
            found.setdefault("overflow", []).append(
                f"{name}: the page is {wide['scrollWidth']}px wide in a {wide['innerWidth']}px window; "
                f"widest: {wide['worst']}"
            )
        small = page.evaluate(SMALL_TARGETS, [CONTROLS, TARGET, VENDOR.get(name)])
        if small:
            found.setdefault("small", []).append(f"{name}: " + "; ".join(small))

    return check


def report(found: dict) -> str:
    lines = []
    if found.get("overflow"):
        lines += ["Pages scrolling sideways at 360px:", *found["overflow"]]
    if found.get("small"):
        lines += [f"Tap targets under {TARGET}x{TARGET}px:", *found["small"]]
    return "\n".join(lines)


def test_every_page_fits_360px_with_44px_targets(browser, live_server, transactional_db):
    site = make_site(live_server.url)
    page = phone_page(browser, SMALL_PHONE)
    found = {}
    check = fit_checker(page, found)
    try:
        visit_signed_out(page, site, check)
        register_for_recovery_key(page, site, check)
        sign_in_admin(page, site)
        visit_signed_in(page, site, check)
    finally:
        page.context.close()
    assert not found, report(found)


@pytest.mark.parametrize("part", ["home", "files"])
def test_file_browser_and_home_fit_360px_with_44px_targets(browser, live_server, transactional_db, part):
    site = make_site(live_server.url)
    page = phone_page(browser, SMALL_PHONE)
    found = {}
    check = fit_checker(page, found)
    try:
        sign_in_admin(page, site)
        if part == "home":
            visit_home(page, site, check)
        else:
            visit_files(page, site, check)
    finally:
        page.context.close()
    assert not found, report(found)
