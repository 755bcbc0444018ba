"""What an assistant program uses: an app password (HTTP Basic) on the chats API, the messages after the last one
it saw (``?after=``), its reply with ``role: assistant`` and the status of the user's message; where attachments go
(``folder`` on a message, ``GET /api/v1/chats/attachments-folder/``); the pages that explain it."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chats.models import Attachment, Message
from tests.vault.conftest import blob_files
from vault.models import File, Folder

pytestmark = pytest.mark.django_db


def bearer(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def app_password_client(account) -> APIClient:
    """A client signed in the way an assistant program is: username + app password, HTTP Basic."""
    made = bearer(account).post("/api/v1/auth/app-passwords/", {"name": "assistant"}, format="json")
    assert made.status_code == 201, made.content
    client = APIClient()
    secret = base64.b64encode(f"{account.username}:{made.json()['password']}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {secret}")
    return client


@pytest.fixture
def api(account):
    return bearer(account)


@pytest.fixture
def chat(api):
    return api.post("/api/v1/chats/", {"title": "Ask me"}, format="json").json()


def messages_url(chat) -> str:
    return f"/api/v1/chats/{chat['id']}/messages/"


# --- the assistant's round trip ------------------------------------------------------------------------------


def test_an_app_password_reads_new_messages_replies_as_the_assistant_and_marks_the_question_read(api, chat, account):
    bot = app_password_client(account)
    first = api.post(messages_url(chat), {"content": "hello"}, format="json").json()
    seen = bot.get(messages_url(chat)).json()["results"]
    assert [m["content"] for m in seen] == ["hello"]
    assert bot.get(messages_url(chat), {"after": first["id"]}).json()["results"] == []

    question = api.post(messages_url(chat), {"content": "how many words is this"}, format="json").json()
    new = bot.get(messages_url(chat), {"after": first["id"]}).json()["results"]
    assert [m["id"] for m in new] == [question["id"]]
    reply = bot.post(
        messages_url(chat), {"role": "assistant", "content": "5 words.", "reply_to": question["id"]}, format="json"
    )
    assert reply.status_code == 201, reply.content
    assert reply.json()["role"] == "assistant" and reply.json()["reply_to"] == question["id"]
    marked = bot.patch(f"/api/v1/messages/{question['id']}/", {"status": "read"}, format="json")
    assert marked.status_code == 200 and marked.json() == {"id": question["id"], "status": "read"}

    # the user sees the reply, and the question read
    listed = api.get(messages_url(chat)).json()["results"]
    assert [(m["role"], m["content"], m["status"]) for m in listed] == [
        ("user", "hello", "sent"),
        ("user", "how many words is this", "read"),
        ("assistant", "5 words.", "sent"),
    ]
    # after the reply: nothing new
    assert bot.get(messages_url(chat), {"after": reply.json()["id"]}).json()["results"] == []


def test_after_pages_forward_with_next_links(api, chat):
    ids = [api.post(messages_url(chat), {"content": f"m{n}"}, format="json").json()["id"] for n in range(5)]
    page = api.get(messages_url(chat), {"after": ids[0], "page_size": 2}).json()
    assert [m["content"] for m in page["results"]] == ["m1", "m2"]
    rest = api.get(page["next"]).json()
    assert [m["content"] for m in rest["results"]] == ["m3", "m4"] and rest["next"] is None


@pytest.mark.parametrize("after", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "", "1", "' OR 1=1 --"])
def test_after_must_be_a_message_of_this_chat(api, chat, after):
    response = api.get(messages_url(chat), {"after": after})
    assert response.status_code == 400 and response.json()["errors"]["after"] == ["No such message in this chat."]


def test_after_given_twice_is_refused(api, chat):
    one = api.post(messages_url(chat), {"content": "a"}, format="json").json()["id"]
    response = api.get(f"{messages_url(chat)}?after={one}&after={one}")
    assert response.status_code == 400 and response.json()["errors"]["after"] == ["Give one message id."]


def test_after_a_message_of_another_chat_or_user_is_refused(api, chat, other_account):
    elsewhere = api.post("/api/v1/chats/", {"title": "other"}, format="json").json()
    theirs_in_mine = api.post(messages_url(elsewhere), {"content": "x"}, format="json").json()
    assert api.get(messages_url(chat), {"after": theirs_in_mine["id"]}).status_code == 400
    other = bearer(other_account)
    other_chat = other.post("/api/v1/chats/", {"title": "bob's"}, format="json").json()
    bobs = other.post(messages_url(other_chat), {"content": "private"}, format="json").json()
    assert api.get(messages_url(chat), {"after": bobs["id"]}).status_code == 400
    # and bob cannot follow alice's chat at all
    mine = api.post(messages_url(chat), {"content": "mine"}, format="json").json()
    assert other.get(messages_url(chat), {"after": mine["id"]}).status_code == 404


def test_a_revoked_app_password_stops_at_once(api, chat, account):
    bot = app_password_client(account)
    assert bot.get(messages_url(chat)).status_code == 200
    [row] = api.get("/api/v1/auth/app-passwords/").json()["results"]
    assert api.delete(f"/api/v1/auth/app-passwords/{row['id']}/").status_code == 204
    refused = bot.post(messages_url(chat), {"role": "assistant", "content": "too late"}, format="json")
    assert refused.status_code == 401 and not Message.objects.filter(role="assistant").exists()


# --- where attachments go ------------------------------------------------------------------------------------


def test_the_attachments_folder_is_named_before_it_exists_and_found_after(api, chat):
    assert api.get("/api/v1/chats/attachments-folder/").json() == {"id": None, "name": "Chat attachments"}
    sent = api.post(messages_url(chat), {"file": [SimpleUploadedFile("a.txt", b"a")]}, format="multipart")
    assert sent.status_code == 201, sent.content
    found = api.get("/api/v1/chats/attachments-folder/").json()
    folder = Folder.objects.get(pk=found["id"])
    assert found["name"] == "Chat attachments" and folder.parent_id is None
    assert File.objects.get().folder_id == folder.pk
    listed = api.get("/api/v1/folders/", {"parent": found["id"]})
    assert listed.status_code in (200, 400)  # the folder is an ordinary vault folder
    assert api.get(f"/api/v1/folders/{found['id']}/").json()["name"] == "Chat attachments"


def test_the_attachments_folder_of_another_user_is_not_seen(api, chat, other_account):
    api.post(messages_url(chat), {"file": [SimpleUploadedFile("a.txt", b"a")]}, format="multipart")
    assert bearer(other_account).get("/api/v1/chats/attachments-folder/").json()["id"] is None


def test_a_trashed_attachments_folder_is_made_again(api, chat):
    api.post(messages_url(chat), {"file": [SimpleUploadedFile("a.txt", b"a")]}, format="multipart")
    first = api.get("/api/v1/chats/attachments-folder/").json()["id"]
    assert api.delete(f"/api/v1/folders/{first}/").status_code == 204
    assert api.get("/api/v1/chats/attachments-folder/").json()["id"] is None
    api.post(messages_url(chat), {"file": [SimpleUploadedFile("b.txt", b"b")]}, format="multipart")
    again = api.get("/api/v1/chats/attachments-folder/").json()["id"]
    assert again and again != first


def test_folder_puts_the_attachments_in_a_folder_of_mine(api, chat):
    trips = api.post("/api/v1/folders/", {"name": "Trips"}, format="json").json()
    sent = api.post(
        messages_url(chat),
        {"content": "the tickets", "folder": trips["id"], "file": [SimpleUploadedFile("ticket.pdf", b"%PDF-1.4")]},
        format="multipart",
    )
    assert sent.status_code == 201, sent.content
    assert File.objects.get().folder_id is not None and str(File.objects.get().folder_id) == trips["id"]
    assert api.get("/api/v1/chats/attachments-folder/").json()["id"] is None  # the default one was not made
    assert sent.json()["attachments"][0]["name"] == "ticket.pdf"


def test_folder_works_for_a_recording_and_in_json_without_attachments(api, chat):
    from tests.chats.test_multipart import wav

    notes = api.post("/api/v1/folders/", {"name": "Voice notes"}, format="json").json()
    sent = api.post(
        messages_url(chat), {"folder": notes["id"], "audio": SimpleUploadedFile("memo.wav", wav(1))}, format="multipart"
    )
    assert sent.status_code == 201, sent.content
    assert str(Attachment.objects.get().file.folder_id) == notes["id"]
    text_only = api.post(messages_url(chat), {"content": "no files", "folder": notes["id"]}, format="json")
    assert text_only.status_code == 201  # nothing to keep: the folder is checked and unused


@pytest.mark.parametrize(
    "folder,status",
    [
        ("not-a-uuid", 400),
        (12, 400),
        (["a"], 400),
        ({"id": "x"}, 400),
        ("00000000-0000-0000-0000-000000000000", 404),
    ],
)
def test_bad_folder_values_store_nothing(api, chat, blob_dir, folder, status):
    response = api.post(messages_url(chat), {"content": "x", "folder": folder}, format="json")
    assert response.status_code == status, response.content
    multipart = api.post(
        messages_url(chat),
        {"content": "x", "folder": str(folder), "file": [SimpleUploadedFile("a.txt", b"a")]},
        format="multipart",
    )
    assert multipart.status_code in (400, 404)
    assert not Message.objects.exists() and not File.objects.exists() and blob_files(blob_dir) == []


def test_another_users_folder_or_a_trashed_one_is_404_and_keeps_nothing(api, chat, other_account, blob_dir):
    other = bearer(other_account)
    bobs = other.post("/api/v1/folders/", {"name": "Bob's"}, format="json").json()
    mine = api.post("/api/v1/folders/", {"name": "Old"}, format="json").json()
    api.delete(f"/api/v1/folders/{mine['id']}/")
    for folder in (bobs["id"], mine["id"]):
        response = api.post(
            messages_url(chat),
            {"content": "x", "folder": folder, "file": [SimpleUploadedFile("a.txt", b"a")]},
            format="multipart",
        )
        assert response.status_code == 404 and response.json() == {"code": "not_found", "detail": "No such folder."}
    assert not Message.objects.exists() and File.objects.count() == 0


# --- the pages that explain it -------------------------------------------------------------------------------


def test_the_assistant_page_shows_the_docs_and_the_example(client, account):
    assert client.get("/chats/assistant/").status_code == 302  # signed-in users only
    client.force_login(account.user)
    page = client.get("/chats/assistant/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>" in html and "app password" in html and "role" in html and "<script>" not in html.split("</main>")[0]
    example = client.get("/chats/assistant/examples/assistant_echo.py")
    assert example.status_code == 200 and example["Content-Type"].startswith("text/plain")
    assert b"def main(" in example.content
    assert client.post("/chats/assistant/").status_code == 405


def test_messages_are_not_notifications_but_their_files_are_uploads(api, chat):
    """What docs/assistant.md says of the live streams: a message writes no notification (an assistant polls);
    an attachment gives the "upload finished" of its file, like any upload."""
    from activity.models import Notification

    before = set(Notification.objects.values_list("pk", flat=True))  # the sign-in's
    api.post(messages_url(chat), {"content": "text only"}, format="json")
    assert set(Notification.objects.values_list("pk", flat=True)) == before
    api.post(messages_url(chat), {"file": [SimpleUploadedFile("a.txt", b"a")]}, format="multipart")
    [notification] = Notification.objects.exclude(pk__in=before)
    assert notification.kind == Notification.Kind.UPLOAD_FINISHED and notification.object_type == "file"
