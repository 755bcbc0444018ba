"""Who may do what, generated from one table: every vault, notes, sharing and link operation × every kind of
caller → the expected status, and on a refusal nothing changes.

Alice owns a folder ``Team`` (with a file, a subfolder and a note) shared with ``viewer`` (view), ``editor``
(edit) and ``remover`` (delete); ``revoked`` had a share that was revoked; ``stranger`` never had one; the
anonymous caller has no credentials. An operation needs a level (view < edit < delete < owner); a caller below
it gets 404 (401 without credentials), never 403.
"""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import make_account
from tests.vault.conftest import bearer
from vault.models import File, FileVersion, Folder, IndexPending, Link, Note, Share

pytestmark = pytest.mark.django_db

LEVELS = {"view": 1, "edit": 2, "delete": 3, "owner": 4}
CALLERS = {
    "owner": LEVELS["owner"],
    "viewer": LEVELS["view"],
    "editor": LEVELS["edit"],
    "remover": LEVELS["delete"],
    "revoked": 0,
    "stranger": 0,
    "anonymous": None,
}


def soon():
    return (timezone.now() + timedelta(days=1)).isoformat()


# (name, level needed, method, path, body, format, status when allowed)
OPERATIONS = [
    ("open folder", "view", "get", "/api/v1/folders/{team}/", None, None, 200),
    ("list subfolders", "view", "get", "/api/v1/folders/?parent={team}", None, None, 200),
    ("list files", "view", "get", "/api/v1/files/?folder={team}", None, None, 200),
    ("list notes", "view", "get", "/api/v1/notes/?folder={team}", None, None, 200),
    ("open file", "view", "get", "/api/v1/files/{file}/", None, None, 200),
    ("download", "view", "get", "/api/v1/files/{file}/content", None, None, 200),
    ("list versions", "view", "get", "/api/v1/files/{file}/versions/", None, None, 200),
    ("download version", "view", "get", "/api/v1/files/{file}/versions/1/content", None, None, 200),
    ("open note", "view", "get", "/api/v1/notes/{note}/", None, None, 200),
    ("note versions", "view", "get", "/api/v1/notes/{note}/versions/", None, None, 200),
    ("rename file", "edit", "patch", "/api/v1/files/{file}/", {"name": "renamed.txt"}, "json", 200),
    ("retag file", "edit", "patch", "/api/v1/files/{file}/", {"tags": ["t"]}, "json", 200),
    ("move file", "edit", "patch", "/api/v1/files/{file}/", {"folder": "{sub}"}, "json", 200),
    ("rename folder", "edit", "patch", "/api/v1/folders/{sub}/", {"name": "renamed"}, "json", 200),
    ("new folder", "edit", "post", "/api/v1/folders/", {"name": "new", "parent": "{team}"}, "json", 201),
    ("upload", "edit", "post", "/api/v1/files/", {"file": "UPLOAD", "folder": "{team}"}, "multipart", 201),
    ("new version", "edit", "put", "/api/v1/files/{file}/content", b"second version", "raw", 200),
    ("restore version", "edit", "post", "/api/v1/files/{file}/versions/1/restore", None, None, 201),
    ("edit note", "edit", "patch", "/api/v1/notes/{note}/", {"body": "changed"}, "json", 200),
    ("new note", "edit", "post", "/api/v1/notes/", {"title": "n", "folder": "{team}"}, "json", 201),
    ("trash file", "delete", "delete", "/api/v1/files/{file}/", None, None, 204),
    ("trash folder", "delete", "delete", "/api/v1/folders/{sub}/", None, None, 204),
    ("trash note", "delete", "delete", "/api/v1/notes/{note}/", None, None, 204),
    (
        "share",
        "owner",
        "post",
        "/api/v1/shares/",
        {"item": "{team}", "username": "other", "permission": "view"},
        "json",
        201,
    ),
    ("change share", "owner", "patch", "/api/v1/shares/{share}/", {"permission": "edit"}, "json", 200),
    ("make link", "owner", "post", "/api/v1/links/", {"item": "{team}", "expires_at": "SOON"}, "json", 201),
    ("turn link off", "owner", "delete", "/api/v1/links/{link}/", None, None, 204),
    ("move folder out", "edit", "patch", "/api/v1/folders/{sub}/", {"parent": None}, "json", 200),
    ("restore from trash", "owner", "post", "/api/v1/trash/{trashed}/restore", None, None, 200),
]


# Allowed to act on the item but refused by a rule: a recipient cannot move anything out of the owner's vault.
RULES = {("move folder out", "editor"): 400, ("move folder out", "remover"): 400}


def state() -> str:
    """Everything a refused request must leave as it was, as one digest."""
    rows = [
        sorted(Folder.objects.values_list("id", "parent_id", "name_sealed", "tags_sealed", "trashed_at")),
        sorted(
            File.objects.values_list("id", "folder_id", "name_sealed", "tags_sealed", "trashed_at", "current_version")
        ),
        sorted(FileVersion.objects.values_list("id")),
        sorted(Note.objects.values_list("id", "folder_id", "title_sealed", "body_sealed", "trashed_at")),
        sorted(Share.objects.values_list("id", "permission", "key_wrapped")),
        sorted(Link.objects.values_list("id")),
        IndexPending.objects.count(),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def world(account):
    owner = bearer(account)
    accounts = {name: make_account(name) for name in ("viewer", "editor", "remover", "revoked", "stranger", "other")}
    team = owner.post("/api/v1/folders/", {"name": "Team"}, format="json").json()["id"]
    sub = owner.post("/api/v1/folders/", {"name": "sub", "parent": team}, format="json").json()["id"]
    upload = owner.post("/api/v1/files/", {"file": [SimpleUploadedFile("plan.txt", b"plan")], "folder": team})
    file = upload.json()[0]["file"]["id"]
    note = owner.post("/api/v1/notes/", {"title": "notes", "body": "b", "folder": team}, format="json").json()["id"]
    trashed = owner.post("/api/v1/files/", {"file": [SimpleUploadedFile("old.txt", b"old")], "folder": team})
    trashed = trashed.json()[0]["file"]["id"]
    owner.delete(f"/api/v1/files/{trashed}/")
    shares = {}
    for name, permission in (("viewer", "view"), ("editor", "edit"), ("remover", "delete"), ("revoked", "edit")):
        body = {"item": team, "username": name, "permission": permission}
        shares[name] = owner.post("/api/v1/shares/", body, format="json").json()["id"]
    owner.delete(f"/api/v1/shares/{shares['revoked']}/")
    link = owner.post("/api/v1/links/", {"item": team, "expires_at": soon()}, format="json").json()
    clients = {"owner": owner, "anonymous": APIClient()}
    clients.update({name: bearer(accounts[name]) for name in ("viewer", "editor", "remover", "revoked", "stranger")})
    ids = {"team": team, "sub": sub, "file": file, "note": note, "share": shares["viewer"], "link": link["id"]}
    return {"clients": clients, "ids": {**ids, "trashed": trashed}, "link_url": link["url"]}


def _fill(value, ids):
    if isinstance(value, str):
        if value == "SOON":
            return soon()
        if value == "UPLOAD":
            return [SimpleUploadedFile("added.txt", b"added")]
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(client, method, path, body, fmt):
    if fmt == "raw":
        return client.generic(method.upper(), path, body, content_type="application/octet-stream")
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format=fmt)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize(
    ("name", "level", "method", "path", "body", "fmt", "allowed"), OPERATIONS, ids=[op[0] for op in OPERATIONS]
)
def test_the_matrix(world, caller, name, level, method, path, body, fmt, allowed):
    ids, client = world["ids"], world["clients"][caller]
    before = state()
    response = _call(client, method, path.format(**ids), _fill(body, ids), fmt)
    if CALLERS[caller] is None:
        expected = 401
    else:
        expected = allowed if CALLERS[caller] >= LEVELS[level] else 404
    expected = RULES.get((name, caller), expected)
    assert response.status_code == expected, (name, caller, response.status_code, getattr(response, "data", None))
    if expected >= 400:
        assert state() == before, f"{name} by {caller} was refused but changed something"
    elif method != "get" and name not in {"restore from trash"}:
        assert state() != before, f"{name} by {caller} answered {expected} but changed nothing"


@pytest.mark.parametrize("caller", list(CALLERS))
def test_search_finds_the_owners_items_for_the_owner_only(world, caller):
    response = world["clients"][caller].get("/api/v1/search", {"q": "plan"})
    if caller == "anonymous":
        assert response.status_code == 401
        return
    names = [row["name"] for row in response.json()["results"]]
    assert names == (["plan.txt"] if caller == "owner" else [])


LINK_CALLERS = ["holder", "holder without password", "wrong token", "after revocation"]


@pytest.mark.parametrize("caller", LINK_CALLERS)
@pytest.mark.parametrize("what", ["page", "file", "zip"])
def test_the_link_matrix(world, caller, what):
    owner, ids = world["clients"]["owner"], world["ids"]
    body = {"item": ids["team"], "expires_at": soon(), "password": "pass phrase"}
    link = owner.post("/api/v1/links/", body, format="json").json()
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    visitor = Client()
    if caller == "holder":
        assert visitor.post(path, {"password": "pass phrase"}).status_code == 302
    elif caller == "wrong token":
        path = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    elif caller == "after revocation":
        assert visitor.post(path, {"password": "pass phrase"}).status_code == 302
        owner.delete(f"/api/v1/links/{link['id']}/")
    target = {"page": path, "file": f"{path}/files/{ids['file']}", "zip": f"{path}/zip"}[what]
    response = visitor.get(target)
    if caller == "holder":
        assert response.status_code == 200
    elif caller == "holder without password" and what == "page":
        assert (
            response.status_code == 200 and b'type="password"' in response.content and b"plan" not in response.content
        )
    else:
        assert response.status_code == 404
