"""GET /api/v1/activity/: own events, filters, admins may name a user."""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from activity import actions
from activity.models import Event
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def test_lists_only_my_events_newest_first(auth_client, account, other_account):
    response = auth_client.get("/api/v1/activity/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and all(row["user"] == str(account.user.pk) for row in results)
    assert [row["action"] for row in results][:2] == ["auth.login", "account.registered"]


def test_filters(auth_client, account):
    APIClient().post("/api/v1/auth/token", {"username": "alice", "password": "wrong password"}, format="json")
    failures = auth_client.get("/api/v1/activity/", {"outcome": "failure"}).json()["results"]
    assert [row["action"] for row in failures] == ["auth.login"]
    logins = auth_client.get("/api/v1/activity/", {"type": "auth.login"}).json()["results"]
    assert {row["outcome"] for row in logins} == {"success", "failure"}
    none = auth_client.get("/api/v1/activity/", {"after": "2999-01-01T00:00:00Z"}).json()["results"]
    assert none == []


def test_admin_may_read_another_users_events(account, other_account):
    admin = make_account("root", role=User.Role.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.login(client)['access']}")
    response = client.get("/api/v1/activity/", {"user": str(other_account.user.pk)})
    assert response.status_code == 200
    assert {row["user"] for row in response.json()["results"]} == {str(other_account.user.pk)}


def test_admin_may_read_every_users_events_and_a_regular_user_may_not(auth_client, account, other_account):
    admin = make_account("root", role=User.Role.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.login(client)['access']}")
    APIClient().post("/api/v1/auth/token", {"username": "nobody", "password": "wrong"}, format="json")
    rows = client.get("/api/v1/activity/", {"all": "1", "page_size": 100}).json()["results"]
    users = {row["user"] for row in rows}
    assert {str(account.user.pk), str(other_account.user.pk), str(admin.user.pk), None} <= users
    csv = b"".join(client.get("/api/v1/activity/", {"all": "1", "format": "csv"}).streaming_content).decode()
    assert str(other_account.user.pk) in csv
    refused = auth_client.get("/api/v1/activity/", {"all": "1"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_regular_user_may_not_read_others(auth_client, other_account):
    """Another user's activity is not found (404), exactly like an id that names nobody: no 403 oracle."""
    response = auth_client.get("/api/v1/activity/", {"user": str(other_account.user.pk)})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    nobody = auth_client.get("/api/v1/activity/", {"user": str(uuid.uuid4())})
    assert nobody.status_code == 404 and nobody.json() == response.json()


def test_regular_user_may_name_themselves(auth_client, account):
    response = auth_client.get("/api/v1/activity/", {"user": str(account.user.pk)})
    assert response.status_code == 200 and response.json()["results"]


def test_admin_naming_an_unknown_user_gets_404(account):
    admin = make_account("root", role=User.Role.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.login(client)['access']}")
    response = client.get("/api/v1/activity/", {"user": str(uuid.uuid4())})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_events_are_append_only(account):
    event = Event.objects.filter(user=account.user).first()
    event.action = "tampered"
    with pytest.raises(ValueError):
        event.save()


def test_every_account_action_is_recorded(auth_client, account):
    created = auth_client.post("/api/v1/auth/app-passwords/", {"name": "cli"}, format="json").json()
    auth_client.delete(f"/api/v1/auth/app-passwords/{created['id']}/")
    auth_client.post(
        "/api/v1/auth/password", {"old_password": account.password, "new_password": "new passphrase 99"}, format="json"
    )
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token", {"username": "alice", "password": "new passphrase 99"}, format="json"
    ).json()
    client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    client.post(
        "/api/v1/auth/recover",
        {"username": "alice", "recovery_key": account.recovery_key, "new_password": "third passphrase 7"},
        format="json",
    )
    recorded = set(Event.objects.filter(user=account.user).values_list("action", flat=True))
    assert {
        actions.REGISTERED,
        actions.LOGIN,
        actions.LOGOUT,
        actions.PASSWORD_CHANGED,
        actions.RECOVERY_USED,
        actions.APP_PASSWORD_CREATED,
        actions.APP_PASSWORD_REVOKED,
    } <= recorded
    login = Event.objects.filter(user=account.user, action=actions.LOGIN).first()
    assert login.ip == "127.0.0.1"


def test_the_log_as_csv_streams_every_matching_event_and_keeps_its_filters(auth_client, account, other_account):
    import csv
    import io

    from activity.services import event_record

    for n in range(120):  # more than a page
        event_record(action="file.uploaded", user=account.user, object_type="file", object_id=f"id-{n}")
    event_record(action="file.renamed", user=account.user, data={"note": "=HYPERLINK(1)"})
    response = auth_client.get("/api/v1/activity/", {"format": "csv", "type": "file.uploaded"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv") and "activity.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "user", "action"]
    assert len(rows) == 121 and {row[3] for row in rows[1:]} == {"file.uploaded"}
    assert [row[8] for row in rows[1:3]] == ["id-0", "id-1"]  # oldest first
    renamed = auth_client.get("/api/v1/activity/", {"format": "csv", "type": "file.renamed"})
    text = b"".join(renamed.streaming_content).decode()
    assert "HYPERLINK" in text and ",=HYPERLINK" not in text  # never a formula cell
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_account.login(other)['access']}")
    theirs = b"".join(other.get("/api/v1/activity/", {"format": "csv"}).streaming_content).decode()
    assert "file.uploaded" not in theirs  # only one's own events
    assert auth_client.get("/api/v1/activity/", {"format": "csv", "outcome": "maybe"}).status_code == 400
    assert auth_client.get("/api/v1/activity/", {"format": "xml"}).status_code == 404


def test_exports_are_recorded_before_their_first_byte(auth_client, account):
    data = auth_client.get("/api/v1/me/data", {"since": "2020-01-01T00:00:00Z"})
    assert data.status_code == 200
    csv = auth_client.get("/api/v1/activity/", {"format": "csv", "type": "auth.login"})
    assert csv.status_code == 200
    exported = Event.objects.filter(user=account.user, action="account.data_exported").order_by("created_at")
    assert [e.data for e in exported] == [
        {"what": "data", "since": "2020-01-01T00:00:00+00:00"},
        {"what": "activity", "filters": {"type": "auth.login"}},
    ]
    b"".join(data.streaming_content)
    b"".join(csv.streaming_content)


def test_items_are_named_for_whoever_can_open_them_and_for_no_one_else(account, other_account):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.vault.conftest import bearer

    alice, bob = bearer(account), bearer(other_account)
    folder = alice.post("/api/v1/folders/", {"name": "team"}, format="json").json()
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("plan.txt", b"p")], "folder": folder["id"]})
    share = {"item": folder["id"], "username": "bob", "permission": "view"}
    assert alice.post("/api/v1/shares/", share, format="json").status_code == 201

    def named(api, **params):
        rows = api.get("/api/v1/activity/", {"page_size": 100, **params}).json()["results"]
        return {(row["action"], row["object_name"]) for row in rows if row["object_type"]}

    assert {("folder.created", "team"), ("file.uploaded", "plan.txt"), ("share.created", "team")} <= named(alice)
    assert ("share.received", "team") in named(bob)  # opened with the share's key
    admin = make_account("root", role=User.Role.ADMIN)
    root = APIClient()
    root.credentials(HTTP_AUTHORIZATION=f"Bearer {admin.login(root)['access']}")
    assert {name for _, name in named(root, user=str(account.user.pk))} == {None}  # an admin cannot open them
    stored = Event.objects.filter(user=account.user, action="file.uploaded").get()
    assert "plan.txt" not in str(stored.data) and stored.object_id  # the name is opened at read time, never kept
