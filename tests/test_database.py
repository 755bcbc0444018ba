"""The embedded database: SQLite in WAL mode, IMMEDIATE transactions, writers queue instead of failing."""

import json
import os
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    name = Path(str(connection.settings_dict["NAME"]))  # a real file, not :memory: (pytest-xdist adds "_gw1")
    assert name.parent.is_dir() and ".sqlite3" in name.name and "memory" not in name.name
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


def _imports_psycopg(tmp_path, **env) -> bool:
    """Whether a fresh process loading the WSGI app and DRF's serializers (as a server worker does) imports psycopg."""
    code = (
        "import sys, django; django.setup(); from locker.wsgi import application; "
        "import rest_framework.serializers; print('psycopg' in sys.modules)"
    )
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="locker.settings", LOCKER_DATA_DIR=str(tmp_path), **env)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], env=environ, cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "True"


def test_a_sqlite_worker_does_not_load_psycopg(tmp_path):
    # DRF would import django.contrib.postgres (and so psycopg with its own libpq and OpenSSL) just because
    # psycopg is installed: 9 MiB of RSS per worker that SQLite never uses.
    assert not _imports_psycopg(tmp_path)
    assert _imports_psycopg(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/locker")


def _stats(path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return set()
        return {table for (table,) in db.execute("SELECT tbl FROM sqlite_stat1")}


def _connection_that_queried_a_table(path):
    """A connection of the project's SQLite backend to a new database, having used an indexed table."""
    from locker.sqlite.base import DatabaseWrapper

    db = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, alias="stats")
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, owner INTEGER)")
        cursor.execute("CREATE INDEX item_owner ON item (owner)")
        cursor.executemany("INSERT INTO item (owner) VALUES (%s)", [(n % 3,) for n in range(3000)])
        cursor.execute("SELECT count(*) FROM item WHERE owner = 1")
    return db


@sqlite_only
@pytest.mark.django_db
def test_closing_a_connection_refreshes_the_planner_statistics_of_the_tables_it_used(tmp_path):
    path = tmp_path / "stats.sqlite3"
    db = _connection_that_queried_a_table(path)
    db.close()
    assert _stats(path) == {"item"}


@sqlite_only
@pytest.mark.django_db
def test_a_close_never_waits_for_another_writer(tmp_path):
    import sqlite3
    import time

    path = tmp_path / "locked.sqlite3"
    db = _connection_that_queried_a_table(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    started = time.monotonic()
    db.close()  # no error, and no 30 s busy wait: the statistics wait for a later close
    assert time.monotonic() - started < 5
    other.execute("ROLLBACK")
    other.close()
    assert db.connection is None and _stats(path) == set()


@sqlite_only
@pytest.mark.django_db
def test_with_statistics_a_lookup_of_a_users_items_by_id_probes_the_primary_key(user):
    """The search's ranking query: a user's rows by a list of ids. Without statistics SQLite walked all
    of the user's rows through the owner index (37 ms instead of 2 at 100,000 files)."""
    from vault.models import File

    File.objects.bulk_create(
        File(owner=user, key_wrapped="k", name_sealed="n", name_mac=f"{n:064x}") for n in range(3000)
    )
    ids = list(File.objects.values_list("pk", flat=True)[:500])
    query = File.objects.filter(owner=user, pk__in=ids, trashed_at__isnull=True).values_list("pk", "modified_at")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 10000")
        cursor.execute("ANALYZE vault_file")  # what PRAGMA optimize does for a table that has none
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(row[-1] for row in cursor.fetchall())
    assert "sqlite_autoindex_vault_file_1" in plan, plan
    assert len(query) == 500


def test_a_fresh_data_directory_and_its_database_are_private(tmp_path):
    """The data dir is 0700 and the SQLite database (with its WAL and shared-memory files) 0600, also when a
    looser umask or an older, looser install made them first."""
    import stat

    from django.conf import settings

    data = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "DJANGO_SETTINGS_MODULE": "locker.settings",
        "LOCKER_DATA_DIR": str(data),
        "LOCKER_HTTPS": "0",
    }
    code = (
        "import os; os.umask(0o022); import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)')"
    )
    run = [sys.executable, "-c", code]
    subprocess.run(run, cwd=settings.BASE_DIR, env=env, check=True, capture_output=True)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("locker.sqlite3", "locker.sqlite3-wal", "locker.sqlite3-shm"):
        if (data / name).exists():
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    # an older install left them world-readable: the next start tightens them
    data.chmod(0o755)
    (data / "locker.sqlite3").chmod(0o644)
    subprocess.run(
        run[:2] + [code.replace("CREATE TABLE t (x)", "SELECT 1")], cwd=settings.BASE_DIR, env=env, check=True
    )
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "locker.sqlite3").stat().st_mode) == 0o600
