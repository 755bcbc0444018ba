"""Vault services: folders, files, versions, trash and quota, on real files and a real database."""

import os

import pytest

from accounts.models import User
from activity.models import Event
from locker.crypto import DecryptionError
from locker.errors import InvalidInput, NotFound
from tests.vault.conftest import blob_files, make_upload
from vault import common
from vault.files import services
from vault.models import File, FileVersion, Folder
from vault.transfers.downloads import plaintext_chunks
from vault.transfers.uploads import FileTooLarge
from vault.trash import services as trash

pytestmark = pytest.mark.django_db


def read(keys, file, version=None) -> bytes:
    file.refresh_from_db()
    return b"".join(plaintext_chunks(keys, file, version or file.current_version))


def upload(user, keys, name, data, **kwargs):
    return services.file_upload(user=user, keys=keys, upload=make_upload(keys, name, data), **kwargs)


def test_upload_and_read_back(user, keys, blob_dir):
    data = os.urandom(200_000)
    result = upload(user, keys, "photo.bin", data)
    assert result.created and result.version.number == 1
    assert read(keys, result.file) == data
    assert keys.file_name(result.file) == "photo.bin"
    user.refresh_from_db()
    assert user.storage_used == result.version.stored_size > len(data)
    [blob] = blob_files(blob_dir)
    assert blob.relative_to(blob_dir).parts[0] == str(user.pk)  # per-user folder, random name
    assert "photo" not in str(blob)
    assert Event.objects.filter(action="file.uploaded", object_id=str(result.file.pk)).exists()


def test_same_name_same_folder_is_a_new_version(user, keys):
    first = upload(user, keys, "notes.txt", b"one")
    second = upload(user, keys, "NOTES.txt", b"two")
    assert not second.created and second.file.pk == first.file.pk and second.version.number == 2
    assert read(keys, second.file) == b"two"
    assert read(keys, second.file, FileVersion.objects.get(file=first.file, number=1)) == b"one"


def test_on_conflict_rename_and_error(user, keys):
    upload(user, keys, "report.pdf", b"a")
    renamed = upload(user, keys, "report.pdf", b"b", on_conflict="rename")
    assert keys.file_name(renamed.file) == "report (2).pdf"
    with pytest.raises(common.NameConflict):
        upload(user, keys, "report.pdf", b"c", on_conflict="error")


def test_mime_is_sniffed_not_trusted(user, keys):
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(100)
    assert upload(user, keys, "evil.html", png).file.mime_type == "image/png"
    assert upload(user, keys, "page.html", b"<script>alert(1)</script>").file.mime_type == "text/html"
    assert upload(user, keys, "x.exe", b"plain words").file.mime_type == "text/plain"
    assert upload(user, keys, "blob", os.urandom(64) + b"\xff\xfe").file.mime_type == "application/octet-stream"


def test_folders_create_rename_move_without_cycles(user, keys):
    docs = services.folder_create(user=user, keys=keys, name="Docs")
    work = services.folder_create(user=user, keys=keys, name="Work", parent_id=docs.pk)
    deep = services.folder_create(user=user, keys=keys, name="Deep", parent_id=work.pk)
    with pytest.raises(common.NameConflict):
        services.folder_create(user=user, keys=keys, name="docs")
    assert (
        keys.folder_name(services.folder_create(user=user, keys=keys, name="Docs", on_conflict="rename")) == "Docs (2)"
    )
    for target in (docs.pk, work.pk, deep.pk):
        with pytest.raises(InvalidInput) as info:
            services.folder_update(user=user, keys=keys, folder_id=docs.pk, parent_id=target)
        assert info.value.code in {"folder_cycle"}
    file = upload(user, keys, "a.txt", b"inside", folder_id=deep.pk).file
    # moving a subtree re-wraps one key; everything below stays readable
    services.folder_update(user=user, keys=keys, folder_id=work.pk, parent_id=None, name="Work 2025")
    fresh = keys_for_user(user, keys)
    work.refresh_from_db()
    assert work.parent_id is None and fresh.folder_name(work) == "Work 2025"
    assert (
        b"".join(plaintext_chunks(fresh, File.objects.get(pk=file.pk), File.objects.get(pk=file.pk).current_version))
        == b"inside"
    )


def keys_for_user(user, keys):
    """A fresh key cache for the same user (no remembered keys)."""
    from vault.keys import VaultKeys

    return VaultKeys(user.pk, keys.udk)


def test_file_rename_move_retag(user, keys):
    folder = services.folder_create(user=user, keys=keys, name="Inbox")
    file = upload(user, keys, "scan.pdf", b"%PDF-1.4 data").file
    services.file_update(
        user=user, keys=keys, file_id=file.pk, name="Invoice.pdf", folder_id=folder.pk, tags=["tax", "2025", "Tax"]
    )
    fresh = keys_for_user(user, keys)
    file = File.objects.get(pk=file.pk)
    assert (
        file.folder_id == folder.pk
        and fresh.file_name(file) == "Invoice.pdf"
        and fresh.file_tags(file) == ["tax", "2025"]
    )
    assert read(fresh, file) == b"%PDF-1.4 data"


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "..", ".", "x" * 256, "bad\x00name", "tab\there", "rtl\u202ename"])
def test_hostile_names_are_refused(user, keys, bad, blob_dir):
    with pytest.raises(InvalidInput):
        upload(user, keys, bad, b"data")
    with pytest.raises(InvalidInput):
        services.folder_create(user=user, keys=keys, name=bad)
    assert blob_files(blob_dir) == [] and not File.objects.exists()


def test_if_match_guards_new_versions(user, keys):
    file = upload(user, keys, "a.txt", b"v1").file
    etag = common.etag_of(file.current_version_id)
    services.file_version_add(user=user, keys=keys, file_id=file.pk, upload=make_upload(keys, "", b"v2"), if_match=etag)
    with pytest.raises(common.PreconditionFailed):
        services.file_version_add(
            user=user, keys=keys, file_id=file.pk, upload=make_upload(keys, "", b"v3"), if_match=etag
        )
    assert FileVersion.objects.filter(file=file).count() == 2


def test_restore_version_makes_a_new_newest_version(user, keys):
    file = upload(user, keys, "a.txt", b"first").file
    upload(user, keys, "a.txt", b"second")
    version = services.file_version_restore(user=user, keys=keys, file_id=file.pk, number=1)
    assert version.number == 3 and read(keys, File.objects.get(pk=file.pk)) == b"first"
    assert [v.number for v in FileVersion.objects.filter(file=file)] == [3, 2, 1]
    with pytest.raises(NotFound):
        services.file_version_restore(user=user, keys=keys, file_id=file.pk, number=9)


def test_keep_last_n_versions(user, keys, blob_dir, django_capture_on_commit_callbacks):
    User.objects.filter(pk=user.pk).update(vault_keep_versions=2)
    user.refresh_from_db()
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            upload(user, keys, "a.txt", f"v{n}".encode())
    file = File.objects.get()
    assert [v.number for v in file.versions.all()] == [4, 3]
    assert len(blob_files(blob_dir)) == 2
    user.refresh_from_db()
    assert user.storage_used == sum(v.stored_size for v in file.versions.all())


def test_quota_is_enforced_before_rows_and_blobs_stay(user, keys, blob_dir):
    User.objects.filter(pk=user.pk).update(storage_quota=1000)
    user.refresh_from_db()
    upload(user, keys, "small.bin", b"x" * 500)
    with pytest.raises(common.QuotaExceeded) as info:
        upload(user, keys, "big.bin", b"y" * 600)
    assert info.value.status_code == 413 and info.value.code == "quota_exceeded"
    assert File.objects.count() == 1 and len(blob_files(blob_dir)) == 1
    assert Event.objects.filter(action="quota.refused").exists()


def test_size_limit_aborts_the_stream(user, keys, blob_dir):
    with pytest.raises(FileTooLarge):
        make_upload(keys, "huge.bin", b"z" * 50_000, max_size=20_000)
    assert blob_files(blob_dir) == []


def test_trash_restore_purge(user, keys, blob_dir, django_capture_on_commit_callbacks):
    folder = services.folder_create(user=user, keys=keys, name="Trip")
    sub = services.folder_create(user=user, keys=keys, name="Day 1", parent_id=folder.pk)
    photo = upload(user, keys, "p.jpg", b"\xff\xd8\xff" + b"1" * 100, folder_id=sub.pk).file
    loose = upload(user, keys, "loose.txt", b"l", folder_id=folder.pk).file
    trash.item_trash(user=user, kind="file", item_id=loose.pk)  # trashed on its own first
    trash.item_trash(user=user, kind="folder", item_id=folder.pk)
    assert Folder.objects.filter(trashed_at__isnull=True).count() == 0
    with pytest.raises(NotFound):
        trash.item_trash(user=user, kind="file", item_id=photo.pk)  # already in the trash
    trash.trash_restore(user=user, keys=keys, item_id=folder.pk)
    assert Folder.objects.filter(trashed_at__isnull=True).count() == 2
    assert File.objects.get(pk=photo.pk).trashed_at is None
    assert File.objects.get(pk=loose.pk).trashed_at is not None  # its own entry stays in the trash
    trash.item_trash(user=user, kind="folder", item_id=folder.pk)
    used_before = User.objects.get(pk=user.pk).storage_used
    with django_capture_on_commit_callbacks(execute=True):
        freed = trash.trash_purge(user=user, item_id=folder.pk)
    assert freed == used_before  # the separately trashed file inside went too
    assert not File.objects.exists() and not Folder.objects.exists() and not FileVersion.objects.exists()
    assert blob_files(blob_dir) == []
    assert User.objects.get(pk=user.pk).storage_used == 0


def test_restore_goes_to_the_top_when_the_folder_is_gone(user, keys):
    folder = services.folder_create(user=user, keys=keys, name="Old")
    file = upload(user, keys, "keep.txt", b"keep me", folder_id=folder.pk).file
    upload(user, keys, "keep.txt", b"a top-level namesake")
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    trash.item_trash(user=user, kind="folder", item_id=folder.pk)
    trash.trash_purge(user=user, item_id=folder.pk)
    restored = (
        trash.trash_restore(user=user, keys=keys, item_id=file.pk) if File.objects.filter(pk=file.pk).exists() else None
    )
    # the file lived inside the purged folder, so it was purged with it
    assert restored is None
    other = upload(user, keys, "x.txt", b"x", folder_id=services.folder_create(user=user, keys=keys, name="F").pk).file
    trash.item_trash(user=user, kind="file", item_id=other.pk)
    trash.item_trash(user=user, kind="folder", item_id=other.folder_id)
    restored = trash.trash_restore(user=user, keys=keys, item_id=other.pk)
    fresh = keys_for_user(user, keys)
    restored.refresh_from_db()
    assert restored.folder_id is None and fresh.file_name(restored) == "x.txt" and read(fresh, restored) == b"x"


def test_trash_empty_and_expiry(user, keys):
    from datetime import timedelta

    from django.utils import timezone

    a = upload(user, keys, "a.txt", b"a").file
    b = upload(user, keys, "b.txt", b"b").file
    trash.item_trash(user=user, kind="file", item_id=a.pk)
    trash.item_trash(user=user, kind="file", item_id=b.pk)
    File.objects.filter(pk=a.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    assert trash.trash_purge_expired() == 1
    assert list(File.objects.values_list("pk", flat=True)) == [b.pk]
    trash.trash_empty(user=user)
    assert not File.objects.exists()


def test_other_users_ids_are_not_found(user, keys, other_account, other_keys):
    mine = upload(user, keys, "mine.txt", b"secret").file
    folder = services.folder_create(user=user, keys=keys, name="Mine")
    other = other_account.user
    for call in (
        lambda: services.file_update(user=other, keys=other_keys, file_id=mine.pk, name="stolen"),
        lambda: services.folder_update(user=other, keys=other_keys, folder_id=folder.pk, name="stolen"),
        lambda: trash.item_trash(user=other, kind="file", item_id=mine.pk),
        lambda: trash.item_trash(user=other, kind="folder", item_id=folder.pk),
        lambda: services.folder_create(user=other, keys=other_keys, name="x", parent_id=folder.pk),
        lambda: services.file_version_restore(user=other, keys=other_keys, file_id=mine.pk, number=1),
        lambda: upload(other, other_keys, "x.txt", b"x", folder_id=folder.pk),
        lambda: trash.trash_purge(user=other, item_id=mine.pk),
    ):
        with pytest.raises(NotFound):
            call()
    assert read(keys, mine) == b"secret" and keys.folder_name(Folder.objects.get(pk=folder.pk)) == "Mine"


def test_blobs_are_bound_to_their_version_and_owner(user, keys, other_account, other_keys, blob_dir):
    """Swapping the bytes of two files' blobs, or of two users' blobs, fails to decrypt."""
    a = upload(user, keys, "a.txt", b"A" * 1000).file
    b = upload(user, keys, "b.txt", b"B" * 1000).file
    theirs = upload(other_account.user, other_keys, "c.txt", b"C" * 1000).file
    path_a = blob_dir / a.current_version.blob
    for source in (blob_dir / b.current_version.blob, blob_dir / theirs.current_version.blob):
        path_a.write_bytes(source.read_bytes())
        with pytest.raises(DecryptionError):
            read(keys, a)


def test_account_deletion_and_admin_reset_wipe_the_vault(
    user, keys, account, blob_dir, django_capture_on_commit_callbacks
):
    from accounts import services as account_services
    from accounts import sessions as account_sessions
    from tests.factories import make_account

    upload(user, keys, "a.txt", b"a")
    admin = make_account("root", role=User.Role.ADMIN).user
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_admin_reset(admin=admin, user=user, new_password="a brand new passphrase")
    assert not File.objects.exists() and blob_files(blob_dir) == []
    assert User.objects.get(pk=user.pk).storage_used == 0
    result = account_services.auth_login(username=user.username, password="a brand new passphrase", kind="token")
    new_keys = keys_for_user(user, keys)
    new_keys.udk = account_sessions.unlock_session_udk(
        user_id=user.pk, session_id=result.session.pk, session_secret=result.session_secret
    )
    new_keys = type(new_keys)(user.pk, new_keys.udk)
    upload(user, new_keys, "b.txt", b"b")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.account_delete(user=user, password="a brand new passphrase")
    assert not File.objects.exists() and blob_files(blob_dir) == []
