"""The `locker` CLI run as a person runs it: a subprocess of the installed entry point against ``live_server``, with
its own config directory (no keyring: the credentials file)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_account

ENTRY = [sys.executable, "-m", "locker.cli.main"]


class Cli:
    def __init__(self, base: str, home: Path):
        self.base = base
        self.env = {**os.environ, "LOCKER_CONFIG_DIR": str(home / "config"), "LOCKER_KEYRING": "0"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.home = home

    def run(self, *args: str, input: str | None = None, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*ENTRY, *args], input=input, capture_output=True, text=True, env=self.env, cwd=cwd, timeout=timeout
        )

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        done = self.run(*args, **kwargs)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str, **kwargs):
        return json.loads(self.ok("--json", *args, **kwargs).stdout)

    def login(self, account) -> None:
        self.ok(
            "login", self.base, "--username", account.user.username, "--password-stdin", input=account.password + "\n"
        )


@pytest.fixture
def cli(live_server, tmp_path) -> Cli:
    return Cli(live_server.url, tmp_path)


@pytest.fixture
def signed_in_cli(cli, transactional_db):
    account = make_account("carol")
    cli.login(account)
    cli.account = account
    return cli
