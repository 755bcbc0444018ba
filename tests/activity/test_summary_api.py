"""``summary`` in GET /api/v1/activity/ and /api/v1/notifications/: the sentence of activity.words, with the names
the reader can open (the owner; a share's recipient), neutral words for anyone else, the code kept beside it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from activity.live.transports import notification_body
from activity.models import Event, Notification
from tests.factories import make_account
from tests.vault.conftest import bearer

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def summaries(api, path="/api/v1/activity/", **params) -> list[tuple[str, str]]:
    response = api.get(path, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return [(row.get("action") or row["kind"], row["summary"]) for row in response.json()["results"]]


def said(api, path="/api/v1/activity/", **params) -> list[str]:
    return [summary for _, summary in summaries(api, path, **params)]


def upload(api, name, folder=None, data=b"x"):
    body = {"file": [SimpleUploadedFile(name, data)], **({"folder": folder} if folder else {})}
    response = api.post("/api/v1/files/", body)
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def folder(api, name, parent=None):
    response = api.post("/api/v1/folders/", {"name": name, "parent": parent}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def alice(account):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token",
        {"username": account.username, "password": account.password},
        format="json",
        HTTP_USER_AGENT=FIREFOX,
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def test_the_owner_reads_her_log_in_words_with_her_names(alice):
    documents, archive = folder(alice, "Documents"), folder(alice, "Archive")
    upload(alice, "invoice-acme.pdf", documents["id"])
    report = upload(alice, "report.pdf")
    a = upload(alice, "a.txt")
    assert alice.patch(f"/api/v1/files/{report['id']}/", {"folder": archive["id"]}, format="json").status_code == 200
    assert alice.patch(f"/api/v1/files/{a['id']}/", {"name": "b.txt"}, format="json").status_code == 200

    rows = summaries(alice)
    assert ("file.uploaded", "You uploaded invoice-acme.pdf to Documents") in rows
    assert ("file.uploaded", "You uploaded report.pdf") in rows  # the top level goes unsaid
    assert ("file.moved", "You moved report.pdf to Archive") in rows
    assert ("file.renamed", "You renamed a file to b.txt") in rows  # the old name was never stored
    assert ("folder.created", "You created the folder Documents") in rows
    assert ("auth.login", "You signed in from Firefox on Linux") in rows
    assert ("account.registered", "You created your account") in rows
    raw = alice.get("/api/v1/activity/", {"type": "file.moved"}).json()["results"][0]
    assert raw["action"] == "file.moved" and raw["object_name"] == "report.pdf"  # nothing taken away
    stored = Event.objects.get(action="file.moved")
    assert stored.data == {"folder": archive["id"]}  # an id, never a name
    assert "Archive" not in str(Event.objects.values_list("data", flat=True))


def test_an_item_no_one_can_open_any_more_gets_a_neutral_word(alice):
    documents = folder(alice, "Documents")
    gone = upload(alice, "secret-plan.pdf", documents["id"])
    assert alice.delete(f"/api/v1/files/{gone['id']}/").status_code in (200, 204)
    assert alice.delete(f"/api/v1/trash/{gone['id']}/").status_code in (200, 204)
    text = said(alice)
    assert "You deleted a file forever" in text
    assert "You uploaded a file to Documents" in text
    assert "You moved a file to the trash" in text
    assert not any("secret-plan.pdf" in line for line in text)


def test_a_failure_and_an_unknown_user_are_worded(alice, account):
    APIClient().post("/api/v1/auth/token", {"username": "alice", "password": "wrong"}, format="json")
    APIClient().post("/api/v1/auth/token", {"username": "nobody", "password": "wrong"}, format="json")
    assert ("auth.login", "A sign-in to your account failed: wrong password") in summaries(alice)
    admin = make_account("root", role=User.Role.ADMIN)
    rows = summaries(bearer(admin), all="1")
    assert ("auth.login", "A sign-in with an unknown username failed") in rows


def test_an_admin_reading_alices_log_reads_her_name_and_no_item_names(alice, account):
    documents = folder(alice, "Documents")
    upload(alice, "invoice-acme.pdf", documents["id"])
    admin = make_account("root", role=User.Role.ADMIN)
    text = said(bearer(admin), user=str(account.user.pk))
    assert "alice uploaded a file to a folder" in text
    assert "alice created a folder" in text
    assert not any("invoice-acme" in line or "Documents" in line for line in text)


def test_a_share_recipient_reads_the_names_of_what_is_shared_with_him(alice, other_account):
    bob = bearer(other_account)
    documents = folder(alice, "Documents")
    share = {"item": documents["id"], "username": "bob", "permission": "edit"}
    assert alice.post("/api/v1/shares/", share, format="json").status_code == 201
    upload(bob, "from-bob.txt", documents["id"])
    private = folder(alice, "Private")

    assert "alice shared Documents with you (you can edit)" in said(bob)
    assert "You uploaded from-bob.txt to Documents, in alice's files" in said(bob)
    assert "You shared Documents with bob (they can edit)" in said(alice)
    assert "bob uploaded from-bob.txt to Documents" in said(alice)
    # bob cannot read alice's log, and learns nothing of her other folders
    assert bob.get("/api/v1/activity/", {"user": str(alice_id(alice))}).status_code == 404
    assert private["name"] not in " ".join(said(bob))

    bob_notices = summaries(bob, "/api/v1/notifications/")
    assert ("share.received", "alice shared Documents with you (you can edit)") in bob_notices
    alice_notices = summaries(alice, "/api/v1/notifications/")
    assert ("shared_item.changed", "bob uploaded from-bob.txt to Documents") in alice_notices

    rows = alice.get("/api/v1/shares/").json()["results"]
    assert alice.delete(f"/api/v1/shares/{rows[0]['id']}/").status_code == 204
    assert ("share.revoked", "alice stopped sharing a folder with you") in summaries(bob, "/api/v1/notifications/")
    assert "alice stopped sharing a folder with you" in said(bob)  # no longer his to open
    assert "You stopped sharing Documents with bob" in said(alice)


def alice_id(api) -> str:
    return api.get("/api/v1/me").json()["id"]


def test_notifications_in_words_with_names_and_the_device(alice):
    upload(alice, "invoice-acme.pdf")
    rows = summaries(alice, "/api/v1/notifications/")
    assert ("upload.finished", "You uploaded invoice-acme.pdf") in rows
    assert ("device.signed_in", "A device signed in to your account: Firefox on Linux") in rows
    first = alice.get("/api/v1/notifications/").json()["results"][0]
    assert first["kind"] == "upload.finished" and first["summary"]  # the code stays beside the sentence
    read = alice.post(f"/api/v1/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json()["summary"] == "You uploaded invoice-acme.pdf"


def test_the_live_streams_carry_the_sentence_in_neutral_words(alice, account):
    upload(alice, "invoice-acme.pdf")
    body = notification_body(Notification.objects.filter(user=account.user, kind="upload.finished").get())
    assert body["summary"] == "A file finished uploading"  # a stream holds no keys: it opens no names


def test_a_page_of_events_costs_the_same_queries_whatever_its_length(alice):
    documents = folder(alice, "Documents")
    upload(alice, "one.txt", documents["id"])

    def queries(path, **params) -> int:
        with CaptureQueriesContext(connection) as done:
            assert alice.get(path, {"page_size": 100, **params}).status_code == 200
        return len(done.captured_queries)

    few_events, few_notices = queries("/api/v1/activity/"), queries("/api/v1/notifications/")
    for n in range(15):
        sub = folder(alice, f"sub {n}", documents["id"])
        upload(alice, f"file {n}.txt", sub["id"])
    assert queries("/api/v1/activity/") == few_events
    assert queries("/api/v1/notifications/") == few_notices
    assert "You uploaded file 14.txt to sub 14" in said(alice)


def test_chats_and_app_passwords_are_named_for_their_owner_only(alice, account):
    chat = alice.post("/api/v1/chats/", {"title": "Trip planning"}, format="json")
    assert chat.status_code == 201, chat.content
    sent = alice.post(f"/api/v1/chats/{chat.json()['id']}/messages/", {"role": "user", "content": "hi"}, format="json")
    assert sent.status_code == 201, sent.content
    made = alice.post("/api/v1/auth/app-passwords/", {"name": "laptop sync"}, format="json")
    assert made.status_code == 201, made.content
    text = said(alice)
    assert "You started the chat Trip planning" in text
    assert "You sent a message in Trip planning" in text
    assert "You created the app password laptop sync" in text
    admin = make_account("root", role=User.Role.ADMIN)
    theirs = " ".join(said(bearer(admin), user=str(account.user.pk)))
    assert "Trip planning" not in theirs and "laptop sync" not in theirs
    assert "alice started a chat" in theirs and "alice created an app password" in theirs
