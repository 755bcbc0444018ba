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


class Locker:
    """A fresh gunicorn with one account; each transfer is a curl command."""

    def __init__(self, size_mib: int, source: Path):
        from accounts.models import User
        from tests.factories import make_account

        username = f"bench{size_mib}"
        account = make_account(username)
        User.objects.filter(pk=account.user.pk).update(storage_quota=1 << 50)
        self.server, self.base = start_locker(LOCKER_MAX_UPLOAD_SIZE=str(16 << 30))
        self.source = source
        self.auth = ["-H", f"Authorization: Bearer {curl_token(self.base, username, account.password)}"]
        pid = self.server.worker_pid()
        self.login_peak = peak_rss_mib(pid)  # Argon2id: 64 MiB (KEK) and Django's hasher (100 MiB)
        self.idle = rss_mib(pid)
        reset_peak(pid)
        self.file_id = None

    def multipart(self) -> float:
        cmd = ["curl", "-sf", *self.auth, "-F", f"file=@{self.source};filename=bench.bin", f"{self.base}/api/v1/files/"]
        started = time.perf_counter()
        result = subprocess.run(cmd, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        self.file_id = json.loads(result.stdout)[0]["file"]["id"]
        return seconds

    def put(self) -> float:
        url = f"{self.base}/api/v1/files/{self.file_id}/content"
        return timed(["curl", "-sf", *self.auth, "-T", str(self.source), url])

    def download(self, out: str = "/dev/null") -> float:
        return timed(["curl", "-sf", *self.auth, "-o", out, f"{self.base}/api/v1/files/{self.file_id}/content"])

    def stop(self) -> float:
        peak = peak_rss_mib(self.server.worker_pid())
        self.server.stop()
        return peak


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

    def download(self, out: str = "/dev/null") -> float:
        return timed(["curl", "-sf", "-o", out, f"{self.base}/{self.last}"])

    def stop(self) -> float:
        peak = peak_rss_mib(self.server.proc.pid)
        self.server.stop()
        shutil.rmtree(self.volume, ignore_errors=True)
        return peak


class Bare:
    """``bench/bare_server.py``: the same file encrypted in Locker's format, served with no framework at all."""

    def __init__(self, source: Path, work: Path):
        command = [sys.executable, "-m", "bench.bare_server", str(source), str(work)]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def download(self, out: str = "/dev/null") -> float:
        return timed(["curl", "-sf", "-o", out, f"{self.base}/"])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        (Path(self.proc.args[-1]) / "bare.blob").unlink(missing_ok=True)


def to_file(server, work: Path) -> float:
    """A download saved to a file on the same disk, as a client keeps it (deleted afterwards)."""
    out = work / "saved.bin"
    seconds = server.download(str(out))
    out.unlink()
    return seconds


def same_bytes(server, source: Path, work: Path) -> bool:
    out = work / "download.bin"
    server.download(str(out))
    same = subprocess.run(["cmp", "-s", str(source), str(out)]).returncode == 0
    out.unlink()
    return same


def compare(size_mib: int, source: Path, work: Path, repeat: int) -> dict:
    """Both servers up at once; every round runs each transfer on both, alternating which goes first.

    The disk and CPU of a shared machine drift by 2x within minutes; interleaving puts both
    servers under the same conditions, and the per-round ratios cancel most of the drift.
    """
    locker, plain = Locker(size_mib, source), Copyparty(source, work)
    unsent = Copyparty(source, work, "--no-sendfile")  # serves with a read-send loop, as Locker must
    unsent.put()
    bare = Bare(source, work)
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for round_ in range(repeat):
            for op in OPS:
                pair = [("locker", locker), ("copyparty", plain)]
                if op == "download":
                    pair += [("unsent", unsent), ("bare", bare)]
                for name, server in pair if round_ % 2 == 0 else pair[::-1]:
                    seconds = to_file(server, work) if op == "saved" else getattr(server, op)()
                    times.setdefault((name, op), []).append(seconds)
        ok = same_bytes(locker, source, work) and same_bytes(plain, source, work)
    finally:
        locker_peak, plain_peak, _, _ = locker.stop(), plain.stop(), unsent.stop(), bare.stop()
    rate = {key: size_mib / statistics.median(values) for key, values in times.items()}
    ratio = {  # Locker's speed over copyparty's, round by round (plain seconds / Locker seconds)
        op: statistics.median(p / lk for lk, p in zip(times[("locker", op)], times[("copyparty", op)], strict=True))
        for op in OPS
    }
    ratio["multipart_synced"] = statistics.median(
        p / lk for lk, p in zip(times[("locker", "multipart")], plain.synced, strict=True)
    )
    ratio["download_unsent"] = statistics.median(
        p / lk for lk, p in zip(times[("locker", "download")], times[("unsent", "download")], strict=True)
    )
    ratio["download_bare"] = statistics.median(  # the same ratio for the framework-free decrypting server
        p / b for b, p in zip(times[("bare", "download")], times[("copyparty", "download")], strict=True)
    )
    print(
        f"{size_mib} MiB rounds (MiB/s): "
        + "; ".join(f"{n} {op} {[round(size_mib / t) for t in v]}" for (n, op), v in times.items()),
        flush=True,
    )
    return {
        "rate": rate,
        "rate_synced": size_mib / statistics.median(plain.synced),
        "ratio": ratio,
        "locker_rss": (locker.idle, locker_peak, locker.login_peak),
        "plain_peak": plain_peak,
        "ok": ok,
    }


OPS = ("multipart", "put", "download", "saved")  # download: to /dev/null; saved: to a file on the same disk


def repeats(size_mib: int) -> int:
    """Rounds per size: more for small files, whose times are short and noisier."""
    if "BENCH_TRANSFER_REPEAT" in os.environ:
        return int(os.environ["BENCH_TRANSFER_REPEAT"])
    return max(5, min(9, 1024 // size_mib))


def run() -> str:
    from django.conf import settings

    data_dir = str(settings.LOCKER_DATA_DIR)
    rows, ratios = [], []
    with tempfile.TemporaryDirectory(prefix="locker-transfer-", dir=data_dir) as work_dir:
        work = Path(work_dir)
        for mib in SIZES:
            source = work / f"source-{mib}.bin"
            make_file(source, mib)
            copy = timed(["cp", str(source), str(work / "copy.bin")])
            (work / "copy.bin").unlink()
            result = compare(mib, source, work, repeats(mib))
            source.unlink()
            rate, ratio = result["rate"], result["ratio"]
            idle, peak, login_peak = result["locker_rss"]
            rows.append(
                f"| {mib} MiB | {repeats(mib)} | {mib / copy:.0f} | {rate[('locker', 'multipart')]:.0f} | "
                f"{rate[('locker', 'put')]:.0f} | {rate[('locker', 'download')]:.0f} | "
                f"{rate[('locker', 'saved')]:.0f} | {rate[('bare', 'download')]:.0f} | "
                f"{idle:.0f} / {peak:.0f} / {login_peak:.0f} | "
                f"{rate[('copyparty', 'multipart')]:.0f} ({result['rate_synced']:.0f}) | "
                f"{rate[('copyparty', 'put')]:.0f} | {rate[('copyparty', 'download')]:.0f} "
                f"({rate[('unsent', 'download')]:.0f}) | "
                f"{rate[('copyparty', 'saved')]:.0f} | "
                f"{result['plain_peak']:.0f} | {'yes' if result['ok'] else 'NO'} |"
            )
            ratios.append(
                f"| {mib} MiB | {ratio['multipart']:.2f} ({ratio['multipart_synced']:.2f}) | {ratio['put']:.2f} | "
                f"{ratio['download']:.2f} ({ratio['download_unsent']:.2f}) | {ratio['saved']:.2f} | "
                f"{ratio['download_bare']:.2f} |"
            )
            print(rows[-1], ratios[-1], sep="\n", flush=True)
    return "\n".join(
        [
            "## File transfer: encrypted Locker vs plain copyparty vs cp",
            "",
            "MiB/s over loopback with curl; Locker under gunicorn (1 worker, 4 threads) encrypts on upload",
            "(AES-256-GCM stream, fsync before commit) and decrypts on download; copyparty stores and serves",
            "plaintext and does not fsync. Both servers run at once and every round does each transfer on both,",
            "alternating which goes first (the shared machine's disk drifts by 2x within minutes); rates are",
            "medians over the rounds. Downloads are timed twice: into `/dev/null` (the server alone; copyparty sends",
            "the file with `sendfile(2)`, zero-copy, which a server that decrypts cannot) and saved to a file on the",
            "same disk, as a client keeps it. One more download of each is compared byte for byte with the source.",
            "Locker RSS column: worker RSS after login / peak RSS during all transfers",
            "(VmHWM, reset after login) / peak during the login itself (Argon2id is memory-hard by design: 64 MiB",
            "for the key-encryption key plus Django's Argon2 hasher). copyparty's is its VmHWM. In brackets, the",
            "copyparty multipart rate once an fsync of the received file is added: the same durability as Locker;",
            "after copyparty's download rate, in brackets, that of a second copyparty started with `--no-sendfile`",
            "(a read-and-send loop, as a server that must transform the bytes has to), in the same rounds.",
            "The bare column is `bench/bare_server.py`, in the same rounds: the same file in Locker's format,",
            "decrypted and sent by a loop on a raw socket with no framework, parsing, auth or database (and no",
            "`bytes` copy): the fastest an encrypting Python server could be here, so how much of the gap is Locker's.",
            "Reproduce: `make bench BENCH=transfer` (`BENCH_TRANSFER_SIZES_MIB=100,1024` by default;",
            "`BENCH_TRANSFER_REPEAT` overrides the rounds).",
            "",
            "| size | rounds | cp | Locker multipart up | Locker PUT up | Locker down /dev/null | Locker down saved "
            "| bare decrypting server down /dev/null "
            "| Locker RSS MiB: idle / transfer peak / login peak "
            "| copyparty multipart up (+ fsync) | copyparty PUT up | copyparty down /dev/null (no sendfile) "
            "| copyparty down saved "
            "| copyparty peak RSS MiB | bytes identical |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            "Locker's speed relative to copyparty (median over the rounds of copyparty's time / Locker's time in the",
            "same round; above 1.00 Locker is faster; in brackets against copyparty plus fsync for multipart, and",
            "against copyparty `--no-sendfile` for the download; the last column is the bare decrypting server's",
            "speed relative to copyparty, the same way):",
            "",
            "| size | multipart up | PUT up | download to /dev/null | download saved "
            "| bare server: download to /dev/null |",
            "|---|---:|---:|---:|---:|---:|",
            *ratios,
        ]
    )
