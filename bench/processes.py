"""Processes and the machine, for the benchmarks: ports, servers started and waited for, memory and CPU of a
process, and how busy the rest of the machine was meanwhile."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
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
