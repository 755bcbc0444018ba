"""Listing a folder of 10,000 files page by page: time per page and queries per page.

Seeds one folder with ``BENCH_LISTING_FILES`` (10,000) files whose keys are wrapped and
names sealed exactly as uploads do (rows only: listing never reads blobs), then reads every
page of ``GET /api/v1/files/?folder=<id>`` (50 per page) in-process through the real view
with a Bearer token, and the same for ``?all=1``.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

N_FILES = int(os.environ.get("BENCH_LISTING_FILES", "10000"))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(user, keys, folder, count: int = N_FILES) -> None:
    from vault.models import File, FileVersion

    folder_key = keys.folder_key(folder)
    files, versions = [], []
    for n in range(count):
        file_id, version_id = uuid.uuid4(), uuid.uuid4()
        file_key, content_key = keys.new_key(), keys.new_key()
        name = f"document {n:05d}.txt"
        files.append(
            File(
                id=file_id,
                owner=user,
                folder=folder,
                key_wrapped=keys.wrap_file_key(file_key, file_id, folder_key),
                name_sealed=keys.seal_file_name(file_key, file_id, name),
                name_mac=keys.name_mac(folder_key, name),
                size=1000 + n,
                mime_type="text/plain",
            )
        )
        versions.append(
            FileVersion(
                id=version_id,
                file_id=file_id,
                number=1,
                content_key_wrapped=keys.wrap_content_key(content_key, version_id, file_key),
                blob=f"{user.pk}/{version_id.hex}",
                size=1000 + n,
                stored_size=1041 + n,
                mime_type="text/plain",
                content_mac="0" * 32,
            )
        )
    File.objects.bulk_create(files, batch_size=500)
    FileVersion.objects.bulk_create(versions, batch_size=500)
    for file, version in zip(files, versions, strict=True):
        file.current_version_id = version.pk
    File.objects.bulk_update(files, ["current_version"], batch_size=500)


def read_all_pages(client, params: dict) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, page = [], [], 1
    while True:
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/api/v1/files/", {**params, "page": page})
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content
        times.append(elapsed)
        queries.append(len(ctx.captured_queries))
        if not response.json()["next"]:
            return times, queries
        page += 1


def run() -> str:
    from rest_framework.test import APIClient

    from accounts import services as account_services
    from accounts import sessions as account_sessions
    from tests.factories import make_account
    from vault.files import services
    from vault.keys import VaultKeys

    account = make_account("listing")
    result = account_services.auth_login(username="listing", password=account.password, kind="token")
    udk = account_sessions.unlock_session_udk(
        user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
    )
    keys = VaultKeys(account.user.pk, udk)
    folder = services.folder_create(user=account.user, keys=keys, name="big folder")
    start = time.perf_counter()
    seed(account.user, keys, folder)
    seeded = time.perf_counter() - start
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    rows = []
    for label, params in (("one folder", {"folder": str(folder.pk)}), ("all folders (`?all=1`)", {"all": "1"})):
        times, queries = read_all_pages(client, params)
        rows.append(
            f"| {label} | {len(times)} | {statistics.median(times):.1f} | {percentile(times, 0.95):.1f} | "
            f"{min(queries)}–{max(queries)} |"
        )
    return "\n".join(
        [
            "## Listing a folder of 10,000 files",
            "",
            f"{N_FILES} files in one folder (seeded in {seeded:.1f} s with real wrapped keys and sealed names), read",
            "page by page (50 per page) through `GET /api/v1/files/` in-process with a Bearer token on SQLite.",
            "Each page decrypts 50 names and tags; queries per page stay constant (also asserted in",
            "`tests/vault/test_api.py::test_file_list_queries_do_not_grow_with_the_page`).",
            "Reproduce: `make bench BENCH=listing`.",
            "",
            "| listing | pages | p50 ms/page | p95 ms/page | queries/page |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
