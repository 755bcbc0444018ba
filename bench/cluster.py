"""Several Locker servers started as production starts them, optionally behind nginx as a round-robin balancer,
with the shared services a multi-server deployment needs (PostgreSQL, Redis, an S3 store).

Used by the load benchmark (``bench/bench_load.py``) and by tests that need more than one server; standard
library and ``requirements.txt`` only at module level (psycopg, redis and boto3 are imported where used).

Each server is ``.venv/bin/gunicorn -c locker/gunicorn.conf.py`` run from the project root with
``WEB_BIND=127.0.0.1:<free port>`` and ``locker.settings``; every server gets the same environment (secrets, data
dir, database, cache, blob storage), so any of them can answer any request. Migrations run once before they
start. ``balancer=True`` puts Debian's nginx in front (``docs/deployment.md``'s proxy settings, round robin over
kept-alive upstream connections, no buffering either way, WebSocket upgrades passed on) and adds
``X-Locker-Upstream: <address>`` to every answer, so a client can tell which server answered.

    with postgres_database() as db, redis_cache() as cache, s3_bucket(tmp / "s3") as s3:
        with Cluster(servers=2, env={**db, **cache, **s3}, data_dir=tmp / "data", balancer=True) as cluster:
            cluster.make_accounts(["alice", "bob"], "correct horse battery staple")
            ...  # requests to cluster.url
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PYTHON = ROOT / ".venv" / "bin" / "python"
NGINX = "/usr/sbin/nginx"
POSTGRES_ADMIN_URL = os.environ.get("LOCKER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("LOCKER_BENCH_REDIS", "redis://127.0.0.1:6379")
START_TIMEOUT = 90  # seconds for a server (or nginx) to answer /healthz

# Variables of the calling environment a served server must not inherit (they would point it elsewhere).
_NOT_INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "PYTHONPATH",
    "GUNICORN_CMD_ARGS",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "RATELIMIT_ENABLE",
}
_NOT_INHERITED_PREFIXES = ("WEB_", "LOCKER_", "CACHE_KEY_PREFIX", "SECRET_KEY", "JWT_SIGNING_KEY")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float = START_TIMEOUT, process: subprocess.Popen | None = None) -> None:
    """Until ``url`` answers 200 (a process that exits meanwhile fails at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


# Memory of a process tree (gunicorn: an arbiter and its workers) ----------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# Services ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database, dropped afterwards: ``{"DATABASE_URL": ...}``."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(admin_url)
    name = f"locker_cluster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_cache(base_url: str = REDIS_BASE_URL, db: int = 14) -> Iterator[dict[str, str]]:
    """Redis database ``db`` with a key prefix of this run's own (its keys deleted afterwards):
    ``{"REDIS_URL": ..., "CACHE_KEY_PREFIX": ...}``."""
    import redis

    url, prefix = f"{base_url.rstrip('/')}/{db}", f"cluster-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.ping()
    try:
        yield {"REDIS_URL": url, "CACHE_KEY_PREFIX": prefix}
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


SEAWEEDFS_S3_PORT = int(os.environ.get("LOCKER_BENCH_S3_PORT", "23333"))


@contextlib.contextmanager
def seaweedfs(directory: Path, s3_port: int = SEAWEEDFS_S3_PORT) -> Iterator[str]:
    """A SeaweedFS of its own (master, volume, filer, S3 gateway in one process, as ``tests/s3server.py`` starts
    it) with its data in ``directory``, stopped afterwards; yields the S3 endpoint. Apart from the test suite's
    store, so a benchmark neither disturbs it nor is disturbed by it; 1 GiB volumes (SeaweedFS's 30 GB default
    leaves room for very few volumes, and a new bucket needs volumes of its own)."""
    sys.path.insert(0, str(ROOT))
    from tests import s3server

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    master, volume, filer = s3_port + 1000, s3_port - 253, s3_port + 555  # their gRPC ports are +10000
    endpoint = f"http://127.0.0.1:{s3_port}"
    if s3server.answers(endpoint):
        raise RuntimeError(f"{endpoint} is taken: set LOCKER_BENCH_S3_PORT")
    with (directory / "weed.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                s3server.weed_binary(),
                "server",
                f"-dir={directory}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                "-master.volumeSizeLimitMB=1024",
                f"-volume.port={volume}",
                "-volume.max=0",
                "-filer",
                f"-filer.port={filer}",
                "-s3",
                f"-s3.port={s3_port}",
                "-s3.port.iceberg=0",  # the catalogs' fixed default ports would clash with another SeaweedFS
                "-s3.port.lance=0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=directory,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not s3server.running(endpoint):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not start: see {directory / 'weed.log'}")
            time.sleep(0.3)
        yield endpoint
    finally:
        _stop_group(proc)


@contextlib.contextmanager
def s3_bucket(directory: Path, bucket: str | None = None, endpoint: str | None = None) -> Iterator[dict[str, str]]:
    """A new bucket in an S3 store: ``endpoint``, or else the SeaweedFS gateway of ``tests/s3server.py`` (started
    in ``directory`` unless one is running already, and then stopped afterwards); yields the
    ``LOCKER_BLOB_STORAGE=s3`` environment. The bucket and its objects are deleted afterwards."""

    sys.path.insert(0, str(ROOT))
    from tests import s3server

    started = endpoint is None and not s3server.running()
    if started:
        s3server.start(Path(directory))
    bucket = bucket or f"locker-cluster-{uuid.uuid4().hex[:12]}"
    env = s3server.s3_environment(bucket)
    if endpoint:
        env["LOCKER_S3_ENDPOINT_URL"] = endpoint
    client = s3server.client_for(env)
    client.create_bucket(Bucket=bucket)
    try:
        yield env
    finally:
        try:
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket):
                objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if objects:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            client.delete_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001, S110 - the store may be gone already; nothing else to clean
            pass
        if started:
            s3server.stop(Path(directory))


# nginx -----------------------------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    upstream locker {{
{servers}
        keepalive 64;
        keepalive_timeout 60s;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://locker;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            add_header X-Locker-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@contextlib.contextmanager
def scaled_out_services(directory: Path) -> Iterator[dict[str, str]]:
    """PostgreSQL (a new database), Redis (a key prefix of its own) and a SeaweedFS of its own with a new bucket,
    for as long as the block runs: the servers' environment for them, with fresh ``SECRET_KEY`` and
    ``JWT_SIGNING_KEY``."""
    with (
        postgres_database() as db,
        redis_cache() as cache,
        seaweedfs(directory / "seaweedfs") as endpoint,
        s3_bucket(directory / "seaweedfs", endpoint=endpoint) as s3,
    ):
        yield {
            **db,
            **cache,
            **s3,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        }


class Nginx:
    """nginx in the foreground, balancing round robin over ``ports``, with everything it writes in ``tmp``."""

    def __init__(self, ports: list[int], tmp: Path):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = tmp / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(tmp=tmp, port=self.port, servers=servers, user=user))
        command = [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(self.conf), "-g", "daemon off;"]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=(tmp / "stderr.log").open("wb"), start_new_session=True
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        _stop_group(self.proc)


def _stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)


# The cluster -------------------------------------------------------------------------------------------------


class Cluster:
    """``servers`` Locker servers on loopback sharing ``env`` and ``data_dir`` (a temporary one by default),
    optionally behind nginx. A context manager: everything it started stops on exit, after errors too.

    ``url`` is where clients go (nginx with a balancer, else the first server); ``server_urls``, ``ports`` and
    ``pids`` (the gunicorn arbiters) name each server; ``logs`` are the files each server's stdout (access log)
    and stderr go to, kept in ``log_dir`` (default: ``data_dir/logs``).
    """

    def __init__(
        self,
        servers: int = 1,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        balancer: bool = False,
        log_dir: Path | None = None,
    ):
        if servers < 1:
            raise ValueError("a cluster has at least one server")
        self.count = servers
        self.balancer = balancer
        self._own_dir = None
        if data_dir is None:
            self._own_dir = tempfile.mkdtemp(prefix="locker-cluster-")
            data_dir = Path(self._own_dir)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = Path(log_dir or self.data_dir / "logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in _NOT_INHERITED and not key.startswith(_NOT_INHERITED_PREFIXES)
        }
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "locker.settings",
            "LOCKER_DATA_DIR": str(self.data_dir),
            "LOCKER_HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            **({"LOCKER_BEHIND_PROXY": "1", "LOCKER_PROXY_HOPS": "1"} if balancer else {}),
            **(env or {}),
        }
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen] = []
        self.logs: list[tuple[Path, Path]] = []
        self.nginx: Nginx | None = None
        self.url = ""

    # lifecycle
    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def manage(self, *args: str, timeout: float = 600) -> str:
        """``manage.py`` with the servers' environment; returns its stdout."""
        done = subprocess.run(
            [str(PYTHON), "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        for index in range(self.count):
            port = free_port()
            out, err = self.log_dir / f"server-{index}.out", self.log_dir / f"server-{index}.err"
            with out.open("ab") as stdout, err.open("ab") as stderr:
                proc = subprocess.Popen(
                    [str(GUNICORN), "-c", "locker/gunicorn.conf.py"],
                    cwd=ROOT,
                    env={**self.env, "WEB_BIND": f"127.0.0.1:{port}"},
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                )
            self.ports.append(port)
            self.procs.append(proc)
            self.logs.append((out, err))
        for port, proc in zip(self.ports, self.procs, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}/healthz", process=proc)
        if self.balancer:
            self.nginx = Nginx(self.ports, self.data_dir / "nginx")
            wait_healthy(f"{self.nginx.url}/healthz", process=self.nginx.proc)
            self.url = self.nginx.url
        else:
            self.url = self.server_urls[0]

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
            self.nginx = None
        for proc in self.procs:
            with contextlib.suppress(Exception):
                _stop_group(proc)
        self.procs = []
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    # what it is
    @property
    def server_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def worker_pids(self, index: int) -> list[int]:
        return child_pids(self.procs[index].pid)

    def rss_mib(self) -> list[dict[str, float]]:
        """Per server: resident memory now (``rss``) and at its highest so far (``peak``, VmHWM) of the arbiter and
        of its workers, in MiB; ``total`` is the arbiter's and the workers' ``rss`` together."""
        rows = []
        for index, proc in enumerate(self.procs):
            workers = self.worker_pids(index)
            row = {
                "arbiter": _status_kib(proc.pid, "VmRSS") / 1024,
                "workers": sum(_status_kib(pid, "VmRSS") for pid in workers) / 1024,
                "worker_peak": sum(_status_kib(pid, "VmHWM") for pid in workers) / 1024,
            }
            row["total"] = row["arbiter"] + row["workers"]
            rows.append(row)
        return rows

    def log_count(self, text: str) -> int:
        """Lines of every server's output (access log and errors) containing ``text``."""
        count = 0
        for pair in self.logs:
            for path in pair:
                with contextlib.suppress(OSError), path.open(errors="replace") as handle:
                    count += sum(text in line for line in handle)
        return count

    # accounts
    def make_accounts(self, usernames: list[str], password: str, processes: int = 1) -> None:
        """Register ``usernames`` (real Argon2 costs, the settings the servers run with) with ``password`` and a
        quota that never stops a benchmark; in ``processes`` subprocesses at once."""
        chunks = [usernames[i::processes] for i in range(processes) if usernames[i::processes]]
        running = [
            subprocess.Popen(
                [str(PYTHON), "-c", ACCOUNTS, password, *chunk],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for chunk in chunks
        ]
        failures = []
        for proc in running:
            out, err = proc.communicate(timeout=1800)
            if proc.returncode:
                failures.append(err[-3000:])
            else:
                json.loads(out.strip().splitlines()[-1])
        if failures:
            raise RuntimeError("account setup failed:\n" + "\n".join(failures))


ACCOUNTS = """
import json, sys
import django
django.setup()
from accounts.models import User
from tests.factories import make_account
password = sys.argv[1]
for name in sys.argv[2:]:
    account = make_account(name, password=password)
    User.objects.filter(pk=account.user.pk).update(storage_quota=1 << 50)
print(json.dumps(sys.argv[2:]))
"""
