"""axe-core on every page a user or an admin can reach, at desktop (1280x800) and phone (390x844) sizes, in the
light and the dark colour scheme: no violation of impact serious or critical (WCAG 2.2 A/AA and axe's best
practices), the file browser's dialogs open included.

axe-core comes from the npm registry at test time (``axe_source`` in conftest.py, cached outside the
repository). Swagger UI and Redoc are third-party pages: they are checked, minus the vendor markup named in
``VENDOR_EXCLUDE`` (each exclusion says which rule it hides). Screenshots for the record land in
``test-artifacts/screenshots/``.
"""

import pytest

from tests.browser import axe
from tests.browser.conftest import ARTIFACTS_DIR, DEFAULT_TIMEOUT_MS, VIEWPORTS
from tests.browser.site_pages import (
    make_site,
    register_for_recovery_key,
    sign_in_admin,
    visit_files,
    visit_home,
    visit_signed_in,
    visit_signed_out,
)

CASES = [("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")]
IDS = [f"{size}-{scheme}" for size, scheme in CASES]

# Vendor markup of the API documentation pages left out of the check (ours is the document around it: language,
# title, viewport, landmarks). Inside it axe finds, in Swagger UI: color-contrast (the method badges, the version
# stamp, the server URL), nested-interactive (each operation's summary button holds the copy and lock buttons),
# target-size (the operation links); in Redoc: color-contrast (the response-code chips, 4.36 and 4.49:1).
VENDOR_EXCLUDE = {
    "api-docs": ("#swagger-ui",),
    "api-redoc": ("redoc",),
}


def new_page(browser, size: str, scheme: str):
    context = browser.new_context(viewport=VIEWPORTS[size], locale="en-US", has_touch=size == "phone")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.emulate_media(color_scheme=scheme)
    return page


def checker(page, axe_source: str, size: str, scheme: str):
    found = {}

    def check(name: str) -> None:
        violations = axe.run(page, axe_source, exclude=VENDOR_EXCLUDE.get(name, ()))
        if violations:
            found[f"{name} [{size}, {scheme}]"] = violations

    return check, found


def shoot(page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)


@pytest.mark.parametrize(("size", "scheme"), CASES, ids=IDS)
def test_every_page_has_no_serious_violation(browser, live_server, transactional_db, axe_source, size, scheme):
    site = make_site(live_server.url)
    page = new_page(browser, size, scheme)
    check, found = checker(page, axe_source, size, scheme)
    # Nothing is loaded from outside the server, on any page (fonts, scripts, images, frames...): a request that
    # finished. (Redoc's bundle asks for its vendor's logo; the CSP's img-src 'self' stops it before it leaves.)
    elsewhere = []
    page.context.on(
        "requestfinished",
        lambda req: None if req.url.startswith((site.base, "data:", "blob:")) else elsewhere.append(req.url),
    )
    try:
        visit_signed_out(page, site, check)
        register_for_recovery_key(page, site, check)
        sign_in_admin(page, site)
        visit_signed_in(page, site, check)
    finally:
        page.context.close()
    assert not found, "axe found serious or critical violations:\n" + axe.describe(found)
    assert elsewhere == [], elsewhere


BROWSER_CASES = [pytest.param("home", size, scheme, id=f"home-{size}-{scheme}") for size, scheme in CASES] + [
    pytest.param("files", size, scheme, id=f"files-{size}-{scheme}") for size, scheme in CASES
]


@pytest.mark.parametrize(("part", "size", "scheme"), BROWSER_CASES)
def test_file_browser_and_home_have_no_serious_violation(
    browser, live_server, transactional_db, axe_source, part, size, scheme
):
    site = make_site(live_server.url)
    page = new_page(browser, size, scheme)
    check, found = checker(page, axe_source, size, scheme)
    try:
        sign_in_admin(page, site)
        if part == "home":
            visit_home(page, site, check)
            if scheme == "light":
                shoot(page, f"layout-home-{size}")
        else:
            visit_files(page, site, check)
            if scheme == "light":
                page.goto(f"{site.base}/files/")
                page.locator("[data-testid=item-row]").first.wait_for()
                shoot(page, f"layout-files-{size}")
    finally:
        page.context.close()
    assert not found, "axe found serious or critical violations:\n" + axe.describe(found)


def test_axe_cannot_be_added_as_a_script_tag(page, live_server, axe_source):
    """Why ``axe.inject`` evaluates the source: ``add_script_tag(path=...)`` writes an inline script, which our
    CSP refuses; the page's own scripts are unaffected and axe runs once evaluated."""
    from pathlib import Path

    from tests.browser.conftest import AXE_CACHE

    page.goto(f"{live_server.url}/login")
    with pytest.raises(Exception):  # noqa: B017, PT011 - Playwright's error for a refused script tag
        page.add_script_tag(path=Path(AXE_CACHE) / "node_modules" / "axe-core" / "axe.min.js")
    assert page.evaluate("() => typeof window.axe") == "undefined"
    axe.inject(page, axe_source)
    assert page.evaluate("() => typeof window.axe.run") == "function"
