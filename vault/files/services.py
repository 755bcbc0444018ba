"""Writes of folders, files and their versions: create, upload, new version, rename, move, retag, restore a
version. Each runs in one transaction that also writes its activity event and index rows; anything heavy
(encrypting, deriving thumbnails and text) happens before it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from accounts.models import User
from activity import actions
from activity.notifications import quota_crossed
from activity.services import event_record
from locker.errors import InvalidInput, LockerError, NotFound
from locker.http import RequestMeta
from vault import access
from vault.common import (
    UNSET,
    NameConflict,
    PreconditionFailed,
    QuotaExceeded,
    changed,
    checked_name,
    clean_name,
    clean_tags,
    delete_blobs_after_commit,
    etag_of,
    is_uuid,
    name_taken,
    owned_file,
    owned_folder,
    owner_of,
    record,
    same_vault,
)
from vault.derived import ocr
from vault.derived.derive import derive_upload, derived_store, preview_blobs
from vault.keys import VaultKeys
from vault.models import File, FileVersion, Folder, SearchToken, Star, Upload
from vault.search.index import index_item, reindex_fields
from vault.transfers.downloads import plaintext_chunks
from vault.transfers.uploads import EncryptedUpload, upload_from_iterable


def index_folder(user: User, keys: VaultKeys, folder_id, name: str, tags: list[str]) -> None:
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.FOLDER,
        item_id=folder_id,
        fields={"name": [name], "tag": tags},
    )


def index_file(user: User, keys: VaultKeys, file_id, name: str, tags: list[str], content: list[str]) -> None:
    """Name, tags and content words, replacing all of the file's tokens. The content words are never stored: a
    caller that has none at hand changes the other fields with :func:`vault.search.index.reindex_fields` instead."""
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.FILE,
        item_id=file_id,
        fields={"name": [name], "tag": tags, "content": content},
    )


def folder_create(
    *,
    user: User,
    keys: VaultKeys,
    name,
    parent_id=None,
    tags=None,
    on_conflict: str = "error",
    meta: RequestMeta | None = None,
) -> Folder:
    name, tags = clean_name(name), clean_tags(tags)
    with transaction.atomic():
        parent = owned_folder(user, parent_id, lock=True, shared=True) if parent_id else None
        owner = owner_of(user, parent)
        keys = keys.for_owner(owner.pk)
        changed(owner)
        parent_key = keys.folder_key(parent)
        name, mac = checked_name(owner, keys, parent_id and parent.pk, parent_key, name, on_conflict=on_conflict)
        folder_id = uuid.uuid4()
        key = keys.new_key()
        try:
            folder = Folder.objects.create(
                id=folder_id,
                owner=owner,
                parent=parent,
                key_wrapped=keys.wrap_folder_key(key, folder_id, parent_key),
                name_sealed=keys.seal_folder_name(key, folder_id, name),
                name_mac=mac,
                tags_sealed=keys.seal_folder_tags(key, folder_id, tags),
            )
        except IntegrityError:
            raise NameConflict(f'"{name}" already exists in this folder.') from None
        keys.remember_folder_key(folder_id, key)
        index_folder(owner, keys, folder_id, name, tags)
        record(
            actions.FOLDER_CREATED,
            user=user,
            owner=owner,
            meta=meta,
            object_type="folder",
            object_id=folder_id,
            data={"folder": _id_or_none(parent)},
        )
    return folder


def _id_or_none(folder: Folder | None) -> str | None:
    """The id of the folder an item is in (or went to) for its event's data: ids only, never a name; None for
    the top level. The activity log names the folder at read time for whoever can open it."""
    return str(folder.pk) if folder is not None else None


def _ancestors_include(folder_id, candidate: Folder | None) -> bool:
    """True if ``folder_id`` is ``candidate`` or one of its ancestors (a move there would make a cycle)."""
    while candidate is not None:
        if candidate.pk == folder_id:
            return True
        candidate = candidate.parent
    return False


def folder_update(
    *,
    user: User,
    keys: VaultKeys,
    folder_id,
    name=None,
    parent_id=UNSET,
    tags=None,
    on_conflict: str = "error",
    meta=None,
) -> Folder:
    """Rename and/or move a folder. A move re-wraps one key, whatever the size of the subtree."""
    with transaction.atomic():
        folder = owned_folder(user, folder_id, lock=True, shared=True)
        owner = owner_of(user, folder)
        keys = keys.for_owner(owner.pk)
        changed(owner)
        key = keys.folder_key(folder)
        new_name = clean_name(name) if name is not None else keys.folder_name(folder)
        moving = parent_id is not UNSET and str(parent_id or "") != str(folder.parent_id or "")
        target = folder.parent
        if moving:
            target = owned_folder(user, parent_id, shared=True) if parent_id else None
            same_vault(owner, target, user)
            if _ancestors_include(folder.pk, target):
                raise InvalidInput("A folder cannot move into itself or its own subfolder.", code="folder_cycle")
        target_key = keys.folder_key(target)
        new_name, mac = checked_name(
            owner, keys, target and target.pk, target_key, new_name, on_conflict=on_conflict, exclude_id=folder.pk
        )
        folder.name_sealed = keys.seal_folder_name(key, folder.pk, new_name)
        folder.name_mac = mac
        if moving:
            folder.parent = target
            folder.key_wrapped = keys.wrap_folder_key(key, folder.pk, target_key)
        if tags is not None:
            folder.tags_sealed = keys.seal_folder_tags(key, folder.pk, clean_tags(tags))
        # A rename, move or new tags change the folder's metadata, not its content: modified_at stays (as on
        # Nextcloud or Seafile, and like a directory's mtime), changed_at records the change (vault.models).
        folder.changed_at = timezone.now()
        folder.save()
        index_folder(owner, keys, folder.pk, new_name, keys.folder_tags(folder))
        record(
            actions.FOLDER_MOVED if moving else actions.FOLDER_RENAMED,
            user=user,
            owner=owner,
            meta=meta,
            object_type="folder",
            object_id=folder.pk,
            data={"folder": _id_or_none(target)} if moving else None,
        )
    return folder


@dataclass
class UploadResult:
    file: File
    version: FileVersion
    created: bool


def _charge_quota(user: User, upload: EncryptedUpload) -> None:
    """Add the upload's stored bytes to the user's usage, or refuse with 413 ``quota_exceeded``."""
    # FOR NO KEY UPDATE (PostgreSQL): the usage changes, never the key, so rows that point at the user (the events
    # of the same transaction in another user's log, say) need not wait for it, nor make it wait in a cycle.
    locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    held = reserved_bytes(user)  # resumable uploads in progress hold their room
    if locked.storage_used + held + upload.stored_size > locked.storage_quota:
        free = max(0, locked.storage_quota - locked.storage_used - held)
        raise QuotaExceeded.needing(
            needed=upload.stored_size,
            free=free,
            quota=locked.storage_quota,
            errors={"quota": [str(locked.storage_quota)], "used": [str(locked.storage_used)]},
        )
    User.objects.filter(pk=user.pk).update(storage_used=F("storage_used") + upload.stored_size)
    quota_crossed(
        user_id=user.pk,
        quota=locked.storage_quota,
        before=locked.storage_used,
        after=locked.storage_used + upload.stored_size,
    )


def reserved_bytes(user: User) -> int:
    """Bytes of ``user``'s quota held by resumable uploads in progress (``vault.transfers.tus``), not expired."""
    held = Upload.objects.filter(quota_user=user, file_id__isnull=True, expires_at__gt=timezone.now())
    return held.aggregate(total=Sum("reserved"))["total"] or 0


def _record_quota_refusal(user, meta, size) -> None:
    event_record(action=actions.QUOTA_REFUSED, user=user, outcome="failure", meta=meta, data={"bytes": size})


def _add_version(user: User, keys: VaultKeys, file: File, file_key: bytes, upload: EncryptedUpload) -> FileVersion:
    number = (file.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    previous_id, previous_mime = file.current_version_id, file.mime_type
    version = FileVersion.objects.create(
        id=upload.version_id,
        file=file,
        number=number,
        content_key_wrapped=keys.wrap_content_key(upload.content_key, upload.version_id, file_key),
        blob=upload.blob,
        size=upload.size,
        stored_size=upload.stored_size,
        mime_type=upload.mime_type,
        content_mac=upload.content_mac,
        author_id=upload.writer_id,
    )
    file.current_version = version
    file.size = upload.size
    file.mime_type = upload.mime_type
    file.changed_at = timezone.now()
    file.modified_at = upload.modified_at or file.changed_at
    file.save(update_fields=["current_version", "size", "mime_type", "modified_at", "changed_at"])
    # Thumbnail and text were derived before the transaction (vault.derived.derive); the new words replace the old.
    recognition = ocr.initial_state(user, upload.mime_type, upload.size) if upload.derivation else ("", "")
    words = derived_store(
        keys=keys,
        version=version,
        file_key=file_key,
        previous_version_id=previous_id,
        result=upload.derivation,
        ocr=recognition,
    )
    if words is not None:
        index_file(user, keys, file.pk, keys.file_name(file), keys.file_tags(file), content=words)
    if previous_id and ocr.applies(previous_mime):
        ocr.replaced(previous_id)
    if recognition[0] == ocr.PENDING:
        ocr.submit_after_commit(keys, version.pk)  # text recognition runs after the commit, off the request
    return version


def _prune_versions(user: User, file: File) -> list[str]:
    """Apply the user's keep-last-N setting; returns blobs to delete after commit."""
    keep = user.vault_keep_versions
    if not keep:
        return []
    old = list(file.versions.order_by("-number")[keep:])
    if not old:
        return []
    freed = sum(v.stored_size for v in old)
    previews = preview_blobs([v.pk for v in old])
    FileVersion.objects.filter(pk__in=[v.pk for v in old]).delete()
    User.objects.filter(pk=user.pk).update(storage_used=F("storage_used") - freed)
    return [v.blob for v in old] + previews


def file_upload(
    *,
    user: User,
    keys: VaultKeys,
    upload: EncryptedUpload,
    folder_id=None,
    tags=None,
    on_conflict: str = "version",
    meta: RequestMeta | None = None,
) -> UploadResult:
    """Store a finished encrypted upload as a new file, or as a new version of the same-named file.

    ``on_conflict``: ``version`` (default: same name in the same folder = new version),
    ``rename`` (keep both: "name (2).ext") or ``error`` (409).
    On any failure the upload's blob is deleted: no row, no blob.
    """
    try:
        name = clean_name(upload.name)
        tags = clean_tags(tags)
        derive_upload(keys=keys, upload=upload)  # thumbnail and text, before the database is locked
        with transaction.atomic():
            folder = owned_folder(user, folder_id, lock=True, shared=True) if folder_id else None
            owner = owner_of(user, folder)
            keys = keys.for_owner(owner.pk)
            changed(owner)
            parent_key = keys.folder_key(folder)
            mac = keys.name_mac(parent_key, name)
            existing = (
                File.objects.select_for_update()
                .filter(owner=owner, folder=folder, name_mac=mac, trashed_at__isnull=True)
                .first()
            )
            if existing is not None and on_conflict == "version":
                file_key = keys.file_key(existing, parent_key)
                _charge_quota(owner, upload)
                if tags:
                    existing.tags_sealed = keys.seal_file_tags(file_key, existing.pk, tags)
                    existing.save(update_fields=["tags_sealed"])
                    index_file(owner, keys, existing.pk, keys.file_name(existing, parent_key), tags, content=[])
                version = _add_version(owner, keys, existing, file_key, upload)
                delete_blobs_after_commit(_prune_versions(owner, existing))
                record(
                    actions.FILE_VERSION_ADDED,
                    user=user,
                    owner=owner,
                    meta=meta,
                    object_type="file",
                    object_id=existing.pk,
                )
                return UploadResult(file=existing, version=version, created=False)
            if existing is not None or name_taken(owner, folder and folder.pk, mac):
                name, mac = checked_name(owner, keys, folder and folder.pk, parent_key, name, on_conflict=on_conflict)
            _charge_quota(owner, upload)
            file_id = uuid.uuid4()
            file_key = keys.new_key()
            file = File.objects.create(
                id=file_id,
                owner=owner,
                folder=folder,
                key_wrapped=keys.wrap_file_key(file_key, file_id, parent_key),
                name_sealed=keys.seal_file_name(file_key, file_id, name),
                name_mac=mac,
                tags_sealed=keys.seal_file_tags(file_key, file_id, tags),
            )
            keys.remember_file_key(file_id, file_key)
            index_file(owner, keys, file_id, name, tags, content=[])
            version = _add_version(owner, keys, file, file_key, upload)
            record(
                actions.FILE_UPLOADED,
                user=user,
                owner=owner,
                meta=meta,
                object_type="file",
                object_id=file_id,
                data={"folder": _id_or_none(folder)},
            )
            return UploadResult(file=file, version=version, created=True)
    except BaseException as exc:
        upload.discard()
        if isinstance(exc, QuotaExceeded):
            _record_quota_refusal(user, meta, upload.stored_size)
        raise


@dataclass
class UploadOutcome:
    """One file of a many-file upload: stored (``result``) or refused (``error``), each on its own."""

    name: str
    result: UploadResult | None = None
    error: LockerError | None = None


def file_upload_many(
    *,
    user: User,
    keys: VaultKeys,
    uploads: list[EncryptedUpload],
    folder_id=None,
    tags=None,
    on_conflict: str = "version",
    meta: RequestMeta | None = None,
) -> list[UploadOutcome]:
    """Store several finished uploads into one folder, each in its own transaction: one refused (quota, name
    conflict, a folder gone) does not stop the others. The caller answers with every outcome."""
    outcomes = []
    for upload in uploads:
        try:
            result = file_upload(
                user=user, keys=keys, upload=upload, folder_id=folder_id, tags=tags, on_conflict=on_conflict, meta=meta
            )
        except LockerError as exc:
            outcomes.append(UploadOutcome(name=upload.name, error=exc))
        else:
            user.refresh_from_db(fields=["storage_used"])
            outcomes.append(UploadOutcome(name=upload.name, result=result))
    return outcomes


def file_version_add(
    *,
    user: User,
    keys: VaultKeys,
    file_id,
    upload: EncryptedUpload,
    if_match: str | None = None,
    meta=None,
    restored_from: int | None = None,
) -> FileVersion:
    """A new version from a raw body (``PUT content``); ``if_match`` guards against lost updates (412).

    ``restored_from``: the version is a copy of that older one (:func:`file_version_restore`), recorded as
    such in the same transaction."""
    try:
        derive_upload(keys=keys, upload=upload)  # thumbnail and text, before the database is locked
        with transaction.atomic():
            file = owned_file(user, file_id, lock=True, shared=True)
            owner = owner_of(user, file)
            keys = keys.for_owner(owner.pk)
            changed(owner)
            if if_match is not None and if_match.strip() not in {"*", etag_of(file.current_version_id)}:
                raise PreconditionFailed()
            file_key = keys.file_key(file)
            _charge_quota(owner, upload)
            version = _add_version(owner, keys, file, file_key, upload)
            delete_blobs_after_commit(_prune_versions(owner, file))
            record(actions.FILE_VERSION_ADDED, user=user, owner=owner, meta=meta, object_type="file", object_id=file.pk)
            if restored_from is not None:
                record(
                    actions.FILE_VERSION_RESTORED,
                    user=user,
                    owner=owner,
                    meta=meta,
                    object_type="file",
                    object_id=file.pk,
                    data={"from": restored_from},
                )
            return version
    except BaseException as exc:
        upload.discard()
        if isinstance(exc, QuotaExceeded):
            _record_quota_refusal(user, meta, upload.stored_size)
        raise


def file_download_record(*, user: User, file: File, meta=None, version: int | None = None) -> None:
    """Record a download in the activity log (once its body is being sent)."""
    with transaction.atomic():
        record(
            actions.FILE_DOWNLOADED,
            user=user,
            owner=owner_of(user, file),  # a share's recipient downloading: the owner hears of it
            meta=meta,
            object_type="file",
            object_id=file.pk,
            data={"version": version} if version else {},
        )


def file_update(
    *, user: User, keys: VaultKeys, file_id, name=None, folder_id=UNSET, tags=None, on_conflict="error", meta=None
) -> File:
    """Rename, move (re-wraps one key) and/or retag a file."""
    with transaction.atomic():
        file = owned_file(user, file_id, lock=True, shared=True)
        owner = owner_of(user, file)
        keys = keys.for_owner(owner.pk)
        changed(owner)
        file_key = keys.file_key(file)
        old_name, old_tags = keys.file_name(file), keys.file_tags(file)
        new_name = clean_name(name) if name is not None else old_name
        moving = folder_id is not UNSET and str(folder_id or "") != str(file.folder_id or "")
        target = file.folder
        if moving:
            target = owned_folder(user, folder_id, shared=True) if folder_id else None
            same_vault(owner, target, user)
        target_key = keys.folder_key(target)
        renamed = name is not None
        if renamed or moving:
            new_name, mac = checked_name(
                owner, keys, target and target.pk, target_key, new_name, on_conflict=on_conflict, exclude_id=file.pk
            )
            file.name_sealed = keys.seal_file_name(file_key, file.pk, new_name)
            file.name_mac = mac
        if moving:
            file.folder = target
            file.key_wrapped = keys.wrap_file_key(file_key, file.pk, target_key)
        if tags is not None:
            tags = clean_tags(tags)
            file.tags_sealed = keys.seal_file_tags(file_key, file.pk, tags)
        # Metadata only: the file's Modified time is its content's (a new version), as on Nextcloud or Seafile;
        # changed_at records that something changed (vault.models).
        file.changed_at = timezone.now()
        file.save()
        if renamed or tags is not None:  # name and tag tokens only: the content words stay (no decryption here)
            reindex_fields(
                owner_id=owner.pk,
                keys=keys.search,
                kind=SearchToken.Kind.FILE,
                item_id=file.pk,
                old={"name": [old_name], "tag": old_tags},
                new={"name": [new_name], "tag": tags if tags is not None else old_tags},
            )
        for flag, action in (
            (renamed, actions.FILE_RENAMED),
            (moving, actions.FILE_MOVED),
            (tags is not None, actions.FILE_RETAGGED),
        ):
            if flag:
                data = {"folder": _id_or_none(target)} if action == actions.FILE_MOVED else None
                record(action, user=user, owner=owner, meta=meta, object_type="file", object_id=file.pk, data=data)
    return file


def file_version_restore(*, user: User, keys: VaultKeys, file_id, number: int, meta=None) -> FileVersion:
    """Make an old version the newest, as a new version: history is never rewritten.

    Blobs are bound to their version id, so the old content is streamed into a
    fresh blob under a fresh content key (constant memory).
    """
    file = owned_file(user, file_id, shared=True)
    old = FileVersion.objects.filter(file=file, number=number).first() if isinstance(number, int) else None
    if old is None:
        raise NotFound("No such version.")
    upload = upload_from_iterable(
        owner_id=user.pk,
        mac_key=keys.content_mac_key(),
        name="",
        pieces=plaintext_chunks(keys, file, old),
        max_size=old.size,
    )
    upload.mime_type = old.mime_type
    return file_version_add(user=user, keys=keys, file_id=file.pk, upload=upload, meta=meta, restored_from=number)


def files_download_record(*, user: User, files: list[File], meta=None) -> None:
    """Record the download of each file of an archive (a zip of a selection), in one transaction, once it is sent."""
    with transaction.atomic():
        for file in files:
            record(
                actions.FILE_DOWNLOADED,
                user=user,
                owner=owner_of(user, file),
                meta=meta,
                object_type="file",
                object_id=file.pk,
                data={"archive": True},
            )


def star_set(*, user: User, kind: str, item_id, starred: bool) -> None:
    """Star (or unstar) a folder or file the user may see: a personal marker, idempotent. Not an audited action:
    it changes no data and nobody else sees it."""
    model = Folder if kind == "folder" else File
    if not is_uuid(item_id) or not access.items(user, model).filter(pk=item_id, trashed_at__isnull=True).exists():
        raise NotFound(f"No such {kind}.")
    if starred:
        Star.objects.get_or_create(user=user, **{f"{kind}_id": item_id})
    else:
        Star.objects.filter(user=user, **{f"{kind}_id": item_id}).delete()
