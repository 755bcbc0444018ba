"""The servers and clients of the transfer benchmark: Locker (the current checkout, or a baseline in a git
worktree), copyparty, the bare decrypting server, and curl fetching from them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import (
    COMMAND_TIMEOUT,
    ROOT,
    VENV_BIN,
    Server,
    fetch,
    free_port,
    fsync_time,
    peak_rss_mib,
    reset_peak,
    rss_mib,
    timed,
)


def locker_env(data_dir: Path, **extra_env: str) -> dict[str, str]:
    """The environment of a benchmarked Locker: production settings, this run's secrets, ``data_dir``."""
    from django.conf import settings

    inherited = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "GUNICORN_CMD_ARGS", "DATABASE_URL"}}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "locker.settings",
        "LOCKER_DATA_DIR": str(data_dir),
        "LOCKER_HTTPS": "0",
        "DEBUG": "0",
        "RATELIMIT_ENABLE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY,
        **extra_env,
    }


def start_locker(tree: Path = ROOT, data_dir: Path | None = None, **extra_env: str) -> tuple[Server, str]:
    """gunicorn serving the code in ``tree`` from ``data_dir`` (default: this run's), as ``make run`` does.

    With the tree's own ``locker/gunicorn.conf.py`` (its worker class included; an empty file for a tree
    that has none), and the same flags for every tree on top: 1 worker, 4 threads, a long timeout, no access
    log. Returns ``(server, base URL)``.
    """
    from django.conf import settings

    data_dir = Path(data_dir or settings.LOCKER_DATA_DIR)
    config = tree / "locker" / "gunicorn.conf.py"
    if not config.exists():
        config = data_dir / "bench-gunicorn.conf.py"
        config.write_text("# empty: every setting is on the command line\n")
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "locker.wsgi:application", "-b", f"127.0.0.1:{port}", "-c", str(config)]
    command += ["--chdir", str(tree), "--workers", "1", "--threads", "4", "--timeout", "600"]
    command += ["--access-logfile", "/dev/null"]
    server = Server(command, locker_env(data_dir, **extra_env), f"http://127.0.0.1:{port}/healthz", cwd=tree)
    return server, f"http://127.0.0.1:{port}"


def make_bench_account(tree: Path, data_dir: Path, username: str) -> str:
    """Migrate ``data_dir``'s database with ``tree``'s code and register ``username`` there; returns the password.

    In a subprocess in ``tree``, so a baseline gets its own migrations and services.
    """
    # ACCOUNT_SETUP (below), and which code it ran: a baseline's own tree, never this one
    script = ACCOUNT_SETUP + "import locker\nprint(json.dumps({'password': account.password, 'code': locker.__file__}))"
    command = [sys.executable, "-c", script + "\n", username]
    result = subprocess.run(
        command, cwd=tree, env=locker_env(data_dir), capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    if result.returncode:
        raise RuntimeError(f"account setup in {tree} failed:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if not Path(answer["code"]).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"{tree}: Locker's code came from {answer['code']}")
    return answer["password"]


def curl_token(base: str, username: str, password: str) -> str:
    """An access token, logging in with curl as a client would."""
    body = json.dumps({"username": username, "password": password})
    command = ["curl", "-sf", "-H", "Content-Type: application/json", "-d", body, f"{base}/api/v1/auth/token"]
    login = subprocess.run(command, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return json.loads(login.stdout)["access"]


class Locker:
    """A fresh gunicorn serving ``tree`` with one account in ``data_dir``; each transfer is a curl command."""

    def __init__(self, size_mib: int, source: Path, tree: Path = ROOT, data_dir: Path | None = None):
        from django.conf import settings

        data_dir = Path(data_dir or settings.LOCKER_DATA_DIR)
        username = f"bench{size_mib}"
        password = make_bench_account(tree, data_dir, username)
        self.server, self.base = start_locker(tree, data_dir, LOCKER_MAX_UPLOAD_SIZE=str(16 << 30))
        pid = self.server.worker_pid()
        if Path(os.readlink(f"/proc/{pid}/cwd")).resolve() != tree.resolve():
            self.server.stop()
            raise RuntimeError(f"the worker for {tree} runs in {os.readlink(f'/proc/{pid}/cwd')}")
        self.source = source
        self.auth = ["-H", f"Authorization: Bearer {curl_token(self.base, username, password)}"]
        self.login_peak = peak_rss_mib(pid)  # Argon2id: 64 MiB (KEK) and Django's hasher (100 MiB)
        self.idle = rss_mib(pid)
        reset_peak(pid)
        self.file_id = self.small_id = None
        self.peak = float("nan")

    def upload(self, path: Path) -> str:
        """A new file by multipart upload; returns its id."""
        cmd = ["curl", "-sf", *self.auth, "-F", f"file=@{path};filename={path.name}", f"{self.base}/api/v1/files/"]
        result = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        return json.loads(result.stdout)[0]["file"]["id"]

    def multipart(self) -> float:
        started = time.perf_counter()
        self.file_id = self.upload(self.source)
        return time.perf_counter() - started

    def put(self) -> float:
        url = f"{self.base}/api/v1/files/{self.file_id}/content"
        return timed(["curl", "-sf", *self.auth, "-T", str(self.source), url])

    def add_small(self, path: Path) -> None:
        self.small_id = self.upload(path)

    def curl_args(self, small: bool = False) -> list[str]:
        return [*self.auth, f"{self.base}/api/v1/files/{self.small_id if small else self.file_id}/content"]

    def pid(self) -> int:
        return self.server.worker_pid()

    def stop(self) -> float:
        self.peak = peak_rss_mib(self.server.worker_pid())
        self.server.stop()
        return self.peak


class Copyparty:
    """copyparty (plain files, no fsync) on its own volume; uploads by multipart (``act=bput``) and ``PUT``."""

    def __init__(self, source: Path, work: Path, *options: str):
        self.volume = work / ("copyparty" + "".join(options))
        self.volume.mkdir(exist_ok=True)
        port = free_port()
        command = [sys.executable, "-m", "copyparty", "-i", "127.0.0.1", "-p", str(port), "-v", f"{self.volume}::rw"]
        command += ["-q", "--no-thumb", *options]
        self.server = Server(command, {**os.environ}, f"http://127.0.0.1:{port}/")
        self.base = f"http://127.0.0.1:{port}"
        self.source = source
        self.count = 0
        self.synced: list[float] = []
        self.peak = float("nan")

    def multipart(self) -> float:
        self.count += 1
        name = f"mp-{self.count}.bin"
        seconds = timed(["curl", "-sf", "-F", "act=bput", "-F", f"f=@{self.source};filename={name}", f"{self.base}/"])
        self.synced.append(seconds + fsync_time(self.volume / name))
        return seconds

    def put(self) -> float:
        self.count += 1
        self.last = f"put-{self.count}.bin"
        return timed(["curl", "-sf", "-T", str(self.source), f"{self.base}/{self.last}"])

    def add_small(self, path: Path) -> None:
        timed(["curl", "-sf", "-T", str(path), f"{self.base}/small.bin"])

    def curl_args(self, small: bool = False) -> list[str]:
        return [f"{self.base}/{'small.bin' if small else self.last}"]

    def pid(self) -> int:
        return self.server.proc.pid

    def stop(self) -> float:
        self.peak = peak_rss_mib(self.server.proc.pid)
        self.server.stop()
        shutil.rmtree(self.volume, ignore_errors=True)
        return self.peak


class Bare:
    """``bench/bare_server.py``: one file encrypted in Locker's format, served with no framework at all."""

    def __init__(self, source: Path, work: Path, *options: str):
        self.work = work
        work.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "bench.bare_server", str(source), str(work), *options]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def curl_args(self, small: bool = False) -> list[str]:
        return [f"{self.base}/"]

    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.work, ignore_errors=True)


class BaselineTree:
    """``ref`` checked out into a temporary ``git worktree`` (detached), removed by ``remove()``."""

    def __init__(self, ref: str):
        self.commit = git("rev-parse", "--verify", f"{ref}^{{commit}}")
        short = git("log", "-1", "--format=%h", self.commit)
        self.label = ref if self.commit.startswith(ref) else f"{ref} ({short})"
        self.parent = Path(tempfile.mkdtemp(prefix="locker-baseline-"))
        self.path = self.parent / "tree"
        git("worktree", "add", "--detach", "--quiet", str(self.path), self.commit)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "remove", "--force", str(self.path))
        shutil.rmtree(self.parent, ignore_errors=True)
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "prune")


def git(*args: str) -> str:
    result = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True, timeout=300)
    return result.stdout.strip()


def current_label() -> str:
    """The checked-out commit, and whether tracked files other than docs differ from it."""
    head = git("log", "-1", "--format=%h")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs")
    return f"{head} + uncommitted changes" if changed else head


# Rounds --------------------------------------------------------------------------------------------------


def to_file(server, work: Path) -> tuple[float, float]:
    """A download saved to a file on the same disk, as a client keeps it (deleted afterwards)."""
    out = work / "saved.bin"
    timing = fetch(server, str(out))
    out.unlink()
    return timing


def same_bytes(server, source: Path, work: Path, small: bool = False) -> bool:
    out = work / "download.bin"
    fetch(server, str(out), small)
    same = subprocess.run(["cmp", "-s", str(source), str(out)], timeout=COMMAND_TIMEOUT).returncode == 0
    out.unlink()
    return same


def copy_time(source: Path, work: Path) -> float:
    seconds = timed(["cp", str(source), str(work / "copy.bin")])
    (work / "copy.bin").unlink()
    return seconds


# The start of a setup script (run with the server's settings, ``python -c``) that makes one account with a quota
# that never stops a benchmark; its first argument is the username. A benchmark appends what it needs more (app
# passwords, seeded files) and prints what it hands back as one JSON line.
ACCOUNT_SETUP = """
import json, os, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.app_passwords import app_password_create
from accounts.models import User
from tests.factories import make_account
from tests.vault.conftest import keys_for

account = make_account(sys.argv[1])
User.objects.filter(pk=account.user.pk).update(storage_quota=1 << 50)
user = User.objects.get(pk=account.user.pk)
keys = keys_for(account)
"""
