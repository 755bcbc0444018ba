"""WebDAV: Locker's ``/dav/`` beside copyparty's WebDAV, with curl as the client of both.

Locker runs as it is deployed (gunicorn with ``locker/gunicorn.conf.py``, ``bench.transfer_servers.start_locker``:
1 worker, 4 threads), with one account and an app password (HTTP Basic on every request, as WebDAV clients do);
copyparty (unencrypted, from PyPI: requirements-bench.txt) serves a plain directory with write access. Both hold
a folder of ``BENCH_DAV_FILES`` (10,000) small files, the same names and bytes: Locker's seeded through the upload
service (encrypted, indexed), copyparty's written to its volume.

Over ``BENCH_DAV_ROUNDS`` (3) interleaved rounds, rotating which server goes first, each round does on each server:

* upload: ``curl -T`` of a ``BENCH_DAV_MIB`` MiB (1 GiB) file to a new name (Locker: encrypted as it arrives,
  fsynced, a file row, an event);
* download: ``curl -o /dev/null`` of the file uploaded in the first round;
* PROPFIND ``Depth: 1`` of the 10,000-file folder (``curl -X PROPFIND``, body to /dev/null), ``PROPFINDS`` times,
  the round's figure being their median.

Each figure is the median over the rounds with its min and max; a ratio is Locker's speed over copyparty's in the
same round, then its median. The first round checks both PROPFIND answers list every file. Every command is a new
curl process on a new connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import COMMAND_TIMEOUT, ROOT, Load, Server, free_port, make_file, peak_rss_mib
from bench.transfer_servers import ACCOUNT_SETUP, locker_env, start_locker

SIZE_MIB = int(os.environ.get("BENCH_DAV_MIB", "1024"))
FILES = int(os.environ.get("BENCH_DAV_FILES", "10000"))
ROUNDS = int(os.environ.get("BENCH_DAV_ROUNDS", "3"))
PROPFINDS = 5  # per server per round
USERNAME = "benchdav"
GOALS = {"upload": 1.0, "download": 0.9, "propfind": 1.0}  # Locker's speed over copyparty's

SETUP = (
    ACCOUNT_SETUP
    + """
from vault.files.services import file_upload, folder_create
from vault.transfers.uploads import upload_from_iterable

_row, app_password = app_password_create(user=user, udk=keys.udk, name="bench")
folder = folder_create(user=user, keys=keys, name="many")
for i in range(int(sys.argv[2])):
    upload = upload_from_iterable(
        owner_id=user.pk, mac_key=keys.content_mac_key(), name=f"file {i:05d}.bin", pieces=[bytes([i % 251]) * 200]
    )
    file_upload(user=user, keys=keys, upload=upload, folder_id=folder.pk)
print(json.dumps({"app_password": app_password}))
"""
)


def curl(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", *args], check=True, capture_output=True, timeout=COMMAND_TIMEOUT)  # noqa: S607
    return time.perf_counter() - started


def _propfind_count(*args: str) -> int:
    result = subprocess.run(
        ["curl", "-sf", "-X", "PROPFIND", "-H", "Depth: 1", *args],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    return len(re.findall(rb"<(?:\w+:)?response>", result.stdout))


class LockerDav:
    name = "Locker"

    def __init__(self, work: Path):
        self.data = work / "locker-data"
        self.data.mkdir()
        started = time.perf_counter()
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, USERNAME, str(FILES)],
            cwd=ROOT,
            env=locker_env(self.data),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT * 2,
        )
        if setup.returncode:
            raise RuntimeError(setup.stderr[-3000:])
        self.seed_seconds = time.perf_counter() - started
        password = json.loads(setup.stdout.strip().splitlines()[-1])["app_password"]
        self.server, base = start_locker(ROOT, self.data, LOCKER_MAX_UPLOAD_SIZE=str(16 << 30))
        self.base = f"{base}/dav"
        self.auth = ["-u", f"{USERNAME}:{password}"]

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def pid(self) -> int:
        return self.server.worker_pid()

    def stop(self) -> float:
        peak = peak_rss_mib(self.pid())
        self.server.stop()
        return peak


class CopypartyDav:
    name = "copyparty"

    def __init__(self, work: Path):
        self.volume = work / "copyparty"
        many = self.volume / "many"
        many.mkdir(parents=True)
        for i in range(FILES):
            (many / f"file {i:05d}.bin").write_bytes(bytes([i % 251]) * 200)
        port = free_port()
        command = [sys.executable, "-m", "copyparty", "-i", "127.0.0.1", "-p", str(port), "-v", f"{self.volume}::rw"]
        command += ["-q", "--no-thumb"]
        self.server = Server(command, {**os.environ}, f"http://127.0.0.1:{port}/")
        self.base = f"http://127.0.0.1:{port}"
        self.auth: list[str] = []

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def pid(self) -> int:
        return self.server.proc.pid

    def stop(self) -> float:
        peak = peak_rss_mib(self.pid())
        self.server.stop()
        return peak


def quoted(name: str) -> str:
    return name.replace(" ", "%20")


def one_round(round_: int, servers: list, source: Path, results: dict) -> None:
    order = servers[round_ % len(servers) :] + servers[: round_ % len(servers)]
    for server in order:
        seconds = curl(*server.auth, "-T", str(source), server.url(f"upload-{round_}.bin"))
        results.setdefault((server.name, "upload"), []).append(seconds)
    for server in order:
        seconds = curl(*server.auth, "-o", "/dev/null", server.url("upload-0.bin"))
        results.setdefault((server.name, "download"), []).append(seconds)
    samples: dict[str, list[float]] = {server.name: [] for server in servers}
    for i in range(PROPFINDS):
        for server in order[i % len(order) :] + order[: i % len(order)]:
            args = [*server.auth, "-X", "PROPFIND", "-H", "Depth: 1", "-o", "/dev/null", server.url("many/")]
            samples[server.name].append(curl(*args))
    for name, values in samples.items():
        results.setdefault((name, "propfind"), []).append(statistics.median(values))


# --- tus upload rows -------------------------------------------------------------------------------------------
# The tus work adds its rows here: a function of (servers, source, results) timing a tus upload of the same file
# into Locker (and, if it has one, a peer), called from run() beside the WebDAV rounds, and rows appended to the
# table by tus_rows().


TUS_PIECE_MIB = 64  # the second tus row sends the file in PATCHes of this size, as a resuming client would


def _tus(locker, name: str, pieces: list[Path], size: int) -> float:
    """A tus upload with curl: POST (creation), then one PATCH per piece (``curl -T`` streams each from disk)."""
    import base64

    api = locker.base.removesuffix("/dav") + "/api/v1/uploads/"
    tus = ["-sS", "-f", *locker.auth, "-H", "Tus-Resumable: 1.0.0"]
    meta = "name " + base64.b64encode(name.encode()).decode()
    started = time.perf_counter()
    created = subprocess.run(
        ["curl", *tus, "-X", "POST", "-H", f"Upload-Length: {size}", "-H", f"Upload-Metadata: {meta}", "-D", "-"]
        + ["-o", "/dev/null", api],
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    )
    location = re.search(r"(?im)^location:\s*(\S+)", created.stdout).group(1)
    offset = 0
    for piece in pieces:
        headers = ["-H", f"Upload-Offset: {offset}", "-H", "Content-Type: application/offset+octet-stream"]
        subprocess.run(
            ["curl", *tus, "-X", "PATCH", *headers, "-T", str(piece), "-o", "/dev/null", location],
            check=True,
            timeout=COMMAND_TIMEOUT,
        )
        offset += piece.stat().st_size
    return time.perf_counter() - started


def _pieces(source: Path) -> list[Path]:
    """The source cut into TUS_PIECE_MIB pieces beside it (once, outside any timing)."""
    folder = source.with_name("tus-pieces")
    if not folder.exists():
        folder.mkdir()
        step = TUS_PIECE_MIB << 20
        with source.open("rb") as handle:
            number = 0
            while chunk := handle.read(step):
                (folder / f"{number:04d}").write_bytes(chunk)
                number += 1
    return sorted(folder.iterdir())


def tus_rounds(round_: int, servers: list, source: Path, results: dict) -> None:
    """tus uploads of the same file into Locker, in one PATCH and in 64 MiB PATCHes (copyparty speaks no tus)."""
    locker = next(server for server in servers if server.name == "Locker")
    size = source.stat().st_size
    pieces = _pieces(source)
    one = _tus(locker, f"tus-one-{round_}.bin", [source], size)
    results.setdefault(("Locker", "tus"), []).append(one)
    many = _tus(locker, f"tus-pieces-{round_}.bin", pieces, size)
    results.setdefault(("Locker", "tus-pieces"), []).append(many)


def tus_rows(results: dict) -> list[str]:
    """tus rows: Locker's speed, and its ratio to copyparty's WebDAV upload of the same file in the same round."""
    if ("Locker", "tus") not in results:
        return []
    rows = []
    theirs = results[("copyparty", "upload")]
    labels = {"tus": "tus upload, one PATCH", "tus-pieces": f"tus upload, PATCHes of {TUS_PIECE_MIB} MiB"}
    for op, label in labels.items():
        ours = results[("Locker", op)]
        ratio = [t / o for o, t in zip(ours, theirs, strict=True)]
        rows.append(
            f"| {label} ({SIZE_MIB} MiB) | MiB/s | {spread([SIZE_MIB / v for v in ours])} | "
            f"WebDAV upload: {spread([SIZE_MIB / v for v in theirs])} | {spread(ratio, 2)} | — | |"
        )
    return rows


# --------------------------------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def ratios(results: dict, op: str) -> list[float]:
    ours, theirs = results[("Locker", op)], results[("copyparty", op)]
    return [t / o for o, t in zip(ours, theirs, strict=True)]  # speed ratio = their time over ours


def run() -> str:
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-dav-", dir=ROOT / "var"))
    results: dict = {}
    peaks: dict = {}
    try:
        source = work / "source.bin"
        make_file(source, SIZE_MIB)
        print(f"seeding {FILES} files in each server", flush=True)
        with contextlib.ExitStack() as stack:
            locker = LockerDav(work)
            stack.callback(lambda: peaks.__setitem__("Locker", locker.stop()))
            plain = CopypartyDav(work)
            stack.callback(lambda: peaks.__setitem__("copyparty", plain.stop()))
            servers = [locker, plain]
            counts = {s.name: _propfind_count(*s.auth, s.url("many/")) for s in servers}
            if set(counts.values()) != {FILES + 1}:
                raise RuntimeError(f"PROPFIND answers: {counts} responses, expected {FILES + 1}")
            load = Load()
            for round_ in range(ROUNDS):
                one_round(round_, servers, source, results)
                tus_rounds(round_, servers, source, results)
                print(
                    f"round {round_ + 1}/{ROUNDS}: "
                    + "; ".join(f"{name} {op} {values[-1]:.2f} s" for (name, op), values in results.items()),
                    flush=True,
                )
        load.stop()  # the servers are stopped (and reaped) by now
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(results, peaks, load, locker.seed_seconds)


def report(results: dict, peaks: dict, load: Load, seed_seconds: float) -> str:
    rows = []
    for op, unit in (("upload", "MiB/s"), ("download", "MiB/s"), ("propfind", "s")):
        cells = []
        for name in ("Locker", "copyparty"):
            values = results[(name, op)]
            cells.append(spread([SIZE_MIB / v for v in values]) if unit == "MiB/s" else spread(values, 2))
        ratio = ratios(results, op)
        verdict = "pass" if statistics.median(ratio) >= GOALS[op] else "FAIL"
        label = f"{op} ({SIZE_MIB} MiB)" if unit == "MiB/s" else f"PROPFIND Depth: 1 of {FILES:,} files"
        rows.append(
            f"| {label} | {unit} | {cells[0]} | {cells[1]} | {spread(ratio, 2)} | ≥ {GOALS[op]} | **{verdict}** |"
        )
    rows += tus_rows(results)
    return "\n".join(
        [
            "## WebDAV (`bench/bench_dav.py`)",
            "",
            f"Locker's `/dav/` (gunicorn, 1 worker, 4 threads; HTTP Basic with an app password on every request) "
            f"beside copyparty's WebDAV (plain files), curl as the client; {ROUNDS} interleaved rounds, "
            f"**median (min–max)**; the ratio is Locker's speed over copyparty's, taken round by round. "
            f"PROPFIND: the median of {PROPFINDS} per round, seconds for the whole 207 answer.",
            "",
            "| operation | unit | Locker | copyparty | ratio (Locker ÷ copyparty) | goal | |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Peak RSS: Locker's worker {peaks.get('Locker', float('nan')):.0f} MiB, copyparty "
            f"{peaks.get('copyparty', float('nan')):.0f} MiB. Seeding {FILES:,} files through the upload service "
            f"took {seed_seconds:.0f} s. Load average {load.before:.1f} before the rounds, {load.after:.1f} after; "
            f"other processes used {load.cores(load.others):.2f} cores on average meanwhile.",
        ]
    )
