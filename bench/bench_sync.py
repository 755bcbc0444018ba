"""Sync: ``locker sync`` beside ``rclone bisync`` (over Locker's WebDAV), against the same Locker server.

Locker runs as deployed (gunicorn, ``bench.transfer_servers.start_locker``) with one account and two app passwords
(one for the CLI, one for rclone). Two local trees are made: ``BENCH_SYNC_SMALL`` (1,000) and ``BENCH_SYNC_LARGE``
(10,000) files of 1 KiB in 20 folders. Over ``BENCH_SYNC_ROUNDS`` (3) rounds, alternating which tool goes first,
each tool, for each tree, into a new remote folder of its own:

* first sync: everything goes up (``locker sync DIR /remote``; ``rclone bisync DIR locker:/remote --resync``);
* no-change resync: the same command again, nothing to do, ``BENCH_SYNC_REPEATS`` (3) times: the first of them
  on its own row (Locker's reads the first sync's own changes back from the change feed), the round's figure the
  median of the others;
* one changed file: one file of the tree rewritten, then the command again (rclone: without ``--resync``).

Every figure is a whole command (a new process each time: the CLI's start, or rclone's), median (min–max) over the
rounds; a ratio is rclone's time over Locker's in the same round, then its median. rclone 1.60 from Debian (WebDAV,
vendor ``owncloud``, which sends ``X-OC-Mtime``: bisync needs times it can set; the app password obscured with
``rclone obscure``; ``--checkers 8 --transfers 4``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import COMMAND_TIMEOUT, ROOT, Load
from bench.transfer_servers import ACCOUNT_SETUP, locker_env, start_locker

SMALL = int(os.environ.get("BENCH_SYNC_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_SYNC_LARGE", "10000"))
ROUNDS = int(os.environ.get("BENCH_SYNC_ROUNDS", "3"))
REPEATS = int(os.environ.get("BENCH_SYNC_REPEATS", "3"))
FOLDERS = 20
USERNAME = "benchsync"
GOALS = "no-change resync of 10,000 files under 1 s, and at least 3x faster than rclone bisync's"

SETUP = (
    ACCOUNT_SETUP
    + """
_row, cli = app_password_create(user=user, udk=keys.udk, name="cli")
_row, rclone = app_password_create(user=user, udk=keys.udk, name="rclone")
print(json.dumps({"cli": cli, "rclone": rclone}))
"""
)


def make_tree(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"folder {i % FOLDERS:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file {i:05d}.txt").write_bytes(f"file {i}\n".encode() * 100)


def timed(command: list[str], env: dict, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT * 4)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr[-2000:]}")
    return seconds


class Tools:
    def __init__(self, work: Path):
        self.data = work / "locker-data"
        self.data.mkdir()
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, USERNAME],
            cwd=ROOT,
            env=locker_env(self.data),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if setup.returncode:
            raise RuntimeError(setup.stderr[-3000:])
        passwords = json.loads(setup.stdout.strip().splitlines()[-1])
        self.server, self.base = start_locker(ROOT, self.data)
        # the CLI, signed in with its own config directory (its credentials in a file: no keyring here)
        self.cli_env = {**os.environ, "LOCKER_CONFIG_DIR": str(work / "cli-config"), "LOCKER_KEYRING": "0"}
        self.cli_env.pop("DJANGO_SETTINGS_MODULE", None)
        self.cli = [str(ROOT / ".venv" / "bin" / "locker")]
        config = Path(self.cli_env["LOCKER_CONFIG_DIR"])
        config.mkdir(mode=0o700)
        (config / "config.json").write_text(
            json.dumps({"server": self.base, "username": USERNAME, "app_password_id": "-", "secret_in": "file"})
        )
        (config / "credentials").write_text(json.dumps({"password": passwords["cli"]}))
        obscured = subprocess.run(["rclone", "obscure", passwords["rclone"]], capture_output=True, text=True).stdout
        self.rclone_env = {
            **os.environ,
            "RCLONE_CONFIG": str(work / "rclone.conf"),
            "RCLONE_CONFIG_LOCKER_TYPE": "webdav",
            "RCLONE_CONFIG_LOCKER_URL": f"{self.base}/dav/",
            "RCLONE_CONFIG_LOCKER_VENDOR": "owncloud",  # X-OC-Mtime: bisync needs times it can set
            "RCLONE_CONFIG_LOCKER_USER": USERNAME,
            "RCLONE_CONFIG_LOCKER_PASS": obscured.strip(),
            "XDG_CACHE_HOME": str(work / "rclone-cache"),
        }
        (work / "rclone.conf").write_text("")

    def locker(self, local: Path, remote: str) -> float:
        return timed([*self.cli, "sync", str(local), remote], self.cli_env)

    def rclone(self, local: Path, remote: str, *, first: bool) -> float:
        command = ["rclone", "bisync", str(local), f"locker:{remote}", "--checkers", "8", "--transfers", "4"]
        if first:
            subprocess.run(
                ["rclone", "mkdir", f"locker:{remote}"], env=self.rclone_env, check=True, capture_output=True
            )
            command.append("--resync")
        return timed(command, self.rclone_env)

    def stop(self) -> None:
        self.server.stop()


def one_round(round_: int, tools: Tools, trees: dict[int, Path], work: Path, results: dict) -> None:
    order = ["Locker", "rclone"] if round_ % 2 == 0 else ["rclone", "Locker"]
    for count, source in trees.items():
        for tool in order:
            local = work / f"{tool}-{count}-{round_}"
            shutil.copytree(source, local)
            remote = f"/bench {tool} {count} {round_}"
            if tool == "Locker":
                first = tools.locker(local, remote)
                again = [tools.locker(local, remote) for _ in range(REPEATS)]
            else:
                first = tools.rclone(local, remote, first=True)
                again = [tools.rclone(local, remote, first=False) for _ in range(REPEATS)]
            changed = local / "folder 07" / f"file {7:05d}.txt"
            changed.write_bytes(b"changed " * 200)
            one = tools.locker(local, remote) if tool == "Locker" else tools.rclone(local, remote, first=False)
            results.setdefault((tool, count, "first"), []).append(first)
            results.setdefault((tool, count, "after"), []).append(again[0])
            results.setdefault((tool, count, "again"), []).append(statistics.median(again[1:] or again))
            results.setdefault((tool, count, "one"), []).append(one)
            shutil.rmtree(local)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.2f} ({min(values):,.2f}–{max(values):,.2f})"


def run() -> str:
    if shutil.which("rclone") is None:
        raise RuntimeError("rclone is not installed (apt-get install rclone)")
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-", dir=ROOT / "var"))
    results: dict = {}
    try:
        trees = {}
        for count in (SMALL, LARGE):
            trees[count] = work / f"tree-{count}"
            make_tree(trees[count], count)
        with contextlib.ExitStack() as stack:
            tools = Tools(work)
            stack.callback(tools.stop)
            load = Load()
            for round_ in range(ROUNDS):
                one_round(round_, tools, trees, work, results)
                print(
                    f"round {round_ + 1}/{ROUNDS}: " + "; ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()),
                    flush=True,
                )
            load.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(results, load)


def report(results: dict, load: Load) -> str:
    rows = []
    labels = {
        "first": "first sync",
        "after": "the next sync, nothing changed (Locker reads the first sync's own changes from the feed)",
        "again": "no-change resync",
        "one": "one file changed",
    }
    for count in (SMALL, LARGE):
        for op, label in labels.items():
            ours, theirs = results[("Locker", count, op)], results[("rclone", count, op)]
            ratio = [t / o for o, t in zip(ours, theirs, strict=True)]
            rows.append(f"| {label}, {count:,} files | {spread(ours)} | {spread(theirs)} | {spread(ratio)} |")
    resync = results[("Locker", LARGE, "again")]
    ratio = statistics.median(t / o for o, t in zip(resync, results[("rclone", LARGE, "again")], strict=True))
    verdict = (
        f"No-change resync of {LARGE:,} files: {statistics.median(resync):.2f} s "
        f"({'meets' if statistics.median(resync) < 1 else 'misses'} < 1 s), {ratio:.1f}x rclone bisync "
        f"({'meets' if ratio >= 3 else 'misses'} ≥ 3x)."
    )
    return "\n".join(
        [
            "## Sync (`bench/bench_sync.py`)",
            "",
            f"`locker sync` beside `rclone bisync` over Locker's WebDAV, the same server (gunicorn), trees of 1 KiB "
            f"files in {FOLDERS} folders; {ROUNDS} rounds alternating which tool goes first, each run a new process; "
            f"seconds, **median (min–max)**; the ratio is rclone's time over Locker's, round by round. A no-change "
            f"resync is the median of {REPEATS - 1} runs in each round, after the first one. Goal: {GOALS}.",
            "",
            "| operation | Locker s | rclone bisync s | ratio (rclone ÷ Locker) |",
            "|---|---|---|---|",
            *rows,
            "",
            verdict,
            "",
            f"Load average {load.before:.1f} before the rounds, {load.after:.1f} after; other processes used "
            f"{load.cores(load.others):.2f} cores on average meanwhile. Reproduce: `make bench BENCH=sync` "
            f"(`BENCH_SYNC_SMALL={SMALL}`, `BENCH_SYNC_LARGE={LARGE}`, `BENCH_SYNC_ROUNDS={ROUNDS}`).",
        ]
    )
