"""Sharing a folder of 5,000 and of 50,000 files with another user and revoking it; listing a shared folder of
10,000 files as the recipient beside the owner; searching the content words of a shared folder as the recipient
beside the owner.

The folders are seeded with rows whose keys are wrapped and names sealed as uploads do (``bench_listing.seed``).
Share and revoke go through the real API in-process (``POST /api/v1/shares/``, ``DELETE /api/v1/shares/{id}/``),
three rounds each, with their SQL queries and key operations counted (every AEAD seal and open, and every X25519
exchange: wraps, unwraps and sealed fields). Listing reads every page (50 per page) of
``GET /api/v1/files/?folder=<id>`` as the owner and as the recipient, interleaved, three rounds. Search seeds a
folder whose files each have 100 content words (the owner's blind-index tokens and the sealed word list an upload
makes) and asks ``GET /api/v1/search?q=..&folder=<id>`` as both, interleaved: the owner through the index, the
recipient by opening each file's word list with the share's keys (docs/sharing.md).
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager
from unittest import mock

SIZES = [int(n) for n in os.environ.get("BENCH_SHARING_SIZES", "5000,50000").split(",")]
LISTED = int(os.environ.get("BENCH_SHARING_LISTED", "10000"))
SEARCHED = int(os.environ.get("BENCH_SHARING_SEARCHED", "2000"))
WORDS_PER_FILE = 100
ROUNDS = 3


@contextmanager
def counted():
    """Count SQL queries and key operations (AEAD seals and opens, X25519 exchanges) inside the block."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from locker.crypto import aead

    counts = {"aead": 0, "x25519": 0}
    seal, open_sealed = aead.seal, aead.open_sealed

    def counting(function, kind):
        def wrapper(*args, **kwargs):
            counts[kind] += 1
            return function(*args, **kwargs)

        return wrapper

    generate = X25519PrivateKey.generate
    with (
        CaptureQueriesContext(connection) as queries,
        mock.patch.object(aead, "seal", counting(seal, "aead")),
        mock.patch.object(aead, "open_sealed", counting(open_sealed, "aead")),
        mock.patch.object(X25519PrivateKey, "generate", staticmethod(counting(generate, "x25519"))),
    ):
        yield counts
    counts["queries"] = len(queries.captured_queries)


def _login(account):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def _keys(account):
    from accounts import services as account_services
    from accounts import sessions as account_sessions
    from vault.keys import VaultKeys

    result = account_services.auth_login(username=account.user.username, password=account.password, kind="token")
    udk = account_sessions.unlock_session_udk(
        user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
    )
    return VaultKeys(account.user.pk, udk)


def _pages(client, folder_id) -> list[float]:
    times, page = [], 1
    while True:
        start = time.perf_counter()
        response = client.get("/api/v1/files/", {"folder": folder_id, "page": page})
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content
        if not response.json()["next"]:
            return times
        page += 1


def _seed_words(owner, keys, folder) -> None:
    """Give each file of ``folder`` 100 content words as an upload would: index tokens and a sealed word list.
    Every file has "everywhere"; one in a hundred has "seldomword"; the rest come from 5,000 made-up words."""
    import random

    from vault.models import ContentWords, File, SearchToken
    from vault.search.index import index_item

    rng = random.Random(7)
    vocabulary = [f"{rng.choice('bcdfgklmnprstv')}{rng.randrange(10**6):06d}word" for _ in range(5000)]
    files = list(File.objects.filter(folder=folder).select_related("current_version"))
    folder_key = keys.folder_key(folder)
    rows = []
    for n, file in enumerate(files):
        words = ["everywhere", *rng.sample(vocabulary, WORDS_PER_FILE - 2)] + (["seldomword"] if n % 100 == 0 else [])
        index_item(
            owner_id=owner.pk,
            keys=keys.search,
            kind=SearchToken.Kind.FILE,
            item_id=file.pk,
            fields={"name": [f"document {n:05d}.txt"], "content": words},
        )
        content_key = keys.content_key(file.current_version, keys.file_key(file, folder_key))
        rows.append(
            ContentWords(
                version_id=file.current_version_id,
                words_sealed=keys.seal_words(content_key, file.current_version_id, words),
            )
        )
    ContentWords.objects.bulk_create(rows, batch_size=500)


def _search(client, folder_id: str, query: str) -> float:
    start = time.perf_counter()
    response = client.get("/api/v1/search", {"q": query, "folder": folder_id})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200 and response.json()["count"], response.content
    return elapsed


def run() -> str:
    from bench.bench_listing import percentile, seed
    from tests.factories import make_account
    from vault.files import services

    owner, recipient = make_account("sharer"), make_account("recipient")
    keys = _keys(owner)
    alice, bob = _login(owner), _login(recipient)
    rows = []
    for size in SIZES:
        folder = services.folder_create(user=owner.user, keys=keys, name=f"{size} files")
        seed(owner.user, keys, folder, size)
        share_ms, revoke_ms, share_counts, revoke_counts = [], [], [], []
        for _ in range(ROUNDS):
            body = {"item": str(folder.pk), "username": "recipient", "permission": "view"}
            with counted() as counts:
                start = time.perf_counter()
                created = alice.post("/api/v1/shares/", body, format="json")
                share_ms.append((time.perf_counter() - start) * 1000)
            assert created.status_code == 201, created.content
            share_counts.append(counts)
            with counted() as counts:
                start = time.perf_counter()
                assert alice.delete(f"/api/v1/shares/{created.json()['id']}/").status_code == 204
                revoke_ms.append((time.perf_counter() - start) * 1000)
            revoke_counts.append(counts)
        for label, times, counts in (("share", share_ms, share_counts), ("revoke", revoke_ms, revoke_counts)):
            rows.append(
                f"| {label} | {size:,} | {statistics.median(times):,.0f} | {max(times):,.0f} | "
                f"{counts[-1]['queries']} | {counts[-1]['aead']:,} | {counts[-1]['x25519']} |"
            )

    listed = services.folder_create(user=owner.user, keys=keys, name="listed")
    seed(owner.user, keys, listed, LISTED)
    assert (
        alice.post(
            "/api/v1/shares/", {"item": str(listed.pk), "username": "recipient", "permission": "view"}, format="json"
        ).status_code
        == 201
    )
    by = {"owner": [], "recipient": []}
    for _ in range(ROUNDS):
        by["owner"].extend(_pages(alice, str(listed.pk)))
        by["recipient"].extend(_pages(bob, str(listed.pk)))
    listing = [
        f"| {who} | {len(times) // ROUNDS} | {statistics.median(times):.1f} | {percentile(times, 0.95):.1f} |"
        for who, times in by.items()
    ]
    ratio = statistics.median(by["recipient"]) / statistics.median(by["owner"])

    searched = services.folder_create(user=owner.user, keys=keys, name="searched")
    seed(owner.user, keys, searched, SEARCHED)
    _seed_words(owner.user, keys, searched)
    body = {"item": str(searched.pk), "username": "recipient", "permission": "view"}
    assert alice.post("/api/v1/shares/", body, format="json").status_code == 201
    queries = {"seldomword": "1 in 100 files", "everywhere": "every file", "every": "a prefix, every file"}
    found = {(query, who): [] for query in queries for who in ("owner", "recipient")}
    for _ in range(ROUNDS + 2):
        for query in queries:
            for who, client in (("owner", alice), ("recipient", bob)):
                found[query, who].append(_search(client, str(searched.pk), query))
    searching = [
        f"| `{query}` ({what}) | {statistics.median(found[query, 'owner']):.0f} | "
        f"{statistics.median(found[query, 'recipient']):.0f} | "
        f"{statistics.median(found[query, 'recipient']) / statistics.median(found[query, 'owner']):.1f} |"
        for query, what in queries.items()
    ]
    return "\n".join(
        [
            "## Sharing a folder with another user",
            "",
            f"Folders of {', '.join(f'{n:,}' for n in SIZES)} files (rows seeded with real wraps and sealed",
            "names), shared with another account (`POST /api/v1/shares/`) and revoked",
            f"(`DELETE /api/v1/shares/{{id}}/`) through the API in-process on SQLite, {ROUNDS} rounds each.",
            "Key operations: AEAD seals and opens (every wrap, unwrap and sealed field) and X25519 key",
            "generations (one per wrap to a public key). Sharing is one wrap whatever the size; revoking",
            "rotates the folder's key, which re-wraps each direct child and redoes its name MAC",
            "(`docs/sharing.md`): it grows with the number of direct children, never with their content.",
            "Reproduce: `make bench BENCH=sharing`.",
            "",
            "| action | files in the folder | median ms | max ms | queries | AEAD ops | X25519 |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Listing a shared folder of {LISTED:,} files page by page (50 per page), owner and recipient interleaved,",
            f"{ROUNDS} rounds: recipient ÷ owner (p50) = {ratio:.2f}. The recipient's first page also opens the grant",
            "with their private key (one X25519 exchange).",
            "",
            "| who | pages | p50 ms/page | p95 ms/page |",
            "|---|---:|---:|---:|",
            *listing,
            "",
            f"Searching a shared folder of {SEARCHED:,} files with {WORDS_PER_FILE} content words each",
            f"(`GET /api/v1/search?q=..&folder=<id>`, first page), both interleaved, {ROUNDS + 2} rounds:",
            "the owner asks the blind index; the recipient opens every file's name and sealed word list with the",
            "share's keys, so the recipient's time grows with the folder's size (`docs/sharing.md`).",
            "",
            "| query | owner p50 ms | recipient p50 ms | recipient ÷ owner |",
            "|---|---:|---:|---:|",
            *searching,
        ]
    )
