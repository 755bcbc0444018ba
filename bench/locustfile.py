"""The virtual user of the load benchmark (``bench/bench_load.py``): locust, headless, against a Locker URL.

Each virtual user takes one pre-made account (round robin over ``LOAD_ACCOUNTS``), signs in (``POST
/api/v1/auth/token``: Argon2id, slow by design, its own row), or, when the accounts file has tokens, uses those
(the saturation rounds, so that Argon2 does not weigh on a short round); makes sure it has a folder, a file, a
note and a chat (rows named ``setup: ...``); holds one live notification stream (SSE,
``/api/v1/notifications/stream``) open for its whole life in a greenlet, counting the notifications that arrive
and reconnecting from the last id when the server ends the stream; and then does a mix of tasks with
``LOAD_WAIT`` seconds of thinking between two (``"1,3"``: 1-3 s at random; ``"0"``: none).

Rows are named per operation; ``TRANSFERS`` are the ones that move 1 MiB. At the end the statistics (each row's
whole response-time histogram, errors), every request's time and duration, and the stream counters go to
``LOAD_RESULT`` as JSON.

Environment: ``LOAD_ACCOUNTS`` (a JSON file: ``password``, ``usernames``, optionally ``tokens``), ``LOAD_RESULT``,
``LOAD_WAIT``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import time
import uuid
from urllib.parse import urlsplit

import gevent
from locust import FastHttpUser, between, constant, events, task

TRANSFERS = ("upload 1 MiB", "download 1 MiB")
WORDS = ("report", "meeting", "budget", "holiday", "invoice", "garden")
BODY = os.urandom(1 << 20)
BOUNDARY = "locker-load-boundary"

with open(os.environ["LOAD_ACCOUNTS"]) as handle:
    ACCOUNTS = json.load(handle)
_next_account = itertools.count()
STREAMS = {"opened": 0, "reconnects": 0, "events": 0, "failures": 0, "uploads_ok": 0}
SAMPLES: list[tuple[float, str, float, bool]] = []  # every request: (time, name, milliseconds, failed)


def _wait():
    low, _, high = os.environ.get("LOAD_WAIT", "1,3").partition(",")
    return between(float(low), float(high)) if high else constant(float(low))


def _fire(name: str, started: float, exception: Exception | None = None, length: int = 0) -> None:
    events.request.fire(
        request_type="GET",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=length,
        exception=exception,
        context={},
    )


class LockerUser(FastHttpUser):
    wait_time = _wait()
    connection_timeout = 60.0
    network_timeout = 120.0

    def on_start(self) -> None:
        names = ACCOUNTS["usernames"]
        self.username = names[next(_next_account) % len(names)]
        token = ACCOUNTS.get("tokens", {}).get(self.username)
        if token is None:
            body = {"username": self.username, "password": ACCOUNTS["password"]}
            with self.client.post("/api/v1/auth/token", json=body, name="login (Argon2id)", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"login {r.status_code}")
                    raise RuntimeError(f"{self.username} could not sign in")
                token = r.json()["access"]
        self.auth = {"Authorization": f"Bearer {token}"}
        self.folder = self._ensure("folders", {"name": "load"}, match=lambda row: row.get("name") == "load")
        self.note = self._ensure("notes", {"title": "meeting notes", "body": "budget"})
        self.chat = self._ensure("chats", {"title": "load chat"})
        files = self._get(f"/api/v1/files/?folder={self.folder}", "setup: files").get("results", [])
        self.files = [row["id"] for row in files]
        if not self.files:
            self.upload()
        self.stream = gevent.spawn(self._stream, token)

    def on_stop(self) -> None:
        stream = getattr(self, "stream", None)
        if stream is not None:
            stream.kill(block=False)

    # helpers
    def _get(self, path: str, name: str) -> dict:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return {}
            return r.json()

    def _ensure(self, collection: str, create: dict, match=lambda row: True) -> str:
        """The id of the user's first ``collection`` item that ``match``es, made with ``create`` if none does."""
        rows = self._get(f"/api/v1/{collection}/", f"setup: list {collection}").get("results", [])
        for row in rows:
            if match(row):
                return row["id"]
        with self.client.post(
            f"/api/v1/{collection}/",
            json=create,
            headers=self.auth,
            name=f"setup: create {collection}",
            catch_response=True,
        ) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                raise RuntimeError(f"{self.username}: could not create {collection}")
            return r.json()["id"]

    def _stream(self, token: str) -> None:
        """One SSE stream for the user's life: counts notifications, reconnects from the last id at its end."""
        url = urlsplit(self.host)
        last_id = ""
        first = True
        while True:
            started = time.perf_counter()
            sock = None
            try:
                sock = socket.create_connection((url.hostname, url.port or 80), timeout=60)
                head = (
                    f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: {url.netloc}\r\n"
                    f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
                    + (f"Last-Event-ID: {last_id}\r\n" if last_id else "")
                    + "\r\n"
                )
                sock.sendall(head.encode())
                reader = sock.makefile("rb")
                status = reader.readline()
                if b" 200 " not in status:
                    raise RuntimeError(f"stream refused: {status[:80]!r}")
                STREAMS["opened" if first else "reconnects"] += 1
                _fire("notifications stream: open", started)
                first = False
                sock.settimeout(120)  # heartbeats every 15 s
                while line := reader.readline():
                    if line.startswith(b"event: notification"):
                        STREAMS["events"] += 1
                    elif line.startswith(b"id: "):
                        last_id = line[4:].strip().decode()
            except gevent.GreenletExit:
                raise
            except Exception as exc:  # noqa: BLE001 - counted, and the stream is opened again
                STREAMS["failures"] += 1
                _fire("notifications stream: open", started, exc)
                gevent.sleep(1)
            finally:
                if sock is not None:
                    sock.close()

    # the workload
    @task(4)
    def list_folders(self) -> None:
        self._get("/api/v1/folders/", "list folders")

    @task(4)
    def list_files(self) -> None:
        self._get(f"/api/v1/files/?folder={self.folder}", "list files")

    @task(3)
    def search(self) -> None:
        self._get(f"/api/v1/search?q={random.choice(WORDS)}", "search")

    @task(1)
    def notifications(self) -> None:
        self._get("/api/v1/notifications/?unread=1", "list notifications")

    @task(1)
    def upload(self) -> None:
        name = f"{random.choice(WORDS)} {uuid.uuid4().hex[:12]}.bin"
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="folder"\r\n\r\n{self.folder}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body = head + BODY + f"\r\n--{BOUNDARY}--\r\n".encode()
        headers = {**self.auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        with self.client.post(
            "/api/v1/files/", data=body, headers=headers, name="upload 1 MiB", catch_response=True
        ) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return
            self.files.append(r.json()[0]["file"]["id"])
            STREAMS["uploads_ok"] += 1

    @task(2)
    def download(self) -> None:
        if not self.files:
            return
        file_id = random.choice(self.files)
        with self.client.get(
            f"/api/v1/files/{file_id}/content", headers=self.auth, name="download 1 MiB", catch_response=True
        ) as r:
            if r.status_code != 200 or len(r.content or b"") != len(BODY):
                r.failure(f"{r.status_code}, {len(r.content or b'')} bytes")

    @task(2)
    def edit_note(self) -> None:
        body = {"body": f"{random.choice(WORDS)} {uuid.uuid4().hex} " * 20}
        with self.client.patch(
            f"/api/v1/notes/{self.note}/", json=body, headers=self.auth, name="note edit", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")

    @task(2)
    def post_message(self) -> None:
        body = {"role": "user", "content": f"{random.choice(WORDS)} {uuid.uuid4().hex}"}
        with self.client.post(
            f"/api/v1/chats/{self.chat}/messages/",
            json=body,
            headers=self.auth,
            name="message post",
            catch_response=True,
        ) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")


@events.request.add_listener
def _sample(name, response_time, exception=None, **_kwargs) -> None:
    SAMPLES.append((round(time.time(), 3), name, round(response_time, 1), exception is not None))


@events.quitting.add_listener
def _write_result(environment, **_kwargs) -> None:
    path = os.environ.get("LOAD_RESULT")
    if not path:
        return
    stats = environment.stats
    rows = []
    for entry in stats.entries.values():
        rows.append(
            {
                "name": entry.name,
                "method": entry.method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "histogram": {str(k): v for k, v in entry.response_times.items()},
                "bytes": entry.total_content_length,
            }
        )
    errors = [
        {"name": e.name, "method": e.method, "error": str(e.error), "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]
    total = stats.total
    result = {
        "rows": rows,
        "errors": errors,
        "start": total.start_time,
        "last": total.last_request_timestamp,
        "streams": STREAMS,
        "samples": SAMPLES,
    }
    with open(path, "w") as out:
        json.dump(result, out)
