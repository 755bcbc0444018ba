"""WebDAV at /dav/ against the live server: who may sign in, what each user sees, and what every write leaves."""

import base64
import http.client
import json
import subprocess
import sys

import pytest
import requests
from django.test import Client

from accounts.models import User
from locker.logredact import redact
from tests.test_server import ROOT, Server
from tests.vault.conftest import blob_files, content, keys_for, make_upload
from tests.vault.dav_helpers import Dav, dav_user
from vault.files.services import file_upload, folder_create
from vault.models import File, FileVersion, Folder
from vault.sharing.services import share_create
from vault.transfers.dav import views
from vault.transfers.dav.app import dav_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice():
    return dav_user("alice")


@pytest.fixture
def dav(live_server, alice):
    return Dav(live_server.url, alice)


# --- signing in ------------------------------------------------------------------------------------------------


def test_refusals_without_a_right_app_password(live_server, alice):
    anonymous = Dav(live_server.url, None, auth=("", ""))
    anonymous.session.auth = None
    response = anonymous.propfind("/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert Dav(live_server.url, None, auth=(alice.username, "WRONG-PASS")).propfind("/").status_code == 401
    assert Dav(live_server.url, None, auth=("nobody", alice.password)).propfind("/").status_code == 401
    # the account password is no app password
    assert Dav(live_server.url, None, auth=(alice.username, alice.account.password)).propfind("/").status_code == 401
    assert Dav(live_server.url, alice).propfind("/").status_code == 207


def test_failed_attempts_are_rate_limited_per_account_then_even_the_right_password_waits(live_server, alice, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "app_password_user": "3/m", "app_password_ip": "100/m"}
    wrong = Dav(live_server.url, None, auth=(alice.username, "WRONG-PASS"))
    assert [wrong.propfind("/").status_code for _ in range(3)] == [401, 401, 401]
    refused = wrong.propfind("/")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    right = Dav(live_server.url, alice).propfind("/")
    assert right.status_code == 429 and right.json()["code"] == "rate_limited"


def test_failed_attempts_are_rate_limited_per_address(live_server, alice, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "app_password_user": "100/m", "app_password_ip": "2/m"}
    for name in ("x1", "x2"):
        assert Dav(live_server.url, None, auth=(name, "nope")).propfind("/").status_code == 401
    assert Dav(live_server.url, None, auth=("x3", "nope")).propfind("/").status_code == 429


# --- what a user sees ------------------------------------------------------------------------------------------


def test_other_users_items_are_not_found(live_server, dav):
    bob = Dav(live_server.url, dav_user("bob"))
    assert bob.put("secret.txt", b"bob's").status_code == 201
    assert bob.mkcol("Private").status_code == 201
    assert dav.get("secret.txt").status_code == 404
    assert dav.propfind("Private").status_code == 404
    assert dav.delete("secret.txt").status_code == 404
    listing = dav.propfind("/").text
    assert "secret.txt" not in listing and "Private" not in listing


def _shared_folder(permission: str):
    bob = dav_user("bob")
    keys = keys_for(bob.account)
    folder = folder_create(user=bob.user, keys=keys, name="Team")
    share_create(user=bob.user, keys=keys, item_id=folder.pk, username="alice", permission=permission)
    return bob, folder


def test_shared_view_only_reads_and_refuses_writes_with_403(live_server, dav):
    bob, folder = _shared_folder("view")
    owner = Dav(live_server.url, bob)
    assert owner.put("Team/plan.txt", b"the plan").status_code == 201
    assert "Team" in dav.propfind("Shared").text
    assert dav.get("Shared/Team/plan.txt").content == b"the plan"
    assert dav.put("Shared/Team/plan.txt", b"mine now").status_code == 403
    assert dav.put("Shared/Team/new.txt", b"new").status_code == 403
    assert dav.mkcol("Shared/Team/Sub").status_code == 403
    assert dav.delete("Shared/Team/plan.txt").status_code == 403
    assert dav.move("Shared/Team/plan.txt", "Shared/Team/renamed.txt").status_code == 403
    assert dav.put("Shared/loose.txt", b"x").status_code == 403
    assert owner.get("Team/plan.txt").content == b"the plan"
    assert File.objects.filter(trashed_at__isnull=True).count() == 1


def test_shared_with_edit_writes_into_the_owners_vault(live_server, dav):
    bob, folder = _shared_folder("edit")
    owner = Dav(live_server.url, bob)
    assert dav.put("Shared/Team/from alice.txt", b"hello bob").status_code == 201
    assert owner.get("Team/from alice.txt").content == b"hello bob"
    assert File.objects.get(folder=folder).owner_id == bob.user.pk
    assert dav.put("Shared/Team/from alice.txt", b"v2").status_code == 204
    assert FileVersion.objects.filter(file__folder=folder).count() == 2
    assert dav.delete("Shared/Team/from alice.txt").status_code == 403  # edit is not delete
    assert dav.delete("Shared/Team").status_code == 403  # leaving a share is the web page's


# --- writes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [".DS_Store", "._photo.jpg", "desktop.ini", "Thumbs.db"])
def test_junk_files_are_accepted_and_dropped(dav, name, blob_dir):
    assert dav.mkcol("Folder").status_code == 201
    assert dav.put(f"Folder/{name}", b"\x00junk").status_code in (201, 204)
    assert not File.objects.exists()
    assert dav.get(f"Folder/{name}").status_code == 404
    assert name not in dav.propfind("Folder").text
    assert blob_files(blob_dir) == []


def test_put_of_an_existing_file_adds_a_version_with_a_new_etag(dav):
    first = dav.put("notes.txt", b"one")
    assert first.status_code == 201
    second = dav.put("notes.txt", b"two")
    assert second.status_code == 204
    assert first.headers["ETag"] != second.headers["ETag"]
    file = File.objects.get()
    assert list(file.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    got = dav.get("notes.txt")
    assert got.content == b"two" and got.headers["ETag"] == second.headers["ETag"]


def test_delete_moves_to_the_trash(dav):
    dav.mkcol("Box")
    dav.put("Box/a.txt", b"a")
    dav.put("b.txt", b"b")
    assert dav.delete("b.txt").status_code == 204
    assert dav.delete("Box").status_code == 204
    assert File.objects.filter(trashed_at__isnull=True).count() == 0
    assert File.objects.filter(trashed_at__isnull=False).count() == 2  # in the trash, restorable
    assert Folder.objects.get().trashed_at is not None
    assert dav.get("b.txt").status_code == 404


def test_quota_refusal_is_507_and_stores_nothing(dav, alice, blob_dir):
    User.objects.filter(pk=alice.user.pk).update(storage_quota=100_000)
    used = User.objects.get(pk=alice.user.pk).storage_used
    assert dav.put("big.bin", b"x" * 200_000).status_code == 507  # refused from its declared length
    # fits as plaintext, not once encrypted: refused exactly, after encryption, in the service's transaction
    free = 100_000 - used
    assert dav.put("edge.bin", b"y" * (free - 5)).status_code == 507
    assert not File.objects.exists() and not FileVersion.objects.exists()
    assert User.objects.get(pk=alice.user.pk).storage_used == used
    assert blob_files(blob_dir) == []


def test_too_large_file_is_413(dav, settings, blob_dir):
    settings.LOCKER_MAX_UPLOAD_SIZE = 50_000
    assert dav.put("huge.bin", b"z" * 60_000).status_code == 413
    assert not File.objects.exists() and blob_files(blob_dir) == []


def test_range_get_and_conditional_requests(dav):
    data = bytes(range(256)) * 1000
    etag = dav.put("data.bin", data).headers["ETag"]
    part = dav.get("data.bin", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert dav.get("data.bin", headers={"If-None-Match": etag}).status_code == 304
    assert dav.put("data.bin", b"stale", headers={"If-Match": '"0000"'}).status_code == 412
    assert dav.put("data.bin", b"fresh", headers={"If-Match": etag}).status_code == 204
    assert dav.get("data.bin").content == b"fresh"


@pytest.mark.parametrize(
    ("raw_path", "statuses"),
    [
        ("/dav/a/../../escape.txt", {400}),
        ("/dav/nul%00name.txt", {400, 404}),
        ("/dav/" + "n" * 300 + ".txt", {400}),
        ("/dav/back%5Cslash.txt", {400}),
        ("/dav/tab%09name.txt", {400}),
    ],
)
def test_hostile_names_are_refused_cleanly(live_server, alice, raw_path, statuses, blob_dir):
    """Sent as they are (no client normalizing the path first)."""
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    token = base64.b64encode(f"{alice.username}:{alice.password}".encode()).decode()
    connection.request("PUT", raw_path, body=b"x", headers={"Authorization": f"Basic {token}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status in statuses
    assert not File.objects.exists() and blob_files(blob_dir) == []


def test_copy_and_move_keep_content_and_names(dav):
    dav.mkcol("Src")
    dav.mkcol("Src/Inner")
    dav.put("Src/Inner/é # ? + %.txt", b"content")
    assert dav.move("Src/Inner/é # ? + %.txt", "Src/Inner/renamed.txt").status_code == 201
    assert dav.move("Src/Inner/renamed.txt", "moved.txt", method="COPY").status_code == 201
    assert dav.move("Src", "Copy of Src", method="COPY").status_code == 201
    assert dav.get("Copy of Src/Inner/renamed.txt").content == b"content"
    assert dav.get("moved.txt").content == b"content"
    assert dav.move("Copy of Src", "Src/Nested").status_code == 201
    assert dav.get("Src/Nested/Inner/renamed.txt").content == b"content"


@pytest.fixture
def no_dead_props_or_locks():
    """WsgiDAV's in-process lock and property storages as a fresh server has them (other tests leave some)."""
    app = dav_app()
    app.lock_manager.storage.clear()
    if hasattr(app.prop_manager, "clear"):  # in Redis (REDIS_URL: vault.transfers.dav.shared)
        app.prop_manager.clear()
    elif app.prop_manager._dict is not None:
        app.prop_manager._dict.clear()


def _basic(who) -> str:
    return "Basic " + base64.b64encode(f"{who.username}:{who.password}".encode()).decode()


def test_propfind_of_a_large_folder_takes_a_few_queries(alice, no_dead_props_or_locks, django_assert_max_num_queries):
    """Two queries for the children, whatever their number (names decrypted in one pass), plus authentication."""
    keys = keys_for(alice.account)
    folder = folder_create(user=alice.user, keys=keys, name="Many")
    for i in range(150):
        file_upload(user=alice.user, keys=keys, upload=make_upload(keys, f"f{i}.txt", b"x"), folder_id=folder.pk)
    with django_assert_max_num_queries(8):
        response = Client().generic("PROPFIND", "/dav/Many/", HTTP_DEPTH="1", HTTP_AUTHORIZATION=_basic(alice))
    assert response.status_code == 207
    assert content(response).count(b"<D:response>") == 151


PROPS = (
    b'<?xml version="1.0"?><propfind xmlns="DAV:" xmlns:x="urn:x"><prop><getetag/><displayname/>'
    b"<getcontentlength/><x:color/><resourcetype/></prop></propfind>"
)


@pytest.mark.parametrize("body", [b"", b'<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>', PROPS])
def test_the_direct_listing_answers_as_wsgidav_does(alice, no_dead_props_or_locks, monkeypatch, body):
    """GIVEN a folder with a subfolder and files (odd names) WHEN PROPFIND Depth 1 is answered by the direct
    listing and then by WsgiDAV itself THEN both answers hold the same responses, properties and values."""
    keys = keys_for(alice.account)
    folder = folder_create(user=alice.user, keys=keys, name="Mixed & <odd>")
    folder_create(user=alice.user, keys=keys, parent_id=folder.pk, name="sub #1")
    for name in ("a b.txt", "é % ? + #.bin", "日本.txt"):
        file_upload(user=alice.user, keys=keys, upload=make_upload(keys, name, b"data"), folder_id=folder.pk)

    def answer(path):
        response = Client().generic(
            "PROPFIND", path, body, content_type="application/xml", HTTP_DEPTH="1", HTTP_AUTHORIZATION=_basic(alice)
        )
        assert response.status_code == 207
        return _responses(content(response))

    for path in ("/dav/Mixed%20%26%20%3Codd%3E/", "/dav/"):
        direct = answer(path)
        with monkeypatch.context() as patched:
            patched.setattr(views, "propfind_response", lambda *args: None)
            by_wsgidav = answer(path)
        assert direct == by_wsgidav
        assert len(direct) >= 3


def _tree(element) -> tuple:
    """An element as its tag, text and children, whatever namespace declarations it carries."""
    return element.tag, (element.text or "").strip(), tuple(_tree(child) for child in element)


def _responses(xml: bytes) -> dict:
    """``{href: {(status, property): text}}`` of a multistatus answer."""
    from lxml import etree

    found = {}
    for response in etree.fromstring(xml).iter("{DAV:}response"):
        href = response.findtext("{DAV:}href")
        props = {}
        for propstat in response.iter("{DAV:}propstat"):
            status = propstat.findtext("{DAV:}status")
            for prop in propstat.find("{DAV:}prop"):
                props[status, prop.tag] = _tree(prop)
        found[href] = props
    return found


def test_settings_page_shows_the_webdav_address_built_from_the_request(alice, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "files.example.org"]
    browser = Client(HTTP_HOST="files.example.org")
    browser.force_login(alice.user)
    html = browser.get("/settings").content.decode()
    assert 'data-testid="webdav-url" id="webdav-url">http://files.example.org/dav/</code>' in html
    assert "dav://files.example.org/dav/" in html
    assert "rclone config create locker webdav url=http://files.example.org/dav/ vendor=other user=alice" in html


LOCK = (
    b'<?xml version="1.0"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope>'
    b"<locktype><write/></locktype><owner>test</owner></lockinfo>"
)
PROPPATCH = (
    b'<?xml version="1.0"?><propertyupdate xmlns="DAV:" xmlns:x="urn:x"><set><prop><x:color>red</x:color></prop>'
    b"</set></propertyupdate>"
)


def test_locks_and_dead_properties_are_each_users_own(live_server, dav):
    """GIVEN alice and bob each with a file at the same path WHEN alice locks hers and sets a property on it
    THEN bob writes his own file freely and sees no property of hers; alice's lock holds against her own write."""
    bob = Dav(live_server.url, dav_user("bob"))
    assert dav.put("same.txt", b"alice").status_code == 201
    assert bob.put("same.txt", b"bob").status_code == 201
    assert dav.request("PROPPATCH", "same.txt", data=PROPPATCH).status_code == 207
    locked = dav.request("LOCK", "same.txt", data=LOCK, headers={"Timeout": "Second-60"})
    assert locked.status_code == 200
    assert "<D:href>/dav/same.txt</D:href>" in locked.text  # the lock's root, as the client named it
    assert bob.put("same.txt", b"bob 2").status_code == 204
    assert dav.put("same.txt", b"no token").status_code == 423
    token = locked.headers["Lock-Token"]
    assert dav.put("same.txt", b"with token", headers={"If": f"({token})"}).status_code == 204
    asked = b'<?xml version="1.0"?><propfind xmlns="DAV:" xmlns:x="urn:x"><prop><x:color/></prop></propfind>'
    assert b"red" in dav.request("PROPFIND", "same.txt", data=asked, headers={"Depth": "0"}).content
    assert b"red" not in bob.request("PROPFIND", "same.txt", data=asked, headers={"Depth": "0"}).content
    listing = dav.request("PROPFIND", "", headers={"Depth": "1"}).text
    assert "activelock" in listing and "/dav/same.txt" in listing  # alice's listing shows her lock
    assert "activelock" not in bob.request("PROPFIND", "", headers={"Depth": "1"}).text


def test_propfind_of_infinite_depth_is_refused(dav):
    for headers in ({"Depth": "infinity"}, {}):
        response = dav.request("PROPFIND", "", headers=headers)
        assert response.status_code == 403 and b"propfind-finite-depth" in response.content


def test_webdav_paths_never_reach_the_logs():
    """Folder and file names are content: the access log and Django's loggers write /dav/[path]."""
    line = '127.0.0.1 - alice "PUT /dav/Taxes%202025/secret%20plan.pdf HTTP/1.1" 201 0 "-" "rclone/v1.60"'
    assert redact(line) == '127.0.0.1 - alice "PUT /dav/[path] HTTP/1.1" 201 0 "-" "rclone/v1.60"'
    assert redact("Internal Server Error: /dav/Taxes/plan.pdf") == "Internal Server Error: /dav/[path]"
    assert redact("GET /dav/ HTTP/1.1") == "GET /dav/ HTTP/1.1"


def test_no_log_line_of_the_real_server_holds_a_webdav_path(tmp_path):
    """gunicorn (Locker's worker and access log) serving WebDAV: names in paths are written /dav/[path]; a chunked
    PUT streams in."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LOCKER_DATA_DIR": str(tmp_path), "LOCKER_HTTPS": "0"},
        check=True,
    )
    server = Server(tmp_path, RATELIMIT_ENABLE="0")
    base = f"http://127.0.0.1:{server.port}"
    try:
        credentials = {"username": "owner", "password": "a long and unusual passphrase 7"}
        api = requests.Session()
        assert api.post(f"{base}/api/v1/auth/register", json={**credentials, "email": "o@x.org"}).status_code == 201
        access = api.post(f"{base}/api/v1/auth/token", json=credentials).json()["access"]
        api.headers["Authorization"] = f"Bearer {access}"
        created = api.post(f"{base}/api/v1/auth/app-passwords/", json={"name": "dav"})
        password = json.loads(created.content)["password"]
        who = type("Who", (), {"username": "owner", "password": password})()
        dav = Dav(base, who)
        assert dav.mkcol("Secret Plans").status_code == 201
        assert dav.put("Secret Plans/merger memo.txt", b"x").status_code == 201
        assert dav.get("Secret Plans/merger memo.txt").content == b"x"
        assert dav.propfind("Secret Plans").status_code == 207
        # a body of unknown length (Transfer-Encoding: chunked), as gunicorn passes it on
        chunked = dav.put("Secret Plans/streamed.bin", data=iter([b"a" * 70_000, b"b" * 70_000]))
        assert chunked.status_code == 201
        assert dav.get("Secret Plans/streamed.bin").content == b"a" * 70_000 + b"b" * 70_000
    finally:
        server.stop()
    log = server.log.read_text()
    assert "/dav/[path]" in log
    assert "Secret" not in log and "merger" not in log and "memo" not in log


def test_a_lock_on_a_shared_item_holds_for_its_owner_and_its_recipient(live_server, dav):
    """GIVEN bob shares his folder Work/Team with alice (edit) WHEN alice locks Shared/Team/doc.txt THEN bob's
    own write to Work/Team/doc.txt without the token is 423 and his listing shows the lock, rooted at his path;
    once alice unlocks, bob writes."""
    bob = dav_user("bob")
    owner = Dav(live_server.url, bob)
    assert owner.mkcol("Work").status_code == 201
    assert owner.mkcol("Work/Team").status_code == 201
    assert owner.put("Work/Team/doc.txt", b"v1").status_code == 201
    team = Folder.objects.get(parent__isnull=False)
    share_create(user=bob.user, keys=keys_for(bob.account), item_id=team.pk, username="alice", permission="edit")
    locked = dav.request("LOCK", "Shared/Team/doc.txt", data=LOCK, headers={"Timeout": "Second-60"})
    assert locked.status_code == 200
    assert "<D:href>/dav/Shared/Team/doc.txt</D:href>" in locked.text
    assert owner.put("Work/Team/doc.txt", b"bob's").status_code == 423
    seen = owner.request("PROPFIND", "Work/Team/doc.txt", headers={"Depth": "0"}).text
    assert "activelock" in seen and "<D:href>/dav/Work/Team/doc.txt</D:href>" in seen
    assert "activelock" in owner.request("PROPFIND", "Work/Team/", headers={"Depth": "1"}).text
    token = locked.headers["Lock-Token"]
    assert dav.put("Shared/Team/doc.txt", b"alice's", headers={"If": f"({token})"}).status_code == 204
    assert dav.request("UNLOCK", "Shared/Team/doc.txt", headers={"Lock-Token": token}).status_code == 204
    assert owner.put("Work/Team/doc.txt", b"bob's").status_code == 204
    assert owner.get("Work/Team/doc.txt").content == b"bob's"


def test_a_missing_blob_is_a_clear_error(dav, blob_dir):
    assert dav.put("gone.bin", b"data" * 1000).status_code == 201
    for blob in blob_files(blob_dir):
        blob.unlink()
    response = dav.get("gone.bin")
    assert response.status_code >= 500 and response.json()["code"] == "content_missing"
