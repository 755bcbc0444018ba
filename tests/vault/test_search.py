"""Search over encrypted names and tags: blind indexes kept in step with every write."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locker.crypto.blind import prefixes, tokenize
from tests.factories import make_account
from tests.vault.conftest import keys_for, make_upload
from vault import common
from vault.files import services
from vault.models import File, Folder, SearchToken
from vault.search import selectors as search_selectors
from vault.trash import services as trash

pytestmark = pytest.mark.django_db


def upload(user, keys, name, tags=(), folder_id=None):
    return services.file_upload(
        user=user, keys=keys, upload=make_upload(keys, name, b"x"), tags=list(tags), folder_id=folder_id
    ).file


def found(user, keys, query, **kwargs) -> list[str]:
    results = search_selectors.search(user=user, keys=keys, query=query, **kwargs)
    names = []
    for result in results:
        item = result["item"]
        names.append(keys.file_name(item) if result["kind"] == "file" else keys.folder_name(item))
    return names


def test_words_prefixes_accents_and_and(user, keys):
    upload(user, keys, "Quarterly Report 2025.pdf", tags=["Tax", "Finance"])
    upload(user, keys, "holiday photos.zip", tags=["family"])
    services.folder_create(user=user, keys=keys, name="Résumés")
    assert found(user, keys, "report") == ["Quarterly Report 2025.pdf"]
    assert found(user, keys, "REP") == ["Quarterly Report 2025.pdf"]  # prefix of 3+ letters
    assert found(user, keys, "re") == []  # 2 letters: whole words only
    assert found(user, keys, "quarterly tax") == ["Quarterly Report 2025.pdf"]  # AND over name and tag
    assert found(user, keys, "quarterly family") == []
    assert found(user, keys, "resume") == ["Résumés"]  # accents and case folded, prefix
    assert found(user, keys, "fin") == ["Quarterly Report 2025.pdf"]
    assert found(user, keys, "photos", kinds=["folder"]) == []
    assert found(user, keys, "...") == []


def test_index_follows_rename_retag_trash_restore_purge(user, keys):
    file = upload(user, keys, "draft.txt", tags=["old"])
    services.file_update(user=user, keys=keys, file_id=file.pk, name="final.txt", tags=["new"])
    assert found(user, keys, "draft") == [] and found(user, keys, "old") == []
    assert found(user, keys, "final new") == ["final.txt"]
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    assert found(user, keys, "final") == []
    trash.trash_restore(user=user, keys=keys, item_id=file.pk)
    assert found(user, keys, "final") == ["final.txt"]
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    trash.trash_purge(user=user, item_id=file.pk)
    assert not SearchToken.objects.filter(item_id=file.pk).exists()


def test_ranking_more_matches_first(user, keys):
    upload(user, keys, "budget.xlsx")
    both = upload(user, keys, "budget 2025.xlsx", tags=["budget"])
    results = search_selectors.search(user=user, keys=keys, query="budget")
    assert results[0]["item"].pk == both.pk and results[0]["score"] > results[1]["score"]


def test_other_users_see_nothing_and_tokens_differ(user, keys, other_account, other_keys):
    upload(user, keys, "secret plans.txt")
    upload(other_account.user, other_keys, "secret plans.txt")
    assert found(other_account.user, other_keys, "secret") == ["secret plans.txt"]
    mine = set(SearchToken.objects.filter(owner=user).values_list("token", flat=True))
    theirs = set(SearchToken.objects.filter(owner=other_account.user).values_list("token", flat=True))
    assert mine and theirs and not mine & theirs  # per-user keys: equal words, unrelated tokens


def test_search_queries_are_constant(user, keys, django_assert_max_num_queries):
    for n in range(30):
        upload(user, keys, f"invoice {n}.pdf", tags=["paid"])
    with django_assert_max_num_queries(4):  # the tokens, the rows, and whether recipients left index changes
        assert len(search_selectors.search(user=user, keys=keys, query="invoice paid")) == 30


def test_search_api(account, other_account):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    folder = client.post("/api/v1/folders/", {"name": "Taxes"}, format="json").json()
    keys = keys_for(account)
    upload(account.user, keys, "return 2025.pdf", tags=["taxes"], folder_id=folder["id"])
    body = client.get("/api/v1/search", {"q": "tax"}).json()
    assert body["count"] == 2
    assert [(r["kind"], r["name"]) for r in body["results"]] == [("file", "return 2025.pdf"), ("folder", "Taxes")]
    assert body["results"][0]["parent"] == folder["id"]
    assert client.get("/api/v1/search", {"q": "tax", "kind": "folder"}).json()["count"] == 1
    for bad in ({"q": ""}, {}, {"q": "x" * 501}, {"q": "tax", "kind": "planet"}):
        response = client.get("/api/v1/search", bad)
        assert response.status_code == 400 and response.json()["code"] in {"invalid_query", "validation_error"}
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_account.login(other)['access']}")
    assert other.get("/api/v1/search", {"q": "tax"}).json()["count"] == 0


# --- property: the index agrees with a brute-force search over decrypted data -------------------

WORDS = st.text(alphabet="abcé", min_size=1, max_size=7)
NAMES = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("upload"), NAMES, st.lists(WORDS, max_size=2)),
        st.tuples(st.just("rename"), st.integers(0, 20), NAMES),
        st.tuples(st.just("retag"), st.integers(0, 20), st.lists(WORDS, max_size=2)),
        st.tuples(st.just("trash"), st.integers(0, 20)),
        st.tuples(st.just("restore"), st.integers(0, 20)),
        st.tuples(st.just("purge"), st.integers(0, 20)),
        st.tuples(st.just("folder"), NAMES),
    ),
    max_size=12,
)


def reference_matches(query: str, item_words: list[str]) -> bool:
    words = tokenize(query)[:8]
    if not words:
        return False
    return all(any(t == w or (len(w) >= 3 and w[:16] in prefixes(t)) for t in item_words) for w in words)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    operations=OPERATIONS,
    queries=st.lists(st.lists(WORDS, min_size=1, max_size=2).map(" ".join), min_size=1, max_size=4),
)
def test_search_matches_brute_force_reference(operations, queries, blob_dir):
    account = make_account(f"p{uuid.uuid4().hex[:10]}")
    user, keys = account.user, keys_for(account)
    files: list = []
    for op in operations:
        try:
            if op[0] == "upload":
                files.append(upload(user, keys, op[1], tags=op[2]).pk)
            elif op[0] == "folder":
                services.folder_create(user=user, keys=keys, name=op[1], on_conflict="rename")
            elif files:
                file_id = files[op[1] % len(files)]
                if op[0] == "rename":
                    services.file_update(user=user, keys=keys, file_id=file_id, name=op[2], on_conflict="rename")
                elif op[0] == "retag":
                    services.file_update(user=user, keys=keys, file_id=file_id, tags=op[2])
                elif op[0] == "trash":
                    trash.item_trash(user=user, kind="file", item_id=file_id)
                elif op[0] == "restore":
                    trash.trash_restore(user=user, keys=keys, item_id=file_id)
                elif op[0] == "purge":
                    trash.trash_purge(user=user, item_id=file_id)
        except (services.NotFound, common.NameConflict):
            pass  # not in the trash / already trashed: the reference below reads the real state
    live = [
        (("file", f.pk), tokenize(keys.file_name(f)) + [w for t in keys.file_tags(f) for w in tokenize(t)])
        for f in File.objects.filter(owner=user, trashed_at__isnull=True)
    ]
    live += [
        (("folder", f.pk), tokenize(keys.folder_name(f)))
        for f in Folder.objects.filter(owner=user, trashed_at__isnull=True)
    ]
    for query in queries:
        expected = {key for key, words in live if reference_matches(query, words)}
        got = {(r["kind"], r["item"].pk) for r in search_selectors.search(user=user, keys=keys, query=query)}
        assert got == expected, query
