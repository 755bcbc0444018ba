"""Upload and download throughput, time to first byte and server memory, with the spread over rounds.

Locker (encrypted) vs the bare decrypting server (``bench/bare_server.py``) vs copyparty (plain) vs cp.
For each size (100 MiB, 1 GiB by default; ``BENCH_TRANSFER_SIZES_MIB=100,1024``), over
``BENCH_TRANSFER_REPEAT`` interleaved rounds (5 by default):

* ``cp`` of the file on the same disk;
* Locker under gunicorn with its ``locker/gunicorn.conf.py`` (1 worker, 4 threads): multipart upload
  (``POST /api/v1/files/``), raw ``PUT /api/v1/files/{id}/content``, and download (``GET .../content``)
  into /dev/null and saved to a file, all with curl;
* with ``BENCH_BASELINE=<git ref>``, a second Locker from that ref (checked out into a temporary
  ``git worktree``, removed at the end), from the same virtualenv with its own data dir and the same
  settings, its own gunicorn configuration and the same flags, doing the same transfers in the same rounds:
  an A/B of two versions;
* the bare decrypting server: the same file in Locker's format, decrypted and sent with no framework;
* copyparty (an unencrypted Python file server, from PyPI) receiving the same file by multipart
  (``act=bput``) and by ``PUT``, and serving it back (a second copyparty with ``--no-sendfile`` too);
* time to first byte (curl's ``time_starttransfer``, one new connection per request) of each download,
  and of a 64 KiB file fetched ``BENCH_TRANSFER_TTFB_REQUESTS`` times per server per round.

Every figure is the median over the rounds with its min and max; a ratio is taken round by round (both
sides in the same conditions) before its median. The machine's load is recorded around each size: the
1-minute load average before and after, and the CPU time the rest of the machine used meanwhile (busy time
from ``/proc/stat`` minus this process and every child it waited for: servers, curl, cp).
Each server is started fresh per size; its worker's peak RSS (``VmHWM``) is read at the end.
MiB/s = file size / wall time of the curl command.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
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
REPEAT = int(os.environ.get("BENCH_TRANSFER_REPEAT", "5"))  # interleaved rounds per size
BASELINE = os.environ.get("BENCH_BASELINE", "").strip()  # a git ref to time against the current checkout
SMALL = 64 * 1024  # the small file whose time to first byte shows the fixed cost of a request
SMALL_REQUESTS = int(os.environ.get("BENCH_TRANSFER_TTFB_REQUESTS", "5"))  # per server per round
GOAL_ROUNDS = 5
GOAL_BARE = 0.95  # Locker's download to /dev/null, over the bare decrypting server's
GOAL_SAVED = 1.0  # Locker's saved download, over copyparty's
COMMAND_TIMEOUT = 900  # seconds: no transfer here takes minutes, a stuck one must not hang the run


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


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=COMMAND_TIMEOUT)
    return time.perf_counter() - start


def fetch(server, out: str = "/dev/null", small: bool = False) -> tuple[float, float]:
    """One download by curl on a new connection: (wall seconds, seconds to the first byte of the body)."""
    command = ["curl", "-sf", "-o", out, "-w", "%{time_starttransfer}", *server.curl_args(small)]
    start = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return time.perf_counter() - start, float(result.stdout)


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        for i in range(mib):
            handle.write(block[i % 7 :] + block[: i % 7])  # distinct blocks, cheap to make


# The machine's load --------------------------------------------------------------------------------------


def load_average() -> float:
    """The 1-minute load average (runnable and uninterruptible tasks, all cores)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine since boot, all cores together (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of every child it has waited for (servers once stopped, curl, cp)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Load:
    """How busy the machine was from ``start()`` to ``stop()`` apart from this benchmark.

    Other processes' CPU = the machine's busy time minus this process and its waited-for children (every
    server is stopped, and so reaped, before ``stop()``). Kernel threads writing this benchmark's files back
    to disk count as others: a few percent of a core at most on an idle machine.
    """

    def __init__(self):
        self.before = load_average()
        self.start_wall = time.perf_counter()
        self.start_busy, self.start_steal = machine_cpu_seconds()
        self.start_own = own_cpu_seconds()
        self.after = self.wall = self.others = self.steal = self.own = float("nan")

    def stop(self) -> Load:
        busy, steal = machine_cpu_seconds()
        self.wall = time.perf_counter() - self.start_wall
        self.own = own_cpu_seconds() - self.start_own
        self.others = max(0.0, busy - self.start_busy - self.own)
        self.steal = steal - self.start_steal
        self.after = load_average()
        return self

    def cores(self, seconds: float) -> float:
        """CPU seconds over the wall time: how many cores' worth, on average."""
        return seconds / self.wall if self.wall > 0 else float("nan")


# Servers -------------------------------------------------------------------------------------------------


class Server:
    def __init__(self, cmd, env, url, cwd=ROOT):
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(url)
        except RuntimeError:
            self.stop()
            raise

    def worker_pid(self) -> int:
        kids = children(self.proc.pid)
        return kids[0] if kids else self.proc.pid

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)


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


ACCOUNT_SETUP = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
import locker
from accounts.models import User
from tests.factories import make_account
account = make_account(sys.argv[1])
User.objects.filter(pk=account.user.pk).update(storage_quota=1 << 50)
print(json.dumps({"password": account.password, "code": locker.__file__}))
"""


def make_bench_account(tree: Path, data_dir: Path, username: str) -> str:
    """Migrate ``data_dir``'s database with ``tree``'s code and register ``username`` there; returns the password.

    In a subprocess in ``tree``, so a baseline gets its own migrations and services.
    """
    command = [sys.executable, "-c", ACCOUNT_SETUP, username]
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


def rotated(items: list, by: int) -> list:
    """``items`` starting at ``by`` (mod len): over len(items) rounds each one goes first once."""
    by %= len(items)
    return items[by:] + items[:by]


OPS = ("cp", "multipart", "put", "download", "saved", "small")
# download: to /dev/null; saved: to a file on the same disk; small: time to first byte of the 64 KiB file


def compare(size_mib: int, source: Path, small: Path, work: Path, repeat: int, trees: list) -> dict:
    """Every server up at once; every round runs each transfer on each, rotating which goes first.

    The disk and CPU of a shared machine drift by 2x within minutes; interleaving puts all servers under
    the same conditions, and the per-round ratios cancel most of the drift. ``trees``: (name, tree, data dir)
    of each Locker to time.
    """
    times: dict[tuple[str, str], list[float]] = {}
    ttfb: dict[tuple[str, str], list[float]] = {}
    cpu_used: dict[str, list[float]] = {}  # the server's CPU seconds per download to /dev/null
    load = Load()
    with contextlib.ExitStack() as stack:
        lockers = []
        for name, tree, data_dir in trees:
            lockers.append((name, Locker(size_mib, source, tree, data_dir)))
            stack.callback(lockers[-1][1].stop)
        plain = Copyparty(source, work)
        stack.callback(plain.stop)
        unsent = Copyparty(source, work, "--no-sendfile")  # serves with a read-send loop, as Locker must
        stack.callback(unsent.stop)
        bare = Bare(source, work / "bare")
        stack.callback(bare.stop)
        bare_bytes = Bare(source, work / "bare-bytes", "--bytes")  # copies each run into bytes, as WSGI must
        stack.callback(bare_bytes.stop)
        bare_small = Bare(small, work / "bare-small")
        stack.callback(bare_small.stop)
        unsent.put()
        for _, server in [*lockers, ("copyparty", plain)]:
            server.add_small(small)
        actors = {
            "cp": [("cp", None)],
            "multipart": [*lockers, ("copyparty", plain)],
            "put": [*lockers, ("copyparty", plain)],
            "download": [
                *lockers,
                ("bare", bare),
                ("bare_bytes", bare_bytes),
                ("copyparty", plain),
                ("unsent", unsent),
            ],
            "saved": [*lockers, ("copyparty", plain)],
            "small": [*lockers, ("bare", bare_small), ("copyparty", plain)],
        }
        for _, server in actors["small"]:  # warm up each server's request path (threads, connections)
            fetch(server, small=True)
        for round_ in range(repeat):
            for op in OPS:
                if op == "small":
                    samples: dict[str, list[float]] = {name: [] for name, _ in actors[op]}
                    for request in range(SMALL_REQUESTS):
                        for name, server in rotated(actors[op], round_ + request):
                            samples[name].append(fetch(server, small=True)[1])
                    for name, values in samples.items():
                        ttfb.setdefault((name, op), []).append(statistics.median(values))
                    continue
                for name, server in rotated(actors[op], round_):
                    if op == "cp":
                        seconds = copy_time(source, work)
                    elif op == "download":
                        cpu = process_cpu_seconds(server.pid())
                        seconds, first = fetch(server)
                        cpu_used.setdefault(name, []).append(process_cpu_seconds(server.pid()) - cpu)
                        ttfb.setdefault((name, op), []).append(first)
                    elif op == "saved":
                        seconds, first = to_file(server, work)
                        ttfb.setdefault((name, op), []).append(first)
                    else:
                        seconds = getattr(server, op)()
                    times.setdefault((name, op), []).append(seconds)
            print(
                f"{size_mib} MiB round {round_ + 1}/{repeat} (MiB/s): "
                + "; ".join(f"{n} {op} {size_mib / v[-1]:.0f}" for (n, op), v in times.items()),
                flush=True,
            )
        checked = [server for _, server in lockers] + [plain]
        ok = all(same_bytes(s, source, work) and same_bytes(s, small, work, small=True) for s in checked)
    load.stop()
    return {
        "times": times,
        "ttfb": ttfb,
        "cpu": cpu_used,
        "synced": plain.synced,
        "lockers": dict(lockers),
        "plain_peak": plain.peak,
        "ok": ok,
        "load": load,
        "rounds": repeat,
    }


# Report --------------------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    """``median (min–max)`` of the per-round values."""
    if not values:
        return "–"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def speed_ratios(times: dict, a: tuple[str, str], b: tuple[str, str] | list[float]) -> list[float]:
    """Round by round, how many times faster ``a`` was than ``b`` (b's seconds / a's seconds)."""
    other = b if isinstance(b, list) else times[b]
    return [theirs / ours for ours, theirs in zip(times[a], other, strict=True)]


def verdict(ratios: list[float], goal: float) -> str:
    """The ratios' spread, and whether their median meets ``goal`` (and if the rounds fell on both sides)."""
    if len(ratios) < GOAL_ROUNDS:
        return f"{spread(ratios, 2)}: n/a (fewer than {GOAL_ROUNDS} rounds)"
    both_sides = f", rounds on both sides of {goal:.2f}" if min(ratios) < goal <= max(ratios) else ""
    return f"{spread(ratios, 2)}: **{'pass' if statistics.median(ratios) >= goal else 'FAIL'}**{both_sides}"


def noise_note(whole: Load) -> str:
    """One sentence on how much else the machine was doing during the whole run."""
    others, cores = whole.cores(whole.others), os.cpu_count() or 1
    load = f"{others:.2f} of the {cores} cores on average, load average {whole.before:.2f} → {whole.after:.2f}"
    if others < 0.1:
        return f"The machine was otherwise quiet during this run (other processes used {load})."
    return (
        f"**The machine was shared during this run**: other processes used {load}. Read the spreads: a ratio"
        " whose rounds fall on both sides of 1.00 (or of a goal) does not show a difference."
    )


def describe_load(load: Load) -> str:
    cores = os.cpu_count() or 1
    steal = f"; stolen by the hypervisor {load.cores(load.steal):.2f}" if load.steal > 0 else ""
    return (
        f"{load.before:.2f} → {load.after:.2f} | {load.wall:.0f} s | {load.cores(load.own):.2f} | "
        f"{load.cores(load.others):.2f} of {cores}{steal} |"
    )


def run() -> str:
    from django.conf import settings

    data_dir = str(settings.LOCKER_DATA_DIR)
    baseline = BaselineTree(BASELINE) if BASELINE else None
    names = ["locker"] + (["baseline"] if baseline else [])
    version = {"locker": f"Locker {current_label()}"}
    if baseline:
        version["baseline"] = f"baseline {baseline.label}"
    results = {}
    whole = Load()
    try:
        with tempfile.TemporaryDirectory(prefix="locker-transfer-", dir=data_dir) as work_dir:
            work = Path(work_dir)
            trees = [("locker", ROOT, work / "data-locker")]
            if baseline:
                trees.append(("baseline", baseline.path, work / "data-baseline"))
            small = work / "small.bin"
            small.write_bytes(os.urandom(SMALL))
            for mib in SIZES:
                source = work / f"source-{mib}.bin"
                make_file(source, mib)
                try:
                    results[mib] = compare(mib, source, small, work, REPEAT, trees)
                finally:
                    source.unlink()
    finally:
        if baseline:
            baseline.remove()
    whole.stop()
    return report(results, names, version, whole)


def report(results: dict, names: list[str], version: dict[str, str], whole: Load) -> str:
    ab = "baseline" in names
    goals, rates, ratios, firsts, memory, loads, cpus = [], [], [], [], [], [], []
    for mib, result in results.items():
        times, ttfb, rounds = result["times"], result["ttfb"], result["rounds"]
        size = f"{mib} MiB"
        for name in names:
            goals.append(
                f"| {size} | {version[name]} | {rounds} | "
                f"{verdict(speed_ratios(times, (name, 'download'), ('bare', 'download')), GOAL_BARE)} | "
                f"{verdict(speed_ratios(times, (name, 'saved'), ('copyparty', 'saved')), GOAL_SAVED)} |"
            )

        def rate(name: str, op: str, times=times, mib=mib) -> str:
            return spread([mib / s for s in times[(name, op)]]) if (name, op) in times else ""

        synced = spread([mib / s for s in result["synced"]])
        variant = {"multipart": f"+ fsync: {synced}", "download": f"`--no-sendfile`: {rate('unsent', 'download')}"}
        bare_variant = {"download": f"; handing bytes: {rate('bare_bytes', 'download')}"}
        labels = {
            "multipart": "multipart up",
            "put": "PUT up",
            "download": "down to /dev/null",
            "saved": "down saved to a file",
        }
        for op, label in labels.items():
            bare_cell = rate("bare", op) + bare_variant.get(op, "")
            cells = [rate(name, op) for name in names] + [bare_cell, rate("copyparty", op), variant.get(op, "")]
            rates.append(f"| {size} | {label} | " + " | ".join(cells) + " |")
        for op, label in labels.items():
            against = {"multipart": result["synced"], "download": ("unsent", "download")}
            cells = [spread(speed_ratios(times, ("locker", op), ("copyparty", op)), 2)]
            if op in against:
                cells[0] += f"; {'+ fsync' if op == 'multipart' else '`--no-sendfile`'}: "
                cells[0] += spread(speed_ratios(times, ("locker", op), against[op]), 2)
            cells.append(
                f"{spread(speed_ratios(times, ('locker', op), ('bare', op)), 2)}; handing bytes: "
                f"{spread(speed_ratios(times, ('locker', op), ('bare_bytes', op)), 2)}"
                if op == "download"
                else ""
            )
            if ab:
                cells.append(spread(speed_ratios(times, ("locker", op), ("baseline", op)), 2))
            ratios.append(f"| {size} | {label} | " + " | ".join(cells) + " |")
        for op, file in (("small", "64 KiB"), ("download", size)):
            row = [spread([s * 1000 for s in ttfb[(name, op)]], 1) for name in [*names, "bare", "copyparty"]]
            excess = [(lk - b) * 1000 for lk, b in zip(ttfb[("locker", op)], ttfb[("bare", op)], strict=True)]
            firsts.append(f"| {size} | {file} | " + " | ".join(row) + f" | {spread(excess, 1)} |")
        cpu = result["cpu"]
        per_gib = [spread([c * 1024 / mib for c in cpu[n]], 2) for n in [*names, "bare", "bare_bytes", "copyparty"]]
        over = [spread([a / b for a, b in zip(cpu["locker"], cpu[o], strict=True)], 2) for o in ("bare", "bare_bytes")]
        cpus.append(f"| {size} | " + " | ".join(per_gib + over) + " |")
        lockers = result["lockers"]
        rss = [f"{lockers[n].idle:.0f} / {lockers[n].peak:.0f} / {lockers[n].login_peak:.0f}" for n in names]
        memory.append(f"| {size} | " + " | ".join(rss) + f" | {result['plain_peak']:.0f} |")
        loads.append(
            f"| {size} | {rounds} | {describe_load(result['load'])} {rate('cp', 'cp')} | "
            f"{'yes' if result['ok'] else 'NO'} |"
        )
    loads.append(f"| whole run | | {describe_load(whole)} | |")
    versions = [version[n] for n in names]
    ab_text = []
    if ab:
        ab_text = [
            f"`BENCH_BASELINE` runs a second Locker, the {version['baseline']}, checked out into a temporary",
            "`git worktree` (removed at the end), from the same virtualenv with its own data dir, its own",
            "`locker/gunicorn.conf.py` and the same flags, in the same rounds as the current checkout; the last",
            "ratio column is the current checkout's speed over the baseline's.",
        ]
    return "\n".join(
        [
            "## File transfer: encrypted Locker vs a bare decrypting server vs plain copyparty vs cp",
            "",
            "MiB/s over loopback with curl; Locker under gunicorn as `make run` serves it (its",
            "`locker/gunicorn.conf.py`, with 1 worker, 4 threads, no access log) encrypts on upload",
            "(AES-256-GCM stream, fsync before commit) and decrypts on download; copyparty stores and serves",
            "plaintext and does not fsync. All servers run at once and every round does each transfer on each,",
            "rotating which goes first (a shared machine's disk and CPU drift by 2x within minutes). **Every figure",
            "is the median over the rounds, with the min and max in brackets**; a ratio is taken round by round",
            "(both sides in the same conditions) before its median. Downloads go into `/dev/null` (the server",
            "alone) and are saved to a file on the same disk, as a client keeps them; one more download of each",
            "Locker and copyparty file is compared byte for byte with the source. The bare decrypting server is",
            "`bench/bare_server.py`: the same file in Locker's format, decrypted and sent by a loop on a raw socket",
            "with no framework, parsing, auth or database: the fastest an encrypting Python server could be here.",
            "copyparty sends files with `sendfile(2)`, zero-copy, which a server that decrypts cannot: downloads",
            "to `/dev/null` are no longer compared with it, but with the bare server (a second copyparty with",
            "`--no-sendfile`, a read-and-send loop, is shown too). *Retired target: Locker's download to /dev/null",
            'against copyparty\'s sendfile.* A second bare server ("handing bytes") copies each decrypted run into',
            "a new `bytes` before sending it, as a WSGI application must hand its body to the server (PEP 3333;",
            "gunicorn refuses a buffer): the floor for decrypting under plain WSGI. Locker's own worker lets a",
            'download send its buffer without that copy (`environ["locker.write_now"]`, docs/vault.md).',
            *ab_text,
            "Reproduce: `make bench BENCH=transfer` (`BENCH_TRANSFER_SIZES_MIB=100,1024` by default,",
            f"`BENCH_TRANSFER_REPEAT` rounds, {REPEAT} here, 5 by default; `BENCH_BASELINE=<git ref>` for an A/B).",
            "",
            noise_note(whole),
            "",
            f"Goals, over at least {GOAL_ROUNDS} interleaved rounds: Locker's download to /dev/null at least "
            f"{GOAL_BARE:.2f}x the bare",
            f"decrypting server's, and Locker's saved download at least {GOAL_SAVED:.1f}x copyparty's (speed ratios:",
            "the other's seconds / Locker's in the same round; a goal passes when the median meets it):",
            "",
            f"| size | version | rounds | down to /dev/null ÷ bare server (≥ {GOAL_BARE:.2f}) "
            f"| down saved ÷ copyparty (≥ {GOAL_SAVED:.1f}) |",
            "|---|---|---:|---|---|",
            *goals,
            "",
            "How busy the machine was (it is shared: other people's tests run on it): the 1-minute load average",
            "before and after each size, the wall time, the CPU this benchmark used (it and its servers, curl, cp)",
            "and the CPU every other process used meanwhile, both in cores' worth on average (`/proc/stat` busy",
            f"time minus this benchmark's; {os.cpu_count()} cores in all), then cp of the file on the same disk:",
            "",
            "| size | rounds | load average before → after | wall | this benchmark, cores | other processes, cores "
            "| cp MiB/s | bytes identical |",
            "|---|---:|---|---:|---:|---|---:|---|",
            *loads,
            "",
            "MiB/s, median (min–max) over the rounds:",
            "",
            "| size | transfer | "
            + " | ".join(versions)
            + " | bare decrypting server | copyparty | copyparty variant |",
            "|---|---|" + "---:|" * (len(names) + 3),
            *rates,
            "",
            "Locker's speed relative to the others, round by round (above 1.00 Locker is faster): against",
            "copyparty (and copyparty plus an fsync of the received file, the same durability as Locker, for",
            "multipart; copyparty `--no-sendfile` for the download), against the bare decrypting server"
            + (", and against the baseline:" if ab else ":"),
            "",
            "| size | transfer | ÷ copyparty | ÷ bare server |" + (f" ÷ {version['baseline']} |" if ab else ""),
            "|---|---|---:|---:|" + ("---:|" if ab else ""),
            *ratios,
            "",
            "Time to first byte, ms (curl's `time_starttransfer` on a new connection: the request's fixed cost",
            f"before the body starts): the 64 KiB file {SMALL_REQUESTS} times per server per round (the median of "
            "each round's,",
            "then over the rounds), and the big file's download to /dev/null once per round. Last column: Locker's",
            "time minus the bare server's, round by round:",
            "",
            "| run | file | " + " | ".join(versions) + " | bare decrypting server | copyparty | Locker − bare |",
            "|---|---|" + "---:|" * (len(names) + 3),
            *firsts,
            "",
            "Server CPU per download to /dev/null, seconds per GiB (user + system, all the server process's threads,",
            "from `/proc`): less noisy than wall time on a shared machine, and it shows where the time goes. The",
            "bare server handing bytes pays the one copy WSGI requires; the last columns are Locker's CPU over the",
            "bare servers', round by round (1.00: the same work per byte):",
            "",
            "| size | "
            + " | ".join(versions)
            + " | bare server | bare, handing bytes | copyparty | Locker ÷ bare | Locker ÷ bare handing bytes |",
            "|---|" + "---:|" * (len(names) + 5),
            *cpus,
            "",
            "Memory: Locker worker RSS after login / peak RSS during all transfers (VmHWM, reset after login) / peak",
            "during the login itself (Argon2id is memory-hard by design: 64 MiB for the key-encryption key plus",
            "Django's Argon2 hasher), MiB; copyparty's is its VmHWM:",
            "",
            "| size | "
            + " | ".join(f"{v}: idle / transfer peak / login peak" for v in versions)
            + " | copyparty peak |",
            "|---|" + "---:|" * (len(names) + 1),
            *memory,
        ]
    )
