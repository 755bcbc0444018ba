"""Uploads in the file browser (static/js/vault/uploads.js) in a real Chromium: a same-name upload asks first
(Replace keeps the old file as a version, Keep both, Skip, the choice kept for the rest of the upload, a 409
from the server asks too), folder uploads keep their structure (the folder picker and dropped folders,
empty folders included, a same-name folder reused), one failure is shown on its row and loses nothing else,
and the overall line ends a batch with one sentence. Every result is checked through the API, bytes too."""

import re

from playwright.sync_api import expect

from tests.browser.test_vault_flow import row, signed_in

NOTES_V1 = b"notes, first\n"
NOTES_V2 = b"notes, second and longer\n"


def get(page, base: str, path: str):
    response = page.request.get(f"{base}/api/v1/{path}")
    assert response.ok, (path, response.status, response.text())
    return response.json()


def files_in(page, base: str, folder_id=None) -> dict:
    """{name: file} of a folder (None: the top level), through the API."""
    where = f"folder={folder_id}&" if folder_id else ""
    return {f["name"]: f for f in get(page, base, f"files/?{where}page_size=200")["results"]}


def folders_in(page, base: str, parent_id=None) -> dict:
    where = f"parent={parent_id}&" if parent_id else ""
    return {f["name"]: f for f in get(page, base, f"folders/?{where}page_size=200")["results"]}


def content(page, base: str, file: dict) -> bytes:
    response = page.request.get(f"{base}/api/v1/files/{file['id']}/content")
    assert response.ok, response.status
    return response.body()


def item(page, name: str):
    """The upload row whose name is exactly ``name``."""
    return page.get_by_test_id("upload-item").filter(
        has=page.locator(".upload-name", has_text=re.compile(f"(^|/){re.escape(name)}$"))
    )


def pick(page, *specs):
    page.set_input_files("#upload-input", [{"name": n, "mimeType": "text/plain", "buffer": b} for n, b in specs])


def test_same_name_upload_asks_replace_keep_both_skip_and_for_the_rest(page, live_server, screenshot):
    base = live_server.url
    signed_in(page, base, "uma")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    dialog = page.get_by_test_id("conflict-dialog")
    live = page.locator("#upload-overall-text")

    pick(page, ("notes.txt", NOTES_V1))
    expect(item(page, "notes.txt")).to_have_attribute("data-state", "done")
    expect(live).to_have_text("1 uploaded")
    expect(row(page, "notes.txt")).to_have_count(1)
    expect(dialog).to_be_hidden()

    # The same name again: asked first, nothing sent meanwhile; Replace makes version 2 of the same file.
    page.locator("#choose-files").focus()
    pick(page, ("notes.txt", NOTES_V2))
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("A file with this name is already here")
    expect(dialog.locator("#conflict-text")).to_have_text("“Files” already has a file named “notes.txt”.")
    expect(dialog.get_by_role("checkbox")).to_be_hidden()  # one file: no "the other files" to speak of
    expect(item(page, "notes.txt")).to_have_attribute("data-state", "asking")
    expect(live).to_contain_text("1 waiting for your answer")
    screenshot(page, "upload-conflict")
    first_id = files_in(page, base)["notes.txt"]["id"]
    dialog.get_by_role("button", name="Replace").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#choose-files")).to_be_focused()  # focus is back where it was
    done = item(page, "notes.txt")
    expect(done).to_have_attribute("data-state", "done")
    expect(done.locator(".upload-status")).to_have_text("Replaced: now version 2 of “notes.txt”")
    listed = files_in(page, base)
    assert list(listed) == ["notes.txt"]
    assert listed["notes.txt"]["id"] == first_id and listed["notes.txt"]["version"] == 2
    assert content(page, base, listed["notes.txt"]) == NOTES_V2
    versions = get(page, base, f"files/{first_id}/versions/")
    assert len(versions["results"] if isinstance(versions, dict) else versions) == 2

    # Names compare as the server does (case and accents folded): "NOTES.TXT" is the same name; Keep both.
    pick(page, ("NOTES.TXT", b"upper"))
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep both").click()
    expect(item(page, "NOTES.TXT")).to_have_attribute("data-state", "done")
    expect(item(page, "NOTES.TXT").locator(".upload-status")).to_have_text("Uploaded as “NOTES (2).TXT”")
    listed = files_in(page, base)
    assert sorted(listed) == ["NOTES (2).TXT", "notes.txt"]
    assert content(page, base, listed["NOTES (2).TXT"]) == b"upper"

    # Skip: nothing is sent; Escape skips too.
    pick(page, ("notes.txt", b"not wanted"))
    dialog.get_by_role("button", name="Skip").click()
    expect(item(page, "notes.txt")).to_have_attribute("data-state", "skipped")
    expect(live).to_have_text("0 uploaded, 1 skipped")
    pick(page, ("Nötes.txt", b"not wanted either"))  # accents fold too
    expect(dialog).to_be_visible()
    expect(dialog.locator("#conflict-text")).to_have_text(
        "“Files” already has a file named “notes.txt”, the same name as “Nötes.txt” to Locker"
        " (case and accents do not count)."
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(item(page, "Nötes.txt")).to_have_attribute("data-state", "skipped")
    listed = files_in(page, base)
    assert sorted(listed) == ["NOTES (2).TXT", "notes.txt"] and listed["notes.txt"]["version"] == 2
    assert content(page, base, listed["notes.txt"]) == NOTES_V2

    # Four files, two taken: one question, "do the same" answers the other without asking again.
    pick(page, ("a.txt", b"a1"), ("b.txt", b"b1"))
    expect(live).to_have_text("2 uploaded")
    expect(row(page, "b.txt")).to_have_count(1)  # the listing knows them: asked before sending
    page.evaluate(
        """() => { window.conflictsShown = 0; const d = document.getElementById('conflict-dialog');
                  new MutationObserver(() => { if (d.open) window.conflictsShown += 1; })
                    .observe(d, {attributes: true, attributeFilter: ['open']}); }"""
    )
    pick(page, ("a.txt", b"a2"), ("b.txt", b"b2"), ("c.txt", b"c1"), ("notes.txt", b"n3"))
    expect(dialog).to_be_visible()
    expect(dialog.locator("#conflict-more")).to_have_text("2 more files have the same question.")
    expect(item(page, "c.txt")).to_have_attribute("data-state", "done")  # the others did not wait
    dialog.get_by_role("checkbox", name="Do the same for the other files of this upload").check()
    dialog.get_by_role("button", name="Keep both").click()
    expect(dialog).to_be_hidden()
    for name in ("a.txt", "b.txt", "notes.txt"):
        expect(item(page, name).last).to_have_attribute("data-state", "done")
    expect(live).to_have_text("4 uploaded")
    assert page.evaluate("window.conflictsShown") == 1
    listed = files_in(page, base)
    # "notes (2).txt" is taken too ("NOTES (2).TXT", the same name to the server): the next free one
    assert sorted(listed) == sorted(
        ["a.txt", "a (2).txt", "b.txt", "b (2).txt", "c.txt", "notes.txt", "NOTES (2).TXT", "notes (3).txt"]
    )
    assert content(page, base, listed["a (2).txt"]) == b"a2" and content(page, base, listed["a.txt"]) == b"a1"

    # A folder holds the name: the file cannot replace it, only keep both or skip.
    page.locator("#new-folder").click()
    page.fill("#new-folder-name", "Reports")
    page.get_by_role("button", name="Create folder").click()
    expect(row(page, "Reports")).to_have_count(1)
    pick(page, ("reports", b"r"))
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("A folder with this name is already here")
    expect(dialog.get_by_role("button", name="Replace")).to_be_hidden()
    dialog.get_by_role("button", name="Keep both").click()
    expect(item(page, "reports").locator(".upload-status")).to_have_text("Uploaded as “reports (2)”")
    assert not page.problems(), page.problems()


def test_a_file_that_appeared_meanwhile_is_asked_about_after_the_409(page, live_server):
    base = live_server.url
    signed_in(page, base, "ulla")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    # Another device uploads "late.txt"; this page's listing does not show it yet.
    page.evaluate(
        """async () => {
        const form = new FormData();
        form.append('file', new File(['from elsewhere'], 'late.txt'));
        const csrf = document.getElementById('vault').dataset.csrf;
        const r = await fetch('/api/v1/files/', {method: 'POST', body: form, headers: {'X-CSRFToken': csrf}});
        if (r.status !== 201) throw new Error(r.status);
      }"""
    )
    # what each upload sent as on_conflict
    page.evaluate(
        """() => { window.sent = []; const send = XMLHttpRequest.prototype.send;
                  XMLHttpRequest.prototype.send = function (body) {
                    if (body instanceof FormData) window.sent.push(body.get('on_conflict'));
                    return send.call(this, body); }; }"""
    )
    pick(page, ("late.txt", b"from here"))
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("window.sent") == ["error"]  # the listing did not know: sent as error, 409
    dialog.get_by_role("button", name="Replace").click()
    expect(item(page, "late.txt")).to_have_attribute("data-state", "done")
    assert page.evaluate("window.sent") == ["error", "version"]
    listed = files_in(page, base)
    assert list(listed) == ["late.txt"] and listed["late.txt"]["version"] == 2
    assert content(page, base, listed["late.txt"]) == b"from here"
    problems = [p for p in page.problems() if "status of 409" not in p]
    assert not problems, page.problems()


def test_folder_picker_recreates_nested_folders_then_reuses_them(page, live_server, tmp_path, screenshot):
    base = live_server.url
    signed_in(page, base, "ursula")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    trip = tmp_path / "Trip"
    tree = {
        "plan.txt": b"day one: museum\n",
        "day 1/photo.bin": bytes(range(256)) * 64,
        "day 1/notes/n.txt": b"nested note\n",
        "day 2/r\u00e9sum\u00e9.txt": "café".encode(),
    }
    for rel, data in tree.items():
        (trip / rel).parent.mkdir(parents=True, exist_ok=True)
        (trip / rel).write_bytes(data)

    page.set_input_files("#folder-input", str(trip))
    for path in ("Trip", "Trip/day 1", "Trip/day 1/notes", "Trip/day 2"):
        folder_row = page.get_by_test_id("upload-item").filter(
            has=page.locator(".upload-name", has_text=re.compile(f"Folder {re.escape(path)}$"))
        )
        expect(folder_row).to_have_attribute("data-state", "done")
        expect(folder_row.locator(".upload-status")).to_have_text("Created")
    for rel in tree:
        expect(item(page, rel.rsplit("/", 1)[-1])).to_have_attribute("data-state", "done")
    live = page.locator("#upload-overall-text")
    expect(live).to_have_text("4 uploaded")
    expect(row(page, "Trip")).to_have_count(1)
    screenshot(page, "upload-folder")

    def check(version: int):
        top = folders_in(page, base)
        assert list(top) == ["Trip"]
        trip_id = top["Trip"]["id"]
        subs = folders_in(page, base, trip_id)
        assert sorted(subs) == ["day 1", "day 2"]
        assert list(folders_in(page, base, subs["day 1"]["id"])) == ["notes"]
        places = {
            "": trip_id,
            "day 1/": subs["day 1"]["id"],
            "day 1/notes/": folders_in(page, base, subs["day 1"]["id"])["notes"]["id"],
            "day 2/": subs["day 2"]["id"],
        }
        seen = {}
        for prefix, folder_id in places.items():
            for name, file in files_in(page, base, folder_id).items():
                seen[prefix + name] = file
        assert sorted(seen) == sorted(tree)
        for rel, data in tree.items():
            assert content(page, base, seen[rel]) == data, rel
            assert seen[rel]["version"] == version, rel

    check(1)

    # The same folder again: "Trip" and its folders are reused, not doubled; the files there answer 409,
    # asked once, and "Replace" for all makes version 2 of each.
    page.set_input_files("#folder-input", str(trip))
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_be_visible()
    expect(
        page.get_by_test_id("upload-item").filter(has_text="Folder Trip").first.locator(".upload-status")
    ).to_have_text("Added to the folder already there")
    dialog.get_by_role("checkbox").check()
    dialog.get_by_role("button", name="Replace").click()
    expect(live).to_have_text("4 uploaded")
    expect(dialog).to_be_hidden()
    check(2)
    problems = [p for p in page.problems() if "status of 409" not in p]
    assert not problems, page.problems()


# A dropped folder as Chromium hands it over (FileSystemDirectoryEntry): readEntries answers in chunks, then [].
FAKE_DROP = """(tree) => {
  const file = (name, text) => ({isFile: true, isDirectory: false, name,
    file: (ok) => setTimeout(() => ok(new File([text], name, {type: 'text/plain'})))});
  const dir = (name, children) => ({isFile: false, isDirectory: true, name, createReader() {
    const chunks = [];
    for (let i = 0; i < children.length; i += 2) chunks.push(children.slice(i, i + 2));
    return {readEntries: (ok) => setTimeout(() => ok(chunks.shift() || []))};
  }});
  const build = (node) => Object.entries(node).map(([name, value]) =>
    typeof value === 'string' ? file(name, value) : dir(name, build(value)));
  const entries = build(tree);
  const items = entries.map((entry) => ({kind: 'file', webkitGetAsEntry: () => entry,
    getAsFile: () => entry.isFile ? new File(['loose'], entry.name) : null}));
  const event = new Event('drop', {bubbles: true, cancelable: true});
  Object.defineProperty(event, 'dataTransfer', {value: {types: ['Files'], items, files: []}});
  document.body.dispatchEvent(event);
}"""


def test_dropped_folders_with_empty_ones_and_a_failure_on_its_row(page, live_server):
    base = live_server.url
    signed_in(page, base, "uwe")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    tree = {
        "Album": {
            "one.txt": "1",
            "two.txt": "2",
            "three.txt": "3",
            "empty": {},
            "inner": {"four.txt": "4", "five.txt": "5", "six.txt": "6"},
            "bad\\name": {"lost.txt": "x"},  # a name the server refuses ("\\")
        },
        "loose.txt": "loose",
    }
    page.evaluate(FAKE_DROP, tree)
    folder = lambda path: page.get_by_test_id("upload-item").filter(  # noqa: E731
        has=page.locator(".upload-name", has_text=re.compile(f"Folder {re.escape(path)}$"))
    )
    expect(folder("Album/empty")).to_have_attribute("data-state", "done")
    expect(folder("Album/bad\\name")).to_have_attribute("data-state", "error")
    expect(folder("Album/bad\\name").locator(".upload-status[role=alert]")).to_contain_text("without / or \\")
    expect(item(page, "lost.txt")).to_have_attribute("data-state", "error")
    expect(item(page, "lost.txt").locator("[role=alert]")).to_have_count(0)  # the folder's alert is enough
    expect(item(page, "lost.txt").locator(".upload-status")).to_have_text(
        "Not uploaded: its folder “Album/bad\\name” could not be created."
    )
    live = page.locator("#upload-overall-text")
    expect(live).to_have_text("7 uploaded, 1 failed, 1 folder not created")
    album = folders_in(page, base)["Album"]["id"]
    subs = folders_in(page, base, album)
    assert sorted(subs) == ["empty", "inner"]
    assert files_in(page, base, subs["empty"]["id"]) == {}
    inner = files_in(page, base, subs["inner"]["id"])
    assert {n: content(page, base, f) for n, f in inner.items()} == {
        "four.txt": b"4",
        "five.txt": b"5",
        "six.txt": b"6",
    }
    assert sorted(files_in(page, base, album)) == ["one.txt", "three.txt", "two.txt"]
    assert content(page, base, files_in(page, base)["loose.txt"]) == b"loose"
    problems = [p for p in page.problems() if "status of 400" not in p]
    assert not problems, page.problems()


def test_no_uploads_into_recent_or_starred(page, live_server):
    base = live_server.url
    signed_in(page, base, "ugo")
    page.goto(f"{base}/files/recent/")
    expect(page.locator("#choose-files")).to_be_hidden()
    data_transfer = page.evaluate_handle(
        """() => { const dt = new DataTransfer(); dt.items.add(new File(["x"], "x.txt")); return dt; }"""
    )
    page.dispatch_event("body", "dragenter", {"dataTransfer": data_transfer})
    overlay = page.get_by_test_id("drop-overlay")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Uploads go into a folder")
    page.dispatch_event("body", "drop", {"dataTransfer": data_transfer})
    expect(overlay).to_be_hidden()
    expect(page.get_by_test_id("vault-message")).to_have_text(
        "Uploads go into a folder: open Files or one of your folders, then add the files there."
    )
    expect(page.get_by_test_id("upload-item")).to_have_count(0)
    assert files_in(page, base) == {}
    assert not page.problems(), page.problems()


def test_a_busy_server_is_tried_again_and_cancel_answers_a_waiting_question(page, live_server):
    base = live_server.url
    signed_in(page, base, "umar")
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()

    # 429 once (too many uploads): the file waits for Retry-After and goes again by itself.
    answered = []

    def busy_once(route):
        if not answered:
            answered.append(429)
            route.fulfill(
                status=429,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body='{"code": "rate_limited", "detail": "Too many requests."}',
            )
        else:
            route.continue_()

    page.route(
        "**/api/v1/files/", lambda route: busy_once(route) if route.request.method == "POST" else route.continue_()
    )
    pick(page, ("x.txt", b"x"))
    expect(item(page, "x.txt").locator(".upload-status")).to_have_text(re.compile("trying again in 1 s"))
    expect(item(page, "x.txt")).to_have_attribute("data-state", "done")
    assert answered == [429]
    expect(row(page, "x.txt")).to_have_count(1)

    # Two questions waiting; cancelling the shown one's upload moves on to the next; cancelling that closes it.
    pick(page, ("y.txt", b"y"))
    expect(row(page, "y.txt")).to_have_count(1)
    pick(page, ("x.txt", b"x3"), ("y.txt", b"y3"))
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#conflict-more")).to_have_text("1 more file has the same question.")
    expect(dialog.locator("#conflict-text")).to_contain_text("“x.txt”")
    page.evaluate("() => document.querySelector('[aria-label=\"Cancel upload of “x.txt”\"]').click()")
    expect(dialog.locator("#conflict-text")).to_contain_text("“y.txt”")
    expect(dialog.locator("#conflict-more")).to_have_text("")
    page.evaluate("() => document.querySelector('[aria-label=\"Cancel upload of “y.txt”\"]').click()")
    expect(dialog).to_be_hidden()
    expect(page.locator("#upload-overall-text")).to_have_text("0 uploaded, 2 cancelled")
    listed = files_in(page, base)
    assert sorted(listed) == ["x.txt", "y.txt"] and listed["x.txt"]["version"] == 1
    problems = [p for p in page.problems() if "status of 429" not in p]
    assert not problems, page.problems()
