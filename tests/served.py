"""Locker served for real by gunicorn as ``make run`` serves it (``tests.test_server.Server``), with accounts, and
the small HTTP client the tests talk to it with (``http.client``: no client library between the test and the
server's bytes)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.test_server import ROOT, Server

ACCOUNTS = """
import json, sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.factories import make_account
print(json.dumps({name: make_account(name).password for name in sys.argv[1:]}))
"""


def prepare(data_dir: Path, env: dict, *usernames: str) -> dict[str, str]:
    """Migrate the database of ``data_dir`` and register ``usernames``; returns their passwords."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "locker.settings"}
    made = subprocess.run(
        [sys.executable, "-c", ACCOUNTS, *usernames], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr[-3000:]
    return json.loads(made.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def database() -> Iterator[dict[str, str]]:
    """The database environment for served servers: under a PostgreSQL test run (``DATABASE_URL``), a fresh
    PostgreSQL database of their own, dropped afterwards; otherwise nothing (SQLite in the data dir)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield {}
        return
    import psycopg

    parts = urlsplit(url)
    name = f"locker_served_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve(data_dir: Path, *usernames: str, **env: str) -> tuple[Server, dict[str, str]]:
    """A fresh gunicorn on ``data_dir`` (rate limits off) and the passwords of ``usernames`` registered there."""
    server = Server(data_dir, RATELIMIT_ENABLE="0", **env)
    try:
        return server, prepare(data_dir, server.env, *usernames)
    except BaseException:
        server.stop()
        raise


def call(port: int, method: str, path: str, body=None, headers=None, conn=None) -> tuple[int, dict, bytes]:
    """One request: ``(status, headers, body)``; on ``conn`` (kept open by the caller) or on a new connection."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        if own:
            conn.close()


def sign_in(port: int, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a new session (a new device, as the server sees it)."""
    body = json.dumps({"username": username, "password": password})
    status, _, answer = call(port, "POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    assert status == 200, answer
    return {"Authorization": f"Bearer {json.loads(answer)['access']}"}


def upload(port: int, auth: dict, name: str, data: bytes) -> str:
    """A new file by multipart upload; returns its id."""
    body = (
        f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + data
        + b"\r\n--b0undary--\r\n"
    )
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=b0undary"}
    status, _, answer = call(port, "POST", "/api/v1/files/", body, headers)
    assert status == 201, answer
    return json.loads(answer)[0]["file"]["id"]
