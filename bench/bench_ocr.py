"""Text recognition: scanned pages per minute and the worker's peak memory, Locker's job against bare ``tesseract``.

50 pages (A4 at 150 dpi, 1240 x 1754 grey pixels, 30 lines of DejaVu text with light noise, as a sheet fed through
a scanner comes out) are uploaded as PNG through the API with the job pool stopped, so that their jobs wait. Then,
timed: Locker's pool (``LOCKER_OCR_WORKERS`` threads, default 1) runs the 50 jobs, each decrypting its page,
streaming it to a fresh sandboxed worker process that runs Tesseract, and storing the sealed words and the blind
index; against ``tesseract page.png stdout -l eng --psm 3`` run on the same 50 files one after the other (the same
Tesseract, with ``OMP_THREAD_LIMIT=1`` as the worker sets it). Rounds alternate their order. Memory: the peak of the
summed resident memory of this process's children (the worker and its Tesseract), sampled every 20 ms.

Also, so that the cost of the job's isolation is visible: the requests of another user (a listing) timed while the
jobs run, against the same requests on an idle server.

Reproduce: ``make bench BENCH=ocr`` (``BENCH_OCR_PAGES=50``, ``BENCH_OCR_ROUNDS=3``).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

PAGES = int(os.environ.get("BENCH_OCR_PAGES", "50"))
ROUNDS = int(os.environ.get("BENCH_OCR_ROUNDS", "3"))
FONTS = Path("/usr/share/fonts/truetype/dejavu")
WORDS = [
    "account",
    "amount",
    "balance",
    "bank",
    "charge",
    "copy",
    "date",
    "due",
    "invoice",
    "item",
    "letter",
    "month",
    "number",
    "order",
    "paid",
    "payment",
    "period",
    "receipt",
    "reference",
    "service",
    "statement",
    "tax",
    "total",
    "value",
    "year",
    "address",
    "customer",
    "description",
    "quantity",
    "price",
]


def page(rng: random.Random) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    width, height = 1240, 1754
    image = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(FONTS / rng.choice(["DejaVuSans.ttf", "DejaVuSerif.ttf"])), 26)
    for row in range(30):
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9)))
        draw.text((90, 110 + row * 52), f"{line} {rng.randint(1, 9999)}", fill=20, font=face)
    pixels = image.load()
    for _ in range(width * height // 200):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class TreeMemory:
    """The peak of the summed RSS of this process's descendants, sampled in a thread."""

    def __init__(self):
        self.peak = 0.0
        self.at_peak: list = []
        self._own_command = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        from bench.processes import children, rss_mib

        while not self._stop.wait(0.02):
            total, todo, seen = 0.0, self._children_of_every_thread(), []
            while todo:
                pid = todo.pop()
                try:
                    if Path(f"/proc/{pid}/cmdline").read_bytes() == self._own_command:
                        continue  # forked and not yet exec'd: a copy of this process, not a worker
                    rss = rss_mib(pid)
                    seen.append((Path(f"/proc/{pid}/comm").read_text().strip(), round(rss)))
                except (OSError, ValueError):
                    continue
                total += rss
                todo.extend(children(pid))
            if total > self.peak:
                self.peak, self.at_peak = total, seen

    @staticmethod
    def _children_of_every_thread() -> list[int]:
        """The children of this process, whichever of its threads started them (the pool's threads start the
        workers: ``/proc/PID/task/TID/children`` lists a thread's own)."""
        found = []
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:
                found.extend(int(pid) for pid in (task / "children").read_text().split())
            except OSError:
                continue
        return found

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def bare(paths: list[Path]) -> tuple[float, float, list]:
    """Seconds, peak MiB and what made the peak for bare tesseract over ``paths``, one after the other."""
    binary = shutil.which("tesseract")
    env = {"PATH": os.environ.get("PATH", ""), "OMP_THREAD_LIMIT": "1"}
    with TreeMemory() as memory:
        start = time.perf_counter()
        for path in paths:
            subprocess.run(  # noqa: S603 - a fixed program
                [binary, str(path), "stdout", "-l", "eng", "--psm", "3"],
                check=True,
                capture_output=True,
                env=env,
            )
        elapsed = time.perf_counter() - start
    return elapsed, memory.peak, memory.at_peak


def locker(user, keys, client_other=None, expect: int = PAGES) -> tuple[float, float, list[float]]:
    """Seconds and peak MiB for the pool running every pending job of ``user``; with ``client_other``, that user's
    listing times (ms) while it runs (a phase of its own: the listings' CPU is not charged to the timed rounds)."""
    from django.conf import settings

    from vault.derived import ocr
    from vault.models import Derived

    Derived.objects.filter(version__file__owner=user).exclude(ocr_state="").update(
        ocr_state="pending", ocr_claimed_at=None
    )
    busy = []
    with TreeMemory() as memory:
        start = time.perf_counter()
        settings.LOCKER_OCR_WORKERS = int(os.environ.get("LOCKER_OCR_WORKERS", "1"))
        ocr.queue_unread(user, keys)
        while ocr.queued_here():
            if client_other is None:
                ocr.wait_idle(3600)
                break
            busy.append(timed(client_other))
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
    settings.LOCKER_OCR_WORKERS = 0
    print(f"  at the peak: {memory.at_peak}", flush=True)
    done = Derived.objects.filter(version__file__owner=user, ocr_state="done").count()
    assert done == expect, f"{done} of {expect} pages read"
    return elapsed, memory.peak, busy


def hostile(client_other) -> tuple[list[float], int]:
    """Another user uploads 20 hostile images (20,000 x 20,000 pixel PNGs of a few KB, truncated PNGs), whose jobs
    then run while that user's listings are timed: ``(listing ms, jobs failed)``."""
    import io

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from accounts.models import User
    from vault.derived import ocr
    from vault.models import Derived

    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(bomb, "PNG")
    truncated = page(random.Random(1))[:2000]
    settings.LOCKER_OCR_WORKERS = 0
    for number in range(20):
        data = bomb.getvalue() if number % 2 else truncated
        upload = SimpleUploadedFile(f"hostile-{number}.png", data)
        assert client_other.post("/api/v1/files/", {"file": upload}, format="multipart").status_code == 201
    user = User.objects.get(username="neighbour")
    _seconds, _peak, busy = locker(user, keys_of(user), client_other, expect=0)
    return busy, Derived.objects.filter(version__file__owner=user, ocr_state=ocr.FAILED).count()


def keys_of(user):
    """The vault keys of an account the benchmark made (its password is the factories' default)."""
    from accounts.keys import aad_password
    from accounts.models import Keyring
    from locker.crypto.keys import unwrap_with_password
    from tests.factories import DEFAULT_PASSWORD
    from vault.keys import VaultKeys

    wrapped = Keyring.objects.get(user=user).udk_by_password
    return VaultKeys(user.pk, unwrap_with_password(wrapped, DEFAULT_PASSWORD, aad=aad_password(user.pk)))


def timed(client) -> float:
    start = time.perf_counter()
    response = client.get("/api/v1/files/", {"all": "1"})
    assert response.status_code == 200
    return (time.perf_counter() - start) * 1000


def run() -> str:
    from django.conf import settings
    from rest_framework.test import APIClient

    from bench.bench_search import percentile
    from tests.factories import make_account
    from vault.derived import ocr

    if not shutil.which("tesseract"):
        return "## Text recognition\n\nNot measured: Tesseract is not installed (Debian: `tesseract-ocr`)."
    rng = random.Random(22)
    settings.LOCKER_OCR_WORKERS = 0  # uploads leave their jobs pending
    account, other = make_account("scanner"), make_account("neighbour")
    client, client_other = APIClient(), APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    client_other.credentials(HTTP_AUTHORIZATION=f"Bearer {other.login(client_other)['access']}")
    from django.core.files.uploadedfile import SimpleUploadedFile

    with tempfile.TemporaryDirectory(prefix="locker-ocr-") as folder:
        paths = []
        for number in range(PAGES):
            data = page(rng)
            path = Path(folder) / f"page-{number:02}.png"
            path.write_bytes(data)
            paths.append(path)
            response = client.post("/api/v1/files/", {"file": SimpleUploadedFile(path.name, data)}, format="multipart")
            assert response.status_code == 201, response.content[:300]
        for number in range(20):
            upload = SimpleUploadedFile(f"note-{number}.txt", b"a small file")
            client_other.post("/api/v1/files/", {"file": upload}, format="multipart")
        keys = keys_of(account.user)
        sizes = sorted(path.stat().st_size for path in paths)
        idle = [timed(client_other) for _ in range(30)]
        results = {"locker": [], "bare": []}
        ratios = []
        for round_number in range(ROUNDS):
            order = ["locker", "bare"] if round_number % 2 == 0 else ["bare", "locker"]
            measured = {}
            for which in order:
                if which == "bare":
                    measured[which] = bare(paths)
                else:
                    seconds, peak, _busy = locker(account.user, keys)
                    measured[which] = (seconds, peak, "")
                results[which].append(measured[which])
                print(f"round {round_number + 1} {which}: {PAGES / measured[which][0] * 60:.1f} pages/min, "
                      f"peak {measured[which][1]:.0f} MiB {measured[which][2]}", flush=True)  # fmt: skip
            ratios.append(measured["bare"][0] / measured["locker"][0])
        _seconds, _peak, busy_all = locker(account.user, keys, client_other)
        idle_after = [timed(client_other) for _ in range(30)]
        hostile_busy, hostile_failed = hostile(client_other)
    words = ocr.user_summary(account.user)

    def rate(which):
        values = [PAGES / seconds * 60 for seconds, _peak, _at in results[which]]
        return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"

    def peak(which):
        values = [p for _seconds, p, _at in results[which]]
        return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"

    ratio = statistics.median(ratios)
    verdict = "**pass**" if ratio >= 0.9 else "**miss**"
    idle_all = idle + idle_after
    return "\n".join(
        [
            "## Text recognition (OCR): Locker's job against bare Tesseract",
            "",
            f"Target: at least 0.9x bare `tesseract`'s pages per minute: {verdict} ({ratio:.2f}x, median of the rounds'"
            f" ratios {', '.join(f'{r:.2f}' for r in ratios)}).",
            "",
            f"{PAGES} scanned pages (A4 at 150 dpi, 1240 x 1754 grey, 30 lines of text with light noise; PNG of "
            f"{sizes[len(sizes) // 2] // 1024} KiB median), {ROUNDS} rounds in alternating order. Locker: the jobs of"
            f" the {PAGES} uploaded pages run by the pool ({os.environ.get('LOCKER_OCR_WORKERS', '1')} thread: decrypt,"
            " a sandboxed worker process a page, Tesseract, sealed words and blind index stored). Bare: "
            "`tesseract page.png stdout -l eng --psm 3` on the same files, one after the other, `OMP_THREAD_LIMIT=1`"
            " as in the worker. Memory: the peak of the summed resident memory of the worker process and its "
            "Tesseract (bare: of Tesseract), sampled every 20 ms.",
            "",
            "Reproduce: `make bench BENCH=ocr` (`BENCH_OCR_PAGES`, `BENCH_OCR_ROUNDS`).",
            "",
            "| | pages/min, median (min-max) | peak worker RSS, MiB |",
            "|---|---:|---:|",
            f"| Locker (job pool) | {rate('locker')} | {peak('locker')} |",
            f"| bare `tesseract` | {rate('bare')} | {peak('bare')} |",
            "",
            f"Another user's file listing (every 0.2 s, in a run of the {PAGES} jobs after the timed rounds) while the"
            f" jobs ran: p50 {statistics.median(busy_all):.1f} ms, p95 "
            f"{percentile(busy_all, 0.95):.1f} ms ({len(busy_all)} requests); on the idle server: p50 "
            f"{statistics.median(idle_all):.1f} ms, p95 {percentile(idle_all, 0.95):.1f} ms. States at the end: "
            f"{words['done']} done, {words['failed']} failed.",
            "",
            f"20 hostile images of that other user (20,000 x 20,000 pixel PNGs of a few KB, truncated PNGs): "
            f"{hostile_failed} of 20 jobs failed with their reason; that user's listing while they ran: p50 "
            f"{statistics.median(hostile_busy):.1f} ms, p95 {percentile(hostile_busy, 0.95):.1f} ms "
            f"({len(hostile_busy)} requests).",
        ]
    )
