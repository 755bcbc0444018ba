"""The hostile-input corpus: each hostile value, over every endpoint that takes one of its kind, gets a clear 4xx
(JSON with a ``code``) and stores nothing.

- Names (folders and files, by JSON, multipart, tus metadata and WebDAV): ``../``, absolute paths, NUL and other
  control characters, a right-to-left override, 10,000 characters, device names Windows reserves.
- Bodies, over every operation of the OpenAPI schema that takes one: a malformed multipart body, a Content-Length
  that is not the body's, JSON over the limit, JSON nested too deeply, bytes that are not UTF-8 (JSON, form and
  query string).
- Tokens: ``alg: none``, the wrong key, expired (tests/accounts/test_bad_input.py), and one signed with the real
  key that names another user than its session's.
"""

from __future__ import annotations

import base64
import json
import uuid

import jwt
import pytest
from django.apps import apps
from django.conf import settings
from rest_framework.test import APIClient

from accounts.app_passwords import app_password_create
from tests.vault.conftest import keys_for

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = {
    "parent": "../../etc/passwd",
    "dot-dot": "..",
    "absolute": "/etc/passwd",
    "windows-absolute": "C:\\Windows\\win.ini",
    "nul": "report\x00.txt",
    "bell": "report\x07.txt",
    "escape": "report\x1b[31m.txt",
    "newline": "report\n.txt",
    "rtl-override": "invoice\u202efdp.exe",
    "zero-width": "pay\u200broll.txt",
    "10k": "a" * 10_000,
    "con": "CON",
    "nul-device": "nul.txt",
    "com1": "com1.log",
    "lpt9": "LPT9",
}
STATE_APPS = ("accounts", "vault", "chats")
SKIPPED_MODELS = {"UnlockSession", "OutstandingToken", "BlacklistedToken"}  # a test's own sign-in writes these


def stored(blob_dir) -> dict:
    """Every row of the apps that keep users' data, and the blobs: what a refused request must leave as it was."""
    rows = {}
    for label in STATE_APPS:
        for model in apps.get_app_config(label).get_models():
            if model.__name__ not in SKIPPED_MODELS:
                rows[model.__name__] = sorted(map(repr, model.objects.values_list()))
    rows["blobs"] = sorted(str(path) for path in blob_dir.rglob("*") if path.is_file()) if blob_dir.exists() else []
    return rows


def assert_refused(response, statuses=range(400, 500)):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    assert response.json()["code"], response.content[:300]


@pytest.fixture
def seeded(auth_client):
    folder = auth_client.post("/api/v1/folders/", {"name": "Documents"}, format="json").json()["id"]
    upload = auth_client.post("/api/v1/files/", {"file": _file("report.txt", b"hello\n")}, format="multipart")
    assert upload.status_code == 201, upload.content
    file = upload.json()[0]["file"]["id"]
    note = auth_client.post("/api/v1/notes/", {"title": "n", "body": "b"}, format="json").json()["id"]
    chat = auth_client.post("/api/v1/chats/", {"title": "c"}, format="json").json()["id"]
    return {"folder": folder, "file": file, "note": note, "chat": chat}


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# --- names ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_hostile_name_is_refused_everywhere_a_name_goes_in(auth_client, seeded, blob_dir, name):
    before = stored(blob_dir)
    folder, file = seeded["folder"], seeded["file"]
    assert_refused(auth_client.post("/api/v1/folders/", {"name": name}, format="json"))
    assert_refused(auth_client.patch(f"/api/v1/folders/{folder}/", {"name": name}, format="json"))
    assert_refused(auth_client.patch(f"/api/v1/files/{file}/", {"name": name}, format="json"))
    metadata = "name " + base64.b64encode(name.encode()).decode()
    tus = auth_client.post(
        "/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="4", HTTP_UPLOAD_METADATA=metadata
    )
    assert_refused(tus)
    assert stored(blob_dir) == before


MULTIPART_NAMES = {
    "parent": ("../../x.txt", "x.txt"),
    "absolute": ("/etc/passwd", "passwd"),
    "windows-absolute": ("C:\\Windows\\win.ini", "win.ini"),
    "bell": ("report\x07.txt", "report.txt"),
    "escape": ("report\x1b[31m.txt", "report[31m.txt"),
    "rtl-override": ("invoice\u202efdp.exe", "invoicefdp.exe"),
    "zero-width": ("pay\u200broll.txt", "payroll.txt"),
    "10k": ("a" * 10_000 + ".txt", "a" * 251 + ".txt"),
}


@pytest.mark.parametrize(("sent", "kept"), MULTIPART_NAMES.values(), ids=MULTIPART_NAMES.keys())
def test_a_multipart_file_name_is_cleaned_not_followed(auth_client, sent, kept):
    """A file part's name is what a browser read off a disk: it is cleaned as Django cleans it (the last part of
    a path, non-printable characters such as controls and a right-to-left override dropped, at most 255
    characters with the extension kept) and the file is kept, in the folder asked for and nowhere else."""
    upload = auth_client.post("/api/v1/files/", {"file": _file(sent, b"data")}, format="multipart")
    assert upload.status_code == 201, upload.content[:300]
    assert upload.json()[0]["file"]["name"] == kept and upload.json()[0]["file"]["folder"] is None


@pytest.mark.parametrize("name", ["..", "CON", "nul.txt", "com1.log"])
def test_a_multipart_file_name_that_cleaning_cannot_save_is_refused(auth_client, blob_dir, name):
    before = stored(blob_dir)
    body = f'--b\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\ndata\r\n--b--\r\n'.encode()
    response = auth_client.generic("POST", "/api/v1/files/", body, content_type="multipart/form-data; boundary=b")
    assert_refused(response)
    assert stored(blob_dir) == before


@pytest.mark.parametrize("name", ["CON", "nul.txt", "com1.log", "report\u202etxt.exe", "a" * 300])
def test_a_hostile_name_is_refused_over_webdav(live_server, blob_dir, name):
    from tests.vault.dav_helpers import Dav, dav_user

    who = dav_user("carol")
    dav = Dav(live_server.url, who)
    before = stored(blob_dir)
    for response in (dav.put(name, b"data"), dav.mkcol(name)):
        assert 400 <= response.status_code < 500 and response.status_code != 404, (name, response.status_code)
    assert dav.put("fine.txt", b"data").status_code == 201
    moved = dav.request("MOVE", "fine.txt", headers={"Destination": dav.url(name)})
    assert 400 <= moved.status_code < 500, moved.status_code
    after = stored(blob_dir)
    assert after["File"] != before["File"] and len(after["File"]) == len(before["File"]) + 1  # fine.txt only


# --- bodies over every operation that takes one --------------------------------------------------------------------


def _operations(client) -> list[tuple[str, str, set[str]]]:
    """Every (method, path, content types) of the schema that takes a body, its ids filled in later."""
    schema = client.get("/api/schema/?format=json").json()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                found.append((method.upper(), path, set(operation["requestBody"]["content"])))
    return found


def _fill(path: str, ids: dict) -> str:
    """``path`` with its ``{id}`` (and ``{number}``) filled with a real object of the kind it names."""
    kinds = {"folders": "folder", "files": "file", "notes": "note", "chats": "chat"}
    segment = path.strip("/").split("/")[2] if path.count("/") > 3 else ""
    value = ids.get(kinds.get(segment, ""), str(uuid.uuid4()))
    return path.replace("{id}", value).replace("{number}", "1").replace("{token}", "x" * 20)


BAD_BODIES = {
    "multipart-no-boundary": (
        "multipart/form-data",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
    ),
    "multipart-truncated": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb',
    ),
    "multipart-garbage": ("multipart/form-data; boundary=x", b"\x00\xff not multipart at all"),
    "json-invalid-utf8": ("application/json", b'{"name": "\xff\xfe", "title": "\xc3\x28"}'),
    "json-too-deep": ("application/json", b"[" * 30_000 + b"]" * 30_000),
    "json-object-too-deep": ("application/json", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
    "json-too-large": ("application/json", b'{"name": "' + b"x" * (2 * 1024 * 1024 + 65536) + b'"}'),
    "json-truncated": ("application/json", b'{"name": "half'),
    "form-invalid-utf8": ("application/x-www-form-urlencoded", b"name=%ff%fe&title=%c3%28"),
}


RAW = ("application/octet-stream", "application/offset+octet-stream", "*/*")  # any bytes are content there


def _client_for(path: str, auth_client):
    if path.startswith("/api/v1/auth/") and path.endswith(("logout", "register", "token", "token/refresh", "recover")):
        return APIClient()  # the doors that sign in or out take no token
    return auth_client


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_body_is_refused_by_every_operation_that_takes_one(
    auth_client, seeded, blob_dir, content_type, body
):
    before = stored(blob_dir)
    wrong = []
    operations = [op for op in _operations(auth_client) if not op[2] & set(RAW)]
    for method, path, _types in operations:
        response = _client_for(path, auth_client).generic(method, _fill(path, seeded), body, content_type=content_type)
        if not 400 <= response.status_code < 500 or not response.json().get("code"):
            wrong.append((method, path, response.status_code, response.content[:200]))
    assert not wrong, wrong
    assert len(operations) > 30
    assert stored(blob_dir) == before


@pytest.mark.parametrize("declared", ["2", "-1", "abc", "\u00b2"])
def test_a_content_length_that_is_not_the_bodys_is_refused(auth_client, seeded, blob_dir, declared):
    before = stored(blob_dir)
    body = json.dumps({"name": "fine", "title": "fine"}).encode()
    wrong = []
    for method, path, types in _operations(auth_client):
        if "application/json" not in types or path.startswith("/api/v1/auth/"):
            continue
        response = auth_client.generic(
            method, _fill(path, seeded), body, content_type="application/json", CONTENT_LENGTH=declared
        )
        if not 400 <= response.status_code < 500:
            wrong.append((method, path, response.status_code, response.content[:200]))
    print("WRONG", [(m, p, s, c[:80]) for m, p, s, c in wrong])
    assert not wrong, wrong
    assert stored(blob_dir) == before


@pytest.mark.parametrize("query", ["q=%ff", "q=%c3%28", "folder=%ed%a0%80", "ordering=%80"])
def test_a_query_string_that_is_not_utf8_is_refused(auth_client, seeded, query):
    for path in ("/api/v1/files/", "/api/v1/search", "/api/v1/folders/", "/api/v1/notes/", "/api/v1/activity/"):
        response = auth_client.get(f"{path}?{query}")
        assert_refused(response, {400})
        assert "UTF-8" in response.json()["detail"]
    page = auth_client.get(f"/files?{query}")
    assert page.status_code == 400


def test_an_oversize_header_is_refused_by_the_server_which_goes_on(tmp_path):
    """gunicorn refuses a header line over its limit (8,190 bytes) with 400 before Django; the next request is
    served as ever."""
    from tests.served import call, serve

    server, _passwords = serve(tmp_path, "dave")
    try:
        for headers in ({"X-Big": "x" * 100_000}, {f"X-H{i}": "v" for i in range(200)}, {"Cookie": "a=" + "b" * 9000}):
            status, _, _ = call(server.port, "GET", "/api/v1/files/", None, headers)
            assert status in (400, 431), (list(headers)[0], status)
        assert call(server.port, "GET", "/healthz")[0] == 200
    finally:
        server.stop()


# --- tokens --------------------------------------------------------------------------------------------------------


def test_a_token_signed_with_the_real_key_for_another_user_is_refused(account, other_account, blob_dir):
    """The key alone does not make a session: a token whose ``sub`` is bob's but whose session is alice's is 401."""
    alice = APIClient()
    tokens = account.login(alice)
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    key = settings.SIMPLE_JWT.get("SIGNING_KEY") or settings.SECRET_KEY
    forged = jwt.encode({**claims, "user_id": str(other_account.user.pk)}, key, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    before = stored(blob_dir)
    for response in (client.get("/api/v1/files/"), client.post("/api/v1/folders/", {"name": "x"}, format="json")):
        assert_refused(response, {401})
    assert stored(blob_dir) == before


def test_an_app_password_cannot_be_used_with_a_hostile_username(account, blob_dir):
    _row, password = app_password_create(user=account.user, udk=keys_for(account).udk, name="cli")
    before = stored(blob_dir)
    for username in ("alice\x00", "../alice", "alice\u202e", "a" * 10_000, "ALICE "):
        client = APIClient()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
        assert_refused(client.get("/api/v1/files/"), {401, 429})
    assert stored(blob_dir) == before


def test_an_account_name_is_never_a_path(db, blob_dir):
    """Registration refuses the same hostile corpus as a username (test_bad_input covers each rule)."""
    for name in ("../root", "/etc", "a\x00b", "bob\u202e", "x" * 10_000):
        response = APIClient().post(
            "/api/v1/auth/register",
            {"username": name, "email": "x@example.org", "password": "correct horse battery staple"},
            format="json",
        )
        assert_refused(response, {400})
