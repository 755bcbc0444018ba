"""Chats and messages (JSON form): encryption at rest, cursor pagination, status, search, other users, bad input."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from activity.models import Event
from chats.models import Chat, Message
from vault.models import SearchToken

pytestmark = pytest.mark.django_db


def client_for(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


@pytest.fixture
def api(account):
    return client_for(account)


def new_chat(api, title="Trip planning"):
    response = api.post("/api/v1/chats/", {"title": title}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_chat_and_messages_round_trip(api):
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}/messages/"
    first = api.post(url, {"role": "user", "content": "Where should we go?"}, format="json").json()
    reply = api.post(url, {"role": "assistant", "content": "Lisbon.", "reply_to": first["id"]}, format="json").json()
    assert reply["reply_to"] == first["id"] and reply["status"] == "sent"
    listing = api.get(url).json()
    assert [m["content"] for m in listing["results"]] == ["Where should we go?", "Lisbon."]
    assert api.get("/api/v1/chats/").json()["results"][0]["title"] == "Trip planning"
    assert api.patch(f"/api/v1/messages/{reply['id']}/", {"status": "read"}, format="json").json()["status"] == "read"
    renamed = api.patch(f"/api/v1/chats/{chat['id']}/", {"title": "Lisbon trip"}, format="json").json()
    assert renamed["title"] == "Lisbon trip"
    assert Event.objects.filter(action="chat.created").exists()


def test_cursor_pagination_is_oldest_first_and_stable_under_inserts(api):
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}/messages/"
    for n in range(7):
        api.post(url, {"content": f"message {n}"}, format="json")
    page = api.get(url, {"page_size": 3}).json()
    assert [m["content"] for m in page["results"]] == ["message 0", "message 1", "message 2"]
    api.post(url, {"content": "late arrival"}, format="json")  # an insert between pages shifts nothing
    second = api.get(page["next"]).json()
    assert [m["content"] for m in second["results"]] == ["message 3", "message 4", "message 5"]


def test_latest_starts_at_the_newest_page_and_previous_walks_back(api, other_account):
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}/messages/"
    for n in range(8):
        api.post(url, {"content": f"message {n}"}, format="json")
    newest = api.get(url, {"latest": 1, "page_size": 3}).json()
    assert [m["content"] for m in newest["results"]] == ["message 5", "message 6", "message 7"]
    assert newest["next"] is None and newest["previous"]
    api.post(url, {"content": "late arrival"}, format="json")  # an insert meanwhile shifts nothing going back
    seen = []
    link = newest["previous"]
    while link:
        page = api.get(link).json()
        seen = [m["content"] for m in page["results"]] + seen
        link = page["previous"]
    assert seen == [f"message {n}" for n in range(5)]
    # going forward again from an older page reaches the newest messages, the late one included
    older = api.get(newest["previous"]).json()
    assert [m["content"] for m in api.get(older["next"]).json()["results"]] == ["message 5", "message 6", "message 7"]
    assert [m["content"] for m in api.get(url, {"latest": "1"}).json()["results"]][-1] == "late arrival"
    assert [m["content"] for m in api.get(url, {"latest": "0", "page_size": 1}).json()["results"]] == ["message 0"]


def test_latest_on_an_empty_chat_bad_values_and_other_users(api, other_account):
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}/messages/"
    empty = api.get(url, {"latest": 1}).json()
    assert empty["results"] == [] and empty["next"] is None and empty["previous"] is None
    for bad in ("yes", "2", "", "1,1"):
        response = api.get(url, {"latest": bad})
        assert response.status_code == 400, bad
        assert response.json()["code"] == "validation_error" and "latest" in response.json()["errors"]
    assert client_for(other_account).get(url, {"latest": 1}).status_code == 404


def test_messages_are_searchable_and_encrypted_at_rest(api, other_account):
    chat = new_chat(api, title="MARKERCHAT")
    api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "the MARKERWORD lighthouse"}, format="json")
    found = api.get("/api/v1/search", {"q": "markerword"}).json()["results"]
    assert [(r["kind"], r["name"], r["parent"]) for r in found] == [("message", "MARKERCHAT", chat["id"])]
    assert "MARKERWORD" in found[0]["snippet"]
    assert client_for(other_account).get("/api/v1/search", {"q": "markerword"}).json()["count"] == 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                assert not any("marker" in str(v).lower() for v in row if v is not None), table


def test_delete_chat_shreds_messages_and_tokens(api):
    chat = new_chat(api)
    api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "to be forgotten"}, format="json")
    assert api.delete(f"/api/v1/chats/{chat['id']}/").status_code == 204
    assert not Chat.objects.exists() and not Message.objects.exists()
    assert not SearchToken.objects.filter(kind=SearchToken.Kind.MESSAGE).exists()
    assert api.get("/api/v1/search", {"q": "forgotten"}).json()["count"] == 0


@pytest.mark.parametrize(
    "body,code",
    [
        ({"role": "robot", "content": "x"}, "validation_error"),
        ({"role": "user", "content": ""}, "empty_message"),
        ({"role": "user"}, "empty_message"),
        ({"role": "user", "content": 5}, "validation_error"),
        ({"role": "user", "content": "a\x00b"}, "validation_error"),
        ({"role": "user", "content": "x", "reply_to": "00000000-0000-0000-0000-000000000000"}, "validation_error"),
    ],
)
def test_bad_messages(api, body, code):
    chat = new_chat(api)
    response = api.post(f"/api/v1/chats/{chat['id']}/messages/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Message.objects.exists()


def test_oversize_message_and_wrong_content_type(api, settings):
    chat = new_chat(api)
    settings.LOCKER_MAX_MESSAGE_BYTES = 100
    big = api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "x" * 101}, format="json")
    assert big.status_code == 400 and big.json()["code"] == "message_too_large"
    xml = api.post(f"/api/v1/chats/{chat['id']}/messages/", "<m/>", content_type="application/xml")
    assert xml.status_code == 415 and xml.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/chats/{chat}/"),
        ("patch", "/api/v1/chats/{chat}/"),
        ("delete", "/api/v1/chats/{chat}/"),
        ("get", "/api/v1/chats/{chat}/messages/"),
        ("post", "/api/v1/chats/{chat}/messages/"),
        ("patch", "/api/v1/messages/{message}/"),
    ],
)
def test_other_users_chats_are_404(api, other_account, method, path):
    chat = new_chat(api)
    message = api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "private"}, format="json").json()
    before = (
        list(Message.objects.values_list("id", "content_sealed", "status")),
        list(Chat.objects.values_list("title_sealed")),
    )
    body = {"content": "x", "title": "x", "status": "read"}
    response = getattr(client_for(other_account), method)(
        path.format(chat=chat["id"], message=message["id"]), body, format="json"
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (
        list(Message.objects.values_list("id", "content_sealed", "status")),
        list(Chat.objects.values_list("title_sealed")),
    ) == before


def test_admin_reset_wipes_chats(api, account):
    from accounts import services as account_services
    from accounts.models import User
    from tests.factories import make_account

    new_chat(api)
    admin = make_account("root", role=User.Role.ADMIN).user
    account_services.user_admin_reset(admin=admin, user=account.user, new_password="a brand new passphrase")
    assert not Chat.objects.exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/chats/{chat}/messages/", "/api/messages", "/api/upload/files", "/api/upload/audio"]
)
@pytest.mark.parametrize("body", [b"[null, null]", b"[]", b'"hello"', b"3", b"null", b"true"])
def test_a_json_body_that_is_not_an_object_is_400_and_stores_nothing(api, path, body):
    """Found by schemathesis: a JSON array reached ``.get()`` in these views and answered 500."""
    chat = new_chat(api)
    response = api.generic("POST", path.format(chat=chat["id"]), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error" and "non_field_errors" in response.json()["errors"]
    assert not Message.objects.exists()
