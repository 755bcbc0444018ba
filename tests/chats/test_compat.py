"""The assistant seed's routes work as aliases of the v1 endpoints and are in the OpenAPI schema."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chats.models import Chat, Message
from tests.chats.test_multipart import wav

pytestmark = pytest.mark.django_db


def test_seed_routes(account, api_client):
    tokens = api_client.post("/api/auth/login", {"username": "alice", "password": account.password}, format="json")
    assert tokens.status_code == 200 and "access" in tokens.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    files = client.post(
        "/api/upload/files",
        {"file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]},
        format="multipart",
    )
    assert files.status_code == 201 and [r["ok"] for r in files.json()] == [True, True]
    message = client.post("/api/messages", {"role": "user", "content": "hello"}, format="json")
    assert message.status_code == 201 and Chat.objects.get().pk.hex == message.json()["chat"].replace("-", "")
    audio = client.post("/api/upload/audio", {"audio": SimpleUploadedFile("memo.wav", wav(1))}, format="multipart")
    assert audio.status_code == 201 and audio.json()["attachments"][0]["kind"] == "audio"
    assert Message.objects.count() == 2 and Chat.objects.count() == 1  # both went to the same (newest) chat
    other_chat = client.post("/api/v1/chats/", {"title": "Other"}, format="json").json()
    routed = client.post("/api/messages", {"content": "there", "chat": other_chat["id"]}, format="json")
    assert routed.json()["chat"] == other_chat["id"]
    data = client.get("/api/user/data")
    assert data.status_code == 200 and b'"locker-data/1"' in b"".join(data.streaming_content)
    assert client.get("/api/messages").status_code == 405


def test_aliases_are_documented(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/auth/login", "/api/upload/files", "/api/messages", "/api/upload/audio", "/api/user/data"):
        assert f"{path}:" in schema
