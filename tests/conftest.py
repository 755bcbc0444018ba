"""Shared fixtures: a real SQLite file (or PostgreSQL via DATABASE_URL), real services.

Settings come from ``tests/settings.py`` (production code paths, cheaper Argon2).
"""

import threading
import time
import uuid

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from rest_framework.test import APIClient

from activity import streams
from tests.factories import make_account


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After a test's body, before its fixtures are torn down (the database flushed): let the text recognition
    jobs it started finish, so that none runs into the next test."""
    yield
    from vault.derived import ocr

    if ocr.queued_here() and not ocr.wait_idle(120):
        pytest.fail("text recognition jobs were still running two minutes after the test")


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()  # rate-limit counters start from zero in every test
    yield
    cache.clear()


_served = {"open": 0}
_served_lock = threading.Lock()


def _count_served(delta):
    def receiver(**kwargs):
        if threading.current_thread() is not threading.main_thread():  # a live_server request, not the test client
            with _served_lock:
                _served["open"] += delta

    return receiver


# connected after Django's own receivers: a request counts as done once its database connection is handed back
request_started.connect(_count_served(+1), weak=False, dispatch_uid="tests-served-started")
request_finished.connect(_count_served(-1), weak=False, dispatch_uid="tests-served-finished")


@pytest.fixture(autouse=True)
def _live_server_done(request):
    """A test that talks to ``live_server`` may end while the server still finishes a request after its last byte
    went out (an activity record, the connection handed back); the database is emptied for the next test only once
    every such request is done (on PostgreSQL the emptying and a late row lock otherwise deadlock)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so torn down after this waits
    yield
    deadline = time.monotonic() + 15
    while _served["open"] > 0 and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def account(db):
    return make_account("alice")


@pytest.fixture
def other_account(db):
    return make_account("bob")


@pytest.fixture
def user(account):
    return account.user


@pytest.fixture
def other_user(other_account):
    return other_account.user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def auth_client(account):
    """An API client logged in as ``account`` with a Bearer token (vault unlocked)."""
    client = APIClient()
    tokens = account.login(client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    """Encrypted blobs of every test go to its own directory (the vault storage is a settings entry)."""
    path = tmp_path / "blobs"
    settings.LOCKER_BACKUP_HOLDS_DIR = tmp_path / "backup-holds"
    settings.LOCKER_UPLOAD_DIR = tmp_path / "uploads"
    if settings.LOCKER_BLOB_STORAGE == "s3":  # the object-store run (.ci/run): each test under its own prefix
        vault = settings.STORAGES["vault"]
        prefix = f"tests/{uuid.uuid4().hex}"
        settings.STORAGES = {
            **settings.STORAGES,
            "vault": {**vault, "OPTIONS": {**vault["OPTIONS"], "location": prefix}},
        }
        from django.core.files.storage import storages

        from tests.blobstore import ObjectPath

        return ObjectPath(storages["vault"], prefix, tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(path)}},
    }
    return path


@pytest.fixture
def live_streams(settings, monkeypatch):
    """A live notification stream (a signed-in page's, ``locker watch``'s), which ``live_server`` serves from a request
    thread (``activity.streams``) holding a database connection. Here a stream ends after 3 s (the page's
    EventSource reconnects by itself), sends a heartbeat when quiet so that a closed page is noticed at once,
    and after the test (its pages closed) the test waits for every stream to end: none may still read the
    database while it is emptied for the next test, or dropped at the end."""
    settings.LOCKER_STREAM_SECONDS = 3
    settings.LOCKER_STREAM_POLL = 0.1
    settings.LOCKER_STREAM_HEARTBEAT = 0.2
    open_streams = []
    lock = threading.Lock()
    served = streams.notification_events

    def counted(**kwargs):
        with lock:
            open_streams.append(1)
        try:
            yield from served(**kwargs)
        finally:
            with lock:
                open_streams.pop()

    monkeypatch.setattr(streams, "notification_events", counted)
    yield open_streams
    deadline = time.monotonic() + settings.LOCKER_STREAM_SECONDS + 2
    while open_streams and time.monotonic() < deadline:
        time.sleep(0.05)
