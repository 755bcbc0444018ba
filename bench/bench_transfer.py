"""Upload and download throughput and server memory: Locker (encrypted) vs copyparty (plain) vs cp.

For each size (100 MiB, 1 GiB by default; ``BENCH_TRANSFER_SIZES_MIB=100,1024``):

* ``cp`` of the file on the same disk;
* Locker under gunicorn (1 worker, 4 threads): multipart upload (``POST /api/v1/files/``),
  raw ``PUT /api/v1/files/{id}/content``, and download (``GET .../content``), all with curl;
* copyparty (an unencrypted Python file server, from PyPI) receiving the same file by
  multipart (``act=bput``) and by ``PUT``, and serving it back, with curl.

Each server is started fresh per size; its worker's peak RSS (``VmHWM``) is read at the end.
MiB/s = file size / wall time of the curl command.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SIZES = [int(s) for s in os.environ.get("BENCH_TRANSFER_SIZES_MIB", "100,1024").split(",")]
REPEAT = int(os.environ.get("BENCH_TRANSFER_REPEAT", "3"))  # medians of this many runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - loopback
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so a peak covers only what follows."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def fsync_time(path: Path) -> float:
    """What making an already written file durable costs (copyparty does not fsync; Locker does)."""
    start = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - start


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        for i in range(mib):
            handle.write(block[i % 7 :] + block[: i % 7])  # distinct blocks, cheap to make


class Server:
    def __init__(self, cmd, env, url, cwd=ROOT):
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(url)

    def worker_pid(self) -> int:
        kids = children(self.proc.pid)
        return kids[0] if kids else self.proc.pid

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_locker(**extra_env: str) -> tuple[Server, str]:
    """gunicorn (1 worker, 4 threads) on this benchmark's data dir and secrets. Returns ``(server, base URL)``."""
    from django.conf import settings

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "locker.settings",
        "LOCKER_DATA_DIR": str(settings.LOCKER_DATA_DIR),
        "LOCKER_HTTPS": "0",
        "DEBUG": "0",
        "RATELIMIT_ENABLE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY,
        **extra_env,
    }
    command = [str(VENV_BIN / "gunicorn"), "locker.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--threads", "4", "--timeout", "600"]
    server = Server(command, env, f"http://127.0.0.1:{port}/healthz")
    return server, f"http://127.0.0.1:{port}"


def curl_token(base: str, username: str, password: str) -> str:
    """An access token, logging in with curl as a client would."""
    body = json.dumps({"username": username, "password": password})
    command = ["curl", "-sf", "-H", "Content-Type: application/json", "-d", body, f"{base}/api/v1/auth/token"]
    login = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(login.stdout)["access"]


def locker_run(size_mib: int, source: Path, data_dir: str) -> dict:

    from accounts.models import User
    from tests.factories import make_account

    username = f"bench{size_mib}"
    account = make_account(username)
    User.objects.filter(pk=account.user.pk).update(storage_quota=1 << 50)
    server, base = start_locker(LOCKER_MAX_UPLOAD_SIZE=str(16 << 30))
    try:
        auth = ["-H", f"Authorization: Bearer {curl_token(base, username, account.password)}"]
        login_peak = peak_rss_mib(server.worker_pid())  # Argon2id: 64 MiB (KEK) and Django's hasher (100 MiB)
        idle = rss_mib(server.worker_pid())
        reset_peak(server.worker_pid())
        out = tempfile.mktemp(dir=data_dir)  # noqa: S306 - curl writes it
        multiparts, puts, downloads = [], [], []
        for _ in range(REPEAT):
            started = time.perf_counter()
            result = subprocess.run(
                ["curl", "-sf", *auth, "-F", f"file=@{source};filename=bench.bin", f"{base}/api/v1/files/"],
                check=True,
                capture_output=True,
                text=True,
            )
            multiparts.append(time.perf_counter() - started)
        after_multipart = peak_rss_mib(server.worker_pid())
        file_id = json.loads(result.stdout)[0]["file"]["id"]
        for _ in range(REPEAT):
            puts.append(timed(["curl", "-sf", *auth, "-T", str(source), f"{base}/api/v1/files/{file_id}/content"]))
        after_put = peak_rss_mib(server.worker_pid())
        for _ in range(REPEAT):
            downloads.append(timed(["curl", "-sf", *auth, "-o", out, f"{base}/api/v1/files/{file_id}/content"]))
        same = subprocess.run(["cmp", "-s", str(source), out]).returncode == 0
        os.unlink(out)
        multipart, put, download = (statistics.median(x) for x in (multiparts, puts, downloads))
        peak = peak_rss_mib(server.worker_pid())
    finally:
        server.stop()
    print(
        f"locker worker RSS MiB: login peak {login_peak:.0f}, idle {idle:.0f}, "
        f"peak after multipart {after_multipart:.0f}, after PUT {after_put:.0f}, after download {peak:.0f}",
        flush=True,
    )
    return {
        "multipart": multipart,
        "put": put,
        "download": download,
        "peak": peak,
        "idle": idle,
        "login_peak": login_peak,
        "ok": same,
    }


def copyparty_run(size_mib: int, source: Path, work: Path) -> dict:
    volume = work / "copyparty"
    volume.mkdir(exist_ok=True)
    port = free_port()
    server = Server(
        [
            sys.executable,
            "-m",
            "copyparty",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-v",
            f"{volume}::rw",
            "-q",
            "--no-thumb",
        ],
        {**os.environ},
        f"http://127.0.0.1:{port}/",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        multiparts, puts, downloads, syncs = [], [], [], []
        for i in range(REPEAT):
            multiparts.append(
                timed(["curl", "-sf", "-F", "act=bput", "-F", f"f=@{source};filename=mp-{i}.bin", f"{base}/"])
            )
            syncs.append(fsync_time(volume / f"mp-{i}.bin"))
            puts.append(timed(["curl", "-sf", "-T", str(source), f"{base}/put-{i}.bin"]))
        out = work / "copyparty-download.bin"
        for _ in range(REPEAT):
            downloads.append(timed(["curl", "-sf", "-o", str(out), f"{base}/put-0.bin"]))
        same = subprocess.run(["cmp", "-s", str(source), str(out)]).returncode == 0
        out.unlink()
        peak = peak_rss_mib(server.proc.pid)
        multipart, put, download = (statistics.median(x) for x in (multiparts, puts, downloads))
        multipart_synced = statistics.median(m + f for m, f in zip(multiparts, syncs, strict=True))
    finally:
        server.stop()
        shutil.rmtree(volume, ignore_errors=True)
    return {
        "multipart": multipart,
        "multipart_synced": multipart_synced,
        "put": put,
        "download": download,
        "peak": peak,
        "ok": same,
    }


def run() -> str:
    from django.conf import settings

    data_dir = str(settings.LOCKER_DATA_DIR)
    rows = []
    with tempfile.TemporaryDirectory(prefix="locker-transfer-", dir=data_dir) as work_dir:
        work = Path(work_dir)
        for mib in SIZES:
            source = work / f"source-{mib}.bin"
            make_file(source, mib)
            copy = timed(["cp", str(source), str(work / "copy.bin")])
            (work / "copy.bin").unlink()
            locker = locker_run(mib, source, data_dir)
            plain = copyparty_run(mib, source, work)
            source.unlink()

            def rate(seconds: float, mib: int = mib) -> str:
                return f"{mib / seconds:.0f}"

            rows.append(
                f"| {mib} MiB | {rate(copy)} | {rate(locker['multipart'])} | {rate(locker['put'])} | "
                f"{rate(locker['download'])} | "
                f"{locker['idle']:.0f} / {locker['peak']:.0f} / {locker['login_peak']:.0f} | "
                f"{rate(plain['multipart'])} ({rate(plain['multipart_synced'])}) | {rate(plain['put'])} | "
                f"{rate(plain['download'])} | {plain['peak']:.0f} | {'yes' if locker['ok'] and plain['ok'] else 'NO'} |"
            )
            print(rows[-1], flush=True)
    return "\n".join(
        [
            "## File transfer: encrypted Locker vs plain copyparty vs cp",
            "",
            "MiB/s over loopback with curl; Locker under gunicorn (1 worker, 4 threads) encrypts on upload",
            "(AES-256-GCM stream, fsync before commit) and decrypts on download; copyparty stores and serves",
            "plaintext. Locker RSS column: worker RSS after login / peak RSS during the three transfers (VmHWM,",
            "reset after login) / peak during the login itself (Argon2id is memory-hard by design: 64 MiB for the",
            "key-encryption key plus Django's Argon2 hasher). Fresh servers per size; copyparty's is its VmHWM.",
            "Each rate is the median of `BENCH_TRANSFER_REPEAT` (3) runs. Locker fsyncs every blob before it commits",
            "the row; copyparty does not, so its multipart column also shows (in brackets) the rate once an fsync of",
            "the received file is added: the same durability as Locker.",
            "Reproduce: `make bench BENCH=transfer` (`BENCH_TRANSFER_SIZES_MIB=100,1024` by default).",
            "",
            "| size | cp | Locker multipart up | Locker PUT up | Locker down "
            "| Locker RSS MiB: idle / transfer peak / login peak "
            "| copyparty multipart up (+ fsync) | copyparty PUT up | copyparty down "
            "| copyparty peak RSS MiB | bytes identical |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
