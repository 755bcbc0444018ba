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
import os
import statistics
import tempfile
from pathlib import Path

from bench.processes import ROOT, Load, fetch, make_file, process_cpu_seconds
from bench.transfer_servers import (
    Bare,
    BaselineTree,
    Copyparty,
    Locker,
    copy_time,
    current_label,
    same_bytes,
    to_file,
)

SIZES = [int(s) for s in os.environ.get("BENCH_TRANSFER_SIZES_MIB", "100,1024").split(",")]
REPEAT = int(os.environ.get("BENCH_TRANSFER_REPEAT", "5"))  # interleaved rounds per size
BASELINE = os.environ.get("BENCH_BASELINE", "").strip()  # a git ref to time against the current checkout
SMALL = 64 * 1024  # the small file whose time to first byte shows the fixed cost of a request
SMALL_REQUESTS = int(os.environ.get("BENCH_TRANSFER_TTFB_REQUESTS", "5"))  # per server per round
GOAL_ROUNDS = 5
GOAL_BARE = 0.95  # Locker's download to /dev/null, over the bare decrypting server's
GOAL_SAVED = 1.0  # Locker's saved download, over copyparty's


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
        # CPU is counted in clock ticks: a small file can take none (then there is no ratio to give)
        over = [
            spread([a / b for a, b in zip(cpu["locker"], cpu[o], strict=True) if b], 2) for o in ("bare", "bare_bytes")
        ]
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
