"""Downloads sent straight from the decryption buffer when the server offers ``write_now`` (no ``bytes`` copy).

GIVEN gunicorn with Locker's worker, which puts ``locker.write_now`` in the environ
THEN a download's pieces after the first go from the reused buffer to the socket, and what the client gets is
exactly what it would get otherwise: whole bodies, ranges, HEAD, a kept-alive connection reused afterwards, a
damaged blob still cut short and recorded, a client that goes away recorded as nothing but a download.
In-process with a recording ``write_now``, then against the real server.
"""

import http.client
import json
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activity.models import Event
from locker.crypto.errors import CryptoError
from locker.http import WRITE_NOW
from tests.served import call, serve, sign_in
from tests.served import upload as upload_file
from vault.models import FileVersion

MIB = 1024 * 1024
CHUNK = 64 * 1024
SEALED = CHUNK + 16


def upload(api, data: bytes) -> str:
    response = api.post("/api/v1/files/", {"file": SimpleUploadedFile("a.bin", data)})
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]["id"]


class Recorder:
    """A stand-in for the server's ``write_now``: keeps a copy of every buffer it is handed."""

    def __init__(self, fail_after: int | None = None):
        self.sent: list[bytes] = []
        self.fail_after = fail_after

    def __call__(self, buffer) -> None:
        assert isinstance(buffer, memoryview)  # the decryption buffer itself, not a copy
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise BrokenPipeError("the client went away")
        self.sent.append(bytes(buffer))


@pytest.mark.django_db
class TestInProcess:
    def test_pieces_after_the_first_go_to_write_now(self, auth_client):
        data = os.urandom(3 * MIB + 12_345)
        file_id = upload(auth_client, data)
        send = Recorder()
        response = auth_client.get(f"/api/v1/files/{file_id}/content", **{WRITE_NOW: send})
        assert response.status_code == 200
        yielded = list(response.streaming_content)
        assert yielded == [data[:MIB]]  # read before the response, so a damaged start is a clear error
        assert [len(piece) for piece in send.sent] == [MIB, MIB, 12_345]
        assert b"".join(yielded + send.sent) == data

    @pytest.mark.parametrize(
        ("header", "span"),
        [("bytes=1000000-2500000", (1_000_000, 2_500_001)), ("bytes=-70000", (-70_000, None)), ("bytes=5-5", (5, 6))],
    )
    def test_ranges(self, auth_client, header, span):
        data = os.urandom(3 * MIB)
        file_id = upload(auth_client, data)
        send = Recorder()
        response = auth_client.get(f"/api/v1/files/{file_id}/content", HTTP_RANGE=header, **{WRITE_NOW: send})
        assert response.status_code == 206
        assert b"".join([*response.streaming_content, *send.sent]) == data[span[0] : span[1]]

    def test_a_head_request_does_not_use_it(self, auth_client):
        file_id = upload(auth_client, os.urandom(2 * MIB))
        send = Recorder()
        response = auth_client.head(f"/api/v1/files/{file_id}/content", **{WRITE_NOW: send})
        assert response.status_code == 200
        assert response["Content-Length"] == str(2 * MIB)
        assert send.sent == []

    def test_damage_further_on_is_still_cut_short_and_recorded(self, auth_client, blob_dir):
        data = os.urandom(3 * MIB)
        file_id = upload(auth_client, data)
        path = blob_dir / FileVersion.objects.get(file_id=file_id).blob
        raw = bytearray(path.read_bytes())
        raw[25 + 20 * SEALED + 100] ^= 1  # chunk 20: in the second run of 16
        path.write_bytes(bytes(raw))
        send = Recorder()
        response = auth_client.get(f"/api/v1/files/{file_id}/content", **{WRITE_NOW: send})
        pieces = iter(response.streaming_content)
        assert next(pieces) == data[:MIB]
        with pytest.raises(CryptoError):
            next(pieces)
        assert send.sent == []  # nothing of the damaged run left
        reasons = [e.data["reason"] for e in Event.objects.filter(action="file.integrity_failed")]
        assert reasons == ["damaged"]

    def test_a_client_going_away_is_not_recorded_as_damage(self, auth_client):
        file_id = upload(auth_client, os.urandom(3 * MIB))
        response = auth_client.get(f"/api/v1/files/{file_id}/content", **{WRITE_NOW: Recorder(fail_after=1)})
        pieces = iter(response.streaming_content)
        next(pieces)
        with pytest.raises(BrokenPipeError):
            next(pieces)
        assert not Event.objects.filter(action="file.integrity_failed").exists()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Locker under gunicorn as ``make run`` serves it, with one account holding one 3 MiB + 12,345 B file."""
    server, passwords = serve(tmp_path_factory.mktemp("download"), "dora")
    try:
        auth = sign_in(server.port, "dora", passwords["dora"])
        data = os.urandom(3 * MIB + 12_345)
        file_id = upload_file(server.port, auth, "a.bin", data)
        yield server, auth, data, f"/api/v1/files/{file_id}/content"
    finally:
        server.stop()


def test_the_real_server_sends_whole_bodies_ranges_and_heads_on_one_connection(served):
    server, auth, data, url = served
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        status, headers, body = call(server.port, "GET", url, headers=auth, conn=conn)
        assert (status, body == data, headers["Content-Length"]) == (200, True, str(len(data)))
        status, headers, body = call(server.port, "HEAD", url, headers=auth, conn=conn)
        assert (status, body, headers["Content-Length"]) == (200, b"", str(len(data)))
        status, _, body = call(server.port, "GET", url, headers={**auth, "Range": "bytes=1000000-2500000"}, conn=conn)
        assert (status, body == data[1_000_000:2_500_001]) == (206, True)
        status, _, body = call(server.port, "GET", url, headers={**auth, "Range": "bytes=-70000"}, conn=conn)
        assert (status, body == data[-70_000:]) == (206, True)
        status, _, body = call(server.port, "GET", url, headers=auth, conn=conn)  # the connection was kept in step
        assert (status, body == data) == (200, True)
    finally:
        conn.close()


def test_a_client_going_away_mid_download_is_a_download_not_damage(served):
    server, auth, _, url = served
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", url, headers=auth)
    response = conn.getresponse()
    assert len(response.read(100_000)) == 100_000
    conn.sock.close()  # gone, with about 3 MiB still to come
    conn.close()
    deadline = time.monotonic() + 10
    events: list = []
    while time.monotonic() < deadline:
        _, _, body = call(server.port, "GET", "/api/v1/activity/?type=file.integrity_failed", headers=auth)
        events = json.loads(body)["results"]
        _, _, body = call(server.port, "GET", "/api/v1/activity/?type=file.downloaded", headers=auth)
        if len(json.loads(body)["results"]) >= 2:  # this download's event too (written when it ended)
            break
        time.sleep(0.2)
    assert events == []
    assert "Traceback" not in (server.log.read_text())
