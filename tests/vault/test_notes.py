"""Encrypted notes: CRUD, versions, trash, search, limits, other users."""

import pytest
from rest_framework.test import APIClient

from vault.models import Note, NoteVersion, SearchToken
from vault.search import selectors as search_selectors

pytestmark = pytest.mark.django_db


def client_for(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


@pytest.fixture
def api(account):
    return client_for(account)


def create(api, **fields):
    response = api.post(
        "/api/v1/notes/", {"title": "Groceries", "body": "Buy *milk* and eggs", **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_list(api):
    note = create(api, tags=["home", "weekly"])
    assert note["title"] == "Groceries" and note["body"] == "Buy *milk* and eggs" and note["tags"] == ["home", "weekly"]
    assert note["version"] == 1
    assert api.get(f"/api/v1/notes/{note['id']}/").json()["body"] == "Buy *milk* and eggs"
    listing = api.get("/api/v1/notes/").json()
    assert listing["count"] == 1 and listing["results"][0]["excerpt"] == "Buy *milk* and eggs"
    assert "body" not in listing["results"][0]


def test_body_changes_keep_versions_and_restore(api):
    note = create(api)
    url = f"/api/v1/notes/{note['id']}/"
    assert api.patch(url, {"body": "Buy oat milk"}, format="json").json()["version"] == 2
    assert api.patch(url, {"tags": ["x"]}, format="json").json()["version"] == 2  # tags alone: no new version
    stale = api.patch(url, {"body": "conflicting edit", "version": 1}, format="json")
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    versions = api.get(f"{url}versions/").json()["results"]
    assert [v["number"] for v in versions] == [1]
    assert api.get(f"{url}versions/1/").json()["body"] == "Buy *milk* and eggs"
    restored = api.post(f"{url}versions/1/restore").json()
    assert restored["version"] == 3 and restored["body"] == "Buy *milk* and eggs"
    assert api.get(f"{url}versions/9/").status_code == 404


def test_trash_restore_and_purge(api, account, django_capture_on_commit_callbacks):
    folder = api.post("/api/v1/folders/", {"name": "Kitchen"}, format="json").json()
    note = create(api, folder=folder["id"])
    assert api.delete(f"/api/v1/folders/{folder['id']}/").status_code == 204
    assert api.get(f"/api/v1/notes/{note['id']}/").status_code == 404
    assert api.post(f"/api/v1/trash/{folder['id']}/restore").status_code == 200
    assert api.get(f"/api/v1/notes/{note['id']}/").status_code == 200
    assert api.delete(f"/api/v1/notes/{note['id']}/").status_code == 204
    trash = api.get("/api/v1/trash/").json()["results"]
    assert [(t["kind"], t["name"]) for t in trash] == [("note", "Groceries")]
    api.delete(f"/api/v1/folders/{folder['id']}/")
    api.post(f"/api/v1/trash/{note['id']}/restore")  # its folder is in the trash: back to the top level
    restored = api.get(f"/api/v1/notes/{note['id']}/").json()
    assert restored["folder"] is None and restored["body"] == "Buy *milk* and eggs"
    api.delete(f"/api/v1/notes/{note['id']}/")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/api/v1/trash/").status_code == 200
    assert not Note.objects.exists() and not NoteVersion.objects.exists()
    assert not SearchToken.objects.filter(kind=SearchToken.Kind.NOTE).exists()


def test_notes_are_searchable_with_snippets(api, account):
    note = create(
        api, title="Trip plan", body="Day one: museum. " * 20 + "Day two: the lighthouse at dawn.", tags=["travel"]
    )
    body = api.get("/api/v1/search", {"q": "lighthouse"}).json()
    assert [(r["kind"], r["name"]) for r in body["results"]] == [("note", "Trip plan")]
    assert "lighthouse" in body["results"][0]["snippet"]
    assert api.get("/api/v1/search", {"q": "trip travel"}).json()["count"] == 1
    api.patch(f"/api/v1/notes/{note['id']}/", {"body": "cancelled"}, format="json")
    assert api.get("/api/v1/search", {"q": "lighthouse"}).json()["count"] == 0
    assert api.get("/api/v1/search", {"q": "cancel"}).json()["count"] == 1
    api.delete(f"/api/v1/notes/{note['id']}/")
    assert api.get("/api/v1/search", {"q": "cancel"}).json()["count"] == 0


def test_bad_input(api, settings):
    for bad in (
        {"title": 5},
        {"body": ["x"]},
        {"tags": "x"},
        {"folder": "nope"},
        {"title": "x" * 501},
        {"body": "a\x00b"},
    ):
        response = api.post("/api/v1/notes/", bad, format="json")
        assert response.status_code == 400 and response.json()["code"] in {"validation_error", "note_too_large"}, bad
    settings.LOCKER_MAX_NOTE_BYTES = 1000
    too_long = api.post("/api/v1/notes/", {"body": "x" * 1001}, format="json")
    assert too_long.status_code == 400 and too_long.json()["code"] == "note_too_large"
    huge = api.post("/api/v1/notes/", {"body": "x" * 300_000}, format="json")
    assert huge.status_code == 413 and huge.json()["code"] == "request_too_large"
    assert not Note.objects.exists()


def test_long_notes_fit(api):
    body = "word " * 150_000  # 750 KB: above the general JSON limit, within the note limit
    note = create(api, body=body)
    assert len(api.get(f"/api/v1/notes/{note['id']}/").json()["body"]) == len(body)


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/notes/{note}/"),
        ("patch", "/api/v1/notes/{note}/"),
        ("delete", "/api/v1/notes/{note}/"),
        ("get", "/api/v1/notes/{note}/versions/"),
        ("get", "/api/v1/notes/{note}/versions/1/"),
        ("post", "/api/v1/notes/{note}/versions/1/restore"),
        ("post", "/api/v1/trash/{trashed}/restore"),
        ("delete", "/api/v1/trash/{trashed}/"),
    ],
)
def test_other_users_notes_are_404(api, other_account, method, path):
    note = create(api)
    api.patch(f"/api/v1/notes/{note['id']}/", {"body": "v2"}, format="json")
    trashed = create(api, title="gone")
    api.delete(f"/api/v1/notes/{trashed['id']}/")
    before = list(Note.objects.values_list("id", "body_sealed", "trashed_at", "version"))
    other = client_for(other_account)
    response = getattr(other, method)(path.format(note=note["id"], trashed=trashed["id"]), {"body": "x"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert list(Note.objects.values_list("id", "body_sealed", "trashed_at", "version")) == before


def test_markers_never_stored_in_clear(api, account):
    from django.db import connection

    create(api, title="MARKERTITLE", body="the MARKERBODY lives here", tags=["MARKERTAG"])
    api.patch(f"/api/v1/notes/{Note.objects.get().pk}/", {"body": "MARKERTWO"}, format="json")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                assert not any("marker" in str(v).lower() for v in row if v is not None), table
    assert search_selectors.search  # the owner still finds it (see test_notes_are_searchable_with_snippets)


def test_markdown_is_rendered_safely(api):
    body = (
        "# Title\n\n**bold** <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[site](https://example.org) [bad](javascript:alert(3)) ![pic](https://example.org/x.png)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    html = api.get(f"/api/v1/notes/{create(api, body=body)['id']}/").json()["html"]
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<table>" in html
    assert "<script" not in html and "<img" not in html  # raw HTML and images never become elements
    assert "&lt;script&gt;" in html  # raw HTML is shown as text
    assert '<a href="https://example.org" rel="noopener noreferrer">site</a>' in html
    assert 'href="javascript' not in html  # left as plain text
