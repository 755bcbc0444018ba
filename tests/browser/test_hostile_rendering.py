"""Hostile user text on every page, in a real Chromium: it shows as text, no script runs, the CSP reports nothing.

One account ("hana") holds names, tags, notes, chats and messages written to break out of HTML, attributes,
URLs and templates; a second account ("bob", whose email address is itself hostile) shares a hostile folder
with her and receives one of hers; hana signs in through the API with a hostile User-Agent, which her settings
and the admin's event log show. Each page is then opened (hana's pages, the public link pages anonymously, and
the admin as "ada") and checked once its data is drawn:

- every hostile string expected there appears literally (as text, or as an input's value), so it was
  rendered escaped and not dropped;
- ``window.__xss`` is still 0 (every payload sets it to a number of its own, so a failure says which one ran);
- no ``securitypolicyviolation`` event fired (an init script records them before any page script runs), no
  dialog opened, nothing was logged to the console as an error, and no request failed or was answered >= 400;
- the DOM holds no element a payload would have made: no ``on*`` attribute, no ``javascript:`` URL, no
  inline script, no ``img[src=x]``, ``svg[onload]``, ``marquee``, ``details[ontoggle]``...

Every page is visited even after one fails; the test fails at the end with what each page showed.
"""

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import User
from activity.models import Event
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP
from tests.browser.files_page import row
from tests.browser.test_accounts_flow import sign_in
from tests.factories import DEFAULT_PASSWORD, make_account

# Every payload sets window.__xss to its own number: a failure names the one that ran. "zebra" is the word
# the search pages look for. Names refuse "/", "\", control and format characters and device names.
FOLDER = 'zebra "><svg onload=window.__xss=1> {{7*7}}'
FILE = 'zebra <img src=x onerror="window.__xss=2">.txt'
HTML_FILE = "zebra <details open ontoggle=window.__xss=3>.html"
HTML_CONTENT = "<script>window.__xss=4</script><img src=x onerror=window.__xss=4>\n"
INNER_FILE = "zebra {{7*7}} ${7*7} <a href=javascript:window.__xss=22>x.txt"
TRASHED_FILE = "zebra <video><source onerror=window.__xss=24>.txt"
FILE_TAG = "<script>window.__xss=5</script>"
FILE_TAG_2 = "javascript:window.__xss=6"
NOTE_TITLE = "zebra </textarea><script>window.__xss=7</script>"
NOTE_TAG = '"><svg onload=window.__xss=12>'
RTL = "\u202egnp.exe"  # a right-to-left override: only where text is free (notes, messages), never in names
NOTE_BODY = f"""# zebra <img src=x onerror=window.__xss=8>

[click me](javascript:window.__xss=9) and {{{{7*7}}}} and {RTL}

<script>window.__xss=10</script>
</textarea><svg onload=window.__xss=11>
"""
CHAT_TITLE = "zebra <svg onload=window.__xss=13>"
MESSAGE = f"zebra <img src=x onerror=window.__xss=14> {RTL} {{{{7*7}}}} </textarea><script>window.__xss=15</script>"
ASSISTANT_MESSAGE = "**zebra** [x](javascript:window.__xss=16) <img src=x onerror=window.__xss=17>"
ATTACHMENT = "zebra <b onmouseover=window.__xss=18>clip.txt"
BOB_FOLDER = 'zebra bob\'s "<svg onload=window.__xss=19>"'
BOB_FILE = "zebra <marquee onstart=window.__xss=23>.txt"
BOB_EMAIL = '"<img/src=x/onerror=window.__xss=20>"@example.org'  # a quoted local part may hold < > = /
USER_AGENT = '<script>window.__xss=21</script> "><img src=x onerror=window.__xss=21>'

TRAP = """
window.__xss = 0;
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
}, true);
"""

# Everything a payload would leave in the DOM had it been parsed as markup.
MARKUP = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on')) bad.push(`${el.tagName} ${name}=${a.value}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc', 'data'].includes(name)
          && /^\\s*(javascript|vbscript):/i.test(a.value)) bad.push(`${el.tagName} ${name}=${a.value}`);
    }
    if (el.tagName === 'SCRIPT' && !el.src && !/json/i.test(el.type)) bad.push(`inline script ${el.textContent}`);
  }
  for (const sel of ['img[src="x"]', 'svg[onload]', 'marquee', 'details[ontoggle]', 'object', 'embed',
                     'iframe[srcdoc]', 'video source[onerror]']) {
    if (document.querySelector(sel)) bad.push(`element ${sel}`);
  }
  return bad;
}"""

# The page's text and its form fields' values (a name being renamed, a note's title).
ALL_SHOWN = """(texts) => {
  const shown = document.body.textContent + '\\n' +
    [...document.querySelectorAll('input, textarea')].map((e) => e.value).join('\\n');
  return texts.every((t) => shown.includes(t));
}"""
MISSING = """(texts) => {
  const shown = document.body.textContent + '\\n' +
    [...document.querySelectorAll('input, textarea')].map((e) => e.value).join('\\n');
  return texts.filter((t) => !shown.includes(t));
}"""


def api(base: str, method: str, path: str, auth: dict | None = None, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
    headers = {"Content-Type": content_type, **(auth or {})}
    request = urllib.request.Request(f"{base}/api/v1/{path}", data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the live server's http:// URL
        text = response.read()
        return json.loads(text) if text else None


def token(base: str, username: str, password: str, user_agent: str = "locker-tests") -> dict:
    answer = api(base, "POST", "auth/token", {"User-Agent": user_agent}, {"username": username, "password": password})
    return {"Authorization": f"Bearer {answer['access']}"}


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart body of ``fields`` and ``(part name, file name, bytes)`` files (names without double quotes)."""
    out = b""
    for key, value in fields.items():
        out += f'--b0undary\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    for part, name, data in files:
        out += f'--b0undary\r\nContent-Disposition: form-data; name="{part}"; filename="{name}"\r\n'.encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    return out + b"--b0undary--\r\n", "multipart/form-data; boundary=b0undary"


def upload(base: str, auth: dict, name: str, data: bytes, folder: str | None = None, tags=None) -> str:
    """Upload under a plain name, then rename to ``name`` (a multipart file name cannot carry every quote)."""
    fields = {"folder": folder} if folder else {}
    body, content_type = multipart(fields, [("file", "seed.txt", data)])
    file_id = api(base, "POST", "files/", auth, body, content_type)[0]["file"]["id"]
    change = {"name": name, **({"tags": tags} if tags else {})}
    api(base, "PATCH", f"files/{file_id}/", auth, change)
    return file_id


def seed(base: str) -> dict:
    """hana's hostile data, bob's share with her, her share and public links; the ids and URLs the pages need."""
    hana = make_account("hana")
    make_account("ada", role=User.Role.ADMIN)
    account_services.user_register(username="bob", email=BOB_EMAIL, password=DEFAULT_PASSWORD)
    auth = token(base, "hana", hana.password, USER_AGENT)
    bob = token(base, "bob", DEFAULT_PASSWORD)
    ids = {}
    ids["folder"] = api(base, "POST", "folders/", auth, {"name": FOLDER, "tags": [FILE_TAG, NOTE_TAG]})["id"]
    ids["file"] = upload(base, auth, FILE, b"The zebra file\n", tags=[FILE_TAG, FILE_TAG_2])
    ids["html"] = upload(base, auth, HTML_FILE, HTML_CONTENT.encode())
    upload(base, auth, INNER_FILE, b"inside\n", folder=ids["folder"], tags=[FILE_TAG_2])
    trashed = upload(base, auth, TRASHED_FILE, b"gone\n")
    api(base, "DELETE", f"files/{trashed}/", auth)
    api(base, "PUT", f"files/{ids['file']}/star", auth)
    note = {"title": NOTE_TITLE, "body": NOTE_BODY, "tags": [NOTE_TAG, FILE_TAG]}
    ids["note"] = api(base, "POST", "notes/", auth, note)["id"]
    ids["chat"] = api(base, "POST", "chats/", auth, {"title": CHAT_TITLE})["id"]
    api(base, "POST", f"chats/{ids['chat']}/messages/", auth, {"content": MESSAGE})
    api(base, "POST", f"chats/{ids['chat']}/messages/", auth, {"role": "assistant", "content": ASSISTANT_MESSAGE})
    body, content_type = multipart({"content": "zebra attached"}, [("file", ATTACHMENT, b"clip\n")])
    api(base, "POST", f"chats/{ids['chat']}/messages/", auth, body, content_type)
    # bob shares a hostile folder (with a hostile file in it) with hana; hana shares hers with bob.
    ids["bob_folder"] = api(base, "POST", "folders/", bob, {"name": BOB_FOLDER})["id"]
    upload(base, bob, BOB_FILE, b"from bob\n", folder=ids["bob_folder"])
    api(base, "POST", "shares/", bob, {"item": ids["bob_folder"], "username": "hana", "permission": "edit"})
    api(base, "POST", "shares/", auth, {"item": ids["folder"], "username": "bob", "permission": "view"})
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    urls = {
        "link_file": api(base, "POST", "links/", auth, {"item": ids["file"], "expires_at": expires})["url"],
        "link_folder": api(base, "POST", "links/", auth, {"item": ids["folder"], "expires_at": expires})["url"],
    }
    ids["bob"] = User.objects.get(username="bob").pk
    ids["ua_event"] = Event.objects.filter(user_agent=USER_AGENT).order_by("created_at").first().pk
    return {"ids": ids, "urls": urls}


class Watch:
    """A page's traps: dialogs, console errors, page errors, failed requests, since the last ``reset``."""

    def __init__(self, page):
        self.page = page
        self.events = []
        page.add_init_script(TRAP)
        page.on("dialog", self._dialog)
        page.on("console", lambda msg: msg.type == "error" and self.events.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.events.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.events.append(f"HTTP {r.status} {r.url}"))

    def _dialog(self, dialog):
        self.events.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _failed(self, request):
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # a page left while its live stream or a fetch was still open
            self.events.append(f"request failed: {request.url} {failure}")

    def reset(self):
        self.events.clear()


def new_watched_page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    return page, Watch(page)


def check(page, watch: Watch, name: str, texts: list[str], found: dict) -> None:
    """The hostile ``texts`` show literally on the page, and nothing ran, was blocked or was made of them."""
    problems = []
    try:
        page.wait_for_function(ALL_SHOWN, arg=texts, timeout=DEFAULT_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - reported with the rest below
        problems.append(f"not shown as text: {page.evaluate(MISSING, texts)!r}")
    page.wait_for_timeout(300)  # a broken image's onerror, an svg's onload, a details' ontoggle fire by now
    xss = page.evaluate("window.__xss")
    if xss != 0:
        problems.append(f"window.__xss = {xss!r}")
    csp = page.evaluate("window.__csp")
    if csp:
        problems.append(f"CSP violations: {csp}")
    problems += [f"markup: {m}" for m in page.evaluate(MARKUP)]
    problems += list(watch.events)
    if problems:
        found[f"{name} ({urlsplit(page.url).path})"] = problems
    watch.reset()


def shown_in(page, selector: str, name: str, texts: list[str], found: dict) -> None:
    """The element ``selector`` itself shows ``texts`` as text (not only an input's value elsewhere on the page)."""
    try:
        for text in texts:
            expect(page.locator(selector)).to_contain_text(text)
    except AssertionError as exc:
        found[f"{name} ({urlsplit(page.url).path})"] = [f"{selector}: {exc}"]


def visit(page, watch: Watch, url: str, name: str, texts: list[str], found: dict) -> None:
    watch.reset()
    page.goto(url)
    check(page, watch, name, texts, found)


def open_item_dialog(page, watch, item: str, entry: str, name: str, texts: list[str], found: dict) -> None:
    """The file browser's dialog ``entry`` ("Rename…", "Share…", "Preview") for the listed ``item``."""
    row(page, item).get_by_role("button", name=f"Actions for “{item}”").click()
    page.get_by_role("menu").get_by_role("menuitem", name=entry, exact=True).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    check(page, watch, name, texts, found)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def hana_pages(page, watch, base: str, ids: dict, found: dict) -> None:
    names = [FOLDER, FILE, HTML_FILE]
    visit(page, watch, f"{base}/", "home", [FILE], found)
    visit(page, watch, f"{base}/files/", "files", [*names, BOB_FOLDER, "From bob"], found)
    open_item_dialog(page, watch, FILE, "Rename…", "files rename dialog", [FILE], found)
    open_item_dialog(page, watch, FOLDER, "Share…", "files share dialog", [FOLDER, "bob"], found)
    open_item_dialog(page, watch, HTML_FILE, "Preview", "files preview", [HTML_FILE, HTML_CONTENT.strip()], found)
    page.get_by_role("button", name="Grid", exact=True).click()
    check(page, watch, "files grid", names, found)
    page.get_by_role("button", name="List", exact=True).click()
    visit(page, watch, f"{base}/files/{ids['folder']}/", "folder", [FOLDER, INNER_FILE], found)
    visit(page, watch, f"{base}/files/{ids['bob_folder']}/", "shared with me", [BOB_FOLDER, BOB_FILE], found)
    visit(page, watch, f"{base}/files/starred/", "starred", [FILE], found)
    visit(page, watch, f"{base}/files/recent/", "recent", [FILE, HTML_FILE], found)
    visit(page, watch, f"{base}/trash/", "trash", [TRASHED_FILE], found)
    everything = [FOLDER, FILE, HTML_FILE, INNER_FILE, NOTE_TITLE, CHAT_TITLE]
    visit(page, watch, f"{base}/search/?q=zebra", "search", everything, found)
    visit(page, watch, f"{base}/search/?tag={quote(FILE_TAG)}", "search by tag", [FILE_TAG, FILE, NOTE_TITLE], found)
    # The header's typed search, its suggestions listed under the box.
    page.fill("#site-search-input", "zebra")
    expect(page.locator("#site-search-results [role=option]").first).to_be_visible()
    check(page, watch, "search suggestions", [FILE], found)
    page.keyboard.press("Escape")
    visit(page, watch, f"{base}/notes/", "notes", [NOTE_TITLE, NOTE_TAG], found)
    note_texts = [NOTE_TITLE, NOTE_TAG, FILE_TAG, "<script>window.__xss=10</script>", RTL, "{{7*7}}"]
    visit(page, watch, f"{base}/notes/{ids['note']}/", "note", note_texts, found)
    preview = ["zebra <img src=x onerror=window.__xss=8>", "<script>window.__xss=10</script>", RTL, "{{7*7}}"]
    shown_in(page, "[data-testid=note-preview]", "note preview", preview, found)
    shown_in(page, "#crumb-title", "note title", [NOTE_TITLE], found)
    visit(page, watch, f"{base}/chats/", "chats", [CHAT_TITLE], found)
    chat_texts = [CHAT_TITLE, MESSAGE, "<img src=x onerror=window.__xss=17>", ATTACHMENT]
    visit(page, watch, f"{base}/chats/{ids['chat']}/", "chat", chat_texts, found)
    visit(page, watch, f"{base}/notifications", "notifications", [BOB_FOLDER], found)
    visit(page, watch, f"{base}/activity", "activity", [FILE, FOLDER, NOTE_TITLE], found)
    visit(page, watch, f"{base}/settings", "settings", [USER_AGENT[:40]], found)


def test_hostile_text_renders_as_text_on_every_page(page, browser, live_server):
    base = live_server.url
    seeded = seed(base)
    ids, urls = seeded["ids"], seeded["urls"]
    found = {}

    # hana's pages.
    watch = Watch(page)
    sign_in(page, base, "hana", DEFAULT_PASSWORD)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    hana_pages(page, watch, base, ids, found)

    # The public links, opened by someone not signed in.
    anonymous, watch = new_watched_page(browser)
    try:
        visit(anonymous, watch, urls["link_file"], "link to a file", [FILE, "hana"], found)
        visit(anonymous, watch, urls["link_folder"], "link to a folder", [FOLDER, INNER_FILE], found)
    finally:
        anonymous.context.close()

    # The admin, as ada: bob's email in the user list and his page; hana's hostile User-Agent in the event log.
    admin, watch = new_watched_page(browser)
    try:
        sign_in(admin, base, "ada", DEFAULT_PASSWORD)
        admin.wait_for_url(lambda url: urlsplit(url).path == "/")
        visit(admin, watch, f"{base}/admin/", "admin", [], found)
        visit(admin, watch, f"{base}/admin/accounts/user/", "admin users", [BOB_EMAIL, "hana"], found)
        visit(admin, watch, f"{base}/admin/accounts/user/{ids['bob']}/change/", "admin user", [BOB_EMAIL], found)
        visit(admin, watch, f"{base}/admin/activity/event/", "admin events", ["hana"], found)
        event_url = f"{base}/admin/activity/event/{ids['ua_event']}/change/"
        visit(admin, watch, event_url, "admin event", [USER_AGENT], found)
    finally:
        admin.context.close()

    assert not found, json.dumps(found, indent=2, ensure_ascii=False)
