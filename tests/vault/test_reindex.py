"""Rebuilding a user's blind indexes: API action and manage.py vault_reindex."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.vault.conftest import make_upload
from vault.files import services
from vault.models import SearchToken, TagIndex
from vault.search import selectors as search_selectors

pytestmark = pytest.mark.django_db


def state(user):
    return (
        sorted(SearchToken.objects.filter(owner=user).values_list("kind", "item_id", "token")),
        sorted(TagIndex.objects.filter(owner=user).values_list("kind", "item_id", "token")),
    )


def seed(user, keys):
    folder = services.folder_create(user=user, keys=keys, name="Projects", tags=["work"])
    services.file_upload(
        user=user,
        keys=keys,
        upload=make_upload(keys, "plan.txt", b"the moonshot plan"),
        folder_id=folder.pk,
        tags=["idea"],
    )
    from vault.notes.services import note_create

    note_create(user=user, keys=keys, title="Diary", body="rainy day", tags=["personal"])


def test_reindex_rebuilds_exactly_the_same_index(user, keys, account):
    seed(user, keys)
    before = state(user)
    SearchToken.objects.filter(owner=user).delete()
    TagIndex.objects.filter(owner=user).delete()
    SearchToken.objects.create(owner=user, kind=1, item_id="00000000-0000-0000-0000-000000000001", token=7)  # stale
    assert list(search_selectors.search(user=user, keys=keys, query="moonshot")) == []
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    response = client.post("/api/v1/search/reindex")
    assert response.status_code == 200 and response.json() == {
        "folders": 1,
        "files": 1,
        "notes": 1,
        "messages": 0,
        "text_recognition_queued": 0,
    }
    assert state(user) == before
    assert [r["kind"] for r in search_selectors.search(user=user, keys=keys, query="moonshot")] == ["file"]


def test_reindex_command_with_password(user, keys, account, monkeypatch):
    seed(user, keys)
    before = state(user)
    SearchToken.objects.filter(owner=user).delete()
    monkeypatch.setattr("sys.stdin", io.StringIO(account.password + "\n"))
    out = io.StringIO()
    call_command("vault_reindex", "--user", "ALICE", "--password-stdin", stdout=out)
    assert "Re-indexed 1 files, 1 folders, 1 notes, 0 messages." in out.getvalue()
    assert state(user) == before
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
    with pytest.raises(CommandError, match="wrong"):
        call_command("vault_reindex", "--user", "alice", "--password-stdin")
    with pytest.raises(CommandError, match="No user"):
        call_command("vault_reindex", "--user", "nobody", "--password-stdin")
