"""Real-browser fixtures: Debian's Chromium driven by Playwright (sync API) against ``live_server``.

* ``browser``: one headless Chromium for the whole session. Its path comes from
  ``LOCKER_CHROMIUM`` (default ``/usr/bin/chromium``); the tests are skipped,
  not failed, when that file does not exist. Playwright never downloads a browser.
* ``media_browser`` / ``media_page``: the same with a fake microphone allowed without asking
  (``MEDIA_ARGS``), for recording with getUserMedia + MediaRecorder.
* ``page``: a fresh browser context (cookies, storage) per test, viewport
  1280x800. Console errors (CSP violations included) and uncaught page errors
  are collected in ``page.console_errors`` / ``page.page_errors``; ``page.problems()``
  returns both so a test can ``assert not page.problems()`` (``expected_statuses=(400,)``
  forgives the console line Chromium logs for a page answered 400 on purpose). On failure a
  full-page screenshot is saved under ``test-results/browser/``.
* ``screenshot``: ``screenshot(page, "name")`` saves full-page PNGs (desktop
  and phone width) under ``test-results/browser/`` for a human to look at.
* ``axe_source``: the source of axe-core (``AXE_VERSION``), installed from the npm registry on first use into
  ``~/.cache/locker-tests/axe`` (``LOCKER_AXE_CACHE``), never committed; ``tests/browser/axe.py`` runs it.
* ``ARTIFACTS_DIR``: ``test-artifacts/screenshots/`` (git-ignored), screenshots kept as CI artefacts.
* ``live_streams`` (every test): each signed-in page holds a live notification
  stream (``static/js/live.js``), which Django's test server serves from a request
  thread; it ends after 3 s, and the test waits until none is left open. The value
  is a list with one entry per stream open at the moment.

Every test in this folder is marked ``browser``, and uses ``live_server``, a real
HTTP server in a thread, hence ``transactional_db``.
"""

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API keeps an asyncio event loop running in the main thread;
# Django would then refuse ORM calls from that thread (SynchronousOnlyOperation),
# including pytest-django's own database setup and teardown. The documented
# workaround for Playwright + Django tests. Set at import: the loop lives for
# the whole session, so tests collected after these need it as well.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LOCKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium's fake capture devices (a tone for the microphone) and no permission prompt: ``media_browser``.
MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results" / "browser"
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE_VERSION = "4.10.3"
AXE_CACHE = Path(os.environ.get("LOCKER_AXE_CACHE", Path.home() / ".cache" / "locker-tests" / "axe"))
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Lets the ``page`` fixture know, at teardown, whether the test failed.
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _every_test_waits_for_its_streams(live_streams):
    """Every browser test counts its live streams and waits for them to end (``tests.conftest.live_streams``)."""
    return live_streams


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, from the npm registry into a cache outside the repository (installed once a
    machine, pinned to ``AXE_VERSION``); skipped, not failed, where npm is missing and nothing is cached."""
    bundle = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    package = AXE_CACHE / "node_modules" / "axe-core" / "package.json"

    def installed() -> bool:
        return bundle.is_file() and f'"version": "{AXE_VERSION}"' in package.read_text(encoding="utf-8")

    if installed():
        return bundle.read_text(encoding="utf-8")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not found: axe-core cannot be installed")
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    with open(AXE_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test processes running at once install it once
        if installed():
            return bundle.read_text(encoding="utf-8")
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(AXE_CACHE),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return bundle.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the session (the sync API cannot be started twice at once)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (set LOCKER_CHROMIUM to its path)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def media_browser(playwright_session):
    """A second Chromium with a fake microphone (a beeping tone) that is allowed without asking,
    for getUserMedia + MediaRecorder; launched only by tests that use ``media_page``."""
    browser = playwright_session.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    browser.close()


@pytest.fixture
def page(request, browser, live_server, transactional_db):
    yield from _instrumented_page(request, browser)


@pytest.fixture
def media_page(request, media_browser, live_server, transactional_db):
    """Like ``page``, in ``media_browser`` (fake microphone, permission granted)."""
    yield from _instrumented_page(request, media_browser)


def _instrumented_page(request, browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.console_errors = []  # (text, url)
    page.page_errors = []
    page.documents = []  # (url, status) of every page (document) response
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append((msg.text, msg.location["url"])))
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
    page.on(
        "response",
        lambda response: (
            response.request.resource_type == "document" and page.documents.append((response.url, response.status))
        ),
    )

    def problems(expected_statuses=()):
        """Console and page errors, minus Chromium's "Failed to load resource" line for the
        pages (documents, not subresources) answered with one of ``expected_statuses``,
        e.g. a form re-rendered with its errors and status 400."""
        expected = {(url, status) for url, status in page.documents if status in expected_statuses}
        found = []
        for text, url in page.console_errors:
            status = re.search(r"Failed to load resource: the server responded with a status of (\d+)", text)
            if status and (url, int(status.group(1))) in expected:
                continue
            found.append(f"{text} ({url})")
        return found + page.page_errors

    page.problems = problems
    yield page
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        with contextlib.suppress(Exception):  # a broken page must not hide the real failure
            page.screenshot(path=RESULTS_DIR / f"FAILED-{name}.png", full_page=True)
    context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: full-page PNGs in ``test-results/browser/`` for a human to look at.

    One per size in ``sizes`` (``desktop`` 1280x800, ``phone`` 390x844), named
    ``<name>-<size>.png``; the viewport is restored afterwards. Returns the paths.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, sizes=("desktop", "phone")) -> list[Path]:
        original = page.viewport_size
        paths = []
        for size in sizes:
            page.set_viewport_size(VIEWPORTS[size])
            path = RESULTS_DIR / f"{name}-{size}.png"
            page.screenshot(path=path, full_page=True)
            paths.append(path)
        page.set_viewport_size(original)
        return paths

    return take
