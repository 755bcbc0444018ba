"""Stars, the Starred and Recent views, storage by kind, and zips of a selection or a folder (browse_apis)."""

import io
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from activity.models import Event
from locker.crypto.errors import CryptoError
from tests.vault.conftest import bearer, content
from vault.models import FileVersion, Star

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(account):
    return bearer(account)


@pytest.fixture
def bob(other_account):
    return bearer(other_account)


def folder(api, name, parent=None):
    response = api.post("/api/v1/folders/", {"name": name, "parent": parent}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def upload(api, name, data, folder_id=None, content_type="application/octet-stream"):
    body = {"file": [SimpleUploadedFile(name, data, content_type=content_type)]}
    if folder_id:
        body["folder"] = folder_id
    response = api.post("/api/v1/files/", body)
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def tree(api):
    """docs/ (a.txt, sub/ (b.bin), empty/) and top.txt at the top."""
    docs = folder(api, "docs")
    sub = folder(api, "sub", docs["id"])
    empty = folder(api, "empty", docs["id"])
    a = upload(api, "a.txt", b"alpha", docs["id"])
    b = upload(api, "b.bin", bytes(range(256)) * 400, sub["id"])
    top = upload(api, "top.txt", b"top")
    return {"docs": docs, "sub": sub, "empty": empty, "a": a, "b": b, "top": top}


def unzip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip" and response.streaming
    return zipfile.ZipFile(io.BytesIO(content(response)))


# --- stars -----------------------------------------------------------------------------------


def test_star_and_unstar_a_file_and_a_folder_show_in_listings_and_the_starred_view(alice):
    t = tree(alice)
    assert alice.put(f"/api/v1/files/{t['top']['id']}/star").status_code == 204
    assert alice.put(f"/api/v1/files/{t['top']['id']}/star").status_code == 204  # idempotent
    assert alice.put(f"/api/v1/folders/{t['docs']['id']}/star").status_code == 204
    assert Star.objects.count() == 2
    files = alice.get("/api/v1/files/").json()["results"]
    assert {f["name"]: f["starred"] for f in files} == {"top.txt": True}
    folders = alice.get("/api/v1/folders/").json()["results"]
    assert {f["name"]: f["starred"] for f in folders} == {"docs": True}
    assert alice.get(f"/api/v1/files/{t['a']['id']}/").json()["starred"] is False
    starred = alice.get("/api/v1/starred/").json()
    assert [(row["kind"], (row.get("folder") or row.get("file"))["name"]) for row in starred["results"]] == [
        ("folder", "docs"),
        ("file", "top.txt"),
    ]
    assert alice.delete(f"/api/v1/files/{t['top']['id']}/star").status_code == 204
    assert alice.delete(f"/api/v1/files/{t['top']['id']}/star").status_code == 204
    assert [row["kind"] for row in alice.get("/api/v1/starred/").json()["results"]] == ["folder"]


def test_a_star_stores_ids_only():
    names = {f.name for f in Star._meta.get_fields()}
    assert names == {"id", "user", "folder", "file", "created_at"}


def test_a_trashed_starred_item_leaves_the_starred_view_and_comes_back_with_a_restore(alice):
    t = tree(alice)
    alice.put(f"/api/v1/files/{t['top']['id']}/star")
    assert alice.delete(f"/api/v1/files/{t['top']['id']}/").status_code == 204
    assert alice.get("/api/v1/starred/").json()["results"] == []
    assert alice.put(f"/api/v1/files/{t['top']['id']}/star").status_code == 404  # a trashed item is not starred
    assert alice.post(f"/api/v1/trash/{t['top']['id']}/restore").status_code in (200, 204)
    assert [row["file"]["name"] for row in alice.get("/api/v1/starred/").json()["results"]] == ["top.txt"]


def test_stars_are_per_user_and_another_users_item_is_404(alice, bob):
    t = tree(alice)
    for path in (f"files/{t['top']['id']}", f"folders/{t['docs']['id']}", f"files/{uuid.uuid4()}"):
        assert bob.put(f"/api/v1/{path}/star").status_code == 404
        assert bob.delete(f"/api/v1/{path}/star").status_code == 404
    assert bob.put("/api/v1/files/not-a-uuid/star").status_code == 404
    alice.put(f"/api/v1/files/{t['top']['id']}/star")
    assert bob.get("/api/v1/starred/").json()["results"] == []


def test_a_recipient_stars_a_shared_folder_and_loses_it_from_the_view_when_the_share_ends(alice, bob):
    t = tree(alice)
    shared = alice.post(
        "/api/v1/shares/", {"item": t["docs"]["id"], "username": "bob", "permission": "view"}, format="json"
    )
    assert shared.status_code == 201, shared.content
    assert bob.put(f"/api/v1/folders/{t['docs']['id']}/star").status_code == 204
    assert bob.put(f"/api/v1/files/{t['b']['id']}/star").status_code == 204  # inside the shared folder
    rows = bob.get("/api/v1/starred/").json()["results"]
    assert sorted((row.get("folder") or row.get("file"))["name"] for row in rows) == ["b.bin", "docs"]
    assert alice.get("/api/v1/starred/").json()["results"] == []  # bob's stars are his
    assert alice.delete(f"/api/v1/shares/{shared.json()['id']}/").status_code == 204
    assert bob.get("/api/v1/starred/").json()["results"] == []


def test_starred_flags_cost_one_query_for_a_whole_listing(alice, django_assert_max_num_queries):
    docs = folder(alice, "many")
    for i in range(12):
        f = upload(alice, f"f{i}.txt", b"x", docs["id"])
        alice.put(f"/api/v1/files/{f['id']}/star")
    with CaptureQueriesContext(connection) as few:
        alice.get(f"/api/v1/files/?folder={docs['id']}&page_size=2")
    with CaptureQueriesContext(connection) as many:
        rows = alice.get(f"/api/v1/files/?folder={docs['id']}&page_size=12").json()["results"]
    assert all(row["starred"] for row in rows) and len(rows) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


# --- recent ----------------------------------------------------------------------------------


def test_recent_lists_what_was_last_uploaded_changed_or_opened_newest_first(alice):
    t = tree(alice)
    assert content(alice.get(f"/api/v1/files/{t['a']['id']}/content")) == b"alpha"  # opened last
    rows = alice.get("/api/v1/recent/").json()["results"]
    names = [row["file"]["name"] for row in rows]
    assert names[0] == "a.txt" and rows[0]["action"] == "file.downloaded"
    assert sorted(names) == ["a.txt", "b.bin", "top.txt"]  # each once
    assert alice.patch(f"/api/v1/files/{t['b']['id']}/", {"name": "renamed.bin"}, format="json").status_code == 200
    rows = alice.get("/api/v1/recent/?limit=2").json()["results"]
    assert [row["file"]["name"] for row in rows] == ["renamed.bin", "a.txt"]
    alice.delete(f"/api/v1/files/{t['a']['id']}/")
    assert "a.txt" not in [row["file"]["name"] for row in alice.get("/api/v1/recent/").json()["results"]]


def test_recent_is_the_readers_own_use_not_what_a_recipient_did(alice, bob):
    t = tree(alice)
    alice.post("/api/v1/shares/", {"item": t["docs"]["id"], "username": "bob", "permission": "view"}, format="json")
    assert content(bob.get(f"/api/v1/files/{t['b']['id']}/content")) == bytes(range(256)) * 400
    assert [row["file"]["name"] for row in bob.get("/api/v1/recent/").json()["results"]] == ["b.bin"]
    alice_rows = alice.get("/api/v1/recent/").json()["results"]
    assert alice_rows[0]["file"]["name"] == "top.txt"  # her own last upload, not bob's download


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_recent_refuses_a_bad_limit(alice, limit):
    response = alice.get(f"/api/v1/recent/?limit={limit}")
    assert response.status_code == 400 and response.json()["errors"]["limit"]


# --- storage by kind -------------------------------------------------------------------------


def test_storage_by_kind_adds_up_to_what_the_quota_counts(alice):
    upload(alice, "p.png", b"\x89PNG" + b"x" * 5000, content_type="image/png")
    upload(alice, "t.txt", b"hello " * 100, content_type="text/plain")
    upload(alice, "s.mp3", b"ID3" + b"y" * 3000, content_type="audio/mpeg")
    upload(alice, "z.bin", bytes(range(256)) * 3)
    storage = alice.get("/api/v1/me/storage").json()
    me = alice.get("/api/v1/me").json()
    kinds = {k["kind"]: k for k in storage["kinds"]}
    assert list(kinds) == ["images", "videos", "audio", "documents", "other"]
    assert kinds["videos"] == {"kind": "videos", "bytes": 0, "files": 0}
    for kind in ("images", "audio", "documents", "other"):
        assert kinds[kind]["files"] == 1 and kinds[kind]["bytes"] > 0, kinds
    assert storage["used"] == me["usage"] and storage["quota"] == me["quota"]
    assert sum(k["bytes"] for k in storage["kinds"]) + storage["rest"] == storage["used"]


def test_storage_counts_older_versions_and_the_trash_apart(alice):
    f = upload(alice, "t.txt", b"one")
    alice.put(f"/api/v1/files/{f['id']}/content", data=b"two two", content_type="application/octet-stream")
    gone = upload(alice, "gone.txt", b"bye")
    alice.delete(f"/api/v1/files/{gone['id']}/")
    storage = alice.get("/api/v1/me/storage").json()
    documents = {k["kind"]: k for k in storage["kinds"]}["documents"]
    assert documents["files"] == 1 and storage["rest"] > 0
    assert sum(k["bytes"] for k in storage["kinds"]) + storage["rest"] == storage["used"]


# --- archives --------------------------------------------------------------------------------


def test_a_selection_downloads_as_one_zip_with_folders_whole_and_empty_folders_kept(alice):
    t = tree(alice)
    response = alice.post(
        "/api/v1/archive", {"files": [t["top"]["id"]], "folders": [t["docs"]["id"]], "name": "mine"}, format="json"
    )
    archive = unzip(response)
    assert "mine.zip" in response["Content-Disposition"]
    assert sorted(archive.namelist()) == ["docs/a.txt", "docs/empty/", "docs/sub/b.bin", "top.txt"]
    assert archive.read("docs/sub/b.bin") == bytes(range(256)) * 400
    assert archive.read("docs/a.txt") == b"alpha" and archive.read("top.txt") == b"top"
    archived = Event.objects.filter(action="file.downloaded", data__archive=True)
    assert archived.count() == 3


def test_a_form_post_downloads_a_zip_as_a_page_does(account, alice):
    t = tree(alice)
    browser = Client()
    assert browser.post("/login", {"username": account.user.username, "password": account.password}).status_code == 302
    browser.handler.enforce_csrf_checks = True
    token = browser.get("/files/").cookies["csrftoken"].value
    response = browser.post("/api/v1/archive", {"files": [t["a"]["id"], t["top"]["id"]], "csrfmiddlewaretoken": token})
    assert sorted(unzip(response).namelist()) == ["a.txt", "top.txt"]
    assert browser.post("/api/v1/archive", {"files": [t["a"]["id"]]}).status_code == 403  # no CSRF token


def test_a_folder_downloads_as_a_zip_named_after_it(alice):
    t = tree(alice)
    response = alice.get(f"/api/v1/folders/{t['docs']['id']}/archive")
    assert sorted(unzip(response).namelist()) == ["docs/a.txt", "docs/empty/", "docs/sub/b.bin"]
    assert "docs.zip" in response["Content-Disposition"]
    one = alice.post("/api/v1/archive", {"folders": [t["sub"]["id"]]}, format="json")
    assert "sub.zip" in one["Content-Disposition"] and unzip(one).namelist() == ["sub/b.bin"]


def test_same_names_in_a_selection_do_not_overwrite_each_other(alice):
    x = folder(alice, "x")
    y = folder(alice, "y")
    a1 = upload(alice, "same.txt", b"one", x["id"])
    a2 = upload(alice, "same.txt", b"two", y["id"])
    a3 = upload(alice, "SAME.TXT", b"three")
    archive = unzip(alice.post("/api/v1/archive", {"files": [a1["id"], a2["id"], a3["id"]]}, format="json"))
    assert (
        sorted(archive.namelist(), key=str.casefold) == ["same (2).txt", "SAME (3).TXT", "same.txt"]
        or len({n.casefold() for n in archive.namelist()}) == 3
    )
    assert sorted(archive.read(n) for n in archive.namelist()) == [b"one", b"three", b"two"]


def test_trashed_items_inside_a_folder_are_left_out_of_its_zip(alice):
    t = tree(alice)
    alice.delete(f"/api/v1/folders/{t['sub']['id']}/")
    assert sorted(unzip(alice.get(f"/api/v1/folders/{t['docs']['id']}/archive")).namelist()) == [
        "docs/a.txt",
        "docs/empty/",
    ]


def test_a_recipient_zips_a_shared_folder_and_the_owner_hears_of_the_downloads(alice, bob, other_account):
    t = tree(alice)
    alice.post("/api/v1/shares/", {"item": t["docs"]["id"], "username": "bob", "permission": "view"}, format="json")
    archive = unzip(bob.get(f"/api/v1/folders/{t['docs']['id']}/archive"))
    assert sorted(archive.namelist()) == ["docs/a.txt", "docs/empty/", "docs/sub/b.bin"]
    heard = Event.objects.filter(action="file.downloaded", data__by="bob")
    assert heard.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"files": []},
        {"files": [], "folders": []},
        {"files": "not-a-list"},
        {"files": ["not-a-uuid"]},
        {"files": [12]},
        {"folders": [None]},
        {"files": [str(uuid.uuid4())] * 1001},
        {"files": None},
        {"name": ["x"], "files": []},
    ],
)
def test_a_bad_archive_request_is_a_400(alice, body):
    response = alice.post("/api/v1/archive", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"]


def test_another_users_or_unknown_ids_are_404_before_any_byte(alice, bob):
    t = tree(alice)
    mine = upload(bob, "mine.txt", b"bob's")
    for body in (
        {"files": [t["top"]["id"]]},
        {"folders": [t["docs"]["id"]]},
        {"files": [mine["id"], t["top"]["id"]]},  # one of them not his: the whole zip is refused
        {"files": [str(uuid.uuid4())]},
    ):
        response = bob.post("/api/v1/archive", body, format="json")
        assert response.status_code == 404 and not response.streaming, body
    assert bob.get(f"/api/v1/folders/{t['docs']['id']}/archive").status_code == 404
    assert not Event.objects.filter(action="file.downloaded").exists()


def test_hostile_names_stay_inside_the_zip(alice):
    assert alice.post("/api/v1/folders/", {"name": ".."}, format="json").status_code == 400  # refused at the door
    f = folder(alice, "outer")
    g = folder(alice, "sub", f["id"])
    upload(alice, "..\\evil.txt", b"e", g["id"])
    response = alice.post("/api/v1/archive", {"folders": [f["id"]], "name": "../../etc/passwd"}, format="json")
    archive = unzip(response)
    for name in archive.namelist():
        assert not name.startswith("/") and ".." not in name.split("/"), name
    assert "/" not in response["Content-Disposition"].split("filename", 1)[1].replace("filename*=utf-8''", "")


# --- an item's own activity (the details panel) ----------------------------------------------


def test_the_activity_of_one_item_and_only_the_readers(alice, bob):
    t = tree(alice)
    alice.patch(f"/api/v1/files/{t['a']['id']}/", {"name": "renamed.txt"}, format="json")
    rows = alice.get(f"/api/v1/activity/?object={t['a']['id']}").json()["results"]
    assert [row["action"] for row in rows] == ["file.renamed", "file.uploaded"]
    assert all(row["object_id"] == t["a"]["id"] for row in rows)
    assert "renamed.txt" in rows[0]["summary"]
    assert bob.get(f"/api/v1/activity/?object={t['a']['id']}").json()["results"] == []  # not his log
    bad = alice.get("/api/v1/activity/?object=not-an-id")
    assert bad.status_code == 400 and "object" in bad.json()["errors"]


def test_a_file_damaged_at_rest_ends_the_zip_early_instead_of_zipping_wrong_bytes(alice, blob_dir):
    t = tree(alice)
    path = blob_dir / FileVersion.objects.get(file_id=t["top"]["id"]).blob
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(bytes(raw))
    response = alice.post("/api/v1/archive", {"files": [t["a"]["id"], t["top"]["id"]]}, format="json")
    assert response.status_code == 200
    with pytest.raises(CryptoError):  # the server aborts the stream: the zip is visibly incomplete
        b"".join(response.streaming_content)
    assert not Event.objects.filter(action="file.downloaded", data__archive=True).exists()


def test_an_oversize_archive_body_is_413_and_a_body_that_is_not_json_is_400(alice, settings):
    ids = [str(uuid.uuid4())] * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 36 + 10)
    too_big = alice.post("/api/v1/archive", {"files": ids}, format="json")
    assert too_big.status_code == 413 and too_big.json()["code"] == "request_too_large"
    not_json = alice.generic("POST", "/api/v1/archive", b"{files: [", content_type="application/json")
    assert not_json.status_code == 400
    assert alice.post("/api/v1/archive", b"x", content_type="text/plain").status_code == 415


def test_a_file_part_sent_to_the_archive_or_a_star_is_refused_and_nothing_stays(alice, blob_dir):
    t = tree(alice)
    stored = sorted(p for p in blob_dir.rglob("*") if p.is_file())
    sneaky = alice.post(
        "/api/v1/archive", {"files": [t["top"]["id"]], "file": [SimpleUploadedFile("x.bin", b"x" * 5000)]}
    )
    assert sneaky.status_code == 400 and sneaky.json()["code"] == "files_not_accepted"
    star = alice.generic(
        "PUT",
        f"/api/v1/files/{t['top']['id']}/star",
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\nxxxx\r\n--b--\r\n',
        content_type="multipart/form-data; boundary=b",
    )
    assert star.status_code == 204  # the body is never read: starring takes none, and stores nothing
    assert sorted(p for p in blob_dir.rglob("*") if p.is_file()) == stored
