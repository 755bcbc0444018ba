"""Public links: creation and its refusals, the /s/ page, downloads, the folder zip, passwords, limits, the log."""

import io
import json
import subprocess
import sys
import urllib.request
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.vault.conftest import bearer, content
from vault.models import Link

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(account):
    return bearer(account)


def soon(days=1):
    return (timezone.now() + timedelta(days=days)).isoformat()


def tree(api):
    """docs/ with a.txt, and docs/sub/ with b.bin."""
    docs = api.post("/api/v1/folders/", {"name": "docs"}, format="json").json()
    sub = api.post("/api/v1/folders/", {"name": "sub", "parent": docs["id"]}, format="json").json()
    a = api.post("/api/v1/files/", {"file": [SimpleUploadedFile("a.txt", b"alpha")], "folder": docs["id"]})
    b = api.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("b.bin", bytes(range(256)) * 400)], "folder": sub["id"]}
    )
    return docs, a.json()[0]["file"], b.json()[0]["file"]


def make_link(api, item_id, **extra):
    response = api.post("/api/v1/links/", {"item": item_id, "expires_at": soon(), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def path_of(link) -> str:
    return link["url"].split("testserver", 1)[1]


def test_a_file_link_shows_and_downloads_the_file_to_anyone(alice):
    _, a, _ = tree(alice)
    link = make_link(alice, a["id"])
    assert link["item"] == {"kind": "file", "id": a["id"], "name": "a.txt"} and not link["has_password"]
    visitor = Client()
    page = visitor.get(path_of(link))
    assert page.status_code == 200 and b"a.txt" in page.content
    download = visitor.get(f"{path_of(link)}/files/{a['id']}")
    assert download.status_code == 200 and content(download) == b"alpha"
    assert "a.txt" in download["Content-Disposition"]
    listed = alice.get("/api/v1/links/").json()["results"]
    assert [(row["views"], row["downloads"]) for row in listed] == [(1, 1)]
    assert "url" not in listed[0]


def test_a_folder_link_lists_every_file_and_zips_the_folder_while_streaming(alice):
    docs, a, b = tree(alice)
    link = make_link(alice, docs["id"])
    visitor = Client()
    page = visitor.get(path_of(link)).content.decode()
    assert "sub/b.bin" in page and "a.txt" in page
    assert content(visitor.get(f"{path_of(link)}/files/{b['id']}")) == bytes(range(256)) * 400
    zipped = visitor.get(f"{path_of(link)}/zip")
    assert zipped.status_code == 200 and zipped.streaming and "docs.zip" in zipped["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(content(zipped)))
    assert sorted(archive.namelist()) == ["a.txt", "sub/b.bin"]
    assert archive.read("sub/b.bin") == bytes(range(256)) * 400 and archive.read("a.txt") == b"alpha"


def test_a_folder_link_reaches_nothing_outside_the_folder(alice):
    docs, a, b = tree(alice)
    sub_link = make_link(alice, b["id"])
    other = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("top.txt", b"top")]}).json()[0]["file"]
    visitor = Client()
    assert visitor.get(f"{path_of(sub_link)}/files/{a['id']}").status_code == 404
    folder_link = make_link(alice, docs["id"])
    assert visitor.get(f"{path_of(folder_link)}/files/{other['id']}").status_code == 404
    assert visitor.get(f"{path_of(sub_link)}/zip").status_code == 404  # a file link has no zip


def test_a_password_is_asked_and_a_wrong_one_is_the_same_404(alice):
    _, a, _ = tree(alice)
    link = make_link(alice, a["id"], password="open sesame")
    assert link["has_password"]
    visitor = Client()
    form = visitor.get(path_of(link))
    assert form.status_code == 200 and b'type="password"' in form.content and b"a.txt" not in form.content
    assert visitor.get(f"{path_of(link)}/files/{a['id']}").status_code == 404
    wrong = visitor.post(path_of(link), {"password": "guess"})
    gone = Client().get("/s/" + "A" * 43)
    assert wrong.status_code == 404 and wrong.content == gone.content
    right = visitor.post(path_of(link), {"password": "open sesame"})
    assert right.status_code == 302
    assert content(visitor.get(f"{path_of(link)}/files/{a['id']}")) == b"alpha"
    assert Client().get(f"{path_of(link)}/files/{a['id']}").status_code == 404  # another visitor: no password yet


def test_password_attempts_are_rate_limited_per_link(alice, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "link_password_link": "3/m"}
    _, a, _ = tree(alice)
    link = make_link(alice, a["id"], password="open sesame")
    statuses = [Client().post(path_of(link), {"password": "guess"}).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert Client().post(path_of(link), {"password": "open sesame"}).status_code == 429  # even the right one


def test_expired_revoked_used_up_and_trashed_links_answer_the_same_404(alice):
    docs, a, b = tree(alice)
    gone = Client().get("/s/" + "A" * 43).content
    expired = make_link(alice, a["id"])
    Link.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = make_link(alice, a["id"])
    assert alice.delete(f"/api/v1/links/{revoked['id']}/").status_code == 204
    used = make_link(alice, a["id"], max_downloads=1)
    visitor = Client()
    assert content(visitor.get(f"{path_of(used)}/files/{a['id']}")) == b"alpha"
    trashed = make_link(alice, b["id"])
    alice.delete(f"/api/v1/files/{b['id']}/")
    for link, file_id in ((expired, a["id"]), (revoked, a["id"]), (used, a["id"]), (trashed, b["id"])):
        page = visitor.get(path_of(link))
        assert page.status_code == 404 and page.content == gone, link
        assert visitor.get(f"{path_of(link)}/files/{file_id}").status_code == 404
    for token in ("short", "A" * 200, "%00%2F..", "../../etc/passwd"):
        assert visitor.get(f"/s/{token}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_at": "SOON"}, "item"),
        ({"item": "ITEM"}, "expires_at"),
        ({"item": "ITEM", "expires_at": "yesterday"}, "expires_at"),
        ({"item": "ITEM", "expires_at": "PAST"}, "expires_at"),
        ({"item": "ITEM", "expires_at": "FAR"}, "expires_at"),
        ({"item": "ITEM", "expires_at": "SOON", "max_downloads": 0}, "max_downloads"),
        ({"item": "ITEM", "expires_at": "SOON", "max_downloads": "many"}, "max_downloads"),
        ({"item": "ITEM", "expires_at": "SOON", "password": ["x"]}, "password"),
        ({"item": ["ITEM"], "expires_at": "SOON"}, "item"),
    ],
)
def test_bad_link_requests_are_refused_and_create_nothing(alice, body, field):
    docs, _, _ = tree(alice)
    values = {
        "ITEM": docs["id"],
        "SOON": soon(),
        "PAST": soon(-1),
        "FAR": soon(31),
    }

    def resolved(value):
        if isinstance(value, list):
            return [resolved(v) for v in value]
        return values.get(value, value) if isinstance(value, str) else value

    body = {key: resolved(value) for key, value in body.items()}
    response = alice.post("/api/v1/links/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert not Link.objects.exists()


def test_links_only_to_ones_own_live_folders_and_files(alice, other_account):
    docs, a, _ = tree(alice)
    note = alice.post("/api/v1/notes/", {"title": "n"}, format="json").json()
    bob = bearer(other_account)
    for item in (docs["id"], a["id"]):
        assert bob.post("/api/v1/links/", {"item": item, "expires_at": soon()}, format="json").status_code == 404
    assert alice.post("/api/v1/links/", {"item": note["id"], "expires_at": soon()}, format="json").status_code == 404
    link = make_link(alice, a["id"])
    assert bob.delete(f"/api/v1/links/{link['id']}/").status_code == 404
    assert bob.get("/api/v1/links/").json()["results"] == []
    assert Client().get(path_of(link)).status_code == 200


def test_the_server_keeps_no_link_secret(alice):
    _, a, _ = tree(alice)
    link = make_link(alice, a["id"], password="open sesame")
    token = path_of(link).removeprefix("/s/")
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor)]
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the database itself)
            text = json.dumps(cursor.fetchall(), default=str)
            assert token not in text and "open sesame" not in text, table


def test_no_log_line_of_the_real_server_holds_a_link_secret(tmp_path):
    from tests.test_server import ROOT, Server

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LOCKER_DATA_DIR": str(tmp_path), "LOCKER_HTTPS": "0"},
        check=True,
    )
    server = Server(tmp_path, RATELIMIT_ENABLE="0")
    base = f"http://127.0.0.1:{server.port}"

    def call(method, path, body=None, token=None, headers=None):
        request = urllib.request.Request(base + path, method=method, data=body, headers=headers or {})  # noqa: S310
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http to our own server)
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    try:
        credentials = {"username": "owner", "password": "a long and unusual passphrase 7"}
        json_head = {"Content-Type": "application/json"}
        register = {**credentials, "email": "o@example.org"}
        assert call("POST", "/api/v1/auth/register", json.dumps(register).encode(), headers=json_head)[0] == 201
        access = json.loads(call("POST", "/api/v1/auth/token", json.dumps(credentials).encode(), headers=json_head)[1])
        folder = json.loads(call("POST", "/api/v1/folders/", b'{"name": "f"}', access["access"], json_head)[1])
        body = json.dumps({"item": folder["id"], "expires_at": soon()}).encode()
        created = json.loads(call("POST", "/api/v1/links/", body, access["access"], json_head)[1])
        path = "/s/" + created["url"].rsplit("/s/", 1)[1]
        assert call("GET", path, headers={"Referer": base + path})[0] == 200
        assert call("GET", path + "/zip")[0] == 200
        assert call("GET", path + "x")[0] == 404  # a wrong token is logged too (Django's "Not Found")
    finally:
        server.stop()
    log = server.log.read_text()
    secret = path.removeprefix("/s/")
    assert "/s/[link]" in log and secret not in log and secret[:12] not in log


def test_a_file_links_page_shows_its_thumbnail_without_counting_a_download(alice):
    from tests.vault.test_derive import png

    photo = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("photo.png", png())]}).json()[0]["file"]
    link = make_link(alice, photo["id"])
    visitor = Client()
    page = visitor.get(path_of(link)).content.decode()
    assert 'data-testid="link-preview"' in page
    thumb = visitor.get(f"{path_of(link)}/files/{photo['id']}/preview")
    assert thumb.status_code == 200 and thumb["Content-Type"].startswith("image/")
    assert alice.get("/api/v1/links/").json()["results"][0]["downloads"] == 0
    _, text, _ = tree(alice)
    text_link = make_link(alice, text["id"])
    assert 'data-testid="link-preview"' not in visitor.get(path_of(text_link)).content.decode()
    assert visitor.get(f"{path_of(text_link)}/files/{text['id']}/preview").status_code == 404
    assert Client().get(f"/s/{'A' * 43}/files/{photo['id']}/preview").status_code == 404
