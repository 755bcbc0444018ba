"""Messages with files and voice recordings: multipart forms, audio probing, atomicity, limits."""

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chats.audio import probe
from chats.models import Attachment, Message
from tests.vault.conftest import blob_files
from vault.models import File, FileVersion

pytestmark = pytest.mark.django_db


def wav(seconds: float = 1.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(n / 10))) for n in range(int(seconds * rate))))
    return out.getvalue()


def element(element_id: int, payload: bytes) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + (0x01_00_00_00_00_00_00_00 | len(payload)).to_bytes(8, "big") + payload


def opus_block(relative_ms: int, frame: bytes = b"opus") -> bytes:
    return element(0xA3, bytes([0x81]) + struct.pack(">h", relative_ms) + b"\x80" + frame)


def webm(last_block_ms: int, *, clusters: bytes | None = None) -> bytes:
    """A minimal WebM as MediaRecorder writes it: no Duration, clusters with timecodes and blocks."""
    header = element(0x1A45DFA3, element(0x4282, b"webm"))
    info = element(0x1549A966, element(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
    if clusters is None:
        clusters = b"".join(
            element(0x1F43B675, element(0xE7, t.to_bytes(2, "big")) + opus_block(last_block_ms % 1000))
            for t in (0, 1000 * (last_block_ms // 1000))
        )
    segment = (
        bytes.fromhex("18538067") + bytes.fromhex("01FFFFFFFFFFFFFF") + info + clusters
    )  # unknown size, as streamed
    return header + segment


@pytest.fixture
def api(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


@pytest.fixture
def chat(api):
    return api.post("/api/v1/chats/", {"title": "Assistant"}, format="json").json()


def post(api, chat, **parts):
    return api.post(f"/api/v1/chats/{chat['id']}/messages/", parts, format="multipart")


def test_text_and_three_files(api, chat, account):
    files = [SimpleUploadedFile(f"doc{n}.txt", f"attachment {n}".encode()) for n in range(3)]
    response = post(api, chat, content="see attached", role="user", file=files)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content"] == "see attached"
    assert [(a["kind"], a["name"]) for a in body["attachments"]] == [
        ("file", "doc0.txt"),
        ("file", "doc1.txt"),
        ("file", "doc2.txt"),
    ]
    downloaded = api.get(body["attachments"][1]["content_url"])
    assert b"".join(downloaded.streaming_content) == b"attachment 1"
    # attachments are ordinary vault files: in a folder, counted in the quota, searchable
    assert api.get("/api/v1/me").json()["usage"] == sum(v.stored_size for v in FileVersion.objects.all())
    assert api.get("/api/v1/search", {"q": "doc1"}).json()["results"][0]["kind"] == "file"
    listing = api.get(f"/api/v1/chats/{chat['id']}/messages/").json()["results"]
    assert len(listing[0]["attachments"]) == 3


def test_audio_only_wav(api, chat):
    response = post(api, chat, audio=SimpleUploadedFile("memo.wav", wav(1.5)))
    assert response.status_code == 201, response.content
    [audio] = response.json()["attachments"]
    assert audio["kind"] == "audio" and audio["mime_type"].startswith("audio/") and abs(audio["duration"] - 1.5) < 0.05


def test_text_files_and_webm_audio(api, chat):
    response = post(
        api,
        chat,
        content="a note and a recording",
        file=[SimpleUploadedFile("a.txt", b"a")],
        audio=SimpleUploadedFile("blob", webm(2340)),
    )
    assert response.status_code == 201, response.content
    kinds = [(a["kind"], a["mime_type"]) for a in response.json()["attachments"]]
    assert kinds == [("file", "text/plain"), ("audio", "audio/webm")]
    assert abs(response.json()["attachments"][1]["duration"] - 2.34) < 0.01
    assert response.json()["attachments"][1]["name"].startswith("Recording")


def test_a_long_recording_is_probed_through_its_encrypted_blob(api, chat):
    """Two minutes of 20 ms Opus frames (about 11 chunks): the probe walks every block, a few bytes per read."""
    clusters = b"".join(
        element(
            0x1F43B675,
            element(0xE7, second.to_bytes(4, "big"))
            + b"".join(opus_block(ms, bytes(100)) for ms in range(0, 1000, 20)),
        )
        for second in range(0, 120_000, 1000)
    )
    recording = webm(0, clusters=clusters)
    assert len(recording) > 10 * 65_536
    response = post(api, chat, content="", audio=SimpleUploadedFile("blob", recording))
    assert response.status_code == 201, response.content
    assert abs(response.json()["attachments"][0]["duration"] - 119.98) < 0.01


def test_webm_probe_reads_a_declared_duration_too():
    mime, duration = probe(io.BytesIO(webm(1500)))
    assert mime == "audio/webm" and abs(duration - 1.5) < 0.01


@pytest.mark.parametrize(
    "parts,status,code",
    [
        ({"role": "robot", "content": "x"}, 400, "validation_error"),
        ({"content": ""}, 400, "empty_message"),
        ({"audio": SimpleUploadedFile("fake.wav", b"definitely not audio" * 10)}, 415, "unsupported_audio"),
    ],
)
def test_bad_multipart_messages_store_nothing(api, chat, blob_dir, parts, status, code):
    response = post(api, chat, **parts)
    assert response.status_code == status and response.json()["code"] == code
    assert not Message.objects.exists() and not File.objects.exists() and blob_files(blob_dir) == []


def test_oversize_audio(api, chat, settings, blob_dir):
    settings.LOCKER_MAX_AUDIO_SIZE = 1000
    response = post(api, chat, audio=SimpleUploadedFile("long.wav", wav(2)))
    assert response.status_code == 413 and response.json()["code"] == "audio_too_large"
    assert not Message.objects.exists() and blob_files(blob_dir) == []


def test_wrong_content_type_and_other_users_chat(api, chat, other_account):
    assert api.post(f"/api/v1/chats/{chat['id']}/messages/", "x", content_type="text/plain").status_code == 415
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_account.login(other)['access']}")
    response = other.post(
        f"/api/v1/chats/{chat['id']}/messages/",
        {"content": "hi", "file": [SimpleUploadedFile("x", b"x")]},
        format="multipart",
    )
    assert response.status_code == 404 and not Message.objects.exists()


def test_failure_on_the_third_attachment_keeps_nothing(api, chat, blob_dir, monkeypatch):
    """Acceptance 2: atomic: no message, no attachment rows, no blobs, quota unchanged."""
    from vault.files import services as vault_services

    original, calls = vault_services.file_upload, []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected failure on the third attachment")
        return original(**kwargs)

    monkeypatch.setattr(vault_services, "file_upload", failing)
    files = [SimpleUploadedFile(f"f{n}.txt", b"x" * 100) for n in range(4)]
    with pytest.raises(RuntimeError):
        post(api, chat, content="four files", file=files)
    assert not Message.objects.exists() and not Attachment.objects.exists()
    assert not FileVersion.objects.exists() and blob_files(blob_dir) == []
    monkeypatch.setattr(vault_services, "file_upload", original)
    assert api.get("/api/v1/me").json()["usage"] == 0


def test_one_recording_per_message(api, chat):
    response = post(api, chat, audio=[SimpleUploadedFile("a.wav", wav(1)), SimpleUploadedFile("b.wav", wav(1))])
    assert response.status_code == 400 and response.json()["code"] == "too_many_audio"
    assert not Message.objects.exists()


def test_deleting_a_chat_trashes_its_attachments(api, chat):
    post(api, chat, content="with a file", file=[SimpleUploadedFile("keep.txt", b"k")])
    assert api.delete(f"/api/v1/chats/{chat['id']}/").status_code == 204
    trash = api.get("/api/v1/trash/").json()["results"]
    assert [(t["kind"], t["name"]) for t in trash] == [("file", "keep.txt")]


@pytest.mark.django_db(transaction=True)
def test_audio_text_and_titles_stored_nowhere_in_clear(account, blob_dir, tmp_path, monkeypatch):
    """Acceptance 3: markers in a chat title, a message and the audio bytes are in no table, WAL, blob or temp file."""
    import os
    import tempfile

    from django.db import connection

    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    marker = b"WOMBATECHO"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(api)['access']}")
    chat = api.post("/api/v1/chats/", {"title": "WOMBATECHO chat"}, format="json").json()
    audio = wav(1)[: -len(marker) * 50] + marker * 50  # the marker inside the samples
    response = post(api, chat, content="WOMBATECHO said", audio=SimpleUploadedFile("WOMBATECHO.wav", audio))
    assert response.status_code == 201, response.content
    stored = [p for p in blob_files(blob_dir)] + [p for p in system_tmp.rglob("*") if p.is_file()]
    if connection.vendor == "sqlite":
        database = str(connection.settings_dict["NAME"])
        stored += [Path(p) for p in (database, database + "-wal") if os.path.exists(p)]
    else:
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
                assert not any(marker.decode().lower() in str(v).lower() for row in cursor.fetchall() for v in row if v)
    assert blob_files(blob_dir)
    for path in stored:
        assert marker not in path.read_bytes() and marker.lower() not in path.read_bytes().lower(), path
