"""Vault services: every write to folders, files, versions and the trash.

Keyword-only functions named ``<entity>_<action>`` (STYLE.md). Each takes the
acting user and a :class:`~vault.keys.VaultKeys`, runs in one transaction,
records its activity event inside it, and touches only the user's own rows
(another user's id is simply not found: 404).

Blobs are written before the transaction (by :mod:`vault.uploads`) and deleted
after it commits (purge), so a failed transaction never leaves a row without
its blob; an aborted upload's blob is removed at once, and ``vault_fsck``
finds anything a crash left behind.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import User
from activity import actions
from activity.services import event_record
from locker.errors import Conflict, InvalidInput, LockerError, NotFound
from locker.http import RequestMeta
from vault import kinds
from vault.blobs import blob_delete
from vault.derive import derive_upload, derived_store, preview_blobs
from vault.downloads import plaintext_chunks
from vault.keys import VaultKeys
from vault.models import File, FileVersion, Folder, Note, SearchToken, TagIndex
from vault.order_cache import bump_after_commit as changed_after_commit
from vault.search import index_item, reindex_fields, unindex
from vault.uploads import EncryptedUpload, upload_from_iterable

MAX_NAME_LENGTH = 255
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
UNSET = object()


class QuotaExceeded(LockerError):
    status_code = 413
    code = "quota_exceeded"


class PreconditionFailed(LockerError):
    status_code = 412
    code = "precondition_failed"
    detail = "The file changed since you read it (stale ETag)."


class NameConflict(Conflict):
    code = "name_conflict"


def changed(user) -> None:
    """Mark the user's vault as changed once this transaction commits (cached listings re-sort)."""
    changed_after_commit(user.pk)


# --- validation -------------------------------------------------------------------


def clean_name(name, *, field: str = "name") -> str:
    """A folder or file name: 1-255 characters, no slash, no control characters, not "." or ".."."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(errors={field: ["This field is required."]})
    name = unicodedata.normalize("NFC", name.strip())
    problems = []
    if len(name) > MAX_NAME_LENGTH:
        problems.append(f"Use at most {MAX_NAME_LENGTH} characters.")
    if "/" in name or "\\" in name:
        problems.append("Names cannot contain / or \\.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in name):
        problems.append("Names cannot contain control or invisible characters.")
    if name in {".", ".."}:
        problems.append('"." and ".." are not names.')
    if problems:
        raise InvalidInput("That name cannot be used.", code="invalid_name", errors={field: problems})
    return name


def clean_title(title, *, max_length: int) -> str:
    """A note's or a chat's title: text, whitespace runs collapsed, at most ``max_length`` characters."""
    if not isinstance(title, str):
        raise InvalidInput(errors={"title": ["Must be text."]})
    title = " ".join(title.split())
    if len(title) > max_length:
        raise InvalidInput(errors={"title": [f"Use at most {max_length} characters."]})
    return title


def clean_tags(tags) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidInput(errors={"tags": ["Tags must be a list of strings."]})
    cleaned = []
    for tag in tags:
        tag = " ".join(tag.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in tag):
            raise InvalidInput(errors={"tags": [f"Tags are 1-{MAX_TAG_LENGTH} printable characters."]})
        if tag.casefold() not in {t.casefold() for t in cleaned}:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(errors={"tags": [f"Use at most {MAX_TAGS} tags."]})
    return cleaned


# --- lookups (always by owner) ----------------------------------------------------------


def _folder(user: User, folder_id, *, live: bool = True, lock: bool = False) -> Folder:
    qs = Folder.objects.filter(owner=user, pk=folder_id)
    if live:
        qs = qs.filter(trashed_at__isnull=True)
    if lock:
        qs = qs.select_for_update()
    folder = qs.first() if _is_uuid(folder_id) else None
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def _file(user: User, file_id, *, live: bool = True, lock: bool = False) -> File:
    qs = File.objects.filter(owner=user, pk=file_id).select_related("folder")
    if live:
        qs = qs.filter(trashed_at__isnull=True)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.first() if _is_uuid(file_id) else None
    if found is None:
        raise NotFound("No such file.")
    return found


def _is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _name_taken(user: User, parent_id, name_mac: str, *, exclude_id=None) -> bool:
    folders = Folder.objects.filter(owner=user, parent_id=parent_id, name_mac=name_mac, trashed_at__isnull=True)
    files = File.objects.filter(owner=user, folder_id=parent_id, name_mac=name_mac, trashed_at__isnull=True)
    if exclude_id is not None:
        folders = folders.exclude(pk=exclude_id)
        files = files.exclude(pk=exclude_id)
    return folders.exists() or files.exists()


def _free_name(
    user: User, keys: VaultKeys, parent_id, parent_key: bytes, name: str, *, exclude_id=None
) -> tuple[str, str]:
    """``name`` or the first free ``name (2)``, ``name (3)``... in the folder; returns ``(name, mac)``."""
    stem, dot, ext = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
    candidate, number = name, 1
    while True:
        mac = keys.name_mac(parent_key, candidate)
        if not _name_taken(user, parent_id, mac, exclude_id=exclude_id):
            return candidate, mac
        number += 1
        candidate = f"{stem} ({number}){dot}{ext}"


def _checked_name(user, keys, parent_id, parent_key, name, *, on_conflict: str, exclude_id=None) -> tuple[str, str]:
    mac = keys.name_mac(parent_key, name)
    if not _name_taken(user, parent_id, mac, exclude_id=exclude_id):
        return name, mac
    if on_conflict == "rename":
        return _free_name(user, keys, parent_id, parent_key, name, exclude_id=exclude_id)
    raise NameConflict(
        f'"{name}" already exists in this folder.', errors={"name": ["An item with this name exists here."]}
    )


# --- search index (same transaction as the write) ------------------------------------------


def _index_folder(user: User, keys: VaultKeys, folder_id, name: str, tags: list[str]) -> None:
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.FOLDER,
        item_id=folder_id,
        fields={"name": [name], "tag": tags},
    )


def _index_file(user: User, keys: VaultKeys, file_id, name: str, tags: list[str], content: list[str]) -> None:
    """Name, tags and content words, replacing all of the file's tokens. The content words are never stored: a
    caller that has none at hand changes the other fields with :func:`vault.search.reindex_fields` instead."""
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.FILE,
        item_id=file_id,
        fields={"name": [name], "tag": tags, "content": content},
    )


# --- folders ---------------------------------------------------------------------------


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
        changed(user)
        parent = _folder(user, parent_id, lock=True) if parent_id else None
        parent_key = keys.folder_key(parent)
        name, mac = _checked_name(user, keys, parent_id and parent.pk, parent_key, name, on_conflict=on_conflict)
        folder_id = uuid.uuid4()
        key = keys.new_key()
        try:
            folder = Folder.objects.create(
                id=folder_id,
                owner=user,
                parent=parent,
                key_wrapped=keys.wrap_folder_key(key, folder_id, parent_key),
                name_sealed=keys.seal_folder_name(key, folder_id, name),
                name_mac=mac,
                tags_sealed=keys.seal_folder_tags(key, folder_id, tags),
            )
        except IntegrityError:
            raise NameConflict(f'"{name}" already exists in this folder.') from None
        keys.remember_folder_key(folder_id, key)
        _index_folder(user, keys, folder_id, name, tags)
        event_record(action=actions.FOLDER_CREATED, user=user, meta=meta, object_type="folder", object_id=folder_id)
    return folder


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
        changed(user)
        folder = _folder(user, folder_id, lock=True)
        key = keys.folder_key(folder)
        new_name = clean_name(name) if name is not None else keys.folder_name(folder)
        moving = parent_id is not UNSET and str(parent_id or "") != str(folder.parent_id or "")
        target = folder.parent
        if moving:
            target = _folder(user, parent_id) if parent_id else None
            if _ancestors_include(folder.pk, target):
                raise InvalidInput("A folder cannot move into itself or its own subfolder.", code="folder_cycle")
        target_key = keys.folder_key(target)
        new_name, mac = _checked_name(
            user, keys, target and target.pk, target_key, new_name, on_conflict=on_conflict, exclude_id=folder.pk
        )
        folder.name_sealed = keys.seal_folder_name(key, folder.pk, new_name)
        folder.name_mac = mac
        if moving:
            folder.parent = target
            folder.key_wrapped = keys.wrap_folder_key(key, folder.pk, target_key)
        if tags is not None:
            folder.tags_sealed = keys.seal_folder_tags(key, folder.pk, clean_tags(tags))
        folder.modified_at = timezone.now()
        folder.save()
        _index_folder(user, keys, folder.pk, new_name, keys.folder_tags(folder))
        event_record(
            action=actions.FOLDER_MOVED if moving else actions.FOLDER_RENAMED,
            user=user,
            meta=meta,
            object_type="folder",
            object_id=folder.pk,
        )
    return folder


# --- files and versions -------------------------------------------------------------------


@dataclass
class UploadResult:
    file: File
    version: FileVersion
    created: bool


def _charge_quota(user: User, upload: EncryptedUpload) -> None:
    """Add the upload's stored bytes to the user's usage, or refuse with 413 ``quota_exceeded``."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.storage_used + upload.stored_size > locked.storage_quota:
        free = max(0, locked.storage_quota - locked.storage_used)
        raise QuotaExceeded(
            f"This upload needs {upload.stored_size} bytes of storage; {free} are free.",
            errors={"quota": [str(locked.storage_quota)], "used": [str(locked.storage_used)]},
        )
    User.objects.filter(pk=user.pk).update(storage_used=F("storage_used") + upload.stored_size)


def _record_quota_refusal(user, meta, size) -> None:
    event_record(action=actions.QUOTA_REFUSED, user=user, outcome="failure", meta=meta, data={"bytes": size})


def _add_version(user: User, keys: VaultKeys, file: File, file_key: bytes, upload: EncryptedUpload) -> FileVersion:
    number = (file.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    previous_id = file.current_version_id
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
    )
    file.current_version = version
    file.size = upload.size
    file.mime_type = upload.mime_type
    file.modified_at = timezone.now()
    file.save(update_fields=["current_version", "size", "mime_type", "modified_at"])
    # Thumbnail and text were derived before the transaction (vault.derive); the new words replace the old.
    words = derived_store(
        keys=keys, version=version, file_key=file_key, previous_version_id=previous_id, result=upload.derivation
    )
    if words is not None:
        _index_file(user, keys, file.pk, keys.file_name(file), keys.file_tags(file), content=words)
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


def _delete_blobs_after_commit(blobs: list[str]) -> None:
    if blobs:
        transaction.on_commit(lambda: [blob_delete(name) for name in blobs])


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
            changed(user)
            folder = _folder(user, folder_id, lock=True) if folder_id else None
            parent_key = keys.folder_key(folder)
            mac = keys.name_mac(parent_key, name)
            existing = (
                File.objects.select_for_update()
                .filter(owner=user, folder=folder, name_mac=mac, trashed_at__isnull=True)
                .first()
            )
            if existing is not None and on_conflict == "version":
                file_key = keys.file_key(existing, parent_key)
                _charge_quota(user, upload)
                if tags:
                    existing.tags_sealed = keys.seal_file_tags(file_key, existing.pk, tags)
                    existing.save(update_fields=["tags_sealed"])
                    _index_file(user, keys, existing.pk, keys.file_name(existing, parent_key), tags, content=[])
                version = _add_version(user, keys, existing, file_key, upload)
                _delete_blobs_after_commit(_prune_versions(user, existing))
                event_record(
                    action=actions.FILE_VERSION_ADDED, user=user, meta=meta, object_type="file", object_id=existing.pk
                )
                return UploadResult(file=existing, version=version, created=False)
            if existing is not None or _name_taken(user, folder and folder.pk, mac):
                name, mac = _checked_name(user, keys, folder and folder.pk, parent_key, name, on_conflict=on_conflict)
            _charge_quota(user, upload)
            file_id = uuid.uuid4()
            file_key = keys.new_key()
            file = File.objects.create(
                id=file_id,
                owner=user,
                folder=folder,
                key_wrapped=keys.wrap_file_key(file_key, file_id, parent_key),
                name_sealed=keys.seal_file_name(file_key, file_id, name),
                name_mac=mac,
                tags_sealed=keys.seal_file_tags(file_key, file_id, tags),
            )
            keys.remember_file_key(file_id, file_key)
            _index_file(user, keys, file_id, name, tags, content=[])
            version = _add_version(user, keys, file, file_key, upload)
            event_record(action=actions.FILE_UPLOADED, user=user, meta=meta, object_type="file", object_id=file_id)
            return UploadResult(file=file, version=version, created=True)
    except BaseException as exc:
        upload.discard()
        if isinstance(exc, QuotaExceeded):
            _record_quota_refusal(user, meta, upload.stored_size)
        raise


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
            changed(user)
            file = _file(user, file_id, lock=True)
            if if_match is not None and if_match.strip() not in {"*", etag_of(file.current_version_id)}:
                raise PreconditionFailed()
            file_key = keys.file_key(file)
            _charge_quota(user, upload)
            version = _add_version(user, keys, file, file_key, upload)
            _delete_blobs_after_commit(_prune_versions(user, file))
            event_record(action=actions.FILE_VERSION_ADDED, user=user, meta=meta, object_type="file", object_id=file.pk)
            if restored_from is not None:
                event_record(
                    action=actions.FILE_VERSION_RESTORED,
                    user=user,
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
        event_record(
            action=actions.FILE_DOWNLOADED,
            user=user,
            meta=meta,
            object_type="file",
            object_id=file.pk,
            data={"version": version} if version else {},
        )


def etag_of(version_id) -> str:
    return f'"{version_id.hex}"' if version_id else '""'


def file_update(
    *, user: User, keys: VaultKeys, file_id, name=None, folder_id=UNSET, tags=None, on_conflict="error", meta=None
) -> File:
    """Rename, move (re-wraps one key) and/or retag a file."""
    with transaction.atomic():
        changed(user)
        file = _file(user, file_id, lock=True)
        file_key = keys.file_key(file)
        old_name, old_tags = keys.file_name(file), keys.file_tags(file)
        new_name = clean_name(name) if name is not None else old_name
        moving = folder_id is not UNSET and str(folder_id or "") != str(file.folder_id or "")
        target = _folder(user, folder_id) if moving and folder_id else (None if moving else file.folder)
        target_key = keys.folder_key(target)
        renamed = name is not None
        if renamed or moving:
            new_name, mac = _checked_name(
                user, keys, target and target.pk, target_key, new_name, on_conflict=on_conflict, exclude_id=file.pk
            )
            file.name_sealed = keys.seal_file_name(file_key, file.pk, new_name)
            file.name_mac = mac
        if moving:
            file.folder = target
            file.key_wrapped = keys.wrap_file_key(file_key, file.pk, target_key)
        if tags is not None:
            tags = clean_tags(tags)
            file.tags_sealed = keys.seal_file_tags(file_key, file.pk, tags)
        file.modified_at = timezone.now()
        file.save()
        if renamed or tags is not None:  # name and tag tokens only: the content words stay (no decryption here)
            reindex_fields(
                owner_id=user.pk,
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
                event_record(action=action, user=user, meta=meta, object_type="file", object_id=file.pk)
    return file


def file_version_restore(*, user: User, keys: VaultKeys, file_id, number: int, meta=None) -> FileVersion:
    """Make an old version the newest, as a new version: history is never rewritten.

    Blobs are bound to their version id, so the old content is streamed into a
    fresh blob under a fresh content key (constant memory).
    """
    file = _file(user, file_id)
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


# --- trash ----------------------------------------------------------------------------------


def _subtree_folder_ids(user: User, root_id) -> list:
    ids, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(Folder.objects.filter(owner=user, parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def item_trash(*, user: User, kind: str, item_id, meta=None) -> None:
    """Move a file, a note, or a folder with everything in it, to the trash."""
    now = timezone.now()
    with transaction.atomic():
        changed(user)
        if kind == "folder":
            folder = _folder(user, item_id, lock=True)
            ids = _subtree_folder_ids(user, folder.pk)
            Folder.objects.filter(owner=user, pk__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk
            )
            File.objects.filter(owner=user, folder_id__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk
            )
            Note.objects.filter(owner=user, folder_id__in=ids, trashed_at__isnull=True).update(
                trashed_at=now, trashed_with=folder.pk
            )
        elif kind == "note":
            found = Note.objects.filter(owner=user, pk=item_id, trashed_at__isnull=True) if _is_uuid(item_id) else None
            if not found or not found.update(trashed_at=now, trashed_with=item_id):
                raise NotFound("No such note.")
        else:
            file = _file(user, item_id, lock=True)
            File.objects.filter(pk=file.pk).update(trashed_at=now, trashed_with=file.pk)
        event_record(action=actions.ITEM_TRASHED, user=user, meta=meta, object_type=kind, object_id=item_id)


def _trash_entry(user: User, item_id) -> tuple[str, Folder | File]:
    if not _is_uuid(item_id):
        raise NotFound("Not in the trash.")
    folder = Folder.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("parent").first()
    if folder is not None:
        return "folder", folder
    file = File.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("folder").first()
    if file is not None:
        return "file", file
    note = Note.objects.filter(owner=user, pk=item_id, trashed_with=item_id).select_related("folder").first()
    if note is not None:
        return "note", note
    raise NotFound("Not in the trash.")


def _trash_entry_ids(user: User, **filters) -> list:
    """Ids of trash entries (items trashed directly), of every kind."""
    return [
        pk
        for model in (Folder, File, Note)
        for pk in model.objects.filter(owner=user, trashed_with=F("pk"), **filters).values_list("pk", flat=True)
    ]


def trash_restore(*, user: User, keys: VaultKeys, item_id, meta=None) -> Folder | File:
    """Put a trash entry back where it was, or at the top level if that place is gone.

    A name taken meanwhile gets a " (2)" suffix rather than failing.
    """
    with transaction.atomic():
        changed(user)
        kind, item = _trash_entry(user, item_id)
        if kind == "note":
            return _note_restore(user, keys, item, meta)
        parent = item.parent if kind == "folder" else item.folder
        home_alive = parent is None or parent.trashed_at is None
        item_key = keys.folder_key(item) if kind == "folder" else keys.file_key(item)
        name = keys.folder_name(item) if kind == "folder" else keys.file_name(item)
        old_name = name
        target = parent if home_alive else None
        target_key = keys.folder_key(target)
        name, mac = _free_name(user, keys, target and target.pk, target_key, name, exclude_id=item.pk)
        if kind == "folder":
            item.name_sealed = keys.seal_folder_name(item_key, item.pk, name)
            if not home_alive:
                item.parent = None
                item.key_wrapped = keys.wrap_folder_key(item_key, item.pk, target_key)
        else:
            item.name_sealed = keys.seal_file_name(item_key, item.pk, name)
            if not home_alive:
                item.folder = None
                item.key_wrapped = keys.wrap_file_key(item_key, item.pk, target_key)
        item.name_mac = mac
        item.save()
        if kind == "folder":
            _index_folder(user, keys, item.pk, name, keys.folder_tags(item))
        elif name != old_name:  # renamed to a free name: its name tokens only (the content words stay)
            reindex_fields(
                owner_id=user.pk,
                keys=keys.search,
                kind=SearchToken.Kind.FILE,
                item_id=item.pk,
                old={"name": [old_name]},
                new={"name": [name]},
            )
        for model in (Folder, File, Note):
            model.objects.filter(owner=user, trashed_with=item.pk).update(trashed_at=None, trashed_with=None)
        event_record(action=actions.ITEM_RESTORED, user=user, meta=meta, object_type=kind, object_id=item.pk)
    return item


def _note_restore(user: User, keys: VaultKeys, note: Note, meta) -> Note:
    """A note back in its folder, or at the top level if the folder is gone (its key re-wrapped)."""
    from vault.notes import note_key, rewrap_note_key

    if note.folder_id and note.folder.trashed_at is not None:
        key = note_key(keys, note)
        note.folder = None
        note.key_wrapped = rewrap_note_key(keys, note.pk, key, None)
    note.trashed_at = note.trashed_with = None
    note.save()
    event_record(action=actions.ITEM_RESTORED, user=user, meta=meta, object_type="note", object_id=note.pk)
    return note


def trash_purge(*, user: User, item_id, meta=None) -> int:
    """Delete a trash entry for good: wrapped keys first (crypto-shred), blobs after commit. Returns bytes freed."""
    with transaction.atomic():
        changed(user)
        kind, item = _trash_entry(user, item_id)
        freed = _purge_entries(user, [item.pk])
        event_record(
            action=actions.ITEM_PURGED, user=user, meta=meta, object_type=kind, object_id=item.pk, data={"bytes": freed}
        )
    return freed


def _purge_entries(user: User, entry_ids: list) -> int:
    """Delete trash entries with everything under them (including items trashed on their own before)."""
    folder_ids = set()
    for root in Folder.objects.filter(owner=user, trashed_with__in=entry_ids, pk__in=entry_ids).values_list(
        "pk", flat=True
    ):
        folder_ids.update(_subtree_folder_ids(user, root))
    in_entries = Q(trashed_with__in=entry_ids) | Q(folder_id__in=folder_ids)
    note_ids = list(Note.objects.filter(owner=user).filter(in_entries).values_list("pk", flat=True))
    Note.objects.filter(pk__in=note_ids).delete()  # with their versions
    unindex(kind=SearchToken.Kind.NOTE, item_ids=note_ids)
    files = File.objects.filter(owner=user).filter(in_entries)
    file_ids = list(files.values_list("pk", flat=True))
    versions = FileVersion.objects.filter(file_id__in=file_ids)
    blobs = list(versions.values_list("blob", flat=True)) + preview_blobs(versions)
    freed = sum(versions.values_list("stored_size", flat=True))
    # Wrapped keys go with the rows; the blobs, unreadable from then on, are removed after commit.
    File.objects.filter(pk__in=file_ids).update(current_version=None)
    versions.delete()
    File.objects.filter(pk__in=file_ids).delete()
    Folder.objects.filter(owner=user, pk__in=folder_ids).delete()
    unindex(kind=SearchToken.Kind.FILE, item_ids=file_ids)
    unindex(kind=SearchToken.Kind.FOLDER, item_ids=folder_ids)
    User.objects.filter(pk=user.pk).update(storage_used=F("storage_used") - freed)
    _delete_blobs_after_commit(blobs)
    return freed


def trash_empty(*, user: User, meta=None) -> int:
    with transaction.atomic():
        changed(user)
        entries = _trash_entry_ids(user)
        freed = _purge_entries(user, entries)
        event_record(
            action=actions.ITEM_PURGED,
            user=user,
            meta=meta,
            object_type="trash",
            data={"bytes": freed, "items": len(entries)},
        )
    return freed


def trash_purge_expired(*, days: int | None = None, now=None) -> int:
    """Purge every user's trash entries older than ``days`` (default ``LOCKER_TRASH_DAYS``). Returns entries purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOCKER_TRASH_DAYS if days is None else days)
    count = 0
    for user in User.objects.filter(pk__in=_owners_with_old_trash(cutoff)):
        with transaction.atomic():
            changed(user)
            entries = _trash_entry_ids(user, trashed_at__lt=cutoff)
            freed = _purge_entries(user, entries)
            event_record(
                action=actions.ITEM_PURGED,
                user=user,
                object_type="trash",
                data={"bytes": freed, "items": len(entries), "expired": True},
            )
            count += len(entries)
    return count


def _owners_with_old_trash(cutoff) -> set:
    return {
        owner
        for model in (Folder, File, Note)
        for owner in model.objects.filter(trashed_at__lt=cutoff).values_list("owner_id", flat=True)
    }


def vault_wipe(*, user: User) -> int:
    """Delete every folder, file and version of ``user`` (after their keys were shredded).

    Used by account deletion and by an admin reset. Rows go in this transaction;
    blobs, already unreadable, are removed after it commits. Returns bytes freed.
    """
    changed(user)
    versions = FileVersion.objects.filter(file__owner=user)
    blobs = list(versions.values_list("blob", flat=True)) + preview_blobs(versions)
    freed = sum(versions.values_list("stored_size", flat=True))
    File.objects.filter(owner=user).update(current_version=None)
    versions.delete()
    File.objects.filter(owner=user).delete()
    Note.objects.filter(owner=user).delete()
    for kind in kinds.all_kinds():  # what apps above the vault keep under the user's keys (chats)
        if kind.wipe is not None:
            kind.wipe(user)
    Folder.objects.filter(owner=user).delete()
    SearchToken.objects.filter(owner=user).delete()
    TagIndex.objects.filter(owner=user).delete()
    User.objects.filter(pk=user.pk).update(storage_used=0)
    _delete_blobs_after_commit(blobs)
    return freed
