"""The embedded database: SQLite in WAL mode, IMMEDIATE transactions, writers queue instead of failing."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import User

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")


@sqlite_only
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    options = connection.settings_dict["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5
    assert str(connection.settings_dict["NAME"]).endswith(".sqlite3")  # a real file, not :memory:
    # a server thread keeps its connection between requests (opening one cost a tenth of a small download)
    assert connection.settings_dict["CONN_MAX_AGE"] > 0 and connection.settings_dict["CONN_HEALTH_CHECKS"]


@pytest.mark.django_db
def test_one_or_none_finds_a_unique_row_without_sorting(account, other_account):
    from django.test.utils import CaptureQueriesContext

    from accounts.models import UnlockSession
    from locker.db import one_or_none

    assert one_or_none(User.objects.filter(username="nobody")) is None
    with CaptureQueriesContext(connection) as queries:
        found = one_or_none(UnlockSession.objects.filter(user=account.user))  # the model sorts by -created_at
    assert found is None or found.user_id == account.user.pk
    assert one_or_none(User.objects.filter(pk=other_account.user.pk)).username == other_account.username
    assert "ORDER BY" not in queries.captured_queries[0]["sql"].upper()
    assert "LIMIT 1" in queries.captured_queries[0]["sql"].upper()


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_queue_instead_of_failing(live_server, settings):
    """GIVEN 16 clients at once WHEN each registers and logs in (several writes each) THEN none fails."""
    settings.LOCKER_RATELIMITS = {name: "1000/m" for name in settings.LOCKER_RATELIMITS}
    password = "correct horse battery staple"

    def register_and_login(n: int) -> tuple[int, int]:
        name = f"user{n:02d}"
        created, _ = _post(
            f"{live_server.url}/api/v1/auth/register",
            {"username": name, "email": f"{name}@example.org", "password": password},
        )
        logged_in, tokens = _post(f"{live_server.url}/api/v1/auth/token", {"username": name, "password": password})
        return created, logged_in

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(register_and_login, range(16)))
    assert results == [(201, 200)] * 16
    assert User.objects.count() == 16
