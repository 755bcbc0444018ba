"""tus at /api/v1/uploads/: the protocol's answers, bad input, other users' ids, quota held, versions, sharing."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from activity.models import Event
from tests.vault.conftest import bearer, blob_files, content
from tests.vault.test_sharing import folder_with_files, share
from vault.files.services import reserved_bytes
from vault.models import File, Upload

pytestmark = pytest.mark.django_db

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"


@pytest.fixture
def alice(account):
    return bearer(account)


def meta(**fields) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


def create(api, length, body=b"", **fields):
    extra = {**TUS, "HTTP_UPLOAD_LENGTH": str(length), "HTTP_UPLOAD_METADATA": meta(**fields)}
    if body:
        return api.generic("POST", "/api/v1/uploads/", body, content_type=OFFSET_TYPE, **extra)
    return api.generic("POST", "/api/v1/uploads/", **extra)


def created_url(api, length, **fields) -> str:
    response = create(api, length, **fields)
    assert response.status_code == 201, response.content
    return response["Location"]


def patch(api, url, offset, body, content_type=OFFSET_TYPE, **headers):
    return api.generic(
        "PATCH", url, body, content_type=content_type, **{**TUS, "HTTP_UPLOAD_OFFSET": str(offset), **headers}
    )


def head(api, url):
    return api.generic("HEAD", url, **TUS)


def test_options_tell_what_the_server_supports_without_signing_in(api_client, settings):
    response = api_client.options("/api/v1/uploads/")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert response["Tus-Max-Size"] == str(settings.LOCKER_MAX_UPLOAD_SIZE)
    assert set(response["Tus-Checksum-Algorithm"].split(",")) == {"sha256", "sha1", "md5"}


def test_a_whole_upload_in_pieces_of_any_size_becomes_a_file_with_its_tags(alice, user):
    data = bytes(range(256)) * 2000 + b"tail"
    url = created_url(alice, len(data), name="report.pdf.bin", tags="work,2026")
    assert head(alice, url)["Upload-Offset"] == "0"
    offset = 0
    for size in (1, 65535, 65536, 65537, 3, 70_000):  # across chunk boundaries, one byte, whole chunks
        response = patch(alice, url, offset, data[offset : offset + size])
        assert response.status_code == 204, response.content
        offset += size
        assert response["Upload-Offset"] == str(offset) and response["Tus-Resumable"] == "1.0.0"
        assert "Locker-File-Id" not in response
    response = patch(alice, url, offset, data[offset:])
    assert response.status_code == 204 and response["Locker-File-Created"] == "1"
    file_id = response["Locker-File-Id"]
    assert content(alice.get(f"/api/v1/files/{file_id}/content")) == data
    listed = alice.get(f"/api/v1/files/{file_id}/").json()
    assert listed["name"] == "report.pdf.bin" and sorted(listed["tags"]) == ["2026", "work"]
    assert Event.objects.filter(user=user, action="file.uploaded", object_id=file_id).exists()
    finished = head(alice, url)
    assert finished["Upload-Offset"] == str(len(data)) and finished["Locker-File-Id"] == file_id
    assert patch(alice, url, len(data), b"").status_code == 204  # a lost last answer, asked again
    assert reserved_bytes(user) == 0
    version = File.objects.get(pk=file_id).current_version
    assert User.objects.get(pk=user.pk).storage_used == version.stored_size
    # the same content MAC as the same bytes uploaded in one piece
    one = alice.post("/api/v1/files/", {"file": SimpleUploadedFile("one.bin", data)}, format="multipart")
    same = File.objects.get(pk=one.json()[0]["file"]["id"]).current_version
    assert same.content_mac == version.content_mac


def test_creation_with_upload_and_an_empty_file(alice):
    response = create(alice, 5, body=b"hello", name="hello.txt")
    assert response.status_code == 201 and response["Upload-Offset"] == "5"
    assert content(alice.get(f"/api/v1/files/{response['Locker-File-Id']}/content")) == b"hello"
    response = create(alice, 0, name="empty.txt")
    assert response.status_code == 201 and response["Locker-File-Id"]
    assert content(alice.get(f"/api/v1/files/{response['Locker-File-Id']}/content")) == b""
    partial = create(alice, 10, body=b"hel", name="partial.txt")
    assert partial.status_code == 201 and partial["Upload-Offset"] == "3" and "Locker-File-Id" not in partial


def test_a_file_id_in_the_metadata_adds_a_version(alice, user):
    first = alice.post("/api/v1/files/", {"file": SimpleUploadedFile("notes.txt", b"v1")}, format="multipart")
    file_id = first.json()[0]["file"]["id"]
    url = created_url(alice, 2, file=file_id)
    response = patch(alice, url, 0, b"v2")
    assert response.status_code == 204 and response["Locker-File-Id"] == file_id
    assert response["Locker-File-Created"] == "0"
    assert [v["number"] for v in alice.get(f"/api/v1/files/{file_id}/versions/").json()["results"]] == [2, 1]
    assert content(alice.get(f"/api/v1/files/{file_id}/content")) == b"v2"


def test_name_conflicts_follow_on_conflict(alice, user, blob_dir):
    alice.post("/api/v1/files/", {"file": SimpleUploadedFile("a.txt", b"old")}, format="multipart")
    renamed = create(alice, 3, body=b"new", name="a.txt", on_conflict="rename")
    assert alice.get(f"/api/v1/files/{renamed['Locker-File-Id']}/").json()["name"] == "a (2).txt"
    url = created_url(alice, 3, name="a.txt", on_conflict="error")
    used = User.objects.get(pk=user.pk).storage_used
    refused = patch(alice, url, 0, b"new")
    assert refused.status_code == 409 and refused.json()["code"] == "name_conflict"
    assert not Upload.objects.filter(file_id__isnull=True).exists()  # it cannot finish any more: gone, room freed
    assert reserved_bytes(user) == 0 and User.objects.get(pk=user.pk).storage_used == used
    assert len(blob_files(blob_dir)) == 2
    assert head(alice, url).status_code == 404


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, "invalid_header"),  # no Upload-Length
        ({"HTTP_UPLOAD_LENGTH": "abc"}, 400, "invalid_header"),
        ({"HTTP_UPLOAD_LENGTH": "-1"}, 400, "invalid_header"),
        ({"HTTP_UPLOAD_LENGTH": "1e3"}, 400, "invalid_header"),
        ({"HTTP_UPLOAD_LENGTH": "9" * 30}, 400, "invalid_header"),
        ({"HTTP_UPLOAD_DEFER_LENGTH": "1"}, 400, "invalid_header"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "name !!!"}, 400, "validation_error"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "name YQ==,name Yg=="}, 400, "validation_error"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "name /w=="}, 400, "validation_error"),  # not UTF-8
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": ""}, 400, "validation_error"),  # no name
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="../etc/passwd")}, 400, "invalid_name"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="a\x00b")}, 400, "invalid_name"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="x" * 300)}, 400, "invalid_name"),
        (
            {"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="a", on_conflict="x")},
            400,
            "validation_error",
        ),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="a", tags="[1")}, 400, "validation_error"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(name="a", folder="nope")}, 404, "not_found"),
        ({"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": meta(file="nope")}, 404, "not_found"),
    ],
)
def test_bad_creation_requests_are_refused_clearly_and_create_nothing(alice, headers, status, code):
    response = alice.generic("POST", "/api/v1/uploads/", **TUS, **headers)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["detail"]
    assert not Upload.objects.exists()


def test_a_missing_or_other_tus_version_is_412_with_the_version_spoken(alice):
    for extra in ({}, {"HTTP_TUS_RESUMABLE": "0.2.2"}):
        response = alice.generic("POST", "/api/v1/uploads/", HTTP_UPLOAD_LENGTH="1", **extra)
        assert response.status_code == 412 and response["Tus-Version"] == "1.0.0"
    assert not Upload.objects.exists()


def test_too_large_and_over_quota_are_refused_at_creation(alice, user, settings):
    settings.LOCKER_MAX_UPLOAD_SIZE = 1000
    response = create(alice, 1001, name="big.bin")
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    settings.LOCKER_MAX_UPLOAD_SIZE = 10**12
    User.objects.filter(pk=user.pk).update(storage_quota=10_000)
    response = create(alice, 20_000, name="big.bin")
    assert response.status_code == 413 and response.json()["code"] == "quota_exceeded"
    assert Event.objects.filter(user=user, action="quota.refused").exists()
    assert not Upload.objects.exists()


def test_the_room_an_upload_holds_is_counted_against_other_uploads(alice, user, settings):
    User.objects.filter(pk=user.pk).update(storage_quota=30_000)
    url = created_url(alice, 20_000, name="held.bin")
    assert reserved_bytes(user) == Upload.objects.get().reserved >= 20_000
    second = create(alice, 20_000, name="second.bin")
    assert second.status_code == 413 and second.json()["code"] == "quota_exceeded"
    direct = alice.post("/api/v1/files/", {"file": SimpleUploadedFile("d.bin", b"x" * 15_000)}, format="multipart")
    assert direct.status_code in {207, 413} and "quota_exceeded" in direct.content.decode()
    assert alice.delete(url, **TUS).status_code == 204  # termination frees the room
    assert reserved_bytes(user) == 0
    assert create(alice, 20_000, name="second.bin").status_code == 201


def test_patch_refusals_keep_the_offset(alice, user, blob_dir):
    url = created_url(alice, 100, name="a.bin")
    assert patch(alice, url, 0, b"x" * 10).status_code == 204
    size = Upload.objects.get().blob_size
    cases = [
        (patch(alice, url, 10, b"y", content_type="application/octet-stream"), 415, "unsupported_media_type"),
        (patch(alice, url, 5, b"y"), 409, "offset_mismatch"),
        (patch(alice, url, 11, b"y"), 409, "offset_mismatch"),
        (alice.generic("PATCH", url, b"y", content_type=OFFSET_TYPE, **TUS), 400, "invalid_header"),
        (patch(alice, url, 10, b"y" * 91), 413, "upload_length_exceeded"),
        (patch(alice, url, 10, b"y", HTTP_UPLOAD_CHECKSUM="crc32 AAAA"), 400, "checksum_algorithm_unsupported"),
        (patch(alice, url, 10, b"y", HTTP_UPLOAD_CHECKSUM="sha256 !!"), 400, "invalid_header"),
        (patch(alice, url, 10, b"y", HTTP_UPLOAD_CHECKSUM="sha256 AAAA"), 400, "invalid_header"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.content
    upload = Upload.objects.get()
    assert (upload.offset, upload.blob_size) == (10, size)
    assert head(alice, url)["Upload-Offset"] == "10"
    assert patch(alice, url, 10, b"z" * 90).status_code == 204
    file_id = head(alice, url)["Locker-File-Id"]
    assert content(alice.get(f"/api/v1/files/{file_id}/content")) == b"x" * 10 + b"z" * 90


def test_a_second_request_while_one_appends_is_refused_423(alice):
    url = created_url(alice, 100, name="a.bin")
    Upload.objects.update(busy_until=timezone.now() + timedelta(seconds=30))
    response = patch(alice, url, 0, b"x")
    assert response.status_code == 423 and response.json()["code"] == "upload_busy"
    assert alice.delete(url, **TUS).status_code == 423
    Upload.objects.update(busy_until=timezone.now() - timedelta(seconds=1))  # a crashed request's lease ran out
    assert patch(alice, url, 0, b"x").status_code == 204


def test_other_users_uploads_are_404_and_unknown_ids_too(alice, other_account):
    url = created_url(alice, 100, name="a.bin")
    bob = bearer(other_account)
    assert head(bob, url).status_code == 404
    assert patch(bob, url, 0, b"x").status_code == 404
    assert bob.delete(url, **TUS).status_code == 404
    assert Upload.objects.get().offset == 0
    assert head(alice, "/api/v1/uploads/00000000-0000-0000-0000-000000000000").status_code == 404
    assert head(alice, "/api/v1/uploads/not-an-id").status_code == 404


def test_termination_deletes_the_bytes(alice, user, blob_dir, settings):
    url = created_url(alice, 200_000, name="a.bin")
    assert patch(alice, url, 0, b"x" * 100_000).status_code == 204
    # an unfinished upload grows in the blob directory, or, when blobs are in an object store, in the upload directory
    assert blob_files(blob_dir) or blob_files(settings.LOCKER_UPLOAD_DIR)
    assert alice.delete(url, **TUS).status_code == 204
    assert not Upload.objects.exists() and blob_files(blob_dir) == [] == blob_files(settings.LOCKER_UPLOAD_DIR)
    assert head(alice, url).status_code == 404


def test_method_override_for_clients_without_patch(alice):
    url = created_url(alice, 3, name="a.txt")
    response = alice.generic(
        "POST",
        url,
        b"abc",
        content_type=OFFSET_TYPE,
        HTTP_X_HTTP_METHOD_OVERRIDE="PATCH",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert response.status_code == 204 and response["Locker-File-Id"]


def test_a_recipient_with_edit_uploads_into_a_shared_folder_on_the_owners_quota(alice, account, other_account):
    folder, _ = folder_with_files(alice)
    assert share(alice, folder["id"], permission="edit").status_code == 201
    bob = bearer(other_account)
    url = created_url(bob, 4, name="from bob.txt", folder=folder["id"])
    upload = Upload.objects.get()
    assert upload.owner_id == other_account.user.pk and upload.quota_user_id == account.user.pk
    response = patch(bob, url, 0, b"data")
    assert response.status_code == 204
    assert content(alice.get(f"/api/v1/files/{response['Locker-File-Id']}/content")) == b"data"
    view_only, _ = folder_with_files(alice, name="view only")
    assert share(alice, view_only["id"], permission="view").status_code == 201
    assert create(bob, 4, name="x.txt", folder=view_only["id"]).status_code == 404


def test_checksum_of_a_whole_body(alice):
    data = b"checked bytes"
    good = "md5 " + base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - tus checksum
    url = created_url(alice, len(data), name="c.txt")
    assert patch(alice, url, 0, data, HTTP_UPLOAD_CHECKSUM=good).status_code == 204
