"""The vault API over HTTP (Django's test client): uploads, downloads, versions, trash, limits, other users."""

import errno
import os
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from activity.models import Event
from tests.vault.conftest import blob_files
from vault.models import File, FileVersion, Folder

pytestmark = pytest.mark.django_db


def bearer_for(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


@pytest.fixture
def api(account):
    return bearer_for(account)


@pytest.fixture
def other_api(other_account):
    return bearer_for(other_account)


def upload(api, *files, **fields):
    parts = [SimpleUploadedFile(name, data) for name, data in files]
    return api.post("/api/v1/files/", {"file": parts, **fields}, format="multipart")


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_upload_many_files_in_one_request_and_download(api, blob_dir):
    a, b = os.urandom(150_000), b"hello world"
    response = upload(api, ("a.bin", a), ("b.txt", b), tags="work, 2025")
    assert response.status_code == 201, response.content
    results = response.json()
    assert [r["ok"] for r in results] == [True, True]
    assert results[1]["file"]["name"] == "b.txt" and results[1]["file"]["tags"] == ["work", "2025"]
    assert results[1]["file"]["mime_type"] == "text/plain"
    for result, data in zip(results, (a, b), strict=True):
        got = api.get(f"/api/v1/files/{result['file']['id']}/content")
        assert got.status_code == 200 and content(got) == data
        assert got["Content-Length"] == str(len(data)) and got["ETag"] == result["file"]["etag"]
        assert got["Content-Disposition"].startswith("attachment;") and got["X-Content-Type-Options"] == "nosniff"
    assert len(blob_files(blob_dir)) == 2
    assert api.get("/api/v1/me").json()["usage"] == sum(v.stored_size for v in FileVersion.objects.all())


def test_each_file_succeeds_or_fails_on_its_own(api, account, blob_dir):
    User.objects.filter(pk=account.user.pk).update(storage_quota=5000)
    response = upload(api, ("good.txt", b"ok"), ("huge.bin", os.urandom(20_000)), ("fine.txt", b"fine"))
    assert response.status_code == 201
    assert [(r["name"], r["ok"]) for r in response.json()] == [
        ("good.txt", True),
        ("huge.bin", False),
        ("fine.txt", True),
    ]
    assert response.json()[1]["code"] == "quota_exceeded"
    assert File.objects.count() == 2 and len(blob_files(blob_dir)) == 2


def test_upload_without_files_and_into_unknown_folder(api):
    assert api.post("/api/v1/files/", {"tags": "x"}, format="multipart").json()["code"] == "no_files"
    response = upload(api, ("a.txt", b"a"), folder=str(uuid.uuid4()))
    assert response.status_code == 404 and response.json()["results"][0]["code"] == "not_found"
    assert not FileVersion.objects.exists()


def test_ranges_etag_and_conditional_requests(api):
    data = os.urandom(200_000)
    file = upload(api, ("r.bin", data)).json()[0]["file"]
    url = f"/api/v1/files/{file['id']}/content"
    part = api.get(url, HTTP_RANGE="bytes=70000-140000")
    assert part.status_code == 206 and content(part) == data[70000:140001]
    assert part["Content-Range"] == f"bytes 70000-140000/{len(data)}"
    tail = api.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and content(tail) == data[-10:]
    assert api.get(url, HTTP_RANGE="bytes=5-").status_code == 206
    bad = api.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{len(data)}"
    assert api.get(url, HTTP_RANGE="bytes=0-1,5-6").status_code == 200  # multiple ranges: whole body
    assert api.get(url, HTTP_IF_NONE_MATCH=file["etag"]).status_code == 304
    stale = api.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200


def test_hostile_names_and_inline(api):
    traversal = upload(api, ("../../etc/passwd", b"plain text")).json()[0]
    assert traversal["ok"] and traversal["file"]["name"] == "passwd"  # Django keeps only the base name
    file = upload(api, ("evil.html", b"<script>alert(1)</script>")).json()[0]["file"]
    got = api.get(f"/api/v1/files/{file['id']}/content", {"inline": "1"})
    assert got["Content-Type"] == "text/html" and got["Content-Disposition"].startswith("attachment;")  # never inline
    assert "sandbox" in got["Content-Security-Policy"]
    quoted = upload(api, ('say "hi" é.txt', b"x")).json()[0]["file"]
    disposition = api.get(f"/api/v1/files/{quoted['id']}/content")["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''say%20%22hi%22%20%C3%A9.txt"
    png = upload(api, ("p.png", bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64))).json()[0]["file"]
    inline = api.get(f"/api/v1/files/{png['id']}/content", {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline;") and inline["Content-Type"] == "image/png"


def test_only_inline_content_may_be_framed_and_only_by_this_site(api):
    """The file browser shows PDFs in an <iframe>: inline content of safe types allows same-origin framing
    (X-Frame-Options and CSP frame-ancestors agree); downloads, unsafe types and pages never allow framing."""
    pdf = upload(api, ("doc.pdf", b"%PDF-1.4\n%%EOF\n")).json()[0]["file"]
    assert pdf["mime_type"] == "application/pdf"
    url = f"/api/v1/files/{pdf['id']}/content"

    def frame_ancestors(response) -> str:
        directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
        return next(d for d in directives if d.startswith("frame-ancestors"))

    for inline in (api.get(url, {"inline": "1"}), api.get(url, {"inline": "1"}, HTTP_RANGE="bytes=0-3")):
        assert inline.status_code in (200, 206) and inline["Content-Disposition"].startswith("inline;")
        assert inline["X-Frame-Options"] == "SAMEORIGIN"
        assert frame_ancestors(inline) == "frame-ancestors 'self'"
        assert "script-src 'self'" in inline["Content-Security-Policy"]  # the rest of the policy stays
    revalidated = api.get(url, {"inline": "1"}, HTTP_IF_NONE_MATCH=pdf["etag"])
    assert revalidated.status_code == 304 and revalidated["X-Frame-Options"] == "SAMEORIGIN"
    assert frame_ancestors(revalidated) == "frame-ancestors 'self'"

    download = api.get(url)
    assert download["Content-Disposition"].startswith("attachment;") and download["X-Frame-Options"] == "DENY"
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    html = upload(api, ("page.html", b"<p>hi</p>")).json()[0]["file"]
    unsafe = api.get(f"/api/v1/files/{html['id']}/content", {"inline": "1"})
    assert unsafe["X-Frame-Options"] == "DENY" and "sandbox" in unsafe["Content-Security-Policy"]
    listing = api.get("/api/v1/files/")
    assert listing["X-Frame-Options"] == "DENY" and frame_ancestors(listing) == "frame-ancestors 'none'"


def test_put_content_versions_and_if_match(api):
    file = upload(api, ("doc.txt", b"v1")).json()[0]["file"]
    url = f"/api/v1/files/{file['id']}/content"
    put = api.put(url, b"v2", content_type="application/octet-stream", HTTP_IF_MATCH=file["etag"])
    assert put.status_code == 200 and put.json()["version"] == 2
    stale = api.put(url, b"v3", content_type="application/octet-stream", HTTP_IF_MATCH=file["etag"])
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert content(api.get(url)) == b"v2"
    versions = api.get(f"/api/v1/files/{file['id']}/versions/").json()["results"]
    assert [(v["number"], v["current"]) for v in versions] == [(2, True), (1, False)]
    assert content(api.get(f"/api/v1/files/{file['id']}/versions/1/content")) == b"v1"
    restored = api.post(f"/api/v1/files/{file['id']}/versions/1/restore")
    assert restored.status_code == 201 and restored.json()["number"] == 3
    assert content(api.get(url)) == b"v1"
    assert api.get(f"/api/v1/files/{file['id']}/versions/9/content").status_code == 404
    assert FileVersion.objects.filter(file_id=file["id"]).count() == 3


def test_folders_rename_move_and_conflicts(api):
    docs = api.post("/api/v1/folders/", {"name": "Docs"}, format="json").json()
    sub = api.post("/api/v1/folders/", {"name": "Sub", "parent": docs["id"]}, format="json").json()
    dup = api.post("/api/v1/folders/", {"name": "docs"}, format="json")
    assert dup.status_code == 409 and dup.json()["code"] == "name_conflict"
    auto = api.post("/api/v1/folders/", {"name": "Docs", "on_conflict": "rename"}, format="json")
    assert auto.status_code == 201 and auto.json()["name"] == "Docs (2)"
    cycle = api.patch(f"/api/v1/folders/{docs['id']}/", {"parent": sub["id"]}, format="json")
    assert cycle.status_code == 400 and cycle.json()["code"] == "folder_cycle"
    moved = api.patch(f"/api/v1/folders/{sub['id']}/", {"parent": None, "name": "Top"}, format="json")
    assert moved.status_code == 200 and moved.json() == {**moved.json(), "parent": None, "name": "Top"}
    names = sorted(f["name"] for f in api.get("/api/v1/folders/").json()["results"])
    assert names == ["Docs", "Docs (2)", "Top"]
    file = upload(api, ("a.txt", b"a"), folder=docs["id"]).json()[0]["file"]
    assert [f["name"] for f in api.get("/api/v1/files/", {"folder": docs["id"]}).json()["results"]] == ["a.txt"]
    patched = api.patch(f"/api/v1/files/{file['id']}/", {"name": "b.txt", "folder": None, "tags": ["x"]}, format="json")
    assert patched.status_code == 200 and patched.json()["folder"] is None and patched.json()["tags"] == ["x"]


def test_trash_flow(api, blob_dir, django_capture_on_commit_callbacks):
    folder = api.post("/api/v1/folders/", {"name": "Trip"}, format="json").json()
    file = upload(api, ("p.txt", b"p"), folder=folder["id"]).json()[0]["file"]
    assert api.delete(f"/api/v1/folders/{folder['id']}/").status_code == 204
    assert api.get(f"/api/v1/files/{file['id']}/").status_code == 404
    trash = api.get("/api/v1/trash/").json()["results"]
    assert [(t["kind"], t["name"]) for t in trash] == [("folder", "Trip")]
    assert api.post(f"/api/v1/trash/{folder['id']}/restore").status_code == 200
    assert content(api.get(f"/api/v1/files/{file['id']}/content")) == b"p"
    api.delete(f"/api/v1/files/{file['id']}/")
    with django_capture_on_commit_callbacks(execute=True):
        purged = api.delete(f"/api/v1/trash/{file['id']}/")
    assert purged.status_code == 200 and purged.json()["freed"] > 0
    assert blob_files(blob_dir) == [] and api.get("/api/v1/me").json()["usage"] == 0
    api.delete(f"/api/v1/folders/{folder['id']}/")
    assert api.delete("/api/v1/trash/").status_code == 200
    assert not Folder.objects.exists()
    actions = set(Event.objects.values_list("action", flat=True))
    assert {
        "file.uploaded",
        "file.downloaded",
        "trash.added",
        "trash.restored",
        "trash.purged",
        "folder.created",
    } <= actions


def test_quota_and_size_limits(api, account, settings, blob_dir):
    User.objects.filter(pk=account.user.pk).update(storage_quota=10_000)
    response = upload(api, ("big.bin", os.urandom(50_000)))
    assert response.status_code == 413 and response.json()["code"] == "quota_exceeded"
    assert blob_files(blob_dir) == [] and not File.objects.exists()
    settings.LOCKER_MAX_UPLOAD_SIZE = 1000
    User.objects.filter(pk=account.user.pk).update(storage_quota=10**9)
    too_big = upload(api, ("big.bin", os.urandom(5000)))
    assert too_big.status_code == 413 and too_big.json()["code"] == "file_too_large"
    assert blob_files(blob_dir) == [] and not File.objects.exists()
    file = upload(api, ("small.bin", b"s")).json()[0]["file"]
    put = api.put(f"/api/v1/files/{file['id']}/content", os.urandom(5000), content_type="application/octet-stream")
    assert put.status_code == 413 and FileVersion.objects.count() == 1 and len(blob_files(blob_dir)) == 1


class StallingBody:
    """A request body that delivers ``data``, then fails as a blocking read does once the server's body timeout
    (``WEB_BODY_TIMEOUT``, ``SO_RCVTIMEO``) passes without a byte."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        if not self.data:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        size = len(self.data) if size is None or size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_an_upload_whose_body_stops_arriving_is_408_and_stores_nothing(api, blob_dir):
    file = upload(api, ("small.bin", b"s")).json()[0]["file"]
    stalled = {"CONTENT_LENGTH": "1000000", "wsgi.input": StallingBody(os.urandom(300_000))}
    put = api.generic("PUT", f"/api/v1/files/{file['id']}/content", content_type="application/octet-stream", **stalled)
    assert put.status_code == 408 and put.json()["code"] == "request_timeout"
    head = b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
    stalled = {"CONTENT_LENGTH": "1000000", "wsgi.input": StallingBody(head + os.urandom(300_000))}
    post = api.generic("POST", "/api/v1/files/", content_type="multipart/form-data; boundary=XX", **stalled)
    assert post.status_code == 408 and post.json()["code"] == "request_timeout"
    assert FileVersion.objects.count() == 1 and len(blob_files(blob_dir)) == 1


def test_upload_rate_limit(api, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "upload_user": "2/h"}
    for _ in range(2):
        assert upload(api, ("a.txt", b"a")).status_code == 201
    limited = upload(api, ("a.txt", b"a"))
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


def test_locked_vault_is_423_and_stores_nothing(account, blob_dir):
    client = APIClient()
    client.force_login(account.user)  # a browser session without its unlock cookie
    response = client.post("/api/v1/files/", {"file": [SimpleUploadedFile("a.txt", b"secret")]}, format="multipart")
    assert response.status_code == 423 and response.json()["code"] == "vault_locked"
    assert blob_files(blob_dir) == [] and not File.objects.exists()
    assert client.get("/api/v1/files/").status_code == 423


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/folders/{folder}/"),
        ("patch", "/api/v1/folders/{folder}/"),
        ("delete", "/api/v1/folders/{folder}/"),
        ("get", "/api/v1/folders/?parent={folder}"),
        ("post", "/api/v1/folders/"),
        ("get", "/api/v1/files/?folder={folder}"),
        ("post", "/api/v1/files/"),
        ("get", "/api/v1/files/{file}/"),
        ("patch", "/api/v1/files/{file}/"),
        ("delete", "/api/v1/files/{file}/"),
        ("get", "/api/v1/files/{file}/content"),
        ("put", "/api/v1/files/{file}/content"),
        ("get", "/api/v1/files/{file}/versions/"),
        ("get", "/api/v1/files/{file}/versions/1/content"),
        ("post", "/api/v1/files/{file}/versions/1/restore"),
        ("post", "/api/v1/trash/{trashed}/restore"),
        ("delete", "/api/v1/trash/{trashed}/"),
    ],
)
def test_other_users_ids_are_404_and_change_nothing(api, other_api, method, path, blob_dir):
    """Acceptance 3: for every vault endpoint, another user's ids answer 404 and change nothing."""
    folder = api.post("/api/v1/folders/", {"name": "Private"}, format="json").json()
    file = upload(api, ("secret.txt", b"secret"), folder=folder["id"]).json()[0]["file"]
    trashed = upload(api, ("gone.txt", b"gone")).json()[0]["file"]
    api.delete(f"/api/v1/files/{trashed['id']}/")
    before = (
        list(Folder.objects.values_list("id", "name_sealed", "parent_id", "trashed_at")),
        list(File.objects.values_list("id", "name_sealed", "folder_id", "trashed_at", "current_version_id")),
        FileVersion.objects.count(),
        len(blob_files(blob_dir)),
    )
    url = path.format(folder=folder["id"], file=file["id"], trashed=trashed["id"])
    bodies = {
        "post": {"name": "x", "parent": folder["id"]} if url.endswith("/folders/") else None,
        "patch": {"name": "stolen"},
    }
    if url.endswith("/files/") and method == "post":
        response = other_api.post(
            url, {"file": [SimpleUploadedFile("x.txt", b"x")], "folder": folder["id"]}, format="multipart"
        )
    elif method == "put":
        response = other_api.put(url, b"overwrite", content_type="application/octet-stream")
    else:
        response = getattr(other_api, method)(url, bodies.get(method), format="json")
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    after = (
        list(Folder.objects.values_list("id", "name_sealed", "parent_id", "trashed_at")),
        list(File.objects.values_list("id", "name_sealed", "folder_id", "trashed_at", "current_version_id")),
        FileVersion.objects.count(),
        len(blob_files(blob_dir)),
    )
    assert after == before


def test_file_list_queries_do_not_grow_with_the_page(api, django_assert_max_num_queries):
    folder = api.post("/api/v1/folders/", {"name": "Many"}, format="json").json()
    upload(api, *[(f"f{i}.txt", b"x") for i in range(5)], folder=folder["id"])
    with django_assert_max_num_queries(12) as small:
        api.get("/api/v1/files/", {"folder": folder["id"]})
    upload(api, *[(f"g{i}.txt", b"x") for i in range(30)], folder=folder["id"])
    with django_assert_max_num_queries(12) as large:
        response = api.get("/api/v1/files/", {"folder": folder["id"]})
    assert response.json()["count"] == 35 and len(large.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/files/", {"all": "1"}).json()["count"] == 35


def test_uploads_go_through_the_encrypting_handler_only(api, tmp_path, monkeypatch):
    """No plaintext in the temp directory, whatever the size (Django would spool >2.5 MB to /tmp)."""
    import tempfile

    tmp = tmp_path / "systmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    marker = b"TEMP-MARKER-" + os.urandom(8).hex().encode()
    data = marker * (3 * 1024 * 1024 // len(marker))
    assert upload(api, ("big.txt", data)).status_code == 201
    for path in tmp.rglob("*"):
        assert not path.is_file() or marker not in path.read_bytes()


def test_browser_escaped_quotes_in_file_names_are_restored(api):
    """Browsers send a file named `say "hi".txt` as `say %22hi%22.txt` in multipart headers."""
    file = upload(api, ("say %22hi%22.txt", b"x")).json()[0]["file"]
    assert file["name"] == 'say "hi".txt'


@pytest.mark.parametrize(
    ("header", "status", "expected"),
    [
        ("bytes=" + "9" * 5000 + "-", 416, None),  # starts past every end
        ("bytes=0-" + "9" * 5000, 206, slice(0, None)),  # ends past the end: clamped
        ("bytes=-" + "9" * 5000, 206, slice(0, None)),  # suffix longer than the file: all of it
        ("bytes=" + "0" * 5000 + "5-9", 206, slice(5, 10)),  # leading zeros are still a small number
        ("bytes=" + "9" * 5000 + "-" + "9" * 5001, 416, None),
    ],
)
def test_huge_range_numbers_are_416_or_the_body_never_500(api, header, status, expected):
    data = os.urandom(1000)
    file_id = upload(api, ("a.bin", data)).json()[0]["file"]["id"]
    response = api.get(f"/api/v1/files/{file_id}/content", HTTP_RANGE=header)
    assert response.status_code == status
    if expected is None:
        assert response["Content-Range"] == "bytes */1000"
    else:
        assert content(response) == data[expected]


def test_a_download_is_recorded_only_when_its_body_is_sent(api):
    file_id = upload(api, ("a.bin", b"0123456789")).json()[0]["file"]["id"]
    url = f"/api/v1/files/{file_id}/content"

    def downloads():
        return Event.objects.filter(action="file.downloaded", object_id=file_id).count()

    first = api.get(url)
    assert downloads() == 0  # recorded once the body has gone, when the server closes the response
    assert content(first) == b"0123456789"
    etag = first["ETag"]
    assert downloads() == 1
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url, HTTP_RANGE="bytes=50-60").status_code == 416
    assert api.get(f"/api/v1/files/{file_id}/versions/1/content", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert downloads() == 1
    partial = api.get(url, HTTP_RANGE="bytes=2-3")
    assert partial.status_code == 206 and content(partial) == b"23"
    assert downloads() == 2
