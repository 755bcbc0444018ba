"""Notes, tags, search and previews in a real Chromium.

A note written in the editor autosaves (with the version it edited), is found from the header's search
box while typing and opens with the keyboard, its Markdown rendered; hostile Markdown renders no script
and no javascript: link; leaving with unsaved text asks first (beforeunload). An uploaded image shows as
a thumbnail in the grid view and in full in the preview pane; tags are chips linking to the search
page's tag filter.

Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800 and phone 390x844).
"""

import io
import re
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.test_vault_flow import no_horizontal_overflow, row, signed_in

NOTE_URL = re.compile(r"/notes/[0-9a-f-]{36}/$")
BODY = """# Tomatoes

Plant the **heirloom** tomatoes near the *south* fence.

- basil
- marigold
"""
HOSTILE_BODY = """<script>alert(1)</script>

[x](javascript:alert(2)) and [y](JAVASCRIPT:alert(3)) but [the docs](https://example.org/docs)

<img src=x onerror=alert(4)>
"""
CODE = b'#!/usr/bin/env python3\nprint("<script>alert(5)</script>")\n'


def png_bytes(width: int = 320, height: int = 200) -> bytes:
    image = Image.new("RGB", (width, height), (235, 240, 250))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):
        draw.rectangle([x, 0, x + 7, height], fill=(40 + x % 200, 90, 200 - x % 150))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def record_alerts(page) -> list:
    """Every alert() the page runs (an injected script would) lands in the returned list."""
    alerts = []

    def on_dialog(dialog):
        if dialog.type == "alert":
            alerts.append(dialog.message)
            dialog.dismiss()

    page.on("dialog", on_dialog)
    return alerts


def saved(page) -> None:
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")


def fits_phone(page) -> None:
    """At phone width nothing scrolls sideways and no card, tile or result sticks out of the viewport."""
    no_horizontal_overflow(page)
    page.set_viewport_size({"width": 390, "height": 844})
    outside = page.evaluate(
        """() => [...document.querySelectorAll('.card, .tile, .result, .note-pane, .site-search, dialog[open]')]
              .map((e) => [e.className || e.tagName, e.getBoundingClientRect()])
              .filter(([, r]) => r.width && (r.left < 0 || r.right > document.documentElement.clientWidth + 0.5))
              .map(([name, r]) => `${name}: ${Math.round(r.left)}-${Math.round(r.right)}`)"""
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not outside, outside


def natural_width(locator) -> int:
    locator.evaluate("img => img.decode ? img.decode().catch(() => null) : null")
    return locator.evaluate("img => img.complete ? img.naturalWidth : 0")


def test_note_autosaves_is_found_while_typing_and_opens_with_the_keyboard(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "nora")
    alerts = record_alerts(page)

    # The notes list, empty, from the header; "New note" opens an empty editor.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notes").click()
    page.wait_for_url(f"{base}/notes/")
    expect(page.locator("#items-empty")).to_be_visible()
    page.get_by_role("link", name="New note").click()
    page.wait_for_url(f"{base}/notes/new/")
    expect(page.get_by_test_id("save-state")).to_have_text("New note: type to start")

    # Title, tags and Markdown; the first autosave creates the note (the address becomes its own).
    page.get_by_test_id("note-title").fill("Garden plans")
    page.get_by_test_id("note-tags").fill("garden, spring ,Garden")
    page.get_by_test_id("note-body").fill(BODY)
    expect(page.get_by_test_id("save-state")).to_have_text(re.compile("Unsaved changes|Saving…|Saved"))
    saved(page)
    page.wait_for_url(NOTE_URL)
    note_path = urlsplit(page.url).path
    preview = page.get_by_test_id("note-preview")
    expect(preview.get_by_role("heading", name="Tomatoes")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("heirloom")
    expect(preview.locator("li")).to_have_text(["basil", "marigold"])
    chips = page.locator("#note-tag-chips a.chip")
    expect(chips).to_have_text(["garden", "spring"])  # the repeated "Garden" is dropped
    expect(chips.first).to_have_attribute("href", "/search/?tag=garden")
    expect(page.get_by_role("button", name="Versions")).to_be_enabled()

    # A second edit autosaves as version 2, with the version it edited; the old text is a version.
    page.get_by_test_id("note-body").press("End")
    page.get_by_test_id("note-body").press_sequentially("- sunflowers\n")
    saved(page)
    expect(preview.locator("li")).to_have_text(["basil", "marigold", "sunflowers"])
    expect(page.locator("#note-version")).to_have_text(re.compile(r"^Version \d+$"))
    current = int(page.locator("#note-version").inner_text().split()[1])
    assert current >= 2
    page.get_by_role("button", name="Versions").click()
    versions = page.locator("#note-versions-dialog")
    expect(versions.get_by_test_id("note-version-row")).to_have_count(current)  # the current one and each earlier
    versions.get_by_role("button", name=f"View version {current - 1}").click()
    expect(versions.locator("#note-version-body")).to_contain_text("- marigold")
    expect(versions.locator("#note-version-body")).not_to_contain_text("sunflowers")
    versions.get_by_role("button", name="Close").click()
    screenshot(page, "notes-editor")

    # The header's search box: live results while typing a prefix of a word in the body.
    page.goto(f"{base}/files/")
    box = page.get_by_role("combobox", name="Search files, folders and notes")
    box.click()
    box.press_sequentially("heirl", delay=40)
    listbox = page.get_by_role("listbox", name="Search results")
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Garden plans")
    expect(options.first).to_contain_text("Note")
    # the word the prefix matched is marked whole, in the note's plain words (no Markdown syntax)
    expect(options.first.locator(".ss-snippet mark")).to_have_text("heirloom")
    expect(options.first.locator(".ss-snippet")).to_contain_text("Plant the heirloom tomatoes near the south fence.")
    expect(options.first.locator(".ss-snippet")).not_to_contain_text("**")
    expect(box).to_have_attribute("aria-expanded", "true")
    screenshot(page, "search-live", sizes=("desktop",))
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")  # opens the list again, on the first result
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    page.wait_for_url(f"{base}{note_path}")
    expect(page.get_by_test_id("note-title")).to_have_value("Garden plans")
    saved(page)
    expect(page.get_by_test_id("note-preview").get_by_role("heading", name="Tomatoes")).to_be_visible()
    expect(page.get_by_test_id("note-preview").locator("strong")).to_have_text("heirloom")

    # Enter with no result chosen: the full search page, with the words.
    box = page.get_by_role("combobox", name="Search files, folders and notes")
    box.fill("tomatoes")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=tomatoes$"))
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first.get_by_role("link", name="Garden plans")).to_have_attribute("href", note_path)

    # A tag chip of the side panel filters by that tag; a second click removes the filter.
    panel_tag = page.get_by_test_id("tag-cloud").get_by_role("link", name=re.compile(r"^spring"))
    expect(panel_tag).to_contain_text("1")
    page.get_by_test_id("search-page-input").fill("")
    panel_tag.click()
    expect(page).to_have_url(re.compile(r"/search/\?tag=spring$"))
    expect(panel_tag).to_have_attribute("aria-current", "true")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-kind", "note")
    fits_phone(page)
    panel_tag.click()
    expect(page.locator("#results-summary")).to_have_text("Type words to search for, or choose a tag.")

    page.goto(f"{base}{note_path}")
    saved(page)
    fits_phone(page)
    assert not alerts
    assert not page.problems(), page.problems()


def test_hostile_markdown_renders_no_script_and_leaving_unsaved_text_asks_first(page, live_server):
    base = live_server.url
    signed_in(page, base, "hugo")
    alerts = record_alerts(page)
    page.goto(f"{base}/notes/new/")
    page.get_by_test_id("note-title").fill("<b>Not bold</b>")
    page.get_by_test_id("note-body").fill(HOSTILE_BODY)
    saved(page)
    page.wait_for_url(NOTE_URL)
    note_url = page.url

    preview = page.get_by_test_id("note-preview")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text
    expect(preview.get_by_role("link", name="the docs")).to_have_attribute("href", "https://example.org/docs")
    assert preview.locator("script, img, iframe, object, embed, [onerror], [onclick]").count() == 0
    hrefs = preview.locator("a").evaluate_all("links => links.map((a) => a.getAttribute('href') || '')")
    assert hrefs and not [h for h in hrefs if h.strip().lower().startswith("javascript:")], hrefs
    scripts = page.evaluate("[...document.scripts].map((s) => s.src ? new URL(s.src).pathname : 'INLINE')")
    assert scripts and all(re.fullmatch(r"/static/js/[\w.-]+\.js", s) for s in scripts), scripts
    expect(page.locator("#crumb-title")).to_have_text("<b>Not bold</b>")
    assert page.locator("#crumb-title b").count() == 0

    # Unsaved text (its save held back on the way to the server): leaving asks, and staying keeps it.
    held = []
    page.route(
        re.compile(r"/api/v1/notes/[0-9a-f-]{36}/$"),
        lambda route: held.append(route) if route.request.method == "PATCH" else route.fallback(),
    )
    asked = []

    def on_dialog(dialog):
        if dialog.type == "beforeunload":
            asked.append(dialog.type)
            dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    page.get_by_test_id("note-body").press("End")
    page.get_by_test_id("note-body").press_sequentially("Unsaved words.")
    expect(page.get_by_test_id("save-state")).to_have_text("Saving…")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click(no_wait_after=True)
    for _ in range(50):  # the dialog event arrives while Playwright waits
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked == ["beforeunload"], asked
    assert page.url == note_url
    expect(page.get_by_test_id("note-body")).to_have_value(re.compile("Unsaved words.$"))

    # The save goes through: nothing is unsaved any more, and leaving asks nothing.
    assert len(held) == 1
    held[0].fallback()
    saved(page)
    page.unroute(re.compile(r"/api/v1/notes/[0-9a-f-]{36}/$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    page.wait_for_url(f"{base}/files/")
    assert asked == ["beforeunload"], asked
    assert not alerts
    assert not page.problems(), page.problems()


def test_image_thumbnail_in_grid_full_image_in_preview_and_file_tags(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "gina")
    alerts = record_alerts(page)
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    page.set_input_files(
        "#upload-input",
        [
            {"name": "sunset.png", "mimeType": "image/png", "buffer": png_bytes()},
            {"name": "script.py", "mimeType": "text/x-python", "buffer": CODE},
        ],
    )
    items = page.locator("[data-testid=upload-item]")
    expect(items).to_have_count(2)
    for index in range(2):
        expect(items.nth(index)).to_have_attribute("data-state", "done")
    expect(row(page, "sunset.png")).to_have_count(1)

    # Grid view: the thumbnail (the server's WebP preview) is loaded; the choice survives a reload.
    page.get_by_role("button", name="Grid").click()
    expect(page.get_by_role("button", name="Grid")).to_have_attribute("aria-pressed", "true")
    tile = page.get_by_test_id("item-tile").filter(has=page.get_by_role("link", name="sunset.png", exact=True))
    thumbnail = tile.get_by_test_id("thumbnail")
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert natural_width(thumbnail) > 0
    assert thumbnail.get_attribute("src").endswith("/preview")
    code_tile = page.get_by_test_id("item-tile").filter(has=page.get_by_role("link", name="script.py", exact=True))
    expect(code_tile.locator(".tile-icon")).to_be_visible()  # no thumbnail: an icon
    page.reload()
    expect(page.get_by_role("button", name="Grid")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("item-tile")).to_have_count(2)
    expect(page.locator("#items-table")).to_be_hidden()
    fits_phone(page)
    screenshot(page, "files-grid")

    # The preview pane: the full image, and its address opens it again.
    tile.get_by_role("link", name="sunset.png", exact=True).click()
    dialog = page.get_by_test_id("preview-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="sunset.png")).to_be_visible()
    image = dialog.get_by_test_id("preview-image")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert natural_width(image) == 320
    assert image.get_attribute("src").endswith("/content?inline=1")
    file_id = parse_qs(urlsplit(page.url).query)["preview"][0]
    screenshot(page, "files-preview-image")

    # Tags on the file: edited in the pane, shown as chips linking to the tag filter.
    dialog.get_by_role("button", name="Edit tags").click()
    dialog.get_by_label("Tags, separated by commas").fill("holiday, beach")
    dialog.get_by_role("button", name="Save tags").click()
    expect(dialog.locator("#preview-tags a.chip")).to_have_text(["holiday", "beach"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{base}/files/")  # the address forgets the closed preview
    expect(tile.locator("a.chip")).to_have_text(["holiday", "beach"])

    # Text and code: shown as text in a <pre>, never run; ArrowRight/Left walk through the files.
    page.goto(f"{base}/files/?preview={file_id}")
    expect(dialog).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(dialog.locator("#preview-position")).to_have_text("2 of 2")  # in name order
    expect(dialog.get_by_role("button", name="Next file")).to_be_disabled()
    dialog.get_by_role("button", name="Previous file").click()
    expect(dialog.get_by_role("heading", name="script.py")).to_be_visible()
    expect(dialog.get_by_test_id("preview-text")).to_have_text(CODE.decode())
    assert dialog.locator("#preview-body script").count() == 0
    page.keyboard.press("ArrowRight")
    expect(dialog.get_by_role("heading", name="sunset.png")).to_be_visible()
    dialog.get_by_role("button", name="Close the preview").click()
    expect(dialog).to_be_hidden()

    # A tag chip opens the search page filtered by that tag, whose filters narrow by type of file.
    tile.get_by_role("link", name="holiday").click()
    page.wait_for_url(f"{base}/search/?tag=holiday")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first.get_by_role("link", name="sunset.png")).to_have_attribute("href", f"/files/?preview={file_id}")
    expect(page.get_by_label("Tag", exact=True)).to_have_value("holiday")
    page.get_by_label("Tag", exact=True).fill("")
    page.get_by_label("Kind of file").select_option("text")
    expect(page).to_have_url(re.compile(r"/search/\?mime_group=text$"))
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("script.py")
    page.get_by_label("Kind of file").select_option("image")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("sunset.png")
    expect(results.first.locator("img.result-thumb")).to_be_visible()
    page.get_by_label("Words to search for").fill("sunset")
    expect(page).to_have_url(re.compile(r"q=sunset"))
    expect(results).to_have_count(1)
    fits_phone(page)
    screenshot(page, "search-page")

    # The result opens the file browser with the preview pane.
    results.first.get_by_role("link", name="sunset.png").click()
    page.wait_for_url(f"{base}/files/?preview={file_id}")
    expect(dialog).to_be_visible()
    fits_phone(page)
    page.keyboard.press("Escape")
    assert not alerts
    assert not page.problems(), page.problems()
