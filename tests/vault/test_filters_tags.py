"""Tags with counts (no plaintext tag table) and the file list filters, including name ordering."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from locker.crypto.keys import b64d
from vault.models import TagIndex

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(64)


@pytest.fixture
def api(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def upload(api, name, data=b"text", **fields):
    response = api.post("/api/v1/files/", {"file": [SimpleUploadedFile(name, data)], **fields}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def test_tags_with_counts_across_files_folders_and_notes(api, other_account):
    upload(api, "a.txt", tags="Tax, 2025")
    upload(api, "b.txt", tags="tax")
    api.post("/api/v1/folders/", {"name": "Receipts", "tags": ["TAX", "paper"]}, format="json")
    api.post("/api/v1/notes/", {"title": "n", "body": "b", "tags": ["paper"]}, format="json")
    trashed = upload(api, "c.txt", tags="tax")
    api.delete(f"/api/v1/files/{trashed['id']}/")
    tags = api.get("/api/v1/tags/").json()["results"]
    counts = {t["tag"].casefold(): t["count"] for t in tags}
    assert counts == {"tax": 3, "paper": 2, "2025": 1}  # the trashed file does not count
    assert tags[0]["count"] == 3
    # no plaintext tag anywhere in the tag index: each name is a sealed value (base64 of version, nonce, ciphertext)
    for sealed in TagIndex.objects.values_list("tag_sealed", flat=True):
        raw = b64d(sealed)
        assert raw[0] == 1 and b"tax" not in raw.lower() and b"paper" not in raw.lower()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_account.login(other)['access']}")
    assert other.get("/api/v1/tags/").json()["results"] == []


def test_filters_mime_size_dates_tag_q(api):
    upload(api, "photo.png", PNG, tags="holiday")
    upload(api, "report.pdf", PDF, tags="work")
    upload(api, "notes.txt", b"plain words here", tags="work")
    assert names(api.get("/api/v1/files/", {"mime_group": "image"})) == ["photo.png"]
    assert names(api.get("/api/v1/files/", {"mime": "application/pdf"})) == ["report.pdf"]
    assert sorted(names(api.get("/api/v1/files/", {"mime_group": "text"}))) == ["notes.txt"]
    assert sorted(names(api.get("/api/v1/files/", {"tag": "WORK"}))) == ["notes.txt", "report.pdf"]
    assert names(api.get("/api/v1/files/", {"tag": "work", "q": "rep"})) == ["report.pdf"]
    assert names(api.get("/api/v1/files/", {"max_size": 70})) == ["notes.txt"]
    big = names(api.get("/api/v1/files/", {"min_size": 70}))
    assert sorted(big) == ["photo.png", "report.pdf"]
    assert names(api.get("/api/v1/files/", {"created_after": "2999-01-01T00:00:00Z"})) == []
    assert len(names(api.get("/api/v1/files/", {"modified_before": "2999-01-01T00:00:00Z"}))) == 3
    for bad in ({"mime_group": "planet"}, {"min_size": "big"}, {"created_after": "yesterday"}, {"ordering": "colour"}):
        response = api.get("/api/v1/files/", bad)
        assert response.status_code == 400 and response.json()["code"] == "validation_error", bad


def test_orderings_including_encrypted_names(api):
    for name, size in (("banana.txt", 30), ("Apple.txt", 10), ("cherry.txt", 20), ("Äpfel.txt", 40)):
        upload(api, name, b"x" * size)
    # accents and case folded: "Äpfel" sorts as "apfel", before "apple"
    by_name = ["Äpfel.txt", "Apple.txt", "banana.txt", "cherry.txt"]
    assert names(api.get("/api/v1/files/", {"ordering": "name"})) == by_name
    assert names(api.get("/api/v1/files/", {"ordering": "-name"})) == by_name[::-1]
    assert names(api.get("/api/v1/files/", {"ordering": "size"})) == [
        "Apple.txt",
        "cherry.txt",
        "banana.txt",
        "Äpfel.txt",
    ]
    assert names(api.get("/api/v1/files/", {"ordering": "-size"}))[0] == "Äpfel.txt"
    assert names(api.get("/api/v1/files/", {"ordering": "created"}))[0] == "banana.txt"
    page = api.get("/api/v1/files/", {"ordering": "name", "page_size": 2, "page": 2})
    assert names(page) == ["banana.txt", "cherry.txt"] and page.json()["count"] == 4


def test_folder_recursive(api):
    top = api.post("/api/v1/folders/", {"name": "Top"}, format="json").json()
    sub = api.post("/api/v1/folders/", {"name": "Sub", "parent": top["id"]}, format="json").json()
    upload(api, "in-top.txt", folder=top["id"])
    upload(api, "in-sub.txt", folder=sub["id"])
    upload(api, "outside.txt")
    assert names(api.get("/api/v1/files/", {"folder": top["id"]})) == ["in-top.txt"]
    assert sorted(names(api.get("/api/v1/files/", {"folder": top["id"], "recursive": "1"}))) == [
        "in-sub.txt",
        "in-top.txt",
    ]


def test_name_ordering_queries_are_constant(api, django_assert_max_num_queries):
    for n in range(12):
        upload(api, f"file {n:02d}.txt")
    with django_assert_max_num_queries(12) as few:
        api.get("/api/v1/files/", {"ordering": "name", "page_size": 5})
    for n in range(12, 40):
        upload(api, f"file {n:02d}.txt")
    with django_assert_max_num_queries(12) as many:
        assert names(api.get("/api/v1/files/", {"ordering": "name", "page_size": 5}))[0] == "file 00.txt"
    assert len(few.captured_queries) == len(many.captured_queries)


def test_name_order_is_remembered_until_the_vault_changes(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(api, "b.txt")
        upload(api, "c.txt")
    assert names(api.get("/api/v1/files/", {"ordering": "name"})) == ["b.txt", "c.txt"]
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/files/{first['id']}/", {"name": "d.txt"}, format="json")
    assert names(api.get("/api/v1/files/", {"ordering": "name"})) == ["c.txt", "d.txt"]
    with django_capture_on_commit_callbacks(execute=True):
        upload(api, "a.txt")
    assert names(api.get("/api/v1/files/", {"ordering": "name"})) == ["a.txt", "c.txt", "d.txt"]


def test_tag_filter_on_folders_and_notes_and_tags_in_search(api):
    api.post("/api/v1/folders/", {"name": "Receipts", "tags": ["Tax"]}, format="json")
    api.post("/api/v1/folders/", {"name": "Photos"}, format="json")
    api.post("/api/v1/notes/", {"title": "Deductions", "body": "list", "tags": ["tax"]}, format="json")
    api.post("/api/v1/notes/", {"title": "Recipes", "body": "soup"}, format="json")
    assert [f["name"] for f in api.get("/api/v1/folders/", {"tag": "TAX"}).json()["results"]] == ["Receipts"]
    assert [n["title"] for n in api.get("/api/v1/notes/", {"tag": "tax"}).json()["results"]] == ["Deductions"]
    results = api.get("/api/v1/search", {"q": "deductions"}).json()["results"]
    assert results[0]["tags"] == ["tax"]


def test_restoring_a_note_from_the_trash_answers_with_the_note(api):
    note = api.post("/api/v1/notes/", {"title": "Keep", "body": "me"}, format="json").json()
    api.delete(f"/api/v1/notes/{note['id']}/")
    response = api.post(f"/api/v1/trash/{note['id']}/restore")
    assert (
        response.status_code == 200 and response.json()["kind"] == "note" and response.json()["note"]["title"] == "Keep"
    )
