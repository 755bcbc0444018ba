"""Damaged or missing stored data: detected wherever it is read, answered with a stable code, recorded for the owner.

GIVEN a stored blob or sealed value changed behind the server's back (the on-disk tampering a black-box run tried)
THEN a download answers ``content_damaged``/``content_missing`` before its first byte, or cuts the body short when
the damage lies further on; a listing shows every other item and marks the damaged one; the owner's activity log
says so once a day per object.
"""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activity.models import Event
from locker.crypto.errors import CryptoError
from vault.models import File, FileVersion

pytestmark = pytest.mark.django_db

CHUNK = 64 * 1024
SEALED = CHUNK + 16


def upload(api, data: bytes, name: str = "a.bin") -> str:
    response = api.post("/api/v1/files/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]["id"]


def blob_path(blob_dir, file_id):
    return blob_dir / FileVersion.objects.get(file_id=file_id).blob


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def integrity_events(file_id):
    return list(Event.objects.filter(action="file.integrity_failed", object_id=str(file_id)))


TAMPERINGS = {
    "one byte appended": lambda raw: raw + b"x",
    "chunk 0 appended": lambda raw: raw + raw[25 : 25 + SEALED],
    "final chunk dropped": lambda raw: raw[:-SEALED],
    "last byte cut": lambda raw: raw[:-1],
    "an empty chunk appended": lambda raw: raw + bytes(16),
}


@pytest.mark.parametrize("size", [2 * CHUNK, 100_000, 5, 3 * 1024 * 1024])
@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_tampering_at_the_end_of_a_blob_is_detected_before_the_first_byte(auth_client, blob_dir, size, how):
    data = os.urandom(size)
    file_id = upload(auth_client, data)
    path = blob_path(blob_dir, file_id)
    path.write_bytes(TAMPERINGS[how](path.read_bytes()))
    for headers in ({}, {"HTTP_RANGE": "bytes=0-3"}):  # a range far from the end sees it too
        response = auth_client.get(f"/api/v1/files/{file_id}/content", **headers)
        assert response.status_code == 500, (how, size, headers)
        assert response.json()["code"] == "content_damaged"
    events = integrity_events(file_id)
    assert len(events) == 1 and events[0].outcome == "failure" and events[0].data == {"reason": "damaged", "version": 1}


def test_a_flipped_bit_in_the_first_chunk_is_a_clear_error(auth_client, blob_dir):
    file_id = upload(auth_client, os.urandom(1000))
    path = blob_path(blob_dir, file_id)
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(bytes(raw))
    response = auth_client.get(f"/api/v1/files/{file_id}/content")
    assert response.status_code == 500 and response.json()["code"] == "content_damaged"
    assert "integrity" in response.json()["detail"]


def test_damage_past_the_first_mebibyte_cuts_the_body_short_and_is_recorded(auth_client, blob_dir):
    data = os.urandom(3 * 1024 * 1024)
    file_id = upload(auth_client, data)
    path = blob_path(blob_dir, file_id)
    raw = bytearray(path.read_bytes())
    raw[25 + 20 * SEALED + 100] ^= 1  # chunk 20: in the second run of 16
    path.write_bytes(bytes(raw))
    response = auth_client.get(f"/api/v1/files/{file_id}/content")
    assert response.status_code == 200  # the headers left with the first run, which was intact
    received = []
    with pytest.raises(CryptoError):  # the server aborts: the body stays short of Content-Length
        for piece in response.streaming_content:
            received.append(piece)
    assert b"".join(received) == data[: 16 * CHUNK]
    assert [e.data["reason"] for e in integrity_events(file_id)] == ["damaged"]


def test_a_missing_blob_answers_content_missing(auth_client, blob_dir):
    file_id = upload(auth_client, b"hello")
    blob_path(blob_dir, file_id).unlink()
    response = auth_client.get(f"/api/v1/files/{file_id}/content")
    assert response.status_code == 500 and response.json()["code"] == "content_missing"
    assert response["Content-Type"] == "application/json"
    assert [e.data["reason"] for e in integrity_events(file_id)] == ["missing"]


def test_an_old_version_is_checked_the_same_way(auth_client, blob_dir):
    file_id = upload(auth_client, b"one")
    assert auth_client.put(f"/api/v1/files/{file_id}/content", b"two", content_type="text/plain").status_code == 200
    old = FileVersion.objects.get(file_id=file_id, number=1)
    (blob_dir / old.blob).write_bytes((blob_dir / old.blob).read_bytes() + b"!")
    assert auth_client.get(f"/api/v1/files/{file_id}/versions/1/content").json()["code"] == "content_damaged"
    assert body(auth_client.get(f"/api/v1/files/{file_id}/content")) == b"two"


def test_a_damaged_thumbnail_answers_content_damaged(auth_client, blob_dir):
    from PIL import Image

    image = blob_dir.parent / "p.png"
    Image.new("RGB", (64, 64), "red").save(image)
    file_id = upload(auth_client, image.read_bytes(), "p.png")
    derived = FileVersion.objects.get(file_id=file_id).derived
    assert derived.preview_blob
    path = blob_dir / derived.preview_blob
    path.write_bytes(path.read_bytes()[:-1])
    response = auth_client.get(f"/api/v1/files/{file_id}/preview")
    assert response.status_code == 500 and response.json()["code"] == "content_damaged"


def test_a_listing_shows_every_item_and_marks_the_damaged_one(auth_client, blob_dir):
    ids = [upload(auth_client, f"file {n}".encode(), f"f{n}.txt") for n in range(3)]
    damaged = File.objects.get(pk=ids[1])
    File.objects.filter(pk=damaged.pk).update(name_sealed=damaged.name_sealed[:-4] + "AAAA")
    folder = auth_client.post("/api/v1/folders/", {"name": "docs"}, format="json").json()
    for _ in range(2):  # the second listing records nothing new
        listing = auth_client.get("/api/v1/files/?ordering=created")
        assert listing.status_code == 200
        rows = {row["id"]: row for row in listing.json()["results"]}
        assert set(rows) == set(ids)
        assert rows[ids[1]]["damaged"] is True and rows[ids[1]]["name"] == "(damaged item)"
        assert rows[ids[1]]["size"] == len(b"file 1")
        assert [rows[i]["name"] for i in (ids[0], ids[2])] == ["f0.txt", "f2.txt"]
        assert not rows[ids[0]]["damaged"]
    assert auth_client.get("/api/v1/folders/").json()["results"][0]["id"] == folder["id"]
    assert [e.data for e in integrity_events(ids[1])] == [{"reason": "sealed_field"}]
    # its content is intact: it is still served, under a neutral name
    response = auth_client.get(f"/api/v1/files/{ids[1]}/content")
    assert response.status_code == 200 and body(response) == b"file 1"
    assert 'filename="download"' in response["Content-Disposition"]


def test_a_damaged_folder_name_is_marked_in_its_listing(auth_client):
    from vault.models import Folder

    for name in ("a", "b"):
        auth_client.post("/api/v1/folders/", {"name": name}, format="json")
    target = Folder.objects.order_by("created_at").first()
    Folder.objects.filter(pk=target.pk).update(name_sealed="not base64 at all!")
    rows = auth_client.get("/api/v1/folders/").json()["results"]
    assert sorted((r["name"], r["damaged"]) for r in rows) == [("(damaged item)", True), ("b", False)]


def test_damage_is_not_reported_to_other_users(auth_client, other_account, blob_dir):
    file_id = upload(auth_client, b"x")
    blob_path(blob_dir, file_id).unlink()
    auth_client.get(f"/api/v1/files/{file_id}/content")
    assert not Event.objects.filter(user=other_account.user, action="file.integrity_failed").exists()
