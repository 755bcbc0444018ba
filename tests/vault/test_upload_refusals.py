"""File parts where no file is taken, hostile multipart bodies and refused uploads leave nothing behind.

Only the views that declare ``upload_fields`` store file parts (vault.transfers.upload_handler); every other
endpoint refuses them without writing a byte, and whatever a request wrote that no committed row
owns is deleted before its answer leaves (UploadCleanupMiddleware), whatever the status.
"""

import os
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import get_resolver
from rest_framework.test import APIClient

from accounts.models import AppPassword, UnlockSession, User
from chats.models import Chat, Message
from locker.units import format_bytes
from tests.vault.conftest import blob_files
from vault.models import Derived, File, FileVersion, Folder, Note

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")
PAYLOAD = os.urandom(300_000)


def bearer(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def stored_blobs(blob_dir) -> set[str]:
    return {str(path.relative_to(blob_dir)) for path in blob_files(blob_dir)}


def owned_blobs() -> set[str]:
    return set(FileVersion.objects.values_list("blob", flat=True)) | set(
        Derived.objects.exclude(preview_blob="").values_list("preview_blob", flat=True)
    )


def usage(user) -> int:
    return User.objects.get(pk=user.pk).storage_used


def assert_nothing_left(blob_dir, user, before_blobs, before_usage, response, what):
    """Every blob on disk belongs to a row; a refused request changed neither the disk nor the usage."""
    on_disk = stored_blobs(blob_dir)
    assert on_disk <= owned_blobs(), f"{what}: {response.status_code} left blobs no row owns"
    if response.status_code >= 300:
        assert on_disk == before_blobs, f"{what}: {response.status_code} changed the blobs on disk"
        assert usage(user) == before_usage, f"{what}: {response.status_code} changed the usage"
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"


def input_taking_routes():
    """``(path template, view callback, [methods])`` of every route in the URL conf that takes a body."""
    routes = []
    for func, regex, _namespace, _name in extract_views_from_urlpatterns(get_resolver().url_patterns):
        view_class = getattr(func, "view_class", None) or getattr(func, "cls", None)
        if view_class is not None:
            allowed = set(getattr(view_class, "http_method_names", WRITE_METHODS))
            methods = [m for m in WRITE_METHODS if hasattr(view_class, m) and m in allowed]
        else:
            methods = ["post"]  # function views: pages and the admin take form posts
        if methods:
            routes.append((simplify_regex(regex), func, methods))
    return routes


@pytest.fixture
def world(account, other_account, keys):
    """One of each kind of object of the acting user (to fill ids in paths), plus another user's folder."""
    from tests.vault.conftest import make_upload
    from vault.files import services as vault_services

    api = bearer(account)
    folder = api.post("/api/v1/folders/", {"name": "docs"}, format="json").json()
    file_id = vault_services.file_upload(
        user=account.user, keys=keys, upload=make_upload(keys, "a.txt", b"hello"), folder_id=None, tags=[]
    ).file.pk
    note = api.post("/api/v1/notes/", {"title": "n", "body": "b"}, format="json").json()
    chat = api.post("/api/v1/chats/", {"title": "c"}, format="json").json()
    message = api.post(f"/api/v1/chats/{chat['id']}/messages/", {"content": "hi"}, format="json").json()
    app_password = api.post("/api/v1/auth/app-passwords/", {"name": "cli"}, format="json").json()
    other_folder = bearer(other_account).post("/api/v1/folders/", {"name": "theirs"}, format="json").json()
    assert Folder.objects.count() == 2 and File.objects.count() == 1 and Note.objects.count() == 1
    assert Chat.objects.count() == 1 and Message.objects.count() == 1 and AppPassword.objects.count() == 1
    return {
        "folder": folder["id"],
        "file": str(file_id),
        "note": note["id"],
        "chat": chat["id"],
        "message": message["id"],
        "app_password": app_password["id"],
        "session": str(UnlockSession.objects.filter(user=account.user).first().pk),
        "other_folder": other_folder["id"],
        "missing": str(uuid.uuid4()),
    }


def fillings(template: str, world: dict) -> list[str]:
    """Concrete paths for a template: each of the user's objects for an id, another user's, and a missing one."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", template)
    if not names:
        return [template]
    simple = {"number": "1", "token": "x", "app_label": "accounts", "model_name": "user", "url": "x"}
    if all(name in simple for name in names):
        return [re.sub(r"<(?:\w+:)?(\w+)>", lambda m: simple[m.group(1)], template)]
    ids = [world[k] for k in ("folder", "file", "note", "chat", "message", "app_password", "session")]
    ids += [world["other_folder"], world["missing"]]
    return [re.sub(r"<(?:\w+:)?(\w+)>", lambda m, v=value: simple.get(m.group(1), v), template) for value in ids]


def multipart(field: str = "file", data: bytes = PAYLOAD, **fields) -> dict:
    return {"name": "x", "title": "x", "content": "x", **fields, field: SimpleUploadedFile("x.bin", data)}


def test_every_input_taking_endpoint_stores_file_parts_only_where_it_takes_files(account, world, blob_dir):
    """GIVEN every route of the URL conf that takes a body (enumerated from the resolver)
    WHEN a multipart body with a file part is sent with each write method, by an API client and a browser session
    THEN each answer leaves no blob that no row owns, and a refused one changes neither the disk nor the usage."""
    routes = input_taking_routes()
    templates = {template for template, _, _ in routes}
    assert {"/api/v1/folders/", "/api/v1/files/", "/api/v1/chats/<uuid:pk>/messages/", "/login"} <= templates
    api = bearer(account)
    sent = refused = accepted = 0
    for template, _func, methods in routes:
        for path in fillings(template, world):
            for method in methods:
                for field in ("file", "audio"):
                    before_blobs, before_usage = stored_blobs(blob_dir), usage(account.user)
                    response = getattr(api, method)(path, multipart(field), format="multipart")
                    assert_nothing_left(
                        blob_dir, account.user, before_blobs, before_usage, response, f"{method} {path} {field}"
                    )
                    sent += 1
                    refused += response.status_code >= 300
                    accepted += response.status_code < 300
    assert sent > 200 and refused > 100 and accepted > 5


def test_browser_session_posts_with_file_parts_leave_nothing(account, world, blob_dir):
    """The same over a browser session with the CSRF check enforced, with and without the CSRF token:
    a refused check (403) keeps nothing either."""
    client = Client()
    assert client.post("/login", {"username": account.username, "password": account.password}).status_code == 302
    client.handler.enforce_csrf_checks = True
    token = client.get("/files/").cookies.get("csrftoken") or client.cookies["csrftoken"]
    statuses = set()
    for template, _func, methods in input_taking_routes():
        if any(word in template for word in ("logout", "delete", "revoke", "password", "recover")):
            continue  # would end the session, or its unlock, for the routes after it
        for path in fillings(template, world)[:1]:
            for method in methods:
                for headers in ({}, {"HTTP_X_CSRFTOKEN": token.value}):
                    before_blobs, before_usage = stored_blobs(blob_dir), usage(account.user)
                    if method == "post":
                        response = client.post(path, multipart(), **headers)
                    else:
                        body = encode_multipart(BOUNDARY, multipart())
                        response = getattr(client, method)(path, body, content_type=MULTIPART_CONTENT, **headers)
                    assert_nothing_left(
                        blob_dir, account.user, before_blobs, before_usage, response, f"{method} {path} {headers}"
                    )
                    statuses.add(response.status_code)
    assert {201, 400, 403} <= statuses


def test_file_parts_to_endpoints_that_take_none_are_refused_without_writing(account, blob_dir):
    """The security run's reproduction: a 1 MiB quota, then 8 MiB file parts sent to folder creation."""
    User.objects.filter(pk=account.user.pk).update(storage_quota=1024 * 1024)
    api = bearer(account)
    too_big = api.post("/api/v1/files/", {"file": SimpleUploadedFile("big.bin", os.urandom(2 * 1024 * 1024))})
    assert too_big.status_code == 413
    for _ in range(4):
        response = api.post(
            "/api/v1/folders/", {"name": "x", "file": SimpleUploadedFile("x.bin", os.urandom(8 * 1024 * 1024))}
        )
        assert response.status_code == 400, response.content
        body = response.json()
        assert body["code"] == "files_not_accepted" and "nothing was stored" in body["detail"]
        assert body["errors"] == {"file": ["File parts are not accepted here."]}
    assert not Folder.objects.exists()
    assert stored_blobs(blob_dir) == set() and usage(account.user) == 0


def test_a_file_part_in_a_field_the_endpoint_does_not_take_is_refused(auth_client, blob_dir):
    response = auth_client.post(
        "/api/v1/files/",
        {"file": SimpleUploadedFile("a.txt", b"a"), "thumbnail": SimpleUploadedFile("t.png", b"t")},
    )
    assert response.status_code == 400 and response.json()["code"] == "files_not_accepted"
    assert "only in `file`" in response.json()["detail"]
    assert stored_blobs(blob_dir) == set() and not FileVersion.objects.exists()


def test_csrf_refused_browser_upload_keeps_nothing(account, blob_dir):
    client = Client()
    assert client.post("/login", {"username": account.username, "password": account.password}).status_code == 302
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/files/", {"file": SimpleUploadedFile("a.bin", PAYLOAD)})
    assert response.status_code == 403
    assert stored_blobs(blob_dir) == set() and usage(account.user) == 0


UPLOAD_ENDPOINTS = ["/api/v1/files/", "/api/upload/files", "/api/upload/audio", "/api/messages", "chat-messages"]


def _endpoint(api, path):
    if path == "chat-messages":
        chat = api.post("/api/v1/chats/", {"title": "c"}, format="json").json()
        return f"/api/v1/chats/{chat['id']}/messages/"
    return path


@pytest.mark.parametrize("path", UPLOAD_ENDPOINTS)
def test_too_many_files_is_a_clear_400_and_keeps_nothing(auth_client, account, blob_dir, path):
    path = _endpoint(auth_client, path)
    parts = [SimpleUploadedFile(f"f{n}.txt", b"x" * 100) for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = auth_client.post(path, {"file": parts, "content": "hi"})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "too_many_files"
    assert str(settings.DATA_UPLOAD_MAX_NUMBER_FILES) in response.json()["detail"]
    assert stored_blobs(blob_dir) == set() and usage(account.user) == 0 and not FileVersion.objects.exists()


@pytest.mark.parametrize("path", UPLOAD_ENDPOINTS)
def test_too_many_fields_is_a_clear_400_and_keeps_nothing(auth_client, account, blob_dir, path):
    path = _endpoint(auth_client, path)
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = auth_client.post(path, {"file": SimpleUploadedFile("a.txt", b"a"), **fields})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "too_many_fields"
    assert str(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS) in response.json()["detail"]
    assert stored_blobs(blob_dir) == set() and not FileVersion.objects.exists()


@pytest.mark.parametrize("path", UPLOAD_ENDPOINTS)
def test_a_huge_field_after_a_file_is_a_clear_413_and_keeps_nothing(auth_client, account, blob_dir, path):
    path = _endpoint(auth_client, path)
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    response = auth_client.post(path, {"file": SimpleUploadedFile("a.bin", PAYLOAD), "content": big})
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "request_too_large"
    assert format_bytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]  # "2.1 MiB"
    assert stored_blobs(blob_dir) == set() and usage(account.user) == 0


def test_other_users_uploads_are_untouched_by_a_refused_request(auth_client, other_account, blob_dir):
    """The cleanup only deletes what this request wrote."""
    theirs = bearer(other_account).post("/api/v1/files/", {"file": SimpleUploadedFile("t.bin", PAYLOAD)})
    assert theirs.status_code == 201
    kept = stored_blobs(blob_dir)
    auth_client.post("/api/v1/folders/", {"name": "x", "file": SimpleUploadedFile("x.bin", PAYLOAD)})
    assert stored_blobs(blob_dir) == kept
