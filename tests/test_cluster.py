"""Two app servers behind a load balancer, as a scaled-out deployment runs them: two gunicorn servers on one
PostgreSQL database, one Redis and one S3 store (SeaweedFS), behind Debian's nginx balancing round robin on
loopback (``bench/cluster.py``). A user's session goes across both, each request landing on the other server
from the one before: what one server did, the other must know (sessions, blobs, partial uploads, WebDAV locks,
rate-limit counters, live notifications), because nothing lives in one process's memory or disk.

Runs in the PostgreSQL + Redis run of the suite (``.ci/run``), which has the services; it needs nginx too."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import threading
import time
import urllib.parse

import pyotp
import pytest

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"),
        reason="runs with the PostgreSQL + Redis suite, whose services it uses",
    ),
    pytest.mark.skipif(not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"), reason="needs nginx"),
]
PASSWORD = "correct horse battery staple 7"


class Client:
    """A client of the balancer that records which server answered each request (``X-Locker-Upstream``)."""

    def __init__(self, port: int):
        self.port = port
        self.upstreams: list[str] = []
        self.auth: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            if isinstance(body, dict):
                body = json.dumps(body)
                headers = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=body, headers={**self.auth, **(headers or {})})
            response = conn.getresponse()
            answer = dict(response.getheaders()), response.read()
        finally:
            conn.close()
        self.upstreams.append(answer[0]["X-Locker-Upstream"])
        return response.status, *answer

    def json(self, method: str, path: str, body=None, expect: int = 200, headers=None):
        status, _, answer = self.call(method, path, body, headers)
        assert status == expect, (method, path, status, answer[:500])
        return json.loads(answer) if answer else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from bench.cluster import Cluster, postgres_database, redis_cache, s3_bucket

    tmp = tmp_path_factory.mktemp("cluster")
    with (
        postgres_database() as database,
        redis_cache(db=13) as cache,
        s3_bucket(tmp / "s3") as store,
        Cluster(servers=2, env={**database, **cache, **store}, data_dir=tmp / "data", balancer=True) as running,
    ):
        running.make_accounts(["alice", "bob", "carol", "dave", "erin"], PASSWORD)
        yield running


def sign_in(client: Client, username: str) -> dict:
    tokens = client.json("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
    client.auth = {"Authorization": f"Bearer {tokens['access']}"}
    return tokens


def multipart(name: str, data: bytes) -> tuple[bytes, dict]:
    body = (
        f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + data
        + b"\r\n--b0undary--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=b0undary"}


def listen(port: int, auth: dict, events: list, ready: threading.Event, stop: threading.Event) -> None:
    """Bob's live notification stream (SSE), through the balancer: every notification event it receives."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/v1/notifications/stream", headers={**auth, "Accept": "text/event-stream"})
    response = conn.getresponse()
    events.append(("upstream", response.getheader("X-Locker-Upstream")))
    ready.set()
    try:
        while not stop.is_set():
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data:"):
                events.append(("data", json.loads(line[5:])))
    except (TimeoutError, OSError):
        pass
    finally:
        conn.close()


def test_a_session_across_two_servers(cluster):
    port = cluster.nginx.port
    alice, bob = Client(port), Client(port)
    tokens = sign_in(alice, "alice")  # server 1
    sign_in(bob, "bob")
    events, ready, stop = [], threading.Event(), threading.Event()
    listener = threading.Thread(target=listen, args=(port, bob.auth, events, ready, stop), daemon=True)
    listener.start()
    assert ready.wait(30)

    # upload on one server, list and download on the other: the blob is in the shared store
    data = os.urandom(3 * 1024 * 1024 + 77)
    body, headers = multipart("report.bin", data)
    [created] = alice.json("POST", "/api/v1/files/", body, expect=201, headers=headers)
    file_id = created["file"]["id"]
    listed = alice.json("GET", "/api/v1/files/")
    assert [item["id"] for item in listed["results"]] == [file_id]
    status, _, got = alice.call("GET", f"/api/v1/files/{file_id}/content")
    assert status == 200 and got == data
    status, headers, got = alice.call("GET", f"/api/v1/files/{file_id}/content", headers={"Range": "bytes=1000-1999"})
    assert status == 206 and got == data[1000:2000]

    # a resumable upload started on one server and finished by PATCHes on both
    tus = {"Tus-Resumable": "1.0.0"}
    name = base64.b64encode(b"resumed.bin").decode()
    status, answer, _ = alice.call(
        "POST", "/api/v1/uploads/", headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": f"name {name}"}
    )
    assert status == 201
    location = answer["Location"].split("://", 1)[-1].split("/", 1)[-1]
    location = "/" + location if not location.startswith("/") else location
    half = len(data) // 2
    patch = {**tus, "Content-Type": "application/offset+octet-stream"}
    status, answer, _ = alice.call("PATCH", location, data[:half], {**patch, "Upload-Offset": "0"})
    assert status == 204 and answer["Upload-Offset"] == str(half)
    status, answer, _ = alice.call("PATCH", location, data[half:], {**patch, "Upload-Offset": str(half)})
    assert status == 204 and answer["Upload-Offset"] == str(len(data))
    names = {item["name"] for item in alice.json("GET", "/api/v1/files/")["results"]}
    assert names == {"report.bin", "resumed.bin"}

    # a share on one server is heard live by bob's stream, held by whichever server took it
    alice.json("POST", "/api/v1/shares/", {"item": file_id, "username": "bob", "permission": "view"}, expect=201)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not [e for kind, e in events if kind == "data"]:
        time.sleep(0.2)
    heard = [event for kind, event in events if kind == "data"]
    assert heard, "bob's live stream heard nothing of the share"
    shared = bob.json("GET", "/api/v1/shared-with-me/")
    assert file_id in json.dumps(shared)
    status, _, got = bob.call("GET", f"/api/v1/files/{file_id}/content")
    assert status == 200 and got == data

    # WebDAV: a lock taken through one server holds on the other
    app = alice.json("POST", "/api/v1/auth/app-passwords/", {"name": "dav"}, expect=201)
    basic = {"Authorization": "Basic " + base64.b64encode(f"alice:{app['password']}".encode()).decode()}
    saved, alice.auth = alice.auth, basic
    lock_body = (
        b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
        b"<D:locktype><D:write/></D:locktype></D:lockinfo>"
    )
    status, answer, _ = alice.call("LOCK", "/dav/report.bin", lock_body, {"Content-Type": "application/xml"})
    assert status == 200, status
    token = answer["Lock-Token"]
    status, _, _ = alice.call("PUT", "/dav/report.bin", b"overwritten")
    assert status == 423  # the other server knows the lock
    status, _, _ = alice.call("PUT", "/dav/report.bin", b"overwritten", {"If": f"({token})"})
    assert status in (200, 204)
    status, _, _ = alice.call("UNLOCK", "/dav/report.bin", headers={"Lock-Token": token})
    assert status == 204
    alice.auth = saved

    # signing out on one server ends the session on both
    alice.json("POST", "/api/v1/auth/logout", {"refresh": tokens["refresh"]}, expect=204)
    for _ in range(2):
        status, _, _ = alice.call("GET", "/api/v1/files/")
        assert status == 401

    stop.set()
    # every request went to the other server from the one before (nginx's round robin; the stream took a turn)
    upstreams = alice.upstreams
    assert len(set(upstreams)) == 2
    assert all(a != b for a, b in zip(upstreams, upstreams[1:], strict=False)), upstreams
    assert len({upstream for kind, upstream in events if kind == "upstream"} | set(bob.upstreams)) == 2


def test_rate_limits_count_across_both_servers(cluster):
    client = Client(cluster.nginx.port)
    statuses = []
    for _ in range(12):  # 10 failed sign-ins a minute per account (LOCKER_RATE_LOGIN_USER)
        status, _, _ = client.call("POST", "/api/v1/auth/token", {"username": "bob", "password": "wrong password 1"})
        statuses.append(status)
    # one count for both servers: counted per server, 20 attempts would pass (bob's sign-in above counted too)
    allowed = statuses.index(429)
    assert 8 <= allowed <= 10 and statuses[:allowed] == [401] * allowed, statuses
    assert statuses[allowed:] == [429] * (12 - allowed) and len(set(client.upstreams[allowed:])) == 2, statuses


def refused_after(statuses: list[int], refused: int = 429) -> int:
    """How many attempts went through before the first refusal, checking that every later one is refused too."""
    allowed = statuses.index(refused)
    assert set(statuses[allowed:]) == {refused}, statuses
    return allowed


def test_two_factor_codes_count_across_both_servers(cluster):
    client = Client(cluster.nginx.port)
    sign_in(client, "carol")
    secret = client.json("POST", "/api/v1/auth/two-factor/enrol", {"password": PASSWORD})["secret"]
    client.json("POST", "/api/v1/auth/two-factor/confirm", {"code": pyotp.TOTP(secret).now()})
    client.upstreams.clear()
    wrong = {"username": "carol", "password": PASSWORD, "otp": "12345"}  # never a code: 5 digits
    statuses = [client.call("POST", "/api/v1/auth/token", wrong)[0] for _ in range(7)]
    assert refused_after(statuses) == 5 and statuses[:5] == [401] * 5  # LOCKER_RATE_OTP_USER: 5 a minute
    assert len(set(client.upstreams)) == 2
    right = {**wrong, "otp": pyotp.TOTP(secret).at(time.time() + 30)}
    assert client.call("POST", "/api/v1/auth/token", right)[0] == 429  # even a right code, until the wait ends


def test_app_password_guesses_count_across_both_servers_per_account_and_per_address(cluster):
    client = Client(cluster.nginx.port)
    sign_in(client, "dave")
    made = client.json("POST", "/api/v1/auth/app-passwords/", {"name": "sync"}, expect=201)["password"]

    def basic(username: str, secret: str) -> int:
        token = base64.b64encode(f"{username}:{secret}".encode()).decode()
        return client.call("GET", "/api/v1/folders/", headers={"Authorization": f"Basic {token}"})[0]

    assert basic("dave", made) == 200
    client.upstreams.clear()
    guess = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
    per_account = [basic("dave", guess) for _ in range(12)]  # 10 a minute per account (API and WebDAV together)
    assert refused_after(per_account) == 10 and basic("dave", made) == 429
    # per address: 30 a minute whoever is guessed; dave's 10 count too
    others = [basic(f"nobody{n}", guess) for n in range(25)]
    assert refused_after(others) == 20
    assert len(set(client.upstreams)) == 2


def test_recovery_key_guesses_count_across_both_servers(cluster):
    client = Client(cluster.nginx.port)
    guess = {"username": "erin", "recovery_key": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "new_password": "x" * 12}
    statuses = [client.call("POST", "/api/v1/auth/recover", guess)[0] for _ in range(12)]
    assert refused_after(statuses) == 10 and len(set(client.upstreams)) == 2  # 10 an hour, per account and address


def test_public_link_password_guesses_count_across_both_servers(cluster):
    owner = Client(cluster.nginx.port)
    sign_in(owner, "alice")
    body, headers = multipart("shared.txt", b"for the link")
    [created] = owner.json("POST", "/api/v1/files/", body, expect=201, headers=headers)
    tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    link = owner.json(
        "POST",
        "/api/v1/links/",
        {"item": created["file"]["id"], "password": "open sesame please", "expires_at": tomorrow},
        expect=201,
    )
    path = "/" + link["url"].split("/", 3)[3]
    visitor = Client(cluster.nginx.port)
    status, headers, page = visitor.call("GET", path)
    assert status == 200
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()

    def attempt(password: str) -> int:
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "password": password})
        return visitor.call(
            "POST", path, form, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        )[0]

    statuses = [attempt("a guess") for _ in range(12)]
    assert refused_after(statuses) == 10 and statuses[:10] == [404] * 10  # 10 a minute per link
    assert attempt("open sesame please") == 429 and len(set(visitor.upstreams)) == 2


def test_no_server_wrote_database_locked_or_errors(cluster):
    assert cluster.log_count("database is locked") == 0
    assert cluster.log_count("Traceback") == 0
