"""Search at scale: 100,000 items for one user (and 100,000 for another), p50/p95 per query.

Items are file rows whose keys, names and tags are encrypted exactly as uploads do, with
their blind-index and tag-index rows (no blobs: searching never reads them). Names are 2-4
words drawn from a 5,000-word vocabulary with a Zipf-like distribution, so some words are
common and some rare; 10,000 of the items sit in one folder for the name-ordered listing.
Queries run in-process through the real views with a Bearer token, on SQLite.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid

N_ITEMS = int(os.environ.get("BENCH_SEARCH_ITEMS", "100000"))
OCR_ITEMS = int(os.environ.get("BENCH_SEARCH_OCR_ITEMS", "10000"))  # of the searcher's items, read by OCR
OCR_WORDS = int(os.environ.get("BENCH_SEARCH_OCR_WORDS", "100"))  # distinct words a scanned page gives
N_FOLDER = int(os.environ.get("BENCH_SEARCH_FOLDER_ITEMS", "10000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "30"))
VOCABULARY = 5000
ANALYZED_AFTER = "10 minutes"  # CONN_MAX_AGE: server threads close (and so analyze) their connections this often


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dor", "len", "mar", "tos"]
    words = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def seed(user, keys, folder, rng: random.Random, vocabulary: list[str]) -> None:
    from vault.models import File, SearchToken, TagIndex

    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    tags = ["tax", "work", "family", "travel", "health", "home", "music", "school"]
    top_key = keys.folder_key(None)
    folder_key = keys.folder_key(folder)
    files, tokens, tag_rows = [], [], []
    for n in range(N_ITEMS):
        in_folder = n < N_FOLDER
        parent_key = folder_key if in_folder else top_key
        file_id, file_key = uuid.uuid4(), keys.new_key()
        name = " ".join(rng.choices(vocabulary, weights, k=rng.randint(2, 4))) + f" {n}.txt"
        item_tags = rng.sample(tags, k=rng.randint(0, 2))
        files.append(
            File(
                id=file_id,
                owner=user,
                folder=folder if in_folder else None,
                key_wrapped=keys.wrap_file_key(file_key, file_id, parent_key),
                name_sealed=keys.seal_file_name(file_key, file_id, name),
                name_mac=keys.name_mac(parent_key, name),
                tags_sealed=keys.seal_file_tags(file_key, file_id, item_tags),
                size=rng.randint(100, 10**7),
                mime_type="text/plain",
            )
        )
        for token in keys.search.item_tokens({"name": [name], "tag": item_tags}):
            tokens.append(SearchToken(owner=user, kind=SearchToken.Kind.FILE, item_id=file_id, token=token))
        for tag in item_tags:
            tag_rows.append(
                TagIndex(
                    owner=user,
                    kind=SearchToken.Kind.FILE,
                    item_id=file_id,
                    token=keys.search.tag_token(tag),
                    tag_sealed=keys.search.seal_tag(user.pk, tag),
                )
            )
        if len(tokens) > 50_000:
            File.objects.bulk_create(files, batch_size=2000)
            SearchToken.objects.bulk_create(tokens, batch_size=5000)
            TagIndex.objects.bulk_create(tag_rows, batch_size=5000)
            files, tokens, tag_rows = [], [], []
    File.objects.bulk_create(files, batch_size=2000)
    SearchToken.objects.bulk_create(tokens, batch_size=5000)
    TagIndex.objects.bulk_create(tag_rows, batch_size=5000)


def seed_ocr(user, keys, rng: random.Random, vocabulary: list[str]) -> tuple[int, float]:
    """Content tokens for ``OCR_ITEMS`` of ``user``'s files, as text recognition of a scanned page would add them:
    ``OCR_WORDS`` distinct words each, drawn Zipf-like from ``vocabulary``. Returns (rows, seconds)."""
    from vault.models import File, SearchToken

    start = time.perf_counter()
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    ids = list(File.objects.filter(owner=user).values_list("id", flat=True))
    rows, batch = 0, []
    for file_id in rng.sample(ids, min(OCR_ITEMS, len(ids))):
        words = set()
        while len(words) < OCR_WORDS:
            words.update(rng.choices(vocabulary, weights, k=OCR_WORDS - len(words)))
        for token in keys.search.item_tokens({"content": sorted(words)}):
            batch.append(SearchToken(owner=user, kind=SearchToken.Kind.FILE, item_id=file_id, token=token))
        if len(batch) > 50_000:
            SearchToken.objects.bulk_create(batch, batch_size=5000)
            rows, batch = rows + len(batch), []
    SearchToken.objects.bulk_create(batch, batch_size=5000)
    return rows + len(batch), time.perf_counter() - start


def timed_get(client, path: str, params: dict) -> float:
    start = time.perf_counter()
    response = client.get(path, params)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.content[:300]
    return elapsed


def run() -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts import services as account_services
    from accounts import sessions as account_sessions
    from tests.factories import make_account
    from vault.files import services
    from vault.keys import VaultKeys
    from vault.models import SearchToken

    rng = random.Random(42)
    vocabulary = make_vocabulary(rng)
    users = []
    start = time.perf_counter()
    for username in ("searcher", "neighbour"):
        account = make_account(username)
        result = account_services.auth_login(username=username, password=account.password, kind="token")
        udk = account_sessions.unlock_session_udk(
            user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
        )
        keys = VaultKeys(account.user.pk, udk)
        folder = services.folder_create(user=account.user, keys=keys, name="big folder")
        seed(account.user, keys, folder, rng, vocabulary)
        users.append((account, folder, keys))
    seeded = time.perf_counter() - start
    # A server thread closes its connection every CONN_MAX_AGE, and closing runs PRAGMA optimize
    # (locker.sqlite) on the tables it used: the planner's statistics a running server has.
    started = time.perf_counter()
    connection.close()  # the seeding connection
    list(SearchToken.objects.filter(owner=users[0][0].user, token=0))  # then one that searched
    connection.close()
    optimize_ms = (time.perf_counter() - started) * 1000
    token_rows = SearchToken.objects.count()
    account, folder, searcher_keys = users[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")

    common = vocabulary[:20]
    medium = vocabulary[100:400]
    cases = [
        ("one-word search (common word)", "/api/v1/search", lambda: {"q": rng.choice(common)}),
        ("one-word search (medium word)", "/api/v1/search", lambda: {"q": rng.choice(medium)}),
        ("one-word prefix search (3 letters)", "/api/v1/search", lambda: {"q": rng.choice(medium)[:3]}),
        ("two-word search", "/api/v1/search", lambda: {"q": f"{rng.choice(common)} {rng.choice(medium)}"}),
        (
            "tag filter (files ?tag=)",
            "/api/v1/files/",
            lambda: {"tag": rng.choice(["tax", "work", "travel"]), "all": "1"},
        ),
        (
            f"folder of {N_FOLDER} ordered by name",
            "/api/v1/files/",
            lambda: {"folder": str(folder.pk), "ordering": "name", "page": rng.randint(1, N_FOLDER // 50)},
        ),
    ]

    def measure(label, path, params) -> tuple[float, float, str]:
        timed_get(client, path, params())  # warm-up
        times, queries = [], []
        for _ in range(ROUNDS):
            with CaptureQueriesContext(connection) as ctx:
                times.append(timed_get(client, path, params()))
            queries.append(len(ctx.captured_queries))
        print(f"{label}: p50 {statistics.median(times):.0f} ms, p95 {percentile(times, 0.95):.0f} ms", flush=True)
        return statistics.median(times), percentile(times, 0.95), f"{min(queries)}–{max(queries)}"

    before = {label: measure(label, path, params) for label, path, params in cases}
    ocr_rows, ocr_seconds = seed_ocr(account.user, searcher_keys, rng, vocabulary) if OCR_ITEMS else (0, 0.0)
    connection.close()  # the planner's statistics again, as a server has them
    list(SearchToken.objects.filter(owner=account.user, token=0))
    connection.close()
    ocr_only = vocabulary[-300:]  # rare in names: found mostly in the scans' words
    ocr_cases = [
        *cases,
        ("one-word search (a word mostly in scans)", "/api/v1/search", lambda: {"q": rng.choice(ocr_only)}),
    ]
    after = {label: measure(label, path, params) for label, path, params in ocr_cases} if OCR_ITEMS else {}
    rows = []
    for label, _path, _params in ocr_cases:
        p50, p95, queries = before.get(label, (None, None, ""))
        plain = f"{p50:.0f} | {p95:.0f}" if p50 is not None else "– | –"
        scanned = f"{after[label][0]:.0f} | {after[label][1]:.0f}" if label in after else "– | –"
        rows.append(f"| {label} | {plain} | {scanned} | {queries or after.get(label, ('', '', ''))[2]} |")
    return "\n".join(
        [
            "## Search over 100,000 encrypted items",
            "",
            f"{N_ITEMS} files for one user and {N_ITEMS} for another ({token_rows} blind-index rows in all; seeded in",
            f"{seeded:.0f} s), names of 2-4 words from a {VOCABULARY}-word Zipf-like vocabulary, 0-2 tags each;",
            f"{N_FOLDER} of them in one folder. {ROUNDS} queries per case through the real views",
            f"(Bearer token, SQLite). As on a server that has been up for {ANALYZED_AFTER}: the seeding connection is",
            "closed first, which refreshes SQLite's planner statistics (`PRAGMA optimize` in `locker.sqlite`; the",
            f"two closes that analyzed the tables took {optimize_ms:.0f} ms in all).",
            "Reproduce: `make bench BENCH=search` (`BENCH_SEARCH_ITEMS`, `BENCH_SEARCH_ROUNDS`,",
            "`BENCH_SEARCH_OCR_ITEMS`, `BENCH_SEARCH_OCR_WORDS`).",
            "",
            f"Then {OCR_ITEMS} of the searcher's files are given the content tokens of {OCR_WORDS} distinct words",
            "each, drawn from the same vocabulary (as text recognition of a scanned page adds them: field `content`),",
            f"{ocr_rows} more index rows (written in {ocr_seconds:.0f} s), and the same queries run again.",
            "",
            "| query | p50 ms | p95 ms | with OCR tokens: p50 ms | p95 ms | queries |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
