"""What a search result shows: plain snippets of notes (no Markdown, task boxes as ☐/☑), snippets of a file's
extracted text (kept only as a sealed excerpt), the matched words' places, and the folder each result is in."""

import os

import pytest
from django.db import connection

from tests.vault.conftest import bearer, keys_for, make_upload
from vault.derived.derive import MAX_EXCERPT_BYTES, excerpt_read
from vault.files import services
from vault.models import Derived, File
from vault.notes import services as notes
from vault.notes.markdown import plain_text
from vault.search import snippets
from vault.search.reindex import vault_reindex
from vault.sharing import services as sharing

pytestmark = pytest.mark.django_db


def marked(result) -> list[str]:
    """The words a page would mark: the snippet's slices at ``snippet_marks`` (UTF-16 indexes)."""
    units = result["snippet"].encode("utf-16-le")
    return [units[2 * a : 2 * b].decode("utf-16-le") for a, b in result["snippet_marks"]]


def search(client, q, **params) -> list[dict]:
    response = client.get("/api/v1/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- plain text and snippets ----------------------------------------------------------------------


def test_plain_text_drops_markdown_and_shows_task_boxes():
    text = plain_text(
        "# Trip plan\n\n- [ ] call **Bob** about [the ferry](https://example.org)\n- [x] buy `sun cream`\n"
        "1. [X] book\n\n> *quoted* words\n\n```\ncode stays\n```\n\n| day | place |\n|---|---|\n| 1 | Crete |\n\n"
        "![a map](map.png) and <b>raw html</b>\n\nnot [ ] a task\n\n- call [x] later"
    )
    assert text.splitlines() == [
        "Trip plan",
        "☐ call Bob about the ferry",
        "☑ buy sun cream",
        "☑ book",
        "quoted words",
        "code stays",
        "day place",
        "1 Crete",
        "a map and <b>raw html</b>",
        "not [ ] a task",
        "call [x] later",  # a box only at an item's start
    ]


def test_window_cuts_at_spaces_around_the_first_match():
    text = " ".join(f"word{n}" for n in range(200)) + " the Zébra crossing " + " ".join("tail" for _ in range(50))
    snippet = snippets.window(text, ["zebra"])
    assert snippet.startswith("…word") and snippet.endswith("…") and "Zébra" in snippet and len(snippet) <= 162
    assert all(
        piece.startswith("word") or piece in {"the", "Zébra", "crossing", "tail"} for piece in snippet[1:-1].split()
    )
    assert snippets.window("short text", ["nothing"]) == "short text"
    assert snippets.window("short text", ["nothing"], only_if_found=True) is None


def test_marks_fold_case_and_accents_match_prefixes_and_count_utf16():
    text = "😀 Résumé of the REPORT; a re-port, reports"
    found = snippets.marks(text, ["resume", "rep"])
    units = text.encode("utf-16-le")
    assert [units[2 * a : 2 * b].decode("utf-16-le") for a, b in found] == ["Résumé", "REPORT", "reports"]
    assert found[0] == [3, 9]  # the emoji is two UTF-16 units
    assert snippets.marks(text, ["re"]) == [[27, 29]]  # two letters match whole words only: the "re" of "re-port"
    assert snippets.marks(None, ["x"]) == [] and snippets.marks("text", []) == []


# --- notes over the API ------------------------------------------------------------------------------


def test_note_results_show_plain_words_with_marks_and_their_folder(account, keys):
    client = bearer(account)
    folder = services.folder_create(user=account.user, keys=keys, name="Plans")
    notes.note_create(
        user=account.user,
        keys=keys,
        title="Holiday",
        body="# Trip\n\n- [ ] call **Bob** about the [ferry](https://example.org)\n- [x] pack",
        folder_id=folder.pk,
    )
    [result] = search(client, "ferry")
    assert result["kind"] == "note"
    assert result["snippet"] == "Trip ☐ call Bob about the ferry ☑ pack"
    assert marked(result) == ["ferry"]
    assert (result["parent_name"], result["parent_url"]) == ("Plans", f"/files/{folder.pk}/")


def test_note_long_body_snippet_is_around_the_match(account, keys):
    client = bearer(account)
    body = "\n\n".join(f"Paragraph {n} with **filler** words." for n in range(3000)) + "\n\n- [ ] find the *needle*"
    notes.note_create(user=account.user, keys=keys, title="Long", body=body)
    [result] = search(client, "needle")
    assert result["snippet"].endswith("☐ find the needle") and "**" not in result["snippet"]
    assert marked(result) == ["needle"] and result["parent_name"] is None and result["parent_url"] == "/files/"


# --- files: the sealed excerpt of their text ---------------------------------------------------------------


def test_file_matched_by_its_text_shows_the_words_around_it(account, keys):
    client = bearer(account)
    folder = services.folder_create(user=account.user, keys=keys, name="Taxes")
    text = ("Lorem ipsum dolor sit amet. " * 40) + "The invoice from Zanzibar Ltd is due in March. " + "More. " * 40
    file = services.file_upload(
        user=account.user, keys=keys, upload=make_upload(keys, "letter.txt", text.encode()), folder_id=folder.pk
    ).file
    [result] = search(client, "zanzibar")
    assert result["kind"] == "file" and "The invoice from Zanzibar Ltd is due in March." in result["snippet"]
    assert result["snippet"].startswith("…") and marked(result) == ["Zanzibar"]
    assert (result["parent_name"], result["parent_url"]) == ("Taxes", f"/files/{folder.pk}/")
    # a file found by its name only shows no snippet of its text
    [by_name] = search(client, "letter")
    assert by_name["snippet"] is None and by_name["snippet_marks"] == []
    # at rest: sealed, no word of it readable in the row or the database file
    sealed = Derived.objects.get(version__file=file).text_sealed
    assert sealed and "Zanzibar" not in sealed and "Lorem" not in sealed
    with connection.cursor() as cursor:
        cursor.execute("SELECT text_sealed FROM vault_derived")
        assert all("Zanzibar" not in row[0] for row in cursor.fetchall())


def test_excerpt_is_bounded_and_markdown_files_are_plain(account, keys):
    client = bearer(account)
    big = ("alpha beta gamma " * 20_000).encode()  # 340 KB
    file = services.file_upload(user=account.user, keys=keys, upload=make_upload(keys, "big.txt", big)).file
    file = File.objects.select_related("current_version__derived").get(pk=file.pk)
    opened = excerpt_read(keys=keys, file=file)
    assert len(opened.encode()) <= MAX_EXCERPT_BYTES and opened.startswith("alpha beta gamma")
    services.file_upload(
        user=account.user, keys=keys, upload=make_upload(keys, "todo.md", b"# Week\n\n- [ ] renew **passport**\n")
    )
    [result] = search(client, "passport")
    assert result["snippet"] == "Week ☐ renew passport" and marked(result) == ["passport"]


def test_reindex_fills_the_excerpt_of_files_stored_before_it(account, keys):
    client = bearer(account)
    file = services.file_upload(
        user=account.user, keys=keys, upload=make_upload(keys, "old.txt", b"an old quokka note")
    ).file
    Derived.objects.filter(version__file=file).update(text_sealed="")  # as stored before excerpts were kept
    assert search(client, "quokka")[0]["snippet"] is None
    vault_reindex(user=account.user, keys=keys)
    assert Derived.objects.get(version__file=file).text_sealed
    [result] = search(client, "quokka")
    assert result["snippet"] == "an old quokka note" and marked(result) == ["quokka"]


def test_a_new_version_brings_its_own_excerpt(account, keys):
    client = bearer(account)
    file = services.file_upload(user=account.user, keys=keys, upload=make_upload(keys, "v.txt", b"first walrus")).file
    services.file_version_add(
        user=account.user, keys=keys, file_id=file.pk, upload=make_upload(keys, "v.txt", b"now narwhal")
    )
    assert search(client, "walrus") == []
    assert search(client, "narwhal")[0]["snippet"] == "now narwhal"


def test_binary_files_keep_no_excerpt(account, keys):
    services.file_upload(user=account.user, keys=keys, upload=make_upload(keys, "x.bin", os.urandom(5000)))
    assert not Derived.objects.exclude(text_sealed="").exists()


# --- folders and shares --------------------------------------------------------------------------------------


def test_folder_results_name_their_parent(account, keys):
    client = bearer(account)
    parent = services.folder_create(user=account.user, keys=keys, name="Work")
    services.folder_create(user=account.user, keys=keys, name="Receipts 2025", parent_id=parent.pk)
    services.folder_create(user=account.user, keys=keys, name="Receipts old")
    results = {r["name"]: r for r in search(client, "receipts")}
    assert (results["Receipts 2025"]["parent_name"], results["Receipts 2025"]["parent_url"]) == (
        "Work",
        f"/files/{parent.pk}/",
    )
    assert (results["Receipts old"]["parent_name"], results["Receipts old"]["parent_url"]) == (None, "/files/")


def test_search_in_a_shared_folder_names_the_share(account, other_account):
    """GIVEN bob shares his folder "Holiday" with alice WHEN alice searches inside it THEN each result says it is in
    "Holiday" (the share's name) or its subfolder, with the owner's names, and another user's ids are not found."""
    bob, bob_keys = other_account.user, keys_for(other_account)
    holiday = services.folder_create(user=bob, keys=bob_keys, name="Holiday")
    photos = services.folder_create(user=bob, keys=bob_keys, name="Photos", parent_id=holiday.pk)
    services.file_upload(
        user=bob,
        keys=bob_keys,
        upload=make_upload(bob_keys, "beach plan.txt", b"pack beach towels"),
        folder_id=holiday.pk,
    )
    services.file_upload(user=bob, keys=bob_keys, upload=make_upload(bob_keys, "beach.jpg", b"y"), folder_id=photos.pk)
    sharing.share_create(user=bob, keys=bob_keys, item_id=holiday.pk, username=account.username, permission="view")
    client = bearer(account)
    results = {r["name"]: r for r in search(client, "beach", folder=str(holiday.pk), recursive="1")}
    assert results["beach plan.txt"]["parent_name"] == "Holiday"
    assert results["beach plan.txt"]["snippet"] == "pack beach towels" and marked(results["beach plan.txt"]) == [
        "beach"
    ]
    assert results["beach.jpg"]["parent_name"] == "Photos"
    owner = bearer(other_account)  # bob sees the same places in his own search
    assert {r["name"]: r["parent_name"] for r in search(owner, "beach")} == {
        "beach plan.txt": "Holiday",
        "beach.jpg": "Photos",
    }
    private = services.folder_create(user=bob, keys=bob_keys, name="Private")
    response = client.get("/api/v1/search", {"q": "beach", "folder": str(private.pk)})
    assert response.status_code == 404 and set(response.json()) == {"code", "detail"}  # not shared: not found


def test_result_details_cost_no_query_per_result(account, keys, django_assert_max_num_queries):
    client = bearer(account)
    for n in range(4):
        folder = services.folder_create(user=account.user, keys=keys, name=f"Box {n}")
        for m in range(5):
            services.file_upload(
                user=account.user,
                keys=keys,
                upload=make_upload(keys, f"item {n}-{m}.txt", b"a walrus and a carpenter"),
                folder_id=folder.pk,
            )
            notes.note_create(
                user=account.user, keys=keys, title=f"walrus {n}-{m}", body="*walrus*", folder_id=folder.pk
            )
    client.get("/api/v1/search", {"q": "walrus"})  # the session's first request loads what it keeps
    with django_assert_max_num_queries(10):
        results = search(client, "walrus", page_size=50)
    assert len(results) == 40 and all(r["snippet"] and r["parent_name"].startswith("Box ") for r in results)
