"""GET /api/v1/me/data: everything, streamed as one JSON document; ?since= for incremental pulls."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def fetch(api, **params) -> dict:
    response = api.get("/api/v1/me/data", params)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def test_everything_in_one_document(api, account, other_account):
    folder = api.post("/api/v1/folders/", {"name": "Docs", "tags": ["t"]}, format="json").json()
    api.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("a.txt", b"hello")], "folder": folder["id"]}, format="multipart"
    )
    api.post("/api/v1/notes/", {"title": "N", "body": "note body"}, format="json")
    chat = api.post("/api/v1/chats/", {"title": "C"}, format="json").json()
    for n in range(3):
        api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": f"m{n}"}, format="json")
    data = fetch(api)
    assert data["format"] == "locker-data/1" and data["profile"]["username"] == "alice"
    assert [f["name"] for f in data["folders"]] == ["Docs"] and data["folders"][0]["tags"] == ["t"]
    assert data["files"][0]["name"] == "a.txt" and data["files"][0]["content_url"].endswith("/content")
    assert data["notes"][0]["body"] == "note body"
    assert [m["content"] for m in data["chats"][0]["messages"]] == ["m0", "m1", "m2"]
    assert data["shares"] == [] and any(e["action"] == "auth.login" for e in data["activity"])
    content = api.get(data["files"][0]["content_url"])
    assert b"".join(content.streaming_content) == b"hello"
    # another user's export holds none of it
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_account.login(other)['access']}")
    theirs = fetch(other)
    assert theirs["files"] == [] and theirs["notes"] == [] and theirs["chats"] == []


def test_since_gives_only_what_changed(api):
    chat = api.post("/api/v1/chats/", {"title": "C"}, format="json").json()
    api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "old"}, format="json")
    later = "2999-01-01T00:00:00Z"
    data = fetch(api, since=later)
    assert data["since"].startswith("2999") and data["chats"][0]["messages"] == [] and data["activity"] == []
    bad = api.get("/api/v1/me/data", {"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"


def test_locked_vault_is_423(account):
    client = APIClient()
    client.force_login(account.user)
    assert client.get("/api/v1/me/data").status_code == 423
