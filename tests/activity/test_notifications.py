"""Notifications (issue: live notifications, first part): what gives one, to whom, the list and marking read."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from activity.models import Event, Notification
from tests.factories import make_account
from tests.vault.conftest import bearer, content

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def upload(api, name, data=b"x", folder=None):
    body = {"file": [SimpleUploadedFile(name, data)], **({"folder": folder} if folder else {})}
    response = api.post("/api/v1/files/", body)
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def test_signing_in_uploading_and_a_failed_sign_in_notify_the_user(account):
    api = bearer(account)
    upload(api, "a.txt")
    upload(api, "a.txt", b"second")  # a new version
    APIClient().post("/api/v1/auth/token", {"username": "alice", "password": "wrong one"}, format="json")
    assert kinds(account.user) == [Kind.NEW_DEVICE, Kind.UPLOAD_FINISHED, Kind.UPLOAD_FINISHED, Kind.LOGIN_FAILED]
    failed = Notification.objects.get(user=account.user, kind=Kind.LOGIN_FAILED)
    assert failed.data == {"action": "auth.login"}  # no address, no password


def test_shares_tell_the_recipient_and_their_acts_tell_the_owner(account, other_account):
    alice, bob = bearer(account), bearer(other_account)
    folder = alice.post("/api/v1/folders/", {"name": "team"}, format="json").json()
    file = upload(alice, "plan.txt", b"plan", folder["id"])
    body = {"item": folder["id"], "username": "bob", "permission": "view"}
    share = alice.post("/api/v1/shares/", body, format="json").json()
    alice.patch(f"/api/v1/shares/{share['id']}/", {"permission": "edit"}, format="json")
    assert content(bob.get(f"/api/v1/files/{file['id']}/content")) == b"plan"
    upload(bob, "from bob.txt", b"b", folder["id"])
    alice.delete(f"/api/v1/shares/{share['id']}/")

    bob_kinds = [k for k in kinds(other_account.user) if k != Kind.NEW_DEVICE]
    assert bob_kinds == [Kind.SHARE_RECEIVED, Kind.SHARE_CHANGED, Kind.SHARE_REVOKED]  # his upload was into alice's
    received = Notification.objects.get(user=other_account.user, kind=Kind.SHARE_RECEIVED)
    assert received.object_id == folder["id"] and received.data["by"] == "alice"
    alice_kinds = [k for k in kinds(account.user) if k not in (Kind.NEW_DEVICE, Kind.UPLOAD_FINISHED)]
    assert alice_kinds == [Kind.DOWNLOADED, Kind.SHARED_ITEM_CHANGED]
    assert {n.data["by"] for n in Notification.objects.filter(user=account.user, data__has_key="by")} == {"bob"}
    # and the recipient's own log says so too, in the same transactions (no second notification from those events)
    bob_events = Event.objects.filter(user=other_account.user, action__startswith="share.").order_by("seq")
    assert [(e.action, e.object_id, e.data["owner"], e.data["permission"]) for e in bob_events] == [
        ("share.received", folder["id"], "alice", "view"),
        ("share.received_changed", folder["id"], "alice", "edit"),
        ("share.received_ended", folder["id"], "alice", "edit"),
    ]


def test_a_public_link_used_notifies_its_owner(account):
    alice = bearer(account)
    file = upload(alice, "a.txt", b"alpha")
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    link = alice.post("/api/v1/links/", {"item": file["id"], "expires_at": expires}, format="json").json()
    path = link["url"].split("testserver", 1)[1]
    assert content(Client().get(f"{path}/files/{file['id']}")) == b"alpha"
    used = Notification.objects.get(user=account.user, kind=Kind.LINK_USED)
    assert used.data == {"action": "link.used", "link": link["id"], "download": "file"}


def test_storage_at_90_and_100_percent_notifies_once_each(account):
    api = bearer(account)

    def used():
        return User.objects.get(pk=account.user.pk).storage_used

    def quota_is(value):
        User.objects.filter(pk=account.user.pk).update(storage_quota=value)

    upload(api, "a.bin", b"x" * 1000)
    quota_is(used() + 200)  # a 100-byte file (141 stored) takes it from 84% to 95%
    before = used()
    upload(api, "b.bin", b"y" * 100)
    assert [k for k in kinds(account.user) if k.startswith("quota")] == [Kind.QUOTA_90]
    quota_is(used() + (used() - before))  # the same again fills it exactly
    upload(api, "c.bin", b"z" * 100)
    assert [k for k in kinds(account.user) if k.startswith("quota")] == [Kind.QUOTA_90, Kind.QUOTA_100]
    assert api.post("/api/v1/files/", {"file": [SimpleUploadedFile("d.bin", b"x" * 5000)]}).status_code == 413
    assert [k for k in kinds(account.user) if k.startswith("quota")] == [Kind.QUOTA_90, Kind.QUOTA_100]


def test_the_list_filters_unread_and_marks_read(account, other_account):
    api = bearer(account)
    upload(api, "a.txt")
    listed = api.get("/api/v1/notifications/").json()
    assert [n["kind"] for n in listed["results"]] == [Kind.UPLOAD_FINISHED, Kind.NEW_DEVICE]  # newest first
    first = listed["results"][-1]
    assert not first["read"]
    assert api.post(f"/api/v1/notifications/{first['id']}/read").json()["read"] is True
    assert [n["kind"] for n in api.get("/api/v1/notifications/", {"unread": "1"}).json()["results"]] == [
        Kind.UPLOAD_FINISHED
    ]
    assert api.post("/api/v1/notifications/read").json() == {"updated": 1}
    assert api.get("/api/v1/notifications/", {"unread": "1"}).json()["results"] == []


def test_bad_requests_and_other_users_notifications(account, other_account):
    api, bob = bearer(account), bearer(other_account)
    upload(api, "a.txt")
    mine = Notification.objects.filter(user=account.user).first()
    assert bob.post(f"/api/v1/notifications/{mine.pk}/read").status_code == 404
    assert Notification.objects.get(pk=mine.pk).read_at is None
    assert bob.post("/api/v1/notifications/999999999/read").status_code == 404
    assert api.get("/api/v1/notifications/", {"unread": "maybe"}).status_code == 400
    assert api.post("/api/v1/notifications/abc/read").status_code == 404
    assert [n["kind"] for n in bob.get("/api/v1/notifications/").json()["results"]] == [Kind.NEW_DEVICE]
    assert APIClient().get("/api/v1/notifications/").status_code == 401
    make_account("carol")  # registering alone notifies nobody
    assert not Notification.objects.filter(user__username="carol").exists()


# --- the Server-Sent Events stream -----------------------------------------------------------------------------


def events_of(chunks) -> list[dict]:
    import json

    out = []
    for chunk in chunks:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        for block in text.split("\n\n"):
            lines = dict(
                line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
            )
            if lines.get("event") == "notification":
                out.append({"id": int(lines["id"]), **json.loads(lines["data"])})
    return out


@pytest.fixture
def quick_streams(settings):
    settings.LOCKER_STREAM_SECONDS = 1
    settings.LOCKER_STREAM_POLL = 0.02
    settings.LOCKER_STREAM_HEARTBEAT = 0


def test_the_stream_sends_what_came_after_the_last_id_then_new_ones_and_resumes(account, quick_streams):
    api, other_device = bearer(account), bearer(account)
    first = Notification.objects.filter(user=account.user).order_by("id").first().pk  # the first sign-in
    stream = api.get("/api/v1/notifications/stream", HTTP_ACCEPT="text/event-stream", HTTP_LAST_EVENT_ID=str(first))
    assert stream.status_code == 200 and stream["Content-Type"].startswith("text/event-stream")
    chunks = iter(stream.streaming_content)
    assert next(chunks).startswith(b"retry: ")
    upload(other_device, "from the phone.txt")  # after the stream began, from another session
    seen = events_of(chunks)  # until the stream ends (LOCKER_STREAM_SECONDS)
    assert [e["kind"] for e in seen] == [Kind.NEW_DEVICE, Kind.UPLOAD_FINISHED]  # the second sign-in, the upload
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen) and seen[0]["id"] > first
    resumed = api.get("/api/v1/notifications/stream", {"after": seen[-1]["id"]})
    assert events_of(resumed.streaming_content) == []  # nothing twice
    again = api.get("/api/v1/notifications/stream", HTTP_LAST_EVENT_ID=str(seen[0]["id"]))
    assert [e["id"] for e in events_of(again.streaming_content)] == [seen[1]["id"]]


def test_a_quiet_stream_sends_heartbeats(account, quick_streams):
    text = b"".join(bearer(account).get("/api/v1/notifications/stream", {"after": 10**9}).streaming_content)
    assert b": heartbeat" in text and b"event:" not in text


def test_each_stream_carries_only_its_users_events(account, other_account, quick_streams):
    alice, bob = bearer(account), bearer(other_account)
    upload(alice, "alice.txt")
    upload(bob, "bob.txt")
    for api, user in ((alice, account.user), (bob, other_account.user)):
        seen = events_of(api.get("/api/v1/notifications/stream").streaming_content)
        assert {e["id"] for e in seen} == set(Notification.objects.filter(user=user).values_list("id", flat=True))


@pytest.mark.parametrize("last", ["abc", "-1", "1.5", "9" * 40])
def test_a_bad_last_event_id_is_a_400(account, last):
    response = bearer(account).get("/api/v1/notifications/stream", HTTP_LAST_EVENT_ID=last)
    assert response.status_code == 400 and "after" in response.json()["errors"]


def test_the_stream_needs_credentials():
    assert APIClient().get("/api/v1/notifications/stream").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_real_http_client_receives_an_upload_from_another_session_live(live_server, settings):
    import http.client
    import threading
    import time
    from urllib.parse import urlsplit

    settings.LOCKER_STREAM_SECONDS = 3  # the stream ends by itself soon after the test has what it needs
    settings.LOCKER_STREAM_POLL = 0.05
    account = make_account("streamer")
    token = (
        APIClient()
        .post("/api/v1/auth/token", {"username": "streamer", "password": account.password}, format="json")
        .json()["access"]
    )
    start = Notification.objects.filter(user=account.user).order_by("id").last().pk
    host = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=20)
    conn.request(
        "GET",
        "/api/v1/notifications/stream",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream", "Last-Event-ID": str(start)},
    )
    response = conn.getresponse()
    assert response.status == 200
    received = []

    def read():
        buffer = b""
        while b"upload.finished" not in buffer:
            line = response.readline()
            if not line:
                break
            buffer += line
        received.append(buffer.decode())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    upload(bearer(account), "live.txt")  # another session: a new sign-in first, then the upload
    reader.join(timeout=15)
    conn.close()
    time.sleep(3.5)  # the server's stream has ended (LOCKER_STREAM_SECONDS) and let its database connection go
    assert received, "the stream sent nothing"
    kinds_seen = [e["kind"] for e in events_of([received[0]])]
    assert kinds_seen == [Kind.NEW_DEVICE, Kind.UPLOAD_FINISHED], received[0]
