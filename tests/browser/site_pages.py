"""Every page a user or an admin can reach, with something on it, for the checks that visit them all
(``test_accessibility.py``, ``test_phone_layout.py``).

``make_site(live_server)`` makes the accounts and their data through the API; ``visit_*`` walk a page through
the pages, calling ``check(name)`` on each once it has settled (and on each of the file browser's dialogs).
"""

import json
import re
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from accounts.models import User
from tests.browser.test_accounts_flow import sign_in
from tests.factories import DEFAULT_PASSWORD, make_account

ADMIN = "ada"
LINK_PASSWORD = "open sesame please"


@dataclass
class Site:
    base: str
    admin_password: str
    ids: dict = field(default_factory=dict)
    urls: dict = field(default_factory=dict)


def _api(base: str, method: str, path: str, auth: dict, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        f"{base}/api/v1/{path}", data=data, method=method, headers={**auth, "Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
        return json.loads(text) if text else None


def _token(base: str, username: str, password: str) -> dict:
    answer = _api(base, "POST", "auth/token", {}, {"username": username, "password": password})
    return {"Authorization": f"Bearer {answer['access']}"}


def _upload(base: str, auth: dict, name: str, data: bytes, folder: str | None = None) -> str:
    parts = b""
    if folder:
        parts += f'--b0undary\r\nContent-Disposition: form-data; name="folder"\r\n\r\n{folder}\r\n'.encode()
    parts += (
        f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode()
        + b"Content-Type: text/plain\r\n\r\n"
        + data
        + b"\r\n--b0undary--\r\n"
    )
    answer = _api(base, "POST", "files/", auth, parts, "multipart/form-data; boundary=b0undary")
    return answer[0]["file"]["id"]


def make_site(base: str) -> Site:
    """ada (an admin) with folders, files, a trashed file, a note, a chat, public links (open, with a password,
    turned off) and a folder bob shares with her (a notification)."""
    admin = make_account(ADMIN, role=User.Role.ADMIN)
    make_account("bob")
    site = Site(base=base, admin_password=admin.password)
    auth = _token(base, ADMIN, admin.password)
    folder = _api(base, "POST", "folders/", auth, {"name": "Projects", "tags": ["work"]})["id"]
    _api(base, "POST", "folders/", auth, {"name": "Holidays"})
    site.ids["folder"] = folder
    site.ids["report"] = _upload(base, auth, "report.txt", b"The quarterly report\n" * 20)
    _upload(base, auth, "notes-from-meeting.md", b"# Meeting\n\n- budget\n")
    _upload(base, auth, "plan.txt", b"The plan\n", folder=folder)
    trashed = _upload(base, auth, "old draft.txt", b"old\n")
    _api(base, "DELETE", f"files/{trashed}/", auth)
    site.ids["note"] = _api(base, "POST", "notes/", auth, {"title": "Shopping", "body": "Milk, bread and the report"})[
        "id"
    ]
    chat = _api(base, "POST", "chats/", auth, {"title": "Trip planning"})["id"]
    _api(base, "POST", f"chats/{chat}/messages/", auth, {"content": "Where shall we go this summer?"})
    site.ids["chat"] = chat
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    site.urls["link"] = _api(base, "POST", "links/", auth, {"item": folder, "expires_at": expires})["url"]
    site.urls["link_password"] = _api(
        base, "POST", "links/", auth, {"item": site.ids["report"], "expires_at": expires, "password": LINK_PASSWORD}
    )["url"]
    gone = _api(base, "POST", "links/", auth, {"item": site.ids["report"], "expires_at": expires})
    _api(base, "DELETE", f"links/{gone['id']}/", auth)
    site.urls["link_gone"] = gone["url"]
    bob = _token(base, "bob", DEFAULT_PASSWORD)
    shared = _api(base, "POST", "folders/", bob, {"name": "Bob's photos"})["id"]
    _api(base, "POST", "shares/", bob, {"item": shared, "username": ADMIN, "permission": "view"})
    site.ids["admin_user"] = User.objects.get(username="bob").pk
    return site


def settle(page, ready: str | None = None) -> None:
    """The page has loaded and its scripts have drawn it (``ready``: a selector that shows up when they have)."""
    page.wait_for_load_state("load")
    if ready:
        expect(page.locator(ready).first).to_be_visible(timeout=60_000)  # Redoc takes its time on a busy machine
    page.wait_for_timeout(150)


# (name, path or site.urls key, selector that shows the page is drawn)
SIGNED_OUT = [
    ("login", "/login", "input[name=username]"),
    ("register", "/register", "input[name=username]"),
    ("recover", "/recover", "input[name=username]"),
    ("link", "link", "main h1"),
    ("link-password", "link_password", "input[type=password]"),
    ("link-gone", "link_gone", "main h1"),
    ("invitation-invalid", "/invite/no-such-invitation", "[data-testid=invitation-invalid]"),
    ("not-found", "/no-such-page", "[data-testid=not-found]"),
]
SIGNED_IN = [
    ("trash", "/trash/", "main tbody tr"),
    ("search", "/search/?q=report", ".result"),
    ("notes", "/notes/", ".note-item"),
    ("note", "/notes/{note}/", "main h1"),
    ("chats", "/chats/", "main"),
    ("chat", "/chats/{chat}/", "[data-testid=message]"),
    ("chat-assistant", "/chats/assistant/", "[data-testid=assistant-doc]"),
    ("chat-assistant", "/chats/assistant/", "main h1"),
    ("notifications", "/notifications", ".notif-text"),
    ("activity", "/activity", "main tbody tr"),
    ("settings", "/settings", "main h1"),
    ("admin", "/admin/", "#site-name"),
    ("admin-users", "/admin/accounts/user/", "#result_list"),
    ("admin-user", "/admin/accounts/user/{admin_user}/change/", "#content form"),
    ("api-docs", "/api/docs/", ".opblock-tag-section"),
    ("api-redoc", "/api/redoc/", "redoc h1, [role=main] h1"),
    ("not-found-signed-in", "/no-such-page", "[data-testid=not-found]"),
]


def _url(site: Site, where: str) -> str:
    if where in site.urls:
        return site.urls[where]
    return site.base + where.format(**site.ids)


def visit_signed_out(page, site: Site, check) -> None:
    for name, where, ready in SIGNED_OUT:
        page.goto(_url(site, where))
        settle(page, ready)
        check(name)
    # A form answered with its errors.
    page.goto(f"{site.base}/login")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", "not the password")
    page.get_by_role("button", name="Sign in and unlock").click()
    settle(page, "main .errors, main .error, main .msg")
    check("login-refused")


def register_for_recovery_key(page, site: Site, check) -> None:
    """The recovery key page, shown once after registering (a new account, "rita"); signed out again after."""
    page.goto(f"{site.base}/register")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=email]", "rita@example.org")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=password_confirm]", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    settle(page, "[data-testid=recovery-key]")
    check("recovery-key")
    page.context.clear_cookies()


def sign_in_admin(page, site: Site) -> None:
    sign_in(page, site.base, ADMIN, site.admin_password)
    page.wait_for_url(re.compile(r"/$"))


# Dialogs of the pages above: (page name, the button that opens it, what the check calls it).
DIALOGS = {
    "note": [("#versions-button", "note-versions"), ("#share-note", "note-share")],
    "chat": [("#rename-chat", "chat-rename")],
}


def open_dialog(page, button: str, check, name: str) -> None:
    opener = page.locator(button)
    expect(opener).to_be_enabled()
    opener.click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(300)  # its contents load
    check(name)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def visit_signed_in(page, site: Site, check) -> None:
    for name, where, ready in SIGNED_IN:
        page.goto(_url(site, where))
        settle(page, ready)
        check(name)
        for button, dialog in DIALOGS.get(name, ()):
            open_dialog(page, button, check, dialog)
    # The typed search's suggestions, open under the header's box (behind its button on a phone).
    page.goto(f"{site.base}/notes/")
    settle(page, ".note-item")
    toggle = page.locator("#search-toggle")
    if toggle.is_visible():
        toggle.click()
    page.fill("#site-search-input", "report")
    settle(page, "#site-search-results [role=option]")
    check("search-suggestions")
    page.keyboard.press("Escape")
    # The phone header's menu, open.
    menu = page.locator("#menu-toggle")
    if menu.is_visible():
        menu.click()
        settle(page, "#main-nav a")
        check("menu-open")


# --- The file browser and the home page (rebuilt in their own work; checked here, fixed there) ---


def _row(page, name: str):
    return page.locator("[data-testid=item-row]").filter(
        has=page.locator(".item-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def _menu(page, name: str, entry: str) -> None:
    _row(page, name).get_by_role("button", name=f"Actions for “{name}”").click()
    page.get_by_role("menu").get_by_role("menuitem", name=entry, exact=True).click()


def _dialog(page, check, label: str, name: str, entry: str, ready: str | None = None) -> None:
    _menu(page, name, entry)
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    if ready:
        expect(dialog.locator(ready).first).to_be_visible()
    page.wait_for_timeout(200)
    check(label)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def visit_home(page, site: Site, check) -> None:
    page.goto(f"{site.base}/")
    settle(page, "[data-testid=vault-state]")
    check("home")


def visit_files(page, site: Site, check, dialogs: bool = True) -> None:
    page.goto(f"{site.base}/files/")
    settle(page, "[data-testid=item-row]")
    check("files")
    if dialogs:
        _dialog(page, check, "files-rename", "report.txt", "Rename…")
        _dialog(page, check, "files-move", "report.txt", "Move…")
        _dialog(page, check, "files-versions", "report.txt", "Versions…")
        _dialog(page, check, "files-share", "Projects", "Share…")
        _dialog(page, check, "files-preview", "report.txt", "Preview", ".preview-text, .preview-note")
    page.get_by_role("button", name="Grid", exact=True).click()
    settle(page, "#items-grid li")
    check("files-grid")
    page.get_by_role("button", name="List", exact=True).click()
    page.goto(f"{site.base}/files/{site.ids['folder']}/")
    settle(page, "[data-testid=item-row]")
    check("files-folder")
