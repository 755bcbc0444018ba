"""vault_fsck and vault_purge_trash."""

import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.blobstore import IN_OBJECT_STORE, local_blobs_only
from tests.vault.conftest import make_upload
from vault.files import services
from vault.models import File, FileVersion
from vault.trash import services as trash

pytestmark = pytest.mark.django_db(transaction=True)


def age(path, seconds=7200):
    old = time.time() - seconds
    os.utime(path, (old, old))


@local_blobs_only  # sets file times; test_fsck_in_either_storage below covers both
def test_fsck_removes_old_orphans_and_reports_missing(user, keys, blob_dir):
    services.file_upload(user=user, keys=keys, upload=make_upload(keys, "kept.txt", b"kept"))
    orphan = make_upload(keys, "orphan.txt", b"no row")  # a finished blob that never got its row
    partial = blob_dir / str(user.pk) / ".partial-crash"
    partial.write_bytes(b"half")
    fresh = make_upload(keys, "in-flight.txt", b"uploading")  # young: an upload in flight
    for path in (blob_dir / orphan.blob, partial):
        age(path)
    out = StringIO()
    call_command("vault_fsck", "--dry-run", stdout=out)
    assert "orphan blob: " + orphan.blob in out.getvalue() and (blob_dir / orphan.blob).exists()
    out = StringIO()
    call_command("vault_fsck", stdout=out)
    assert not (blob_dir / orphan.blob).exists() and not partial.exists()
    assert (blob_dir / fresh.blob).exists()
    version = FileVersion.objects.get()
    (blob_dir / version.blob).unlink()
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("vault_fsck", stdout=out)
    assert f"missing blob for version {version.pk}" in out.getvalue()


def test_fsck_in_either_storage(user, keys, blob_dir):
    """Old orphans go, young ones (uploads in flight) and blobs with rows stay, missing blobs are reported; in an
    object store, multipart uploads a stopped server left unfinished are aborted too."""
    from vault.transfers.fsck import vault_fsck

    kept = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "kept.txt", b"kept")).version
    orphan = make_upload(keys, "orphan.txt", b"no row")
    stale = None
    if IN_OBJECT_STORE:
        from django.core.files.storage import storages

        from vault.transfers.objects import MultipartWrite

        stale = MultipartWrite(storages["vault"], f"{user.pk}/stale")
        stale._send_part(b"x" * (6 * 1024 * 1024))  # one part sent, never completed
    time.sleep(2.5)  # object stores keep whole seconds
    fresh = make_upload(keys, "in-flight.txt", b"uploading")
    dry = vault_fsck(remove=False, min_age_seconds=2)
    assert dry.orphans == [orphan.blob] and not dry.missing and (blob_dir / orphan.blob).exists()
    done = vault_fsck(remove=True, min_age_seconds=2)
    assert orphan.blob in done.removed and not (blob_dir / orphan.blob).exists()
    assert (blob_dir / fresh.blob).exists() and (blob_dir / kept.blob).exists()
    if stale is not None:
        assert f"{user.pk}/stale (an unfinished multipart upload)" in done.removed
        client = stale.storage.connection.meta.client
        assert not client.list_multipart_uploads(Bucket=stale.storage.bucket_name).get("Uploads")
    (blob_dir / kept.blob).unlink()
    assert vault_fsck(min_age_seconds=2).missing == [str(kept.pk)]


def test_fsck_reports_clean(user, keys):
    services.file_upload(user=user, keys=keys, upload=make_upload(keys, "a.txt", b"a"))
    out = StringIO()
    call_command("vault_fsck", stdout=out)
    assert "vault is consistent" in out.getvalue()


def test_purge_trash_command(user, keys, blob_dir):
    file = services.file_upload(user=user, keys=keys, upload=make_upload(keys, "old.txt", b"old")).file
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    File.objects.filter(pk=file.pk).update(trashed_at=timezone.now() - timedelta(days=40))
    out = StringIO()
    call_command("vault_purge_trash", stdout=out)
    assert "Purged 1 trash entry older than 30 days." in out.getvalue()
    assert not File.objects.exists() and not any(p.is_file() for p in blob_dir.rglob("*"))
