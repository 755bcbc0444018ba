"""The kinds registry (vault.kinds): every kind is found by search, opens where it lives, survives a reindex,
is exported and is wiped with the account, because each of those reads the one registry."""

import json

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from chats import services as chat_services
from tests.vault.conftest import make_upload
from vault import kinds
from vault.files import services
from vault.models import SearchToken, TagIndex
from vault.notes.services import note_create
from vault.search import selectors as search_selectors
from vault.search.reindex import vault_reindex

pytestmark = pytest.mark.django_db


def make_file(user, keys):
    return services.file_upload(user=user, keys=keys, upload=make_upload(keys, "zebra.txt", b"x"), tags=[]).file


def make_folder(user, keys):
    return services.folder_create(user=user, keys=keys, name="zebra stripes")


def make_note(user, keys):
    return note_create(user=user, keys=keys, title="Zebra", body="stripes")


def make_message(user, keys):
    chat = chat_services.chat_create(user=user, keys=keys, title="Savanna")
    return chat_services.message_create(user=user, keys=keys, chat_id=chat.pk, role="user", content="a zebra passed")


MAKERS = {"file": make_file, "folder": make_folder, "note": make_note, "message": make_message}


def test_every_registered_kind_has_a_maker_here():
    assert sorted(kinds.names()) == sorted(MAKERS)


@pytest.fixture
def items(user, keys):
    return {name: maker(user, keys) for name, maker in MAKERS.items()}


def found(user, keys) -> dict:
    return {(r["kind"], r["item"].pk) for r in search_selectors.search(user=user, keys=keys, query="zebra")}


def test_reindex_keeps_every_kind_findable(user, keys, items):
    """Reindex used to delete the tokens of chat messages and never rebuild them."""
    expected = {(name, item.pk) for name, item in items.items()}
    assert found(user, keys) == expected
    before = sorted(SearchToken.objects.filter(owner=user).values_list("kind", "item_id", "token"))
    counts = vault_reindex(user=user, keys=keys)
    assert counts == {"files": 1, "folders": 1, "notes": 1, "messages": 1}
    assert sorted(SearchToken.objects.filter(owner=user).values_list("kind", "item_id", "token")) == before
    assert found(user, keys) == expected


def test_search_results_say_what_they_are_and_where_they_open(user, keys, items, account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    results = {r["kind"]: r for r in client.get("/api/v1/search?q=zebra").json()["results"]}
    assert set(results) == set(MAKERS)
    message, chat_id = items["message"], items["message"].chat_id
    assert results["message"]["name"] == "Savanna" and results["message"]["parent"] == str(chat_id)
    assert results["message"]["url"] == f"/chats/{chat_id}/#message-{message.pk}"
    assert "zebra" in results["message"]["snippet"]
    assert results["note"]["url"] == f"/notes/{items['note'].pk}/"
    assert results["folder"]["url"] == f"/files/{items['folder'].pk}/"
    assert results["file"]["url"] == f"/files/?preview={items['file'].pk}"


def test_every_kind_is_exported(user, keys, items, account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    response = client.get("/api/v1/me/data")
    document = json.loads(b"".join(response.streaming_content))
    assert list(document)[:3] == ["format", "since", "profile"]
    assert [k for k in document if k not in {"format", "since", "profile"}] == [
        "folders",
        "files",
        "notes",
        "chats",
        "shares",
        "activity",
    ]
    assert document["chats"][0]["messages"][0]["content"] == "a zebra passed"


def test_account_deletion_wipes_every_kind(user, keys, items, account):
    account_services.account_delete(user=user, password=account.password)
    for kind in kinds.all_kinds():
        assert not kind.model.objects.filter(owner_id=user.pk).exists(), kind.name
    assert not SearchToken.objects.filter(owner_id=user.pk).exists()
    assert not TagIndex.objects.filter(owner_id=user.pk).exists()
