"""The change feed (GET /api/v1/changes): every create, change, move, rename, trash and restore since a cursor,
paginated, for the user's own vault and for what is shared with them; bad cursors; other users' changes unseen."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.vault.conftest import bearer
from tests.vault.test_sharing import folder_with_files, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(account):
    return bearer(account)


def cursor_now(api) -> str:
    body = api.get("/api/v1/changes").json()
    assert body["changes"] == [] and not body["has_more"] and not body["reset"]
    return body["cursor"]


def feed(api, cursor, **params):
    response = api.get("/api/v1/changes", {"cursor": cursor, **params})
    assert response.status_code == 200, response.content
    return response.json()


def all_changes(api, cursor, limit=500):
    changes = []
    while True:
        body = feed(api, cursor, limit=limit)
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, cursor


def upload(api, name, data=b"x", folder=None):
    fields = {"file": SimpleUploadedFile(name, data)}
    if folder:
        fields["folder"] = folder
    response = api.post("/api/v1/files/", fields, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def test_every_kind_of_change_is_listed_with_the_items_state_now(alice):
    start = cursor_now(alice)
    folder = alice.post("/api/v1/folders/", {"name": "docs"}, format="json").json()
    file = upload(alice, "a.txt", b"one", folder=folder["id"])
    assert alice.put(f"/api/v1/files/{file['id']}/content", b"two", content_type="text/plain").status_code == 200
    alice.patch(f"/api/v1/files/{file['id']}/", {"name": "b.txt"}, format="json")
    alice.patch(f"/api/v1/files/{file['id']}/", {"folder": None}, format="json")
    alice.patch(f"/api/v1/folders/{folder['id']}/", {"name": "papers"}, format="json")
    assert alice.delete(f"/api/v1/files/{file['id']}/").status_code in {200, 204}
    changes, cursor = all_changes(alice, start)
    assert [(c["kind"], c["action"]) for c in changes] == [
        ("folder", "created"),
        ("file", "created"),
        ("file", "changed"),
        ("file", "renamed"),
        ("file", "moved"),
        ("folder", "renamed"),
        ("file", "trashed"),
    ]
    state = changes[1]["item"]  # the file's state now, in every change of it
    assert state["name"] == "b.txt" and state["folder"] is None and state["trashed"] is True
    assert state["version"] == 2 and state["size"] == 3 and state["etag"]
    assert changes[0]["item"] == {"name": "papers", "parent": None, "trashed": False}
    assert feed(alice, cursor)["changes"] == []  # nothing since
    trash_id = alice.get("/api/v1/trash/").json()["results"][0]["id"]
    alice.post(f"/api/v1/trash/{trash_id}/restore")
    changes, _ = all_changes(alice, cursor)
    assert [(c["id"], c["action"]) for c in changes] == [(file["id"], "restored")]
    assert changes[0]["item"]["trashed"] is False


def test_pages_of_a_long_feed_lose_nothing_and_repeat_nothing(alice):
    start = cursor_now(alice)
    names = [f"f{i:02}.txt" for i in range(23)]
    for name in names:
        upload(alice, name)
    body = feed(alice, start, limit=5)
    assert len(body["changes"]) == 5 and body["has_more"]
    changes, _ = all_changes(alice, start, limit=5)
    assert [c["item"]["name"] for c in changes] == names


def test_other_users_changes_are_not_listed_until_shared_and_then_a_reset_says_walk_again(alice, other_account):
    bob = bearer(other_account)
    bob_cursor = cursor_now(bob)
    folder, files = folder_with_files(alice)
    assert feed(bob, bob_cursor)["changes"] == []  # alice's vault is not bob's business
    assert share(alice, folder["id"], permission="edit").status_code == 201
    body = feed(bob, bob_cursor)
    assert body["reset"] and body["changes"] == []  # something new is shared: walk it, then go on
    bob_cursor = body["cursor"]
    upload(alice, "new.txt", folder=folder["id"])
    private = upload(alice, "private.txt")
    changes, bob_cursor = all_changes(bob, bob_cursor)
    assert [(c["item"]["name"], c["action"]) for c in changes] == [("new.txt", "created")]
    assert private["id"] not in {c["id"] for c in changes}
    upload(bob, "from bob.txt", folder=folder["id"])  # bob writing into alice's folder: listed once
    changes, _ = all_changes(bob, bob_cursor)
    assert [(c["item"]["name"], c["action"]) for c in changes] == [("from bob.txt", "created")]


@pytest.mark.parametrize("cursor", ["nope", "e30", "eyJ2IjoyfQ", "!!!", "eyJ2IjoxLCJvIjp7ImEiOi0xfSwicyI6IiJ9"])
def test_a_cursor_the_server_did_not_give_is_refused_clearly(alice, cursor):
    response = alice.get("/api/v1/changes", {"cursor": cursor})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "2001", "1.5"])
def test_a_bad_limit_is_refused(alice, limit):
    response = alice.get("/api/v1/changes", {"cursor": cursor_now(alice), "limit": limit})
    assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_another_users_cursor_gives_a_reset_not_their_changes(alice, other_account):
    alice_cursor = cursor_now(alice)
    upload(alice, "secret.txt")
    body = feed(bearer(other_account), alice_cursor)
    assert body["reset"] and body["changes"] == []


def test_signed_out_is_401(api_client):
    assert api_client.get("/api/v1/changes").status_code == 401
