"""Instance backup, verify and restore, and a user's personal export, beside tar and 7-Zip.

Seeds an instance (its own data dir under ``var/``, on the same disk as the project) with one user and
``BENCH_BACKUP_MB`` MiB (2048 by default) of random, incompressible files of ``BENCH_BACKUP_FILE_KIB`` KiB
(1024 by default) through the real upload service (encrypted blobs, fsynced, rows and index tokens), spread over
16 folders; the same plaintext files are kept in a plain directory with the same folders. A second instance with
a quarter of the data shows whether peak memory grows with the data.

Every command runs as its own process and is timed from start to exit; its peak RSS is the kernel's
``ru_maxrss`` for that one child (``wait4``). Over ``BENCH_BACKUP_ROUNDS`` rounds (3 by default), alternating
which side of each comparison goes first, every round does:

* ``manage.py backup OUT --no-progress`` vs ``tar -cf OUT -C <data dir> .`` (tar then fsyncs its archive, as
  the backup does; both figures are kept);
* ``manage.py backup_verify OUT --no-progress``;
* ``manage.py restore OUT --no-progress`` into a new empty data dir (it runs migrate itself) vs ``tar -xf`` into
  a new directory (then every extracted file and directory fsynced, as the restore does; both kept), and
  ``manage.py migrate`` alone into a new data dir, to show what of the restore is migrate;
* the personal export (``vault.export.archive.export_zip``: AES-256 zip, deflate level ``LEVEL``) of the same
  user, in a child process that unlocks the user's keys first and is timed from the export's first byte to its
  last, written to a file (its peak RSS is reset after the unlock: Argon2id takes 64 MiB by design) vs
  ``7zz a -tzip -mem=AES256 -mx=<the same level>`` of the plaintext directory (7-Zip's own threads, and
  ``-mmt=1``);
* backup, verify, restore and export of the quarter-size instance (their memory beside the full size's).

The first round checks the export with ``7zz t`` (the passphrase opens it, every member's CRC holds).
MB/s = 10^6 bytes per second: of the data dir (database and blobs: what tar archives) for backup, verify and
restore; of the plaintext files for the export and 7-Zip. Ratios are taken round by round (ours / the other's
speed in the same round) before their median.

``python -m bench.bench_backup seed|export ...`` are the child processes (run by ``run()``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.processes import ROOT, Load, fsync_time

SIZE_MIB = int(os.environ.get("BENCH_BACKUP_MB", "2048"))
FILE_KIB = int(os.environ.get("BENCH_BACKUP_FILE_KIB", "1024"))
ROUNDS = int(os.environ.get("BENCH_BACKUP_ROUNDS", "3"))
SMALL_DIVISOR = 4  # the second instance holds a quarter of the data
FOLDERS = 16
PIECE = 256 * 1024  # upload pieces while seeding
TIMEOUT = 1800  # seconds: a stuck command must not hang the run
USERNAME = "bench"
PASSWORD = "backup bench: a long passphrase 42"
PASSPHRASE = "export bench passphrase 42"
GOAL_BACKUP = 0.9  # backup's speed over tar's
GOAL_EXPORT = 1.0  # the export's speed over 7-Zip's
PY = sys.executable
MANAGE = [PY, str(ROOT / "manage.py")]


# --- the child processes -----------------------------------------------------------------------------------------


def child_env(data_dir: Path) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("LOCKER_BLOB_DIR", None)
    env.pop("LOCKER_BACKUP_HOLDS_DIR", None)
    env.update(
        DJANGO_SETTINGS_MODULE="locker.settings",
        LOCKER_DATA_DIR=str(data_dir),
        LOCKER_HTTPS=env.get("LOCKER_HTTPS", "0"),
        RATELIMIT_ENABLE="0",
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
    )
    return env


def _django(data_dir: str) -> None:
    os.environ.update(child_env(Path(data_dir)))
    import django

    django.setup()


def _unlock(user):
    from accounts import keys as account_keys
    from accounts.models import Keyring
    from locker.crypto.keys import unwrap_with_password
    from vault.keys import VaultKeys

    keyring = Keyring.objects.get(user=user)
    udk = unwrap_with_password(keyring.udk_by_password, PASSWORD, aad=account_keys.aad_password(user.pk))
    return VaultKeys(user.pk, udk)


def seed_child(data_dir: str, mib: int, file_kib: int, plain_dir: str) -> None:
    """One user and ``mib`` MiB of random files through the upload service; the same files under ``plain_dir``."""
    _django(data_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import MAX_STORAGE_QUOTA, User
    from accounts.services import user_register
    from vault.files.services import file_upload, folder_create
    from vault.transfers.uploads import upload_from_iterable

    user, _recovery = user_register(username=USERNAME, email=f"{USERNAME}@example.org", password=PASSWORD)
    User.objects.filter(pk=user.pk).update(storage_quota=MAX_STORAGE_QUOTA)
    user.refresh_from_db()
    keys = _unlock(user)
    names = [f"folder {n:02d}" for n in range(FOLDERS)]
    folders = [folder_create(user=user, keys=keys, name=name) for name in names]
    plain = Path(plain_dir)
    for name in names:
        (plain / name).mkdir(parents=True)
    size = file_kib * 1024
    for n in range(mib * 1024 // file_kib):
        data = os.urandom(size)
        name = f"file {n:05d}.bin"
        (plain / names[n % FOLDERS] / name).write_bytes(data)
        pieces = (data[i : i + PIECE] for i in range(0, len(data), PIECE))
        upload = upload_from_iterable(owner_id=user.pk, mac_key=keys.content_mac_key(), name=name, pieces=pieces)
        file_upload(user=user, keys=keys, upload=upload, folder_id=folders[n % FOLDERS].pk)


def export_child(data_dir: str, out: str) -> None:
    """The user's personal export written to ``out``; prints its seconds and peak RSS (after the unlock)."""
    _django(data_dir)
    from accounts.models import User
    from bench.processes import peak_rss_mib, reset_peak
    from vault.export.archive import export_zip

    user = User.objects.get(username=USERNAME)
    keys = _unlock(user)
    reset_peak(os.getpid())
    start = time.perf_counter()
    with open(out, "wb") as handle:
        for piece in export_zip(user=user, keys=keys, passphrase=PASSPHRASE):
            handle.write(piece)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mib(os.getpid())}))


# --- measuring ---------------------------------------------------------------------------------------------------


def measure(cmd: list[str], *, env=None, cwd=ROOT, output: list | None = None) -> tuple[float, float]:
    """Run ``cmd`` to its end: (wall seconds, that process's peak RSS in MiB); its standard output is appended
    to ``output`` when given. Raises on a failure."""
    os.sync()  # what the step before left to write back does not slow this one (outside the timing)
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        timer = threading.Timer(TIMEOUT, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err.read()[-2000:].decode()}")
        if output is not None:
            out.seek(0)
            output.append(out.read())
    return seconds, usage.ru_maxrss / 1024


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fsync_tree(path: Path) -> float:
    """fsync every file and directory under ``path`` (what a restore does for each blob): seconds."""
    start = time.perf_counter()
    for directory, _dirs, files in os.walk(path):
        for name in [*files, "."]:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return time.perf_counter() - start


def sevenzip() -> str | None:
    return shutil.which("7zz") or shutil.which("7z")


def export_available() -> bool:
    try:
        from vault.export.archive import export_zip  # noqa: F401
    except ImportError:
        return False
    return True


def export_level() -> int:
    try:
        from vault.export.archive import LEVEL
    except ImportError:
        return 1
    return LEVEL


class Instance:
    """A seeded data dir and its plaintext twin."""

    def __init__(self, work: Path, label: str, mib: int):
        self.label, self.mib = label, mib
        self.data = work / f"{label}-data"
        self.plain = work / f"{label}-plain"
        self.data.mkdir(mode=0o700)
        self.plain.mkdir()
        start = time.perf_counter()
        measure(
            [PY, "-m", "bench.bench_backup", "seed", str(self.data), str(mib), str(FILE_KIB), str(self.plain)],
            env=child_env(self.data),
        )
        self.seed_seconds = time.perf_counter() - start
        self.data_bytes = tree_bytes(self.data)
        self.plain_bytes = tree_bytes(self.plain)
        self.files = sum(1 for p in self.plain.rglob("*") if p.is_file())


def ours_first(round_number: int) -> bool:
    return round_number % 2 == 0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def one_round(r: int, work: Path, big: Instance, small: Instance, zipper: str | None, level: int, res: dict) -> None:
    def add(key: str, seconds: float, peak: float | None = None) -> None:
        res.setdefault(key, {"s": [], "rss": []})
        res[key]["s"].append(seconds)
        if peak is not None:
            res[key]["rss"].append(peak)

    def pair(first, second) -> None:
        for step in (first, second) if ours_first(r) else (second, first):
            step()

    for inst in (big, small):
        tag = inst.label
        archive = work / f"{tag}-{r}.locker.tar"

        def backup(inst=inst, tag=tag, archive=archive):
            add(f"{tag}:backup", *measure([*MANAGE, "backup", str(archive), "--no-progress"], env=child_env(inst.data)))

        def tar(inst=inst, tag=tag):
            out = work / f"{tag}-{r}.tar"
            seconds, peak = measure(["tar", "-cf", str(out), "-C", str(inst.data), "."])
            add(f"{tag}:tar", seconds, peak)
            add(f"{tag}:tar+fsync", seconds + fsync_time(out))

        if tag == "big":
            pair(backup, tar)
            # what every command pays before its first byte: Python, Django and the project's apps
            add("start", *measure([*MANAGE, "check"], env=child_env(inst.data)))
        else:
            backup()
        verify = [*MANAGE, "backup_verify", str(archive), "--no-progress"]
        add(f"{tag}:verify", *measure(verify, env=child_env(inst.data)))

        def restore(tag=tag, archive=archive):
            target = work / f"{tag}-{r}-restored"
            target.mkdir(mode=0o700)
            add(f"{tag}:restore", *measure([*MANAGE, "restore", str(archive), "--no-progress"], env=child_env(target)))
            shutil.rmtree(target)

        def untar(tag=tag):
            target = work / f"{tag}-{r}-untarred"
            target.mkdir()
            seconds, peak = measure(["tar", "-xf", str(work / f"{tag}-{r}.tar"), "-C", str(target)])
            add(f"{tag}:untar", seconds, peak)
            add(f"{tag}:untar+fsync", seconds + fsync_tree(target))
            shutil.rmtree(target)

        if tag == "big":
            pair(restore, untar)
        else:
            restore()
        if tag == "big":
            target = work / f"migrate-{r}"
            target.mkdir(mode=0o700)
            add("migrate", *measure([*MANAGE, "migrate", "-v", "0"], env=child_env(target)))
            shutil.rmtree(target)
            (work / f"{tag}-{r}.tar").unlink()
        archive.unlink()

        def export(inst=inst, tag=tag):
            if not export_available():
                return
            out = work / f"{tag}-{r}.export.zip"
            printed: list[bytes] = []
            cmd = [PY, "-m", "bench.bench_backup", "export", str(inst.data), str(out)]
            measure(cmd, env=child_env(inst.data), output=printed)
            figures = json.loads(printed[0].decode().strip().splitlines()[-1])
            add(f"{tag}:export", figures["seconds"], figures["peak_mib"])
            res.setdefault(f"{tag}:export_bytes", out.stat().st_size)
            if r == 0 and tag == "big" and zipper:  # the export opens in 7-Zip, with its passphrase, CRCs sound
                measure([zipper, "t", f"-p{PASSPHRASE}", str(out)])
                res["tested"] = True
            out.unlink()

        def seven(threads: str | None = None, tag=tag, inst=inst, mx: int = level):
            if not zipper:
                return
            out = work / f"{tag}-{r}.7z.zip"
            flags = ["-bd", "-bso0", "-tzip", "-mem=AES256", f"-mx={mx}", f"-p{PASSPHRASE}"]
            flags += [f"-mmt={threads}"] if threads else []
            seconds, peak = measure([zipper, "a", *flags, str(out), "."], cwd=inst.plain)
            key = f"{tag}:7z" + (f"-mmt{threads}" if threads else "") + ("-store" if mx == 0 else "")
            add(key, seconds, peak)
            res.setdefault(f"{tag}:7z_bytes", out.stat().st_size)
            out.unlink()

        def sevens():
            seven()
            seven("1")
            seven(mx=0)

        if tag == "big":
            pair(export, sevens)
        else:
            export()


# --- the section -------------------------------------------------------------------------------------------------


def run() -> str:
    zipper = sevenzip()
    level = export_level()
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=ROOT / "var"))
    try:
        print(f"seeding {SIZE_MIB} MiB and {SIZE_MIB // SMALL_DIVISOR} MiB in {work}", flush=True)
        big = Instance(work, "big", SIZE_MIB)
        small = Instance(work, "small", SIZE_MIB // SMALL_DIVISOR)
        print(f"seeded in {big.seed_seconds:.0f} s and {small.seed_seconds:.0f} s", flush=True)
        res: dict = {}
        load = Load()
        for r in range(ROUNDS):
            print(f"round {r + 1}/{ROUNDS}", flush=True)
            for attempt in (1, 2):
                # the project's migrations may change under a long run (a shared tree): the instances follow them,
                # outside the timings, and a round that failed on such a change is done again
                for inst in (big, small):
                    measure([*MANAGE, "migrate", "-v", "0"], env=child_env(inst.data))
                this_round: dict = {}
                try:
                    one_round(r, work, big, small, zipper, level, this_round)
                    break
                except RuntimeError as exc:
                    if attempt == 2:
                        raise
                    print(f"round {r + 1} failed, once more: {str(exc)[-300:]}", flush=True)
                    for leftover in work.glob(f"*-{r}*"):
                        if leftover.is_dir():
                            shutil.rmtree(leftover)
                        else:
                            leftover.unlink()
            for key, value in this_round.items():
                if isinstance(value, dict):
                    res.setdefault(key, {"s": [], "rss": []})
                    res[key]["s"] += value["s"]
                    res[key]["rss"] += value["rss"]
                else:
                    res.setdefault(key, value)
            print({k: [round(x, 1) for x in v["s"]] for k, v in res.items() if isinstance(v, dict)}, flush=True)
        load.stop()
        return section(big, small, res, load, zipper, level)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def section(big: Instance, small: Instance, res: dict, load: Load, zipper: str | None, level: int) -> str:
    def rate(key: str, nbytes: int) -> list[float]:
        return [nbytes / s / 1e6 for s in res.get(key, {}).get("s", [])]

    def mbs(key: str, nbytes: int) -> str:
        values = rate(key, nbytes)
        if not values:
            return "—"
        return f"{median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"

    def rss(key: str) -> str:
        values = res.get(key, {}).get("rss", [])
        return f"{max(values):,.0f}" if values else "—"

    def ratio(ours: str, theirs: str) -> float:
        a, b = res.get(ours, {}).get("s", []), res.get(theirs, {}).get("s", [])
        return median([t / o for o, t in zip(a, b, strict=True)]) if a and b else float("nan")

    def ratio_text(ours: str, theirs: str, goal: float | None = None) -> str:
        value = ratio(ours, theirs)
        if value != value:
            return "—"
        if goal is None:
            return f"{value:.2f}"
        return f"**{value:.2f}** ({'meets' if value >= goal else 'misses'} ≥ {goal:.1f})"

    gib = big.data_bytes / 2**30
    data_b, plain_b = big.data_bytes, big.plain_bytes
    zname = Path(zipper).name if zipper else "7z"
    export_cell = "not measured (export not available in this run)"
    rows = [
        f"| backup | {mbs('big:backup', data_b)} | {rss('big:backup')} | `tar -cf` + fsync of the archive "
        f"| {mbs('big:tar+fsync', data_b)} | {ratio_text('big:backup', 'big:tar+fsync', GOAL_BACKUP)} |",
        f"| backup | ″ | ″ | `tar -cf` alone | {mbs('big:tar', data_b)} "
        f"| {ratio_text('big:backup', 'big:tar', GOAL_BACKUP)} |",
        f"| backup_verify | {mbs('big:verify', data_b)} | {rss('big:verify')} | — | — | — |",
        f"| restore (with its migrate) | {mbs('big:restore', data_b)} | {rss('big:restore')} "
        f"| `tar -xf` + fsync of every file | {mbs('big:untar+fsync', data_b)} "
        f"| {ratio_text('big:restore', 'big:untar+fsync')} |",
        f"| restore (with its migrate) | ″ | ″ | `tar -xf` alone | {mbs('big:untar', data_b)} "
        f"| {ratio_text('big:restore', 'big:untar')} |",
    ]
    if "big:export" in res:
        rows += [
            f"| personal export (AES-256 zip, deflate {level}) | {mbs('big:export', plain_b)} | {rss('big:export')} "
            f"| `{zname} a -tzip -mem=AES256 -mx={level}` | {mbs('big:7z', plain_b)} "
            f"| {ratio_text('big:export', 'big:7z', GOAL_EXPORT)} |",
            f"| personal export | ″ | ″ | the same, `-mmt=1` | {mbs('big:7z-mmt1', plain_b)} "
            f"| {ratio_text('big:export', 'big:7z-mmt1')} |",
            f"| personal export | ″ | ″ | the same, stored (`-mx=0`) | {mbs('big:7z-store', plain_b)} "
            f"| {ratio_text('big:export', 'big:7z-store')} |",
        ]
    else:
        # TODO: when vault.export.archive.export_zip(user=, keys=, passphrase=) exists, export_child() times it.
        rows.append(
            f"| personal export | {export_cell} | — | `{zname} a -tzip -mem=AES256 -mx={level}` "
            f"| {mbs('big:7z', plain_b)} | — |"
        )
    s_data, s_plain = small.data_bytes, small.plain_bytes
    flat = [
        f"| {op} | {rss('small:' + key)} | {rss('big:' + key)} "
        f"| {mbs('small:' + key, s_plain if key == 'export' else s_data)} "
        f"| {mbs('big:' + key, plain_b if key == 'export' else data_b)} |"
        for op, key in (("backup", "backup"), ("backup_verify", "verify"), ("restore", "restore"), ("export", "export"))
        if f"big:{key}" in res
    ]
    migrate = median(res.get("migrate", {}).get("s", []))
    restore_s = median(res.get("big:restore", {}).get("s", []))
    sizes = (
        f"{big.files:,} files of {FILE_KIB:,} KiB ({plain_b / 2**30:.2f} GiB of plaintext; data dir "
        f"{gib:.2f} GiB of database and encrypted blobs)"
    )
    zips = ""
    if "big:export_bytes" in res and "big:7z_bytes" in res:
        zips = (
            f" The export's zip was {res['big:export_bytes'] / 2**30:.3f} GiB, 7-Zip's "
            f"{res['big:7z_bytes'] / 2**30:.3f} GiB"
            + (" (the export opens in 7-Zip with its passphrase: `7zz t` passed)." if res.get("tested") else ".")
        )
    return "\n".join(
        [
            "## Backup, verify, restore and personal export",
            "",
            f"One instance seeded through the upload service with {sizes}, random and incompressible, in "
            f"{FOLDERS} folders (seeding took {big.seed_seconds:,.0f} s), and the same plaintext files in a plain "
            "directory. Each command runs as its own process, timed from start to exit (Python and Django's start "
            "included), and its peak RSS is that process's own (`wait4`'s `ru_maxrss`). "
            f"{ROUNDS} rounds, alternating which side of each comparison goes first; **MB/s (10^6 bytes) median "
            "(min–max)**; a ratio is ours over the other's speed, taken round by round before its median. "
            "Backup, verify and restore count the data dir's bytes (SQLite and blobs: what tar archives); the export "
            "and 7-Zip count the plaintext's. The backup fsyncs its archive and the restore every blob (and its "
            "directory), so tar is shown with the same fsyncs and without (the backup asks the kernel to start "
            "writing its archive back every 16 MiB, `sync_file_range`, so its closing fsync has little left). "
            "The restore runs `migrate` into the empty "
            f"instance first: `migrate` alone took {migrate:.1f} s of its {restore_s:.1f} s (median). The export is "
            "`vault.export.archive.export_zip` in a child process that has unlocked the user's keys, timed from its "
            "first byte to its last written to a file (its peak RSS counted from there: the unlock's Argon2id takes "
            "64 MiB by design); what `POST /api/v1/me/export` streams. Compression asked for on both sides: deflate "
            f"level {level} (`-mx={level}`), AES-256 (WinZip AE-2). The export deflates a member only when its first "
            "64 KiB compress and stores it otherwise (here every member is random, so stored; a first read gives its "
            "CRC-32); 7-Zip deflates every member (with its own threads, "
            f"{os.cpu_count()} cores here, and, second row, one); the third row is 7-Zip storing every member "
            "(`-mx=0`), the same work as the export on this data. Every command's figure includes its process's "
            f"start: `manage.py check` alone took {median(res.get('start', {}).get('s', [])):.2f} s (median)." + zips,
            "",
            f"Data and archives on the same disk as the project; with {_ram_gib():.0f} GiB of RAM the "
            f"{gib:.1f} GiB stays in the page cache, so reads are from memory and the fsyncs are what reaches the "
            "disk; every command starts after a `sync` (outside its timing), so that the previous step's writeback "
            f"does not slow it. Load average {load.before:.2f} → {load.after:.2f}; other processes used "
            f"{load.cores(load.others):.2f} cores on average meanwhile.",
            "",
            "Reproduce: `make bench BENCH=backup` (`BENCH_BACKUP_MB=2048`, `BENCH_BACKUP_FILE_KIB=1024`, "
            f"`BENCH_BACKUP_ROUNDS=3` by default; {SIZE_MIB:,} MiB, {FILE_KIB:,} KiB, {ROUNDS} rounds here).",
            "",
            f"Goals: backup at least {GOAL_BACKUP:.1f}x tar, export at least {GOAL_EXPORT:.1f}x 7-Zip.",
            "",
            "| operation | MB/s median (min–max) | peak RSS MiB | peer | peer MB/s | ratio (ours ÷ peer) |",
            "|---|---:|---:|---|---:|---:|",
            *rows,
            "",
            f"Peak RSS against the data's size (MiB, the highest over the rounds): {small.plain_bytes / 2**30:.2f} GiB "
            f"({small.files:,} files) beside {plain_b / 2**30:.2f} GiB ({big.files:,} files):",
            "",
            f"| operation | RSS, {small.mib:,} MiB | RSS, {big.mib:,} MiB | MB/s, {small.mib:,} MiB "
            f"| MB/s, {big.mib:,} MiB |",
            "|---|---:|---:|---:|---:|",
            *flat,
        ]
    )


def _ram_gib() -> float:
    try:
        return int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        return float("nan")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "seed":
        seed_child(args[0], int(args[1]), int(args[2]), args[3])
    elif command == "export":
        export_child(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
