"""vault_fsck and vault_purge_trash."""

import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.vault.conftest import make_upload
from vault.files import services
from vault.models import File, FileVersion
from vault.trash import services as trash

pytestmark = pytest.mark.django_db(transaction=True)


def age(path, seconds=7200):
    old = time.time() - seconds
    os.utime(path, (old, old))


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
