"""An item's Modified time is its content's: renaming, moving and retagging leave it alone (as on Nextcloud or
Seafile); ``changed_at`` moves with every change, and the data export's ``?since`` follows it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.vault.conftest import bearer, make_upload
from vault.files import services
from vault.models import File, Folder, Note
from vault.notes import services as notes
from vault.trash import services as trash

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=30)


def aged(model, pk):
    """Set an item's times a month back, so that any change made now shows."""
    model.objects.filter(pk=pk).update(modified_at=LONG_AGO, changed_at=LONG_AGO)
    return model.objects.get(pk=pk)


def test_retag_rename_move_keep_a_files_modified_time(user, keys):
    folder = services.folder_create(user=user, keys=keys, name="Docs")
    file = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "a.txt", b"hello")).file
    aged(File, file.pk)
    services.file_update(user=user, keys=keys, file_id=file.pk, tags=["work"])
    after_tags = File.objects.get(pk=file.pk)
    assert after_tags.modified_at == LONG_AGO and after_tags.changed_at > LONG_AGO
    aged(File, file.pk)
    services.file_update(user=user, keys=keys, file_id=file.pk, name="b.txt", folder_id=folder.pk)
    moved = File.objects.get(pk=file.pk)
    assert moved.modified_at == LONG_AGO and moved.changed_at > LONG_AGO
    assert keys.file_name(moved) == "b.txt" and moved.folder_id == folder.pk


def test_new_content_moves_a_files_modified_time(user, keys):
    file = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "a.txt", b"one")).file
    aged(File, file.pk)
    services.file_version_add(user=user, keys=keys, file_id=file.pk, upload=make_upload(keys, "a.txt", b"two"))
    file.refresh_from_db()
    assert file.modified_at > LONG_AGO and file.changed_at == file.modified_at


def test_retag_rename_move_keep_a_folders_modified_time(user, keys):
    other = services.folder_create(user=user, keys=keys, name="Other")
    folder = services.folder_create(user=user, keys=keys, name="Docs")
    aged(Folder, folder.pk)
    services.folder_update(user=user, keys=keys, folder_id=folder.pk, tags=["x"])
    services.folder_update(user=user, keys=keys, folder_id=folder.pk, name="Papers", parent_id=other.pk)
    folder.refresh_from_db()
    assert folder.modified_at == LONG_AGO and folder.changed_at > LONG_AGO
    assert keys.folder_name(folder) == "Papers" and keys.folder_tags(folder) == ["x"]


def test_note_tags_and_moves_keep_its_modified_time_edits_move_it(user, keys):
    folder = services.folder_create(user=user, keys=keys, name="Docs")
    note = notes.note_create(user=user, keys=keys, title="Plan", body="- [ ] call")
    aged(Note, note.pk)
    notes.note_update(user=user, keys=keys, note_id=note.pk, tags=["home"], folder_id=folder.pk)
    note.refresh_from_db()
    assert note.modified_at == LONG_AGO and note.changed_at > LONG_AGO and note.version == 1
    notes.note_update(user=user, keys=keys, note_id=note.pk, body="- [x] call")
    note.refresh_from_db()
    assert note.modified_at > LONG_AGO and note.version == 2
    aged(Note, note.pk)
    notes.note_update(user=user, keys=keys, note_id=note.pk, title="Plan")  # the same title: nothing changed
    note.refresh_from_db()
    assert note.modified_at == LONG_AGO


def test_trash_and_restore_change_only_changed_at(user, keys):
    file = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "a.txt", b"x")).file
    aged(File, file.pk)
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    trashed = File.objects.get(pk=file.pk)
    assert trashed.modified_at == LONG_AGO and trashed.changed_at > LONG_AGO
    aged(File, file.pk)
    trash.trash_restore(user=user, keys=keys, item_id=file.pk)
    restored = File.objects.get(pk=file.pk)
    assert restored.modified_at == LONG_AGO and restored.changed_at > LONG_AGO


def test_api_retag_keeps_modified_at_and_export_since_still_sees_it(account, keys):
    client = bearer(account)
    file = services.file_upload(user=account.user, keys=keys, upload=make_upload(keys, "a.txt", b"hello")).file
    aged(File, file.pk)
    before = client.get(f"/api/v1/files/{file.pk}/").json()["modified_at"]
    since = timezone.now().isoformat().replace("+00:00", "Z")
    response = client.patch(f"/api/v1/files/{file.pk}/", {"tags": ["work"], "name": "b.txt"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["modified_at"] == before
    assert client.get(f"/api/v1/files/{file.pk}/").json()["modified_at"] == before
    export = client.get("/api/v1/me/data", {"since": since})
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert b"b.txt" in body  # the export's ?since follows every change, a rename and new tags included
