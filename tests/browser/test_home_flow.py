"""The home page in a real Chromium: recent files as tiles with thumbnails and what was done with them, starred
items, the storage chart with its legend in words (figures as the API gives them), the activity table in words;
it fits a 360 px phone, works from the keyboard, and draws in the dark theme's colours.

Full-page screenshots for a human review land in ``test-artifacts/screenshots/`` (git-ignored): ``home-desktop.png``,
``home-phone.png`` and ``home-dark.png``.
"""

import io
import re
import wave
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import expect

from tests.browser.test_search_notes_flow import png_bytes
from tests.browser.test_vault_flow import signed_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SMALL_PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
NOTES = b"Shopping list\nmilk\neggs\nbread\n" * 40


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(bytes((128 + (i % 32) * 3) % 256 for i in range(int(seconds * rate))))
    return buffer.getvalue()


def format_bytes(value: int) -> str:
    """As ``formatBytes`` in static/js/locker.js."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{round(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


class Api:
    """The JSON API with the browser's own session (cookies, and the CSRF token for writes)."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

    def call(self, method: str, path: str, **kwargs):
        headers = {"X-CSRFToken": self.csrf, "Referer": f"{self.base}/"}
        response = self.page.request.fetch(f"{self.base}/api/v1/{path}", method=method, headers=headers, **kwargs)
        assert response.ok, (method, path, response.status, response.text())
        return response.json() if response.status != 204 else None

    def upload(self, name: str, mime: str, body: bytes, folder: str | None = None) -> dict:
        fields = {"file": {"name": name, "mimeType": mime, "buffer": body}}
        if folder:
            fields["folder"] = folder
        (result,) = self.call("POST", "files/", multipart=fields)
        assert result["ok"], result
        return result["file"]


def overflow(page) -> list:
    """What sticks out sideways: the page's own scroll width beyond the window, then every element of the home page
    whose right edge is past the window or that scrolls sideways inside (visually hidden text aside)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [document.documentElement.scrollWidth - width];
          for (const n of document.querySelectorAll('#home *')) {
            if (n.closest('.sr-only') || n.closest('[hidden]')) continue;
            const scrolls = ['auto', 'scroll'].includes(getComputedStyle(n).overflowX)
              && n.scrollWidth > n.clientWidth + 1;
            if (n.getBoundingClientRect().right > width + 1 || scrolls) out.push(n.className || n.tagName);
          }
          return out;
        }"""
    )


def wait_loaded(page) -> None:
    page.wait_for_function("() => document.getElementById('home').hasAttribute('data-loaded')")


def test_home_shows_recent_files_starred_storage_and_activity(page, live_server):
    base = live_server.url
    signed_in(page, base, "hana")
    api = Api(page, base)
    folder = api.call("POST", "folders/", data={"name": "Holidays", "parent": None})
    photo = api.upload("beach.png", "image/png", png_bytes(), folder=folder["id"])
    notes = api.upload("notes.txt", "text/plain", NOTES)
    tune = api.upload("tune.wav", "audio/wav", wav_bytes())
    api.call("PUT", f"files/{notes['id']}/star")
    api.call("PUT", f"folders/{folder['id']}/star")
    assert page.request.get(f"{base}/api/v1/files/{notes['id']}/content").body() == NOTES  # opened: "Opened"
    storage = api.call("GET", "me/storage")

    page.goto(f"{base}/")
    wait_loaded(page)
    expect(page.get_by_test_id("vault-state")).to_have_text("Vault unlocked")

    # Recent files: the most recent first, each saying what was done and when, linking to the file in its folder.
    tiles = page.get_by_test_id("recent-tile")
    expect(tiles).to_have_count(3)
    expect(page.get_by_test_id("recent-name")).to_have_text(["notes.txt", "tune.wav", "beach.png"])
    expect(tiles.nth(0).get_by_test_id("recent-what")).to_contain_text("Opened")
    expect(tiles.nth(1).get_by_test_id("recent-what")).to_contain_text("Uploaded")
    expect(tiles.nth(2).get_by_test_id("recent-what")).to_contain_text("Uploaded")
    expect(tiles.nth(0).locator("time")).to_have_text("just now")
    expect(tiles.nth(1)).to_have_attribute("data-id", tune["id"])
    beach = tiles.filter(has=page.get_by_role("link", name="beach.png", exact=True))
    thumb = beach.get_by_test_id("thumbnail")
    expect(thumb).to_have_attribute("alt", "")
    expect(thumb).to_have_attribute("loading", "lazy")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert thumb.get_attribute("src") == f"/api/v1/files/{photo['id']}/preview"
    expect(beach.get_by_role("link", name="beach.png")).to_have_attribute(
        "href", f"/files/{folder['id']}/?preview={photo['id']}"
    )
    for name in ("notes.txt", "tune.wav"):  # no thumbnail: the icon of its kind
        tile = tiles.filter(has=page.get_by_role("link", name=name, exact=True))
        expect(tile.get_by_test_id("thumbnail")).to_have_count(0)
    expect(tiles.nth(0).locator(".tile-icon.file.text")).to_have_count(1)
    expect(tiles.nth(1).locator(".tile-icon.file.audio")).to_have_count(1)

    # Starred: the folder (starred last) first, then the file, each a link to it.
    starred = page.get_by_test_id("starred-row")
    expect(starred).to_have_count(2)
    expect(page.get_by_test_id("starred-name")).to_have_text(["Holidays", "notes.txt"])
    expect(starred.nth(0).get_by_role("link")).to_have_attribute("href", f"/files/{folder['id']}/")
    expect(starred.nth(1).get_by_role("link")).to_have_attribute("href", f"/files/?preview={notes['id']}")

    # Storage by kind: a chart with a summary for screen readers, and its legend with the API's figures.
    chart = page.get_by_role("img", name=re.compile(r"^Storage used: "))
    expect(chart).to_have_count(1)
    label = chart.get_attribute("aria-label")
    by_kind = {k["kind"]: k for k in storage["kinds"]}
    for kind, word in (("images", "Images"), ("audio", "Audio"), ("documents", "Documents")):
        assert by_kind[kind]["bytes"] > 0 and by_kind[kind]["files"] == 1, storage
        assert f"{word} {format_bytes(by_kind[kind]['bytes'])}" in label, label
        row = page.locator(f"[data-testid=legend-row][data-kind={kind}]")
        expect(row).to_have_attribute("data-bytes", str(by_kind[kind]["bytes"]))
        expect(row.get_by_test_id("legend-size")).to_have_text(format_bytes(by_kind[kind]["bytes"]))
        expect(row).to_contain_text(word)
        expect(row).to_contain_text("1 file")
    for kind in ("videos", "other"):
        expect(page.locator(f"[data-testid=legend-row][data-kind={kind}]")).to_contain_text("0 B")
    expect(page.locator("[data-testid=legend-row][data-kind=rest]")).to_have_attribute(
        "data-bytes", str(storage["rest"])
    )
    expect(page.get_by_test_id("legend-free")).to_contain_text(format_bytes(storage["quota"] - storage["used"]))
    assert page.locator("#storage-legend").evaluate("n => n.tagName") == "UL"
    expect(page.locator(".donut-slice")).to_have_count(3 + (1 if storage["rest"] else 0))

    # Recent activity in words: the shared table, its sentences not bare codes.
    table = page.get_by_test_id("event-table")
    expect(table).to_be_visible()
    summaries = table.locator(".event-summary").all_inner_texts()
    assert summaries and any("notes.txt" in s for s in summaries), summaries
    assert not any(re.fullmatch(r"[a-z_]+\.[a-z_.]+", s.strip()) for s in summaries), summaries

    # Nothing inline is refused, nothing broken.
    assert not page.problems(), page.problems()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "home-desktop.png", full_page=True)

    # A 360 px phone: nothing scrolls sideways.
    page.set_viewport_size(SMALL_PHONE)
    page.wait_for_timeout(100)
    widths = overflow(page)
    assert widths[0] <= 0 and not widths[1:], widths
    page.screenshot(path=SCREENSHOTS / "home-phone.png", full_page=True)

    # The dark theme: the chart's colours are the dark ones (lighter, for the dark cards).
    stroke = "() => getComputedStyle(document.querySelector('.donut-slice.kind-images')).stroke"
    light_stroke = page.evaluate(stroke)
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(stroke) != light_stroke
    page.screenshot(path=SCREENSHOTS / "home-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)

    # The keyboard: from "All recent files", Tab reaches the first tile's name (its thumbnail is skipped, the same
    # link twice); Enter opens the file in its folder with the preview showing it.
    page.get_by_role("link", name="All recent files").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent, document.activeElement.dataset.testid]")
    assert focused == ["notes.txt", "recent-name"], focused
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/files/" and f"preview={notes['id']}" in url)
    expect(page.locator("#preview-dialog")).to_be_visible()
    assert not page.problems(), page.problems()


def test_home_empty_states_say_what_to_do(page, live_server):
    base = live_server.url
    signed_in(page, base, "ines")
    page.goto(f"{base}/")
    wait_loaded(page)
    recent = page.get_by_test_id("home-recent")
    expect(page.get_by_test_id("recent-tile")).to_have_count(0)
    expect(recent).to_contain_text("No recent files yet")
    expect(recent.get_by_test_id("recent-upload-link")).to_have_attribute("href", "/files/")
    expect(page.get_by_test_id("home-starred")).to_contain_text("Use ☆ next to a file or folder")
    expect(page.get_by_role("img", name=re.compile("Nothing stored yet"))).to_have_count(1)
    expect(page.get_by_test_id("legend-row")).to_have_count(6)
    page.set_viewport_size(SMALL_PHONE)
    widths = overflow(page)
    assert widths[0] <= 0 and not widths[1:], widths
    assert not page.problems(), page.problems()


def test_home_shows_hostile_names_as_text(page, live_server):
    base = live_server.url
    signed_in(page, base, "jade")
    api = Api(page, base)
    hostile = "<img src=x onerror=alert(1)>.txt"
    file = api.upload(hostile, "text/plain", b"not html\n")
    api.call("PUT", f"files/{file['id']}/star")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base}/")
    wait_loaded(page)
    expect(page.get_by_test_id("recent-name")).to_have_text([hostile])
    expect(page.get_by_test_id("starred-name")).to_have_text([hostile])
    assert page.locator("#home img[src=x]").count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []
    assert not page.problems(), page.problems()


def test_home_with_a_locked_vault_shows_storage_and_asks_to_sign_in(page, live_server):
    """GIVEN a browser whose unlock cookie no longer unlocks (a wrong secret) WHEN it opens home THEN it says the vault
    is locked, the storage chart (sizes are not secret) still loads, and no sealed list is asked for (no 423)."""
    base = live_server.url
    signed_in(page, base, "kira")
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.LOCKER_UNLOCK_COOKIE)
    session_id = cookie["value"].split(".")[0]
    page.context.add_cookies([{**cookie, "value": f"{session_id}.{'A' * 43}"}])
    asked = []
    page.on("request", lambda request: "/api/v1/" in request.url and asked.append(urlsplit(request.url).path))
    page.goto(f"{base}/")
    wait_loaded(page)
    expect(page.get_by_test_id("vault-state")).to_contain_text("Vault locked")
    expect(page.get_by_test_id("recent-locked")).to_contain_text("sign in again")
    expect(page.get_by_role("img", name=re.compile(r"^Storage used: "))).to_have_count(1)
    assert "/api/v1/recent/" not in asked and "/api/v1/starred/" not in asked, asked
    assert not page.problems(), page.problems()


def test_home_says_which_section_failed_and_keeps_the_others(page, live_server):
    """GIVEN the recent files' request fails WHEN home opens THEN that section says so in words, and the starred list
    and the storage chart still load."""
    base = live_server.url
    signed_in(page, base, "lena")
    page.route(
        "**/api/v1/recent/**",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"code": "unavailable", "detail": "Try again soon."}'
        ),
    )
    page.goto(f"{base}/")
    wait_loaded(page)
    status = page.locator("#recent-status")
    expect(status).to_have_text("Could not load your recent files: Try again soon.")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.get_by_test_id("home-starred")).to_contain_text("Nothing starred yet")
    expect(page.get_by_test_id("legend-row")).to_have_count(6)
    assert not page.page_errors, page.page_errors
