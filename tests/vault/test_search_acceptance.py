"""Issue acceptance: markers in a note and a PDF are stored nowhere in clear yet found by their owner only;
search combined with filters matches a brute-force reference over decrypted data."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from locker.crypto.blind import prefixes, tokenize
from tests.vault.conftest import blob_files
from tests.vault.test_derive import pdf

pytestmark = pytest.mark.django_db

MARKER = "quokkaflux"


def client_for(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def test_markers_stored_nowhere_but_found_by_the_owner_only(account, other_account, blob_dir):
    api = client_for(account)
    note = api.post(
        "/api/v1/notes/",
        {"title": f"{MARKER} title", "body": f"a {MARKER} body", "tags": [f"{MARKER}tag"]},
        format="json",
    )
    assert note.status_code == 201
    upload = api.post(
        "/api/v1/files/",
        {"file": [SimpleUploadedFile(f"{MARKER}.pdf", pdf([f"the {MARKER} page"]))], "tags": f"{MARKER}tag"},
        format="multipart",
    )
    assert upload.status_code == 201 and upload.json()[0]["ok"]
    # at rest: every table, and every blob, without the marker
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                assert not any(MARKER in str(v).lower() for v in row if v is not None), table
    for path in blob_files(blob_dir):
        assert MARKER.encode() not in path.read_bytes().lower()
    # the owner finds both (the PDF by its text too), another user nothing
    found = api.get("/api/v1/search", {"q": MARKER}).json()["results"]
    assert sorted(r["kind"] for r in found) == ["file", "note"]
    by_text = api.get("/api/v1/search", {"q": "page quokka"}).json()["results"]
    assert [r["kind"] for r in by_text] == ["file"]  # a word of the PDF's text and a prefix of the marker
    assert client_for(other_account).get("/api/v1/search", {"q": MARKER}).json()["count"] == 0


FILES = [
    ("Annual Report 2024.pdf", b"%PDF-1.4 x", "work,finance"),
    ("annual photo.png", bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(200), "family"),
    ("Résumé draft.txt", b"my cv text", "work"),
    ("report notes.txt", b"x" * 500, ""),
    ("holiday report.jpg", b"\xff\xd8\xff\xe0" + bytes(100), "family,travel"),
    ("budget.csv", b"a,b\n1,2\n", "finance"),
]


def reference(files, query, *, group=None, tag=None, min_size=None):
    words = tokenize(query)
    out = set()
    for name, meta in files.items():
        tokens = tokenize(name) + [w for t in meta["tags"] for w in tokenize(t)] + meta["content"]
        if not all(any(t == w or (len(w) >= 3 and w[:16] in prefixes(t)) for t in tokens) for w in words):
            continue
        if group and meta["group"] != group:
            continue
        if tag and tag.casefold() not in [t.casefold() for t in meta["tags"]]:
            continue
        if min_size is not None and meta["size"] < min_size:
            continue
        out.add(name)
    return out


@pytest.mark.parametrize(
    "query,filters",
    [
        ("report", {}),
        ("rep", {"mime_group": "pdf"}),
        ("annual", {"tag": "family"}),
        ("resume", {"tag": "WORK"}),
        ("report", {"min_size": 100}),
        ("holi rep", {"mime_group": "image"}),
        ("notes", {"mime_group": "text", "min_size": 10}),
        ("finance", {}),
        ("nothing here", {}),
    ],
)
def test_q_with_filters_matches_brute_force(account, query, filters):
    from vault.files.filters import mime_group_of

    api = client_for(account)
    files = {}
    for name, data, tags in FILES:
        result = api.post(
            "/api/v1/files/", {"file": [SimpleUploadedFile(name, data)], "tags": tags}, format="multipart"
        )
        file = result.json()[0]["file"]
        files[name] = {
            "tags": [t.strip() for t in tags.split(",") if t.strip()],
            "group": mime_group_of(file["mime_type"]),
            "size": file["size"],
            "content": tokenize(data.decode(errors="ignore")) if file["mime_type"].startswith("text/") else [],
        }
    got = api.get("/api/v1/files/", {"all": "1", "q": query, **filters})
    assert got.status_code == 200, got.content
    expected = reference(
        files, query, group=filters.get("mime_group"), tag=filters.get("tag"), min_size=filters.get("min_size")
    )
    assert {f["name"] for f in got.json()["results"]} == expected


def test_search_endpoint_takes_the_listing_filters(account):
    api = client_for(account)
    folder = api.post("/api/v1/folders/", {"name": "Trip report folder", "tags": ["travel"]}, format="json").json()
    for name, data, tags in (
        ("report.pdf", b"%PDF-1.4 x", "travel"),
        ("report.txt", b"words" * 50, ""),
        ("report.png", bytes.fromhex("89504e470d0a1a0a") + bytes(100), ""),
    ):
        api.post(
            "/api/v1/files/",
            {"file": [SimpleUploadedFile(name, data)], "tags": tags, "folder": folder["id"]},
            format="multipart",
        )
    api.post("/api/v1/notes/", {"title": "report ideas", "body": "x", "tags": ["travel"]}, format="json")

    def found(**params):
        response = api.get("/api/v1/search", {"q": "report", **params})
        assert response.status_code == 200, response.content
        return sorted((r["kind"], r["name"]) for r in response.json()["results"])

    assert len(found()) == 5
    assert found(mime_group="pdf") == [("file", "report.pdf")]
    assert found(type="note") == [("note", "report ideas")]
    assert found(tag="TRAVEL") == [("file", "report.pdf"), ("folder", "Trip report folder"), ("note", "report ideas")]
    assert found(min_size=200) == [("file", "report.txt")]
    assert [k for k, _ in found(folder=folder["id"])] == ["file", "file", "file"]
    assert found(modified_after="2999-01-01T00:00:00Z") == []
    bad = api.get("/api/v1/search", {"q": "report", "mime_group": "planet"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
