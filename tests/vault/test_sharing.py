"""Sharing with other users (issue: sharing and links): grants, keys, who sees what, bad input."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils.timezone import now as timezone_now
from rest_framework.test import APIClient

from accounts.models import Keyring
from locker.crypto.errors import DecryptionError
from locker.crypto.keys import b64d, unwrap_with_private_key
from tests.factories import make_account
from tests.vault.conftest import bearer, content
from vault.keys import AccountKeys, aad_share_key
from vault.models import Share

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(account):
    return bearer(account)


@pytest.fixture
def bob_account(other_account):
    return other_account


def folder_with_files(api, name="shared", files=(("a.txt", b"alpha"), ("b.txt", b"beta"))):
    folder = api.post("/api/v1/folders/", {"name": name}, format="json").json()
    parts = [SimpleUploadedFile(n, data) for n, data in files]
    uploaded = api.post("/api/v1/files/", {"file": parts, "folder": folder["id"]}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    return folder, {r["file"]["name"]: r["file"]["id"] for r in uploaded.json()}


def share(api, item_id, username="bob", permission="view"):
    return api.post("/api/v1/shares/", {"item": item_id, "username": username, "permission": permission}, format="json")


def test_a_folder_shared_while_the_recipient_was_logged_out_opens_on_their_next_request(alice, bob_account):
    folder, files = folder_with_files(alice)
    created = share(alice, folder["id"], permission="view")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["item"] == {"kind": "folder", "id": folder["id"], "name": "shared"}
    assert body["recipient"] == "bob" and body["owner"] == "alice" and body["permission"] == "view"

    bob = bearer(bob_account)  # bob logs in only now: the wrap waited for his private key
    received = bob.get("/api/v1/shared-with-me/").json()["results"]
    assert [(r["item"]["name"], r["owner"], r["permission"]) for r in received] == [("shared", "alice", "view")]
    listing = bob.get("/api/v1/files/", {"folder": folder["id"]}).json()["results"]
    assert sorted(f["name"] for f in listing) == ["a.txt", "b.txt"]
    assert content(bob.get(f"/api/v1/files/{files['a.txt']}/content")) == b"alpha"
    assert bob.get(f"/api/v1/folders/{folder['id']}/").json()["name"] == "shared"


def test_items_added_later_and_subfolders_are_in_the_share(alice, bob_account):
    folder, _ = folder_with_files(alice)
    share(alice, folder["id"])
    sub = alice.post("/api/v1/folders/", {"name": "sub", "parent": folder["id"]}, format="json").json()
    late = alice.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("late.txt", b"late")], "folder": sub["id"]}, format="multipart"
    ).json()[0]["file"]
    bob = bearer(bob_account)
    assert [f["name"] for f in bob.get("/api/v1/folders/", {"parent": folder["id"]}).json()["results"]] == ["sub"]
    assert content(bob.get(f"/api/v1/files/{late['id']}/content")) == b"late"


def test_the_recipient_sees_nothing_else_of_the_owner(alice, bob_account):
    folder, _ = folder_with_files(alice)
    other, other_files = folder_with_files(alice, name="private", files=(("p.txt", b"private"),))
    share(alice, folder["id"])
    bob = bearer(bob_account)
    assert bob.get("/api/v1/folders/").json()["results"] == []  # his own top level: shares are listed apart
    assert bob.get("/api/v1/files/", {"all": "1"}).json()["results"] == []
    assert bob.get(f"/api/v1/folders/{other['id']}/").status_code == 404
    assert bob.get("/api/v1/files/", {"folder": other["id"]}).status_code == 404
    assert bob.get(f"/api/v1/files/{other_files['p.txt']}/content").status_code == 404
    assert bob.get("/api/v1/shares/").json()["results"] == []  # the shares alice made are hers


def test_a_shared_file_opens_and_its_siblings_do_not(alice, bob_account):
    _, files = folder_with_files(alice)
    assert share(alice, files["a.txt"]).json()["item"] == {"kind": "file", "id": files["a.txt"], "name": "a.txt"}
    bob = bearer(bob_account)
    assert content(bob.get(f"/api/v1/files/{files['a.txt']}/content")) == b"alpha"
    assert bob.get(f"/api/v1/files/{files['a.txt']}/").json()["name"] == "a.txt"
    assert bob.get(f"/api/v1/files/{files['b.txt']}/").status_code == 404


def test_a_shared_note_opens(alice, bob_account):
    note = alice.post("/api/v1/notes/", {"title": "Plan", "body": "step one"}, format="json").json()
    assert share(alice, note["id"]).json()["item"]["name"] == "Plan"
    bob = bearer(bob_account)
    opened = bob.get(f"/api/v1/notes/{note['id']}/").json()
    assert (opened["title"], opened["body"]) == ("Plan", "step one")
    assert bob.get("/api/v1/notes/").json()["results"] == []  # not among his own


def test_a_view_share_does_not_let_the_recipient_change_anything(alice, bob_account):
    folder, files = folder_with_files(alice)
    share(alice, folder["id"], permission="view")
    bob = bearer(bob_account)
    assert bob.patch(f"/api/v1/files/{files['a.txt']}/", {"name": "x.txt"}, format="json").status_code == 404
    assert bob.patch(f"/api/v1/folders/{folder['id']}/", {"name": "x"}, format="json").status_code == 404
    assert bob.delete(f"/api/v1/files/{files['a.txt']}/").status_code == 404
    assert alice.get(f"/api/v1/files/{files['a.txt']}/").json()["name"] == "a.txt"


def test_revoking_ends_access_at_once_and_leaving_too(alice, bob_account):
    folder, files = folder_with_files(alice)
    share_id = share(alice, folder["id"]).json()["id"]
    bob = bearer(bob_account)
    assert bob.get(f"/api/v1/files/{files['a.txt']}/").status_code == 200
    assert alice.delete(f"/api/v1/shares/{share_id}/").status_code == 204
    assert bob.get(f"/api/v1/files/{files['a.txt']}/").status_code == 404
    assert bob.get(f"/api/v1/files/{files['a.txt']}/content").status_code == 404
    assert bob.get("/api/v1/files/", {"folder": folder["id"]}).status_code == 404
    assert bob.get("/api/v1/shared-with-me/").json()["results"] == []

    again = share(alice, folder["id"]).json()["id"]
    assert bob.delete(f"/api/v1/shares/{again}/").status_code == 204  # the recipient leaves
    assert bob.get(f"/api/v1/folders/{folder['id']}/").status_code == 404
    assert alice.get("/api/v1/shares/").json()["results"] == []
    assert alice.get(f"/api/v1/folders/{folder['id']}/").status_code == 200


def test_the_owner_changes_the_permission_and_the_recipient_cannot(alice, bob_account):
    folder, _ = folder_with_files(alice)
    share_id = share(alice, folder["id"]).json()["id"]
    changed = alice.patch(f"/api/v1/shares/{share_id}/", {"permission": "edit"}, format="json")
    assert changed.status_code == 200 and changed.json()["permission"] == "edit"
    bob = bearer(bob_account)
    assert bob.patch(f"/api/v1/shares/{share_id}/", {"permission": "delete"}, format="json").status_code == 404
    assert bob.get(f"/api/v1/shares/{share_id}/").json()["permission"] == "edit"


def test_strangers_get_404_everywhere(alice, bob_account, db):
    folder, files = folder_with_files(alice)
    share_id = share(alice, folder["id"]).json()["id"]
    carol = bearer(make_account("carol"))
    for path in (
        f"/api/v1/shares/{share_id}/",
        f"/api/v1/folders/{folder['id']}/",
        f"/api/v1/files/{files['a.txt']}/",
        f"/api/v1/files/{files['a.txt']}/content",
    ):
        assert carol.get(path).status_code == 404, path
    assert carol.patch(f"/api/v1/shares/{share_id}/", {"permission": "edit"}, format="json").status_code == 404
    assert carol.delete(f"/api/v1/shares/{share_id}/").status_code == 404
    assert share(carol, folder["id"]).status_code == 404  # not hers to share
    assert Share.objects.get(pk=share_id).permission == "view"
    assert APIClient().get("/api/v1/shared-with-me/").status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "bob", "permission": "view"}, 400, "item"),
        ({"item": "ITEM", "permission": "view"}, 400, "username"),
        ({"item": "ITEM", "username": "bob"}, 400, "permission"),
        ({"item": "ITEM", "username": "bob", "permission": "own"}, 400, "permission"),
        ({"item": "ITEM", "username": ["bob"], "permission": "view"}, 400, "username"),
        ({"item": 7, "username": "bob", "permission": "view"}, 400, "item"),
        ({"item": "ITEM", "username": "nobody", "permission": "view"}, 400, "username"),
        ({"item": "ITEM", "username": "alice", "permission": "view"}, 400, "username"),
        ({"item": "ITEM", "username": "b" * 65, "permission": "view"}, 400, "username"),
        ({"item": "ITEM", "username": "../../etc/passwd", "permission": "view"}, 400, "username"),
        ({"item": "00000000-0000-0000-0000-000000000000", "username": "bob", "permission": "view"}, 404, None),
    ],
)
def test_bad_share_requests_are_refused_and_change_nothing(alice, bob_account, body, status, field):
    folder, _ = folder_with_files(alice)
    body = {k: folder["id"] if v == "ITEM" else v for k, v in body.items()}
    response = alice.post("/api/v1/shares/", body, format="json")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["errors"]
    assert not Share.objects.exists()


def test_sharing_twice_with_one_user_is_a_conflict(alice, bob_account):
    folder, _ = folder_with_files(alice)
    assert share(alice, folder["id"]).status_code == 201
    again = share(alice, folder["id"], permission="edit")
    assert again.status_code == 409 and again.json()["code"] == "already_shared"
    assert Share.objects.get().permission == "view"


def test_a_share_is_one_wrap_bound_to_its_item_owner_and_recipient(alice, account, bob_account, db):
    folder, _ = folder_with_files(alice)
    other, _ = folder_with_files(alice, name="other")
    share(alice, folder["id"])
    row = Share.objects.get()
    bob_key = AccountKeys(bob_account.user.pk, _udk(bob_account)).private_key()
    right = aad_share_key("folder", row.folder_id, account.user.pk, bob_account.user.pk)
    assert len(unwrap_with_private_key(row.key_wrapped, bob_key, aad=right)) == 32
    carol = make_account("carol")
    for wrong in (
        aad_share_key("folder", other["id"], account.user.pk, bob_account.user.pk),  # moved to another item
        aad_share_key("folder", row.folder_id, account.user.pk, carol.user.pk),  # moved to another recipient
        aad_share_key("folder", row.folder_id, carol.user.pk, bob_account.user.pk),  # claimed by another owner
        aad_share_key("file", row.folder_id, account.user.pk, bob_account.user.pk),
    ):
        with pytest.raises(DecryptionError):
            unwrap_with_private_key(row.key_wrapped, bob_key, aad=wrong)
    assert b64d(Keyring.objects.get(user=bob_account.user).public_key)  # wrapped to his public key only


def _udk(account):
    from tests.vault.conftest import keys_for

    return keys_for(account).udk


def test_sharing_a_folder_of_5000_files_costs_what_sharing_a_folder_of_two_does(alice, account, bob_account):
    """One request, the same queries and key operations (one wrap), whatever lies below the folder; and the
    recipient lists and downloads inside the big one."""
    from bench.bench_listing import seed
    from bench.bench_sharing import counted
    from tests.vault.conftest import keys_for
    from vault.models import Folder

    small, _ = folder_with_files(alice, name="small", files=[(f"{i}.txt", b"x") for i in range(2)])
    big, files = folder_with_files(alice, name="big", files=[("real.txt", b"downloadable")])
    seed(account.user, keys_for(account), Folder.objects.get(pk=big["id"]), 5000)
    costs = []
    for folder in (small, big):
        with counted() as cost:
            assert share(alice, folder["id"]).status_code == 201
        costs.append(cost)
    assert costs[0] == costs[1] and costs[1]["x25519"] == 1, costs
    bob = bearer(bob_account)
    page = bob.get("/api/v1/files/", {"folder": big["id"], "page_size": 100}).json()
    assert page["count"] == 5001 and len(page["results"]) == 100
    assert content(bob.get(f"/api/v1/files/{files['real.txt']}/content")) == b"downloadable"


def test_the_data_export_lists_shares_made_and_received(alice, bob_account):
    import json

    folder, _ = folder_with_files(alice)
    share(alice, folder["id"])
    made = json.loads(content(alice.get("/api/v1/me/data")))["shares"]
    assert [(s["direction"], s["recipient"], s["item"]) for s in made] == [("made", "bob", folder["id"])]
    received = json.loads(content(bearer(bob_account).get("/api/v1/me/data")))["shares"]
    assert [(s["direction"], s["owner"], s["permission"]) for s in received] == [("received", "alice", "view")]


# --- revocation rotates the item's key ------------------------------------------------------------------------


def _kept_key(bob_account, kind, item):
    """The key the recipient could have copied while the share lasted."""
    from tests.vault.conftest import keys_for
    from vault.keys import ReceivedKeys

    return ReceivedKeys(bob_account.user.pk, keys_for(bob_account).udk).key(kind, item)


def test_after_revoking_a_file_share_a_new_version_is_out_of_reach_of_the_kept_key(alice, account, bob_account):
    from locker.crypto.keys import unwrap_with_key
    from vault.keys import aad_content_key
    from vault.models import File

    _, files = folder_with_files(alice)
    share_id = share(alice, files["a.txt"]).json()["id"]
    file = File.objects.get(pk=files["a.txt"])
    kept = _kept_key(bob_account, "file", file)
    first = file.current_version
    assert unwrap_with_key(first.content_key_wrapped, kept, aad=aad_content_key(account.user.pk, first.pk))

    assert alice.delete(f"/api/v1/shares/{share_id}/").status_code == 204
    upload = [SimpleUploadedFile("a.txt", b"written after")]
    folder_id = str(file.folder_id)
    assert alice.post("/api/v1/files/", {"file": upload, "folder": folder_id}, format="multipart").status_code == 201
    file.refresh_from_db()
    newer = file.current_version
    assert newer.number == 2
    for version in (first, newer):  # every wrap moved to the new key: the kept one opens none
        version.refresh_from_db()
        with pytest.raises(DecryptionError):
            unwrap_with_key(version.content_key_wrapped, kept, aad=aad_content_key(account.user.pk, version.pk))
    assert content(alice.get(f"/api/v1/files/{file.pk}/content")) == b"written after"
    assert content(alice.get(f"/api/v1/files/{file.pk}/versions/1/content")) == b"alpha"
    assert alice.get(f"/api/v1/files/{file.pk}/").json()["name"] == "a.txt"


def test_after_revoking_a_folder_share_a_new_file_is_out_of_reach_of_the_kept_key(alice, account, bob_account, db):
    from locker.crypto.keys import unwrap_with_key
    from vault.keys import aad_file_key
    from vault.models import File, Folder

    folder, files = folder_with_files(alice)
    sub = alice.post("/api/v1/folders/", {"name": "sub", "parent": folder["id"]}, format="json").json()
    note = alice.post("/api/v1/notes/", {"title": "n", "body": "b", "folder": folder["id"]}, format="json").json()
    carol = make_account("carol")
    revoked = share(alice, folder["id"]).json()["id"]
    share(alice, folder["id"], username="carol")
    kept = _kept_key(bob_account, "folder", Folder.objects.get(pk=folder["id"]))

    assert alice.delete(f"/api/v1/shares/{revoked}/").status_code == 204
    from activity.models import Event

    event = Event.objects.get(action="share.revoked")
    assert event.data["rewrapped"] == 3 + 4 + 1  # the folder's own three, four children, carol's wrap
    upload = [SimpleUploadedFile("new.txt", b"new")]
    new = alice.post("/api/v1/files/", {"file": upload, "folder": folder["id"]}, format="multipart").json()[0]
    row = File.objects.get(pk=new["file"]["id"])
    with pytest.raises(DecryptionError):
        unwrap_with_key(row.key_wrapped, kept, aad=aad_file_key(account.user.pk, row.pk))

    # the owner and the remaining recipient read everything as before; names stay unique in the folder
    names = sorted(f["name"] for f in alice.get("/api/v1/files/", {"folder": folder["id"]}).json()["results"])
    assert names == ["a.txt", "b.txt", "new.txt"]
    assert alice.get(f"/api/v1/folders/{sub['id']}/").json()["name"] == "sub"
    assert alice.get(f"/api/v1/notes/{note['id']}/").json()["body"] == "b"
    again = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("a.txt", b"v2")], "folder": folder["id"]})
    assert again.json()[0]["created"] is False  # same name: a new version, so the name MAC was redone right
    clash = alice.post("/api/v1/folders/", {"name": "sub", "parent": folder["id"]}, format="json")
    assert clash.status_code == 409
    carol_api = bearer(carol)
    assert content(carol_api.get(f"/api/v1/files/{files['b.txt']}/content")) == b"beta"
    assert carol_api.get(f"/api/v1/notes/{note['id']}/").json()["title"] == "n"
    assert bearer(bob_account).get(f"/api/v1/folders/{folder['id']}/").status_code == 404


def test_after_revoking_a_note_share_its_texts_move_to_a_new_key(alice, account, bob_account):
    from locker.crypto.aead import context
    from vault.keys import open_text
    from vault.models import Note

    note = alice.post("/api/v1/notes/", {"title": "t1", "body": "b1", "tags": ["x"]}, format="json").json()
    alice.patch(f"/api/v1/notes/{note['id']}/", {"body": "b2"}, format="json")
    share_id = share(alice, note["id"]).json()["id"]
    kept = _kept_key(bob_account, "note", Note.objects.get(pk=note["id"]))
    assert alice.delete(f"/api/v1/shares/{share_id}/").status_code == 204
    row = Note.objects.get(pk=note["id"])
    with pytest.raises(DecryptionError):
        open_text(kept, row.body_sealed, aad=context("note-body", account.user.pk, row.pk, row.version))
    opened = alice.get(f"/api/v1/notes/{note['id']}/").json()
    assert (opened["title"], opened["body"], opened["tags"]) == ("t1", "b2", ["x"])
    assert alice.get(f"/api/v1/notes/{note['id']}/versions/1/").json()["body"] == "b1"


# --- what the edit and delete permissions let a recipient do ------------------------------------------------


def _events(user, action):
    from activity.models import Event

    return list(Event.objects.filter(user=user, action=action).order_by("created_at"))


def test_an_edit_recipient_uploads_renames_and_adds_in_the_owners_vault(alice, account, bob_account):
    from accounts.models import User

    folder, files = folder_with_files(alice)
    share(alice, folder["id"], permission="edit")
    bob = bearer(bob_account)
    alice_used = User.objects.get(pk=account.user.pk).storage_used
    bob_used = User.objects.get(pk=bob_account.user.pk).storage_used

    put = bob.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("from-bob.txt", b"bob wrote")], "folder": folder["id"]}
    )
    assert put.status_code == 201, put.content
    new_id = put.json()[0]["file"]["id"]
    assert bob.patch(f"/api/v1/files/{files['a.txt']}/", {"name": "renamed.txt"}, format="json").status_code == 200
    version = bob.post("/api/v1/files/", {"file": [SimpleUploadedFile("b.txt", b"beta 2")], "folder": folder["id"]})
    assert version.json()[0]["created"] is False
    sub = bob.post("/api/v1/folders/", {"name": "bob's", "parent": folder["id"]}, format="json")
    assert sub.status_code == 201
    note = bob.post("/api/v1/notes/", {"title": "from bob", "folder": folder["id"]}, format="json")
    assert note.status_code == 201

    # the owner sees it all, attributed to bob; the owner's quota paid, bob's did not
    names = sorted(f["name"] for f in alice.get("/api/v1/files/", {"folder": folder["id"]}).json()["results"])
    assert names == ["b.txt", "from-bob.txt", "renamed.txt"]
    assert content(alice.get(f"/api/v1/files/{new_id}/content")) == b"bob wrote"
    versions = alice.get(f"/api/v1/files/{files['b.txt']}/versions/").json()["results"]
    assert [(v["number"], v["author"]) for v in versions] == [(2, "bob"), (1, "alice")]
    assert content(alice.get(f"/api/v1/files/{files['b.txt']}/content")) == b"beta 2"
    assert User.objects.get(pk=account.user.pk).storage_used > alice_used
    assert User.objects.get(pk=bob_account.user.pk).storage_used == bob_used
    assert [e.data["by"] for e in _events(account.user, "file.renamed")] == ["bob"]
    assert [e.data["owner"] for e in _events(bob_account.user, "file.uploaded")] == ["alice"]
    assert alice.get(f"/api/v1/folders/{sub.json()['id']}/").json()["name"] == "bob's"
    assert alice.get(f"/api/v1/notes/{note.json()['id']}/").json()["title"] == "from bob"
    assert bob.get("/api/v1/files/", {"all": "1"}).json()["results"] == []  # nothing landed in bob's own vault


def test_the_owner_finds_what_a_recipient_added_or_renamed(alice, bob_account):
    folder, files = folder_with_files(alice)
    share(alice, folder["id"], permission="edit")
    bob = bearer(bob_account)
    bob.post("/api/v1/files/", {"file": [SimpleUploadedFile("quarterly report.txt", b"x")], "folder": folder["id"]})
    bob.patch(f"/api/v1/files/{files['a.txt']}/", {"name": "zebra.txt", "tags": ["striped"]}, format="json")

    def found(query):
        return sorted(r["name"] for r in alice.get("/api/v1/search", {"q": query}).json()["results"])

    assert found("quarterly") == ["quarterly report.txt"]
    assert found("zebra") == ["zebra.txt"]
    assert found("alpha") == ["zebra.txt"]  # its content words stay
    assert found("a.txt") == [] and found("striped") == ["zebra.txt"]  # its old name's went
    assert [t["tag"] for t in alice.get("/api/v1/tags/").json()["results"]] == ["striped"]


def test_moves_stay_inside_the_share_and_out_of_other_vaults(alice, bob_account):
    folder, files = folder_with_files(alice)
    other, _ = folder_with_files(alice, name="private", files=(("p.txt", b"p"),))
    sub = alice.post("/api/v1/folders/", {"name": "sub", "parent": folder["id"]}, format="json").json()
    share(alice, folder["id"], permission="edit")
    bob = bearer(bob_account)
    own = bob.post("/api/v1/folders/", {"name": "mine"}, format="json").json()
    inside = bob.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": sub["id"]}, format="json")
    assert inside.status_code == 200
    assert bob.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": other["id"]}, format="json").status_code == 404
    to_his = bob.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": own["id"]}, format="json")
    assert to_his.status_code == 400 and to_his.json()["code"] == "other_vault"
    to_top = bob.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": None}, format="json")
    assert to_top.status_code == 400 and to_top.json()["code"] == "other_vault"
    assert alice.get("/api/v1/files/", {"folder": sub["id"]}).json()["results"][0]["name"] == "a.txt"

    # the owner moving a file out of the shared folder takes it out of the share
    assert alice.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": other["id"]}, format="json").status_code == 200
    assert bob.get(f"/api/v1/files/{files['a.txt']}/").status_code == 404
    assert alice.patch(f"/api/v1/files/{files['a.txt']}/", {"folder": folder["id"]}, format="json").status_code == 200
    assert content(bob.get(f"/api/v1/files/{files['a.txt']}/content")) == b"alpha"


def test_only_a_delete_recipient_trashes_and_it_lands_in_the_owners_trash(alice, bob_account):
    folder, files = folder_with_files(alice)
    share_id = share(alice, folder["id"], permission="edit").json()["id"]
    bob = bearer(bob_account)
    assert bob.delete(f"/api/v1/files/{files['a.txt']}/").status_code == 404
    alice.patch(f"/api/v1/shares/{share_id}/", {"permission": "delete"}, format="json")
    assert bob.delete(f"/api/v1/files/{files['a.txt']}/").status_code == 204
    assert bob.get(f"/api/v1/files/{files['a.txt']}/").status_code == 404
    assert [e["id"] for e in alice.get("/api/v1/trash/").json()["results"]] == [files["a.txt"]]
    assert bob.get("/api/v1/trash/").json()["results"] == []
    restored = alice.post(f"/api/v1/trash/{files['a.txt']}/restore")
    assert restored.status_code == 200
    assert content(bob.get(f"/api/v1/files/{files['a.txt']}/content")) == b"alpha"


def test_at_rest_shares_links_and_recipients_changes_hold_no_marker(alice, bob_account, blob_dir):
    """Names, tags and content written by the owner and by a recipient, pending index changes, shares and a
    password link: no table and no blob holds a marker, the link's token or its password in clear."""
    from tests.vault.conftest import blob_files

    marker = "wombatquill"
    folder = alice.post("/api/v1/folders/", {"name": f"{marker} folder", "tags": [f"{marker}tag"]}, format="json")
    folder = folder.json()
    share(alice, folder["id"], permission="edit")
    bob = bearer(bob_account)
    upload = [SimpleUploadedFile(f"{marker} by bob.txt", f"the {marker} words".encode())]
    added = bob.post("/api/v1/files/", {"file": upload, "folder": folder["id"], "tags": f"{marker}x"})
    assert added.status_code == 201
    note = bob.post("/api/v1/notes/", {"title": marker, "body": marker, "folder": folder["id"]}, format="json")
    assert note.status_code == 201
    password = f"{marker} pass"
    body = {"item": folder["id"], "expires_at": (timezone_now() + timedelta(days=1)).isoformat(), "password": password}
    link = alice.post("/api/v1/links/", body, format="json").json()
    token = link["url"].rsplit("/s/", 1)[1]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                text = " ".join(str(v) for v in row if v is not None)
                assert marker not in text.lower() and token not in text, table
    for path in blob_files(blob_dir):
        data = path.read_bytes()
        assert marker.encode() not in data.lower() and token.encode() not in data
    assert [r["name"] for r in alice.get("/api/v1/search", {"q": "wombatquill by"}).json()["results"]] == [
        f"{marker} by bob.txt"
    ]


def test_a_recipient_searches_names_and_tags_inside_a_shared_folder_and_nothing_else(alice, bob_account):
    folder, files = folder_with_files(alice, files=(("quarterly report.pdf", b"x"), ("holiday.jpg", b"y")))
    sub = alice.post("/api/v1/folders/", {"name": "reports", "parent": folder["id"]}, format="json").json()
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("annual report.txt", b"z")], "folder": sub["id"]})
    alice.patch(f"/api/v1/files/{files['holiday.jpg']}/", {"tags": ["quarterly"]}, format="json")
    private = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("report secret.txt", b"s")]})
    assert private.status_code == 201
    share(alice, folder["id"])
    bob = bearer(bob_account)

    def found(query, **params):
        response = bob.get("/api/v1/search", {"q": query, "folder": folder["id"], **params})
        assert response.status_code == 200, response.content
        return sorted(r["name"] for r in response.json()["results"])

    assert found("report") == ["quarterly report.pdf", "reports"]
    assert found("report", recursive="1") == ["annual report.txt", "quarterly report.pdf", "reports"]
    assert found("quart") == ["holiday.jpg", "quarterly report.pdf"]  # a prefix, in a name or a tag
    assert found("quarterly report") == ["quarterly report.pdf"]  # every word
    assert found("secret", recursive="1") == []  # the owner's other items stay out of reach
    assert bob.get("/api/v1/search", {"q": "report"}).json()["results"] == []  # his own vault: nothing


def test_a_recipient_finds_the_content_words_of_files_and_notes_inside_a_shared_folder(alice, bob_account):
    """Content words reach a recipient through the sealed word list of each version (opened with the share's keys),
    never through the owner's index keys: the owner's other files with the same words stay out of reach."""
    folder, files = folder_with_files(
        alice, files=(("minutes.txt", b"The wombatquill migrates northward in May."), ("plain.txt", b"nothing"))
    )
    sub = alice.post("/api/v1/folders/", {"name": "deeper", "parent": folder["id"]}, format="json").json()
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("deep.txt", b"wombatquill again")], "folder": sub["id"]})
    note = alice.post(
        "/api/v1/notes/", {"title": "Diary", "body": "a *northward* walk", "folder": folder["id"]}, format="json"
    )
    assert note.status_code == 201, note.content
    private = alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("own.txt", b"wombatquill in private")]})
    assert private.status_code == 201
    assert share(alice, folder["id"], permission="edit").status_code == 201
    bob = bearer(bob_account)

    def found(query, **params):
        response = bob.get("/api/v1/search", {"q": query, "folder": folder["id"], **params})
        assert response.status_code == 200, response.content
        return sorted(r["name"] for r in response.json()["results"])

    assert found("wombatquill") == ["minutes.txt"]
    assert found("wombatq", recursive="1") == ["deep.txt", "minutes.txt"]  # a prefix of a content word
    assert found("northward") == ["Diary", "minutes.txt"]  # a note's text too
    assert found("northward wombatquill") == ["minutes.txt"]  # every word, across fields
    assert found("wombatquills") == [] and found("private", recursive="1") == []
    hit = bob.get("/api/v1/search", {"q": "migrates", "folder": folder["id"]}).json()["results"][0]
    assert "wombatquill migrates northward" in hit["snippet"]  # the words around it, opened with the share's keys

    # what the recipient writes is found by both: by him through its word list, by the owner through her index
    written = bob.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("by bob.txt", b"zebrafinch sightings")], "folder": folder["id"]}
    )
    assert written.status_code == 201, written.content
    assert found("zebrafinch") == ["by bob.txt"]
    assert [r["name"] for r in alice.get("/api/v1/search", {"q": "zebrafinch"}).json()["results"]] == ["by bob.txt"]
    # a new version's words replace the old ones
    put = bob.generic(
        "PUT", f"/api/v1/files/{files['minutes.txt']}/content", b"quiet now", content_type="application/octet-stream"
    )
    assert put.status_code == 200, put.content
    assert found("wombatquill") == [] and found("quiet") == ["minutes.txt"]


def test_files_stored_before_word_lists_were_kept_get_them_when_the_owner_reindexes(alice, account, bob_account):
    from vault.models import ContentWords

    folder, _ = folder_with_files(alice, files=(("old.txt", b"heliotrope summary"),))
    share(alice, folder["id"])
    ContentWords.objects.all().delete()  # as stored by an earlier release
    bob = bearer(bob_account)
    assert bob.get("/api/v1/search", {"q": "heliotrope", "folder": folder["id"]}).json()["results"] == []
    assert alice.post("/api/v1/search/reindex").status_code == 200
    results = bob.get("/api/v1/search", {"q": "heliotrope", "folder": folder["id"]}).json()["results"]
    assert [r["name"] for r in results] == ["old.txt"]
    assert ContentWords.objects.count() == 1


def test_a_revoked_recipient_finds_nothing_more(alice, bob_account):
    folder, _ = folder_with_files(alice, files=(("kept.txt", b"marmalade recipe"),))
    made = share(alice, folder["id"]).json()
    bob = bearer(bob_account)
    assert len(bob.get("/api/v1/search", {"q": "marmalade", "folder": folder["id"]}).json()["results"]) == 1
    assert alice.delete(f"/api/v1/shares/{made['id']}/").status_code == 204
    after = bob.get("/api/v1/search", {"q": "marmalade", "folder": folder["id"]})
    assert after.status_code == 404, after.content  # the folder is a stranger's again
    assert bob.get("/api/v1/search", {"q": "marmalade"}).json()["results"] == []


def test_a_recipient_with_little_storage_of_their_own_writes_into_a_share_at_the_owners_expense(alice, bob_account):
    """The early size check (before the body is read) asks the quota of whoever pays: the owner."""
    from accounts.models import User

    folder, files = folder_with_files(alice)
    assert share(alice, folder["id"], permission="edit").status_code == 201
    User.objects.filter(pk=bob_account.user.pk).update(storage_quota=1000)
    bob = bearer(bob_account)
    data = b"v" * 3 * 1024 * 1024  # far beyond bob's 1,000 bytes, within alice's quota
    put = bob.generic("PUT", f"/api/v1/files/{files['a.txt']}/content", data, content_type="application/octet-stream")
    assert put.status_code == 200, put.content
    posted = bob.post(
        "/api/v1/files/", {"file": [SimpleUploadedFile("big.bin", data)], "folder": folder["id"]}, format="multipart"
    )
    assert posted.status_code == 201, posted.content
    mine = bob.post("/api/v1/files/", {"file": [SimpleUploadedFile("mine.bin", data)]}, format="multipart")
    assert (mine.status_code, mine.json()["code"]) == (413, "quota_exceeded")  # his own storage: his quota
    assert User.objects.get(pk=bob_account.user.pk).storage_used == 0


@pytest.mark.django_db(transaction=True)
def test_two_users_sharing_with_each_other_at_once_never_deadlock(account, other_account):
    """Each share writes to both users' logs: the chains are locked in one order, so opposite shares wait in turn
    (on PostgreSQL a lock cycle would abort one of them)."""
    import threading

    from tests.vault.conftest import keys_for
    from vault.sharing import services as sharing

    sides = []
    for me, them in ((account, "bob"), (other_account, "alice")):
        api = bearer(me)
        folders = [api.post("/api/v1/folders/", {"name": f"f{n}"}, format="json").json()["id"] for n in range(6)]
        sides.append((me.user, keys_for(me), them, folders))
    errors = []

    def run(user, keys, them, folders):
        from django.db import connection as thread_connection

        try:
            for folder in folders:
                share = sharing.share_create(user=user, keys=keys, item_id=folder, username=them, permission="view")
                sharing.share_update(user=user, share_id=share.pk, permission="edit")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=side) for side in sides]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Share.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_two_users_writing_into_each_others_shares_at_once_never_deadlock(account, other_account):
    """A recipient's write is an event in both logs: the chains are locked in one order first."""
    import threading

    sides = []
    for me, them in ((account, "bob"), (other_account, "alice")):
        api = bearer(me)
        folder = api.post("/api/v1/folders/", {"name": "drop"}, format="json").json()["id"]
        assert share(api, folder, username=them, permission="edit").status_code == 201
        sides.append(folder)
    errors = []

    def run(me, folder):
        from django.db import connection as thread_connection

        try:
            api = bearer(me)
            for n in range(6):
                answer = api.post("/api/v1/files/", {"file": [SimpleUploadedFile(f"{n}.txt", b"x")], "folder": folder})
                if answer.status_code != 201:
                    errors.append(answer.content)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            thread_connection.close()

    # alice writes into bob's folder while bob writes into alice's
    threads = [
        threading.Thread(target=run, args=(account, sides[1])),
        threading.Thread(target=run, args=(other_account, sides[0])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
