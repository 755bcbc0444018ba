"""Quota messages speak the quota bar's units, and a purge reports exactly what the usage went down by.

The quota counts stored (encrypted) bytes: a 26 B file takes 67 B. A purge answers the storage it gave back
(``freed``, with ``freed_text`` and a ``detail`` in KiB/MiB/GiB), which must equal the change in
``GET /api/v1/me``'s ``usage``: the number the quota bar shows.
"""

import os
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from locker.units import format_bytes
from tests.vault.conftest import bearer, make_upload
from vault.common import QuotaExceeded
from vault.files import services
from vault.models import FileVersion

pytestmark = pytest.mark.django_db

RAW_BYTES = re.compile(r"\b\d{4,}\b|\bbytes\b")  # a bare byte count ("12345", "bytes") is not a human unit


def post_files(client, *files):
    parts = [SimpleUploadedFile(name, data) for name, data in files]
    return client.post("/api/v1/files/", {"file": parts}, format="multipart")


def usage(client) -> int:
    return client.get("/api/v1/me").json()["usage"]


def test_purging_a_26_byte_file_reports_the_storage_the_quota_bar_gives_back(account):
    client = bearer(account)
    file = post_files(client, ("a.txt", b"x" * 26)).json()[0]["file"]
    stored = FileVersion.objects.get(file_id=file["id"]).stored_size
    assert file["size"] == 26 and stored > 26  # encrypted: header and tag
    client.delete(f"/api/v1/files/{file['id']}/")
    before = usage(client)
    response = client.delete(f"/api/v1/trash/{file['id']}/")
    assert response.status_code == 200
    body = response.json()
    assert body["freed"] == before - usage(client) == stored
    assert body["freed_text"] == f"{stored} B"
    assert body["detail"] == f"Deleted for good: {stored} B of storage freed."


def test_purge_counts_every_version_and_empty_counts_everything(account, keys):
    client = bearer(account)
    first = post_files(client, ("report.txt", os.urandom(70_000))).json()[0]["file"]
    client.put(f"/api/v1/files/{first['id']}/content", os.urandom(5_000), content_type="application/octet-stream")
    versions = list(FileVersion.objects.filter(file_id=first["id"]).values_list("stored_size", flat=True))
    assert len(versions) == 2
    client.delete(f"/api/v1/files/{first['id']}/")
    before = usage(client)
    purged = client.delete(f"/api/v1/trash/{first['id']}/").json()
    assert purged["freed"] == before - usage(client) == sum(versions)
    assert purged["freed_text"] == format_bytes(sum(versions)) and purged["freed_text"].endswith("KiB")

    folder = client.post("/api/v1/folders/", {"name": "Old"}, format="json").json()
    post_files(client, ("one.bin", os.urandom(3000)))
    services.file_upload(
        user=account.user, keys=keys, upload=make_upload(keys, "two.bin", os.urandom(2000)), folder_id=folder["id"]
    )
    for item in client.get("/api/v1/files/").json()["results"]:
        client.delete(f"/api/v1/files/{item['id']}/")
    client.delete(f"/api/v1/folders/{folder['id']}/")
    before = usage(client)
    emptied = client.delete("/api/v1/trash/").json()
    assert emptied["freed"] == before - usage(client) == before > 0
    assert emptied["detail"] == f"Emptied the trash: {format_bytes(before)} of storage freed."
    assert client.delete("/api/v1/trash/").json()["freed"] == 0  # nothing left: nothing freed


def test_purge_of_what_is_not_in_my_trash_is_404(account, other_account):
    mine, theirs = bearer(account), bearer(other_account)
    file = post_files(theirs, ("b.txt", b"theirs")).json()[0]["file"]
    theirs.delete(f"/api/v1/files/{file['id']}/")
    for bad in (file["id"], str(uuid.uuid4()), "not-a-uuid", "%3Cscript%3E"):
        response = mine.delete(f"/api/v1/trash/{bad}/")
        assert response.status_code == 404 and set(response.json()) == {"code", "detail"}
    assert theirs.get("/api/v1/trash/").json()["results"][0]["id"] == file["id"]  # still there


def test_over_quota_uploads_are_refused_in_human_units(account):
    client = bearer(account)
    User.objects.filter(pk=account.user.pk).update(storage_quota=10_000)
    refused = post_files(client, ("big.bin", os.urandom(50_000)))  # decided after encryption
    assert refused.status_code == 413
    detail = refused.json()["detail"]
    assert detail.startswith("This upload needs 48.9 KiB of storage, but only 9.8 KiB of your 9.8 KiB is free.")
    assert not RAW_BYTES.search(detail), detail
    User.objects.filter(pk=account.user.pk).update(storage_quota=1024 * 1024)
    declared = post_files(client, ("huge.bin", os.urandom(3 * 1024 * 1024)))  # refused from its declared length
    assert declared.status_code == 413 and declared.json()["code"] == "quota_exceeded"
    assert "of your 1 MiB is free" in declared.json()["detail"] and " MiB of storage" in declared.json()["detail"]
    assert not RAW_BYTES.search(declared.json()["detail"])


def test_quota_message_when_nothing_is_free():
    message = QuotaExceeded.needing(needed=1536, free=-5, quota=5 * 1024**3).detail
    assert message.startswith("This upload needs 1.5 KiB of storage, but none of your 5 GiB is free.")


def test_size_limit_is_said_in_human_units(account, settings):
    client = bearer(account)
    settings.LOCKER_MAX_UPLOAD_SIZE = 1024 * 1024
    response = post_files(client, ("big.bin", os.urandom(1024 * 1024 + 10)))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert response.json()["detail"] == "Files are limited to 1 MiB each."


def test_note_and_body_limits_are_said_in_human_units(account, settings):
    client = bearer(account)
    settings.LOCKER_MAX_NOTE_BYTES = 2048
    too_long = client.post("/api/v1/notes/", {"body": "x" * 2049}, format="json")
    assert too_long.status_code == 400 and too_long.json()["errors"]["body"] == ["At most 2 KiB of text."]
    huge = client.post("/api/v1/notes/", {"body": "x" * 3_000_000}, format="json")
    assert huge.status_code == 413 and huge.json()["code"] == "request_too_large"
    assert not RAW_BYTES.search(huge.json()["detail"]), huge.json()["detail"]
