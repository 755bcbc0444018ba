"""The file browser as people use it day to day, in a real Chromium: select several items and move, trash or
download them as one zip; drag items onto a folder or a breadcrumb; rename and delete with the keyboard alone;
star items and find them under Starred; the Recent view; the item menu from a right-click. Screenshots of the
browser (desktop with a selection, and a phone with its bottom action bar) are kept in ``test-artifacts/``.
"""

import io
import re
import zipfile

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS_DIR
from tests.browser.files_page import menu_entries, row
from tests.browser.test_vault_flow import signed_in

ALPHA = b"alpha " * 1000
BETA = bytes(range(256)) * 64
GAMMA = b"gamma\n"


def api(page, method: str, path: str, body=None):
    """The JSON API with the page's own session (and its CSRF token), as the page's scripts call it."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const csrf = document.getElementById("vault").dataset.csrf;
            const headers = { "X-CSRFToken": csrf, "Content-Type": "application/json" };
            const payload = body === null ? undefined : JSON.stringify(body);
            const r = await fetch(`/api/v1/${path}`, { method, headers, body: payload });
            return { status: r.status, body: r.status === 204 ? null : await r.json() };
        }""",
        [method, path, body],
    )


def upload(page, name: str, data: bytes, folder: str | None = None) -> dict:
    """Upload through the API from the page (multipart, the page's session)."""
    result = page.evaluate(
        """async ([name, bytes, folder]) => {
            const form = new FormData();
            if (folder) form.append("folder", folder);
            form.append("file", new File([new Uint8Array(bytes)], name));
            const csrf = document.getElementById("vault").dataset.csrf;
            const r = await fetch("/api/v1/files/", { method: "POST", headers: { "X-CSRFToken": csrf }, body: form });
            return { status: r.status, body: await r.json() };
        }""",
        [name, list(data), folder],
    )
    assert result["status"] == 201, result
    return result["body"][0]["file"]


def folder(page, name: str, parent: str | None = None) -> dict:
    result = api(page, "POST", "folders/", {"name": name, "parent": parent})
    assert result["status"] == 201, result
    return result["body"]


def setup_files(page, base):
    signed_in(page, base, "carol")
    page.goto(f"{base}/files/")
    docs = folder(page, "Docs")
    files = {
        "alpha.txt": upload(page, "alpha.txt", ALPHA),
        "beta.bin": upload(page, "beta.bin", BETA),
        "gamma.txt": upload(page, "gamma.txt", GAMMA),
    }
    inside = upload(page, "inside.txt", b"in docs", docs["id"])
    page.reload()
    expect(page.locator("[data-testid=item-row]")).to_have_count(4)
    return docs, files, inside


def names_in(page, folder_id=None) -> list[str]:
    where = f"?folder={folder_id}" if folder_id else ""
    return sorted(f["name"] for f in api(page, "GET", f"files/{where}")["body"]["results"])


def test_select_several_then_download_them_as_one_zip_move_them_and_trash_them(page, live_server, screenshot):
    base = live_server.url
    docs, files, _ = setup_files(page, base)
    bar = page.locator("[data-testid=selection-bar]")
    expect(bar).to_be_hidden()

    # A checkbox, then Shift+click for the range: Docs is first (folders first), so alpha..gamma is three files.
    row(page, "alpha.txt").get_by_role("checkbox").check()
    expect(bar).to_be_visible()
    expect(page.locator("#selection-count")).to_have_text("1 file selected")
    row(page, "gamma.txt").get_by_role("checkbox").click(modifiers=["Shift"])
    expect(page.locator("#selection-count")).to_have_text("3 files selected")
    expect(page.locator("#select-all")).to_have_js_property("indeterminate", True)
    page.locator("#select-all").check()
    expect(page.locator("#selection-count")).to_have_text("1 folder and 3 files selected")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "files-desktop-selection.png"), full_page=True)
    screenshot(page, "files-selection")

    # Download as one zip: the folder whole, the files beside it; every byte as uploaded.
    with page.expect_download() as download_info:
        bar.get_by_role("button", name="Download as zip").click()
    download = download_info.value
    assert download.failure() is None and download.suggested_filename == "Files (4 items).zip"
    with open(download.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert sorted(archive.namelist()) == ["Docs/inside.txt", "alpha.txt", "beta.bin", "gamma.txt"]
    assert archive.read("alpha.txt") == ALPHA and archive.read("beta.bin") == BETA
    assert archive.read("gamma.txt") == GAMMA and archive.read("Docs/inside.txt") == b"in docs"

    # Move two of them into Docs in one go.
    page.locator("#select-all").uncheck()
    expect(bar).to_be_hidden()
    row(page, "alpha.txt").get_by_role("checkbox").check()
    row(page, "beta.bin").get_by_role("checkbox").check()
    bar.get_by_role("button", name="Move", exact=True).click()
    dialog = page.locator("#move-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Move 2 items")
    dialog.get_by_role("button", name="Open “Docs”").click()
    dialog.get_by_role("button", name="Move here").click()
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Moved 2 items to “Docs”. Open it")
    expect(page.locator("[data-testid=item-row]")).to_have_count(2)
    assert names_in(page, docs["id"]) == ["alpha.txt", "beta.bin", "inside.txt"]
    expect(bar).to_be_hidden()

    # Trash a folder and a file together, after one question.
    row(page, "Docs").get_by_role("checkbox").check()
    row(page, "gamma.txt").get_by_role("checkbox").check()
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    bar.get_by_role("button", name="Move to trash").click()
    expect(page.locator("[data-testid=item-row]")).to_have_count(0)
    assert asked == ["Move 2 items (folders with everything in them) to the trash?"]
    trashed = sorted(item["name"] for item in api(page, "GET", "trash/")["body"]["results"])
    assert trashed == ["Docs", "gamma.txt"]
    assert not page.problems(), page.problems()


def test_drag_items_onto_a_folder_and_onto_a_breadcrumb(page, live_server):
    base = live_server.url
    docs, files, _ = setup_files(page, base)
    row(page, "alpha.txt").drag_to(row(page, "Docs"))
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Moved “alpha.txt” to “Docs”. Open it")
    expect(row(page, "alpha.txt")).to_have_count(0)
    # Two selected items dragged together.
    row(page, "beta.bin").get_by_role("checkbox").check()
    row(page, "gamma.txt").get_by_role("checkbox").check()
    row(page, "gamma.txt").drag_to(row(page, "Docs"))
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Moved 2 items to “Docs”. Open it")
    assert names_in(page, docs["id"]) == ["alpha.txt", "beta.bin", "gamma.txt", "inside.txt"]
    assert names_in(page) == []

    # Inside Docs, drag one back up onto the "Files" breadcrumb.
    row(page, "Docs").get_by_role("link", name="Docs").click()
    page.wait_for_url(re.compile(r"/files/[0-9a-f-]{36}/$"))
    expect(page.locator("[data-testid=item-row]")).to_have_count(4)
    crumb = page.locator("[data-testid=breadcrumbs]").get_by_role("link", name="Files")
    row(page, "gamma.txt").drag_to(crumb)
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Moved “gamma.txt” to the top level. Open it")
    expect(row(page, "gamma.txt")).to_have_count(0)
    assert names_in(page) == ["gamma.txt"]
    assert not page.problems(), page.problems()


def test_rename_and_delete_with_the_keyboard_alone(page, live_server):
    base = live_server.url
    docs, files, _ = setup_files(page, base)
    # "/" goes to the search box; Escape there, then Tab into the page is long: start from the first item's name.
    page.keyboard.press("/")
    expect(page.locator("#site-search-input")).to_be_focused()
    row(page, "Docs").locator("a.item-name").focus()
    page.keyboard.press("ArrowDown")
    expect(row(page, "alpha.txt").locator("a.item-name")).to_be_focused()
    page.keyboard.press("F2")
    rename = page.locator("#rename-dialog")
    expect(rename.locator("#rename-input")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("first.txt")
    page.keyboard.press("Enter")
    expect(rename).to_be_hidden()
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Renamed “alpha.txt” to “first.txt”.")
    expect(row(page, "first.txt").locator("a.item-name")).to_be_focused()  # the focus stays on the item

    # Space selects, Delete trashes what is selected, after the question (Enter accepts it in a real browser).
    page.keyboard.press("ArrowUp")  # Docs, beta.bin, first.txt, gamma.txt
    expect(row(page, "beta.bin").locator("a.item-name")).to_be_focused()
    page.keyboard.press("Space")
    expect(row(page, "beta.bin")).to_have_attribute("aria-selected", "true")
    page.once("dialog", lambda d: d.accept())
    page.keyboard.press("Delete")
    expect(row(page, "beta.bin")).to_have_count(0)
    focused = page.evaluate("() => document.activeElement.closest('[data-testid=item-row]')?.dataset.key || ''")
    assert focused.startswith("file:"), focused  # the focus went to a neighbour, not to the page's top
    assert names_in(page) == ["first.txt", "gamma.txt"]

    # "?" lists the shortcuts; Escape closes the list.
    page.keyboard.press("?")
    expect(page.locator("[data-testid=shortcuts-dialog]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=shortcuts-dialog]")).to_be_hidden()
    assert not page.problems(), page.problems()


def test_star_items_and_find_them_under_starred_and_recent(page, live_server):
    base = live_server.url
    docs, files, _ = setup_files(page, base)
    row(page, "beta.bin").get_by_role("button", name="Star “beta.bin”").click()
    expect(row(page, "beta.bin").get_by_role("button", name="Star “beta.bin”")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The menu stars too (here a folder), and says "Remove star" once starred.
    row(page, "Docs").click(button="right", position={"x": 300, "y": 10})
    page.get_by_role("menu").get_by_role("menuitem", name="Star", exact=True).click()
    expect(row(page, "Docs").get_by_role("button", name="Star “Docs”")).to_have_attribute("aria-pressed", "true")
    assert "Remove star" in menu_entries(page, "Docs")

    page.get_by_role("navigation", name="Places").get_by_role("link", name="Starred").click()
    page.wait_for_url(f"{base}/files/starred/")
    expect(page.get_by_role("heading", name="Starred", exact=True)).to_be_visible()
    expect(page.locator("[data-testid=item-row] .item-name")).to_have_text(["Docs", "beta.bin"])
    row(page, "beta.bin").get_by_role("button", name="Star “beta.bin”").click()
    expect(page.locator("[data-testid=item-row] .item-name")).to_have_text(["Docs"])

    # Recent: what was last uploaded or opened, the most recent first (gamma was uploaded last; now open alpha).
    opened = page.evaluate(f"() => fetch('/api/v1/files/{files['alpha.txt']['id']}/content').then(r => r.text())")
    assert opened == ALPHA.decode()
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Recent").click()
    page.wait_for_url(f"{base}/files/recent/")
    expect(page.get_by_role("heading", name="Recent", exact=True)).to_be_visible()
    names = page.locator("[data-testid=item-row] .item-name")
    expect(names).to_have_count(4)
    expect(names.first).to_have_text("alpha.txt")
    expect(page.get_by_role("button", name="Upload files")).to_be_hidden()  # nothing is added to a view
    assert not page.problems(), page.problems()


def test_the_phone_layout_has_a_bottom_action_bar_and_no_sideways_scroll(page, live_server):
    base = live_server.url
    setup_files(page, base)
    page.set_viewport_size({"width": 390, "height": 844})
    row(page, "alpha.txt").get_by_role("checkbox").check()
    bar = page.locator("[data-testid=selection-bar]")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box["y"] + box["height"] >= 844 - 20, box  # at the bottom of the screen
    for button in bar.get_by_role("button").all():
        if button.is_visible():
            size = button.bounding_box()
            assert size["height"] >= 44, (button.inner_text(), size)
    menu_button = row(page, "alpha.txt").get_by_role("button", name="Actions for “alpha.txt”")
    assert menu_button.bounding_box()["height"] >= 44
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "files-phone-selection.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    assert not page.problems(), page.problems()


def test_the_details_panel_shows_the_item_its_tags_and_its_activity_and_an_error_gives_way_to_success(
    page, live_server
):
    base = live_server.url
    docs, files, _ = setup_files(page, base)
    api(page, "PATCH", f"files/{files['beta.bin']['id']}/", {"tags": ["taxes"]})
    page.reload()
    row(page, "beta.bin").get_by_role("button", name="Actions for “beta.bin”").click()
    page.get_by_role("menu").get_by_role("menuitem", name="Details").click()
    details = page.locator("[data-testid=details]")
    expect(details).to_be_visible()
    expect(page.locator("#details-h")).to_be_focused()
    expect(details.locator("[data-testid=details-name]")).to_have_text("beta.bin")
    expect(details).to_contain_text("16.0 KiB")
    expect(details.locator("[data-testid=tag-chip]")).to_have_text(["taxes"])
    expect(details.locator("[data-testid=details-activity] li").first).to_contain_text("beta.bin")
    expect(page.get_by_role("button", name="Details", exact=True)).to_have_attribute("aria-pressed", "true")
    # Following the keyboard: another item's name focused shows that item.
    row(page, "gamma.txt").locator("a.item-name").focus()
    expect(details.locator("[data-testid=details-name]")).to_have_text("gamma.txt")
    details.get_by_role("button", name="Close the details").click()
    expect(details).to_be_hidden()
    expect(page.get_by_role("button", name="Details", exact=True)).to_be_focused()

    # Dialogs hold the focus while open and give it back when closed (Escape), to the control that opened them.
    page.get_by_role("button", name="New folder", exact=True).click()
    expect(page.locator("#new-folder-name")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('new-folder-dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="New folder", exact=True)).to_be_focused()
    row(page, "gamma.txt").get_by_role("button", name="Actions for “gamma.txt”").click()
    page.get_by_role("menu").get_by_role("menuitem", name="Rename…").click()
    expect(page.locator("#rename-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(row(page, "gamma.txt").get_by_role("button", name="Actions for “gamma.txt”")).to_be_focused()

    # A refused folder name is said in the dialog; the next success clears any old error from the page.
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", "Docs")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("#new-folder-error")).to_contain_text("already exists")
    page.fill("#new-folder-name", "Docs 2")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("[data-testid=vault-message]")).to_have_text("Created the folder “Docs 2”.")
    expect(row(page, "Docs 2").locator("a.item-name")).to_be_focused()
    assert not page.locator(".vault-message .msg.error").count()
    assert [p for p in page.problems() if "409 (Conflict)" not in p] == []  # the refused name, on purpose
