"""Acceptance 1: `make run` and `make test` are the only set-up commands, and the README says so first."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_readme_first_screen_names_the_two_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "make run" in first_screen and "make test" in first_screen
    assert "http://127.0.0.1:8000" in first_screen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_run_serves_on_sqlite_with_no_other_setup(tmp_path):
    """GIVEN an empty data dir and no DATABASE_URL/REDIS_URL WHEN `make run` THEN it migrates and serves."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    env.update(LOCKER_DATA_DIR=str(tmp_path), SECRET_KEY="", JWT_SIGNING_KEY="")
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = json.load(response)
                    break
            except OSError:
                time.sleep(0.5)
        output = log.read_text()
        assert body == {"status": "ok"}, output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert response.status == 200
            assert "locker_unlock" not in response.headers.get("Set-Cookie", "")
        assert (tmp_path / "locker.sqlite3").exists() and (tmp_path / "secret_key").exists()
        assert "createsuperuser" in output  # first start without an admin says how to make one
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
