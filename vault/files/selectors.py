"""Reads of folders, files and versions. Each takes the acting user; another user's ids are simply not found."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from activity import actions
from activity.models import Event
from locker.crypto.blind import normalize
from locker.db import one_or_none
from locker.errors import NotFound
from vault import access
from vault.common import is_uuid
from vault.files import order_cache
from vault.files.filters import mime_group_of
from vault.models import File, FileVersion, Folder, Star


def folder_list(*, user, parent_id=None) -> QuerySet[Folder]:
    """The live folders in ``parent_id`` (None: the user's own top level; shared folders are listed apart)."""
    if parent_id is None:
        folders = access.items(user, Folder, shared=False).filter(parent_id=None)
    else:
        folders = access.in_folder(user, Folder, parent_id)
    return folders.filter(trashed_at__isnull=True).order_by("created_at", "id")


def folder_get(*, user, folder_id) -> Folder:
    folder = (
        one_or_none(access.items(user, Folder).filter(pk=folder_id, trashed_at__isnull=True))
        if is_uuid(folder_id)
        else None
    )
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def file_list(*, user, folder_id=None, all_folders: bool = False) -> QuerySet[File]:
    if folder_id is not None and not all_folders:
        files = access.in_folder(user, File, folder_id)
    else:  # the top level and "everywhere" are the user's own
        files = access.items(user, File, shared=False)
        files = files if all_folders else files.filter(folder_id=None)
    return (
        files.filter(trashed_at__isnull=True).select_related("current_version__derived").order_by("-modified_at", "id")
    )


def file_get(*, user, file_id, for_download: bool = False) -> File:
    """A live file the user may see, with its current version and folder (and the version's derived data, which
    listings show; ``for_download`` leaves that out: one smaller query before a download's first byte)."""
    if not is_uuid(file_id):
        raise NotFound("No such file.")
    related = ("current_version", "folder") if for_download else ("current_version__derived", "folder")
    live = File.objects.filter(pk=file_id, trashed_at__isnull=True).select_related(*related)
    # The user's own file first: one query, without asking whether anything is shared with them.
    found = one_or_none(live.filter(owner_id=user.pk))
    if found is None and access.receives_shares(user):
        reachable = access.items(user, File).filter(pk=file_id, trashed_at__isnull=True)
        found = one_or_none(reachable.select_related(*related))
    if found is None:
        raise NotFound("No such file.")
    return found


def version_list(*, user, file_id) -> QuerySet[FileVersion]:
    versions = FileVersion.objects.filter(file=file_get(user=user, file_id=file_id))
    return versions.select_related("author").order_by("-number")


def version_get(*, user, file: File, number) -> FileVersion:
    version = one_or_none(FileVersion.objects.filter(file=file, number=number)) if isinstance(number, int) else None
    if version is None:
        raise NotFound("No such version.")
    return version


def all_folders(*, user) -> list[Folder]:
    """Every folder of the user (for computing keys of a listing spanning folders in one query)."""
    return list(Folder.objects.filter(owner=user).only("id", "parent_id", "key_wrapped", "name_sealed", "trashed_at"))


ORDERINGS = {"name", "-name", "size", "-size", "modified", "-modified", "created", "-created"}


def folder_subtree_ids(*, user, folder_id) -> list:
    """``folder_id`` and every live folder below it."""
    ids, frontier = [folder_id], [folder_id]
    while frontier:
        frontier = list(
            Folder.objects.filter(owner=user, parent_id__in=frontier, trashed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        ids.extend(frontier)
    return ids


def order_files(files: QuerySet[File], *, keys, ordering: str, cache_key: tuple | None = None):
    """Order a file queryset. Names are encrypted, so ``name`` decrypts the names of the matching files and sorts
    them in memory (one query; about 15 µs a file); the order is remembered for the next pages (``order_cache``)
    under ``cache_key`` until the vault changes. Returns rows in order, loaded a page at a time."""
    if ordering in {"name", "-name"}:
        ids = order_cache.get(keys.owner_id, cache_key) if cache_key is not None else None
        if ids is None:
            rows = list(files.select_related(None).only("id", "owner_id", "folder_id", "key_wrapped", "name_sealed"))
            named = sorted(rows, key=lambda f: (normalize(keys.file_name(f)), str(f.pk)), reverse=ordering == "-name")
            ids = [f.pk for f in named]
            if cache_key is not None:
                order_cache.put(keys.owner_id, cache_key, ids)
        return RowsInOrder(files, ids)
    field = {"size": "size", "modified": "modified_at", "created": "created_at"}[ordering.lstrip("-")]
    return files.order_by(f"{'-' if ordering.startswith('-') else ''}{field}", "id")


class RowsInOrder:
    """A sequence of rows in a given id order that loads only the slice a page asks for (one query a page)."""

    def __init__(self, queryset: QuerySet, ids: list):
        self._queryset, self._ids = queryset, ids

    def __len__(self) -> int:
        return len(self._ids)

    def count(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):
        ids = self._ids[index] if isinstance(index, slice) else [self._ids[index]]
        by_id = {row.pk: row for row in self._queryset.filter(pk__in=ids)}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        return rows if isinstance(index, slice) else rows[0]


# --- starred, recent, storage by kind, archives ---------------------------------------------------------------


def starred_list(*, user) -> list[tuple[str, object, Folder | File]]:
    """``(kind, starred_at, item)`` of every live folder and file the user starred and may still see, newest star
    first. A star on an item that is trashed, or no longer shared with the user, is kept but not listed."""
    stars = list(
        Star.objects.filter(user=user).order_by("-created_at", "-id").values_list("folder_id", "file_id", "created_at")
    )
    folder_ids = [f for f, _, _ in stars if f]
    file_ids = [f for _, f, _ in stars if f]
    folders = (
        {f.pk: f for f in access.items(user, Folder).filter(pk__in=folder_ids, trashed_at__isnull=True)}
        if folder_ids
        else {}
    )
    files = (
        {
            f.pk: f
            for f in access.items(user, File)
            .filter(pk__in=file_ids, trashed_at__isnull=True)
            .select_related("current_version__derived")
        }
        if file_ids
        else {}
    )
    rows = []
    for folder_id, file_id, at in stars:
        item = folders.get(folder_id) if folder_id else files.get(file_id)
        if item is not None:
            rows.append(("folder" if folder_id else "file", at, item))
    return rows


# What counts as using a file, for the Recent view: the user's own actions (not those of a share's recipient that
# its owner's log also records, marked "by").
RECENT_ACTIONS = (
    actions.FILE_UPLOADED,
    actions.FILE_VERSION_ADDED,
    actions.FILE_VERSION_RESTORED,
    actions.FILE_RENAMED,
    actions.FILE_MOVED,
    actions.FILE_RETAGGED,
    actions.FILE_DOWNLOADED,
)
RECENT_SCAN = 1000  # the user's latest file events looked at: a bounded read of the (user, -created_at) index


def recent_files(*, user, limit: int = 50) -> list[tuple[object, str, File]]:
    """``(at, action, file)`` of the live files the user last uploaded, changed or opened, most recent first."""
    events = (
        Event.objects.filter(user=user, object_type="file", action__in=RECENT_ACTIONS, outcome=Event.Outcome.SUCCESS)
        .order_by("-created_at")
        .values_list("object_id", "created_at", "action", "data")[:RECENT_SCAN]
    )
    latest: dict[str, tuple] = {}
    for object_id, at, action, data in events:
        if object_id not in latest and not (isinstance(data, dict) and "by" in data) and is_uuid(object_id):
            latest[object_id] = (at, action)
            if len(latest) >= limit * 2:  # some may be gone: a margin, still one page of rows
                break
    if not latest:
        return []
    files = {
        str(f.pk): f
        for f in access.items(user, File)
        .filter(pk__in=list(latest), trashed_at__isnull=True)
        .select_related("current_version__derived")
    }
    rows = [(at, action, files[object_id]) for object_id, (at, action) in latest.items() if object_id in files]
    return rows[:limit]


# The kinds of the storage chart, by MIME type (as vault.files.filters.mime_group_of, with documents together).
DOCUMENT_TYPES = ("application/pdf", "application/msword", "application/rtf", "application/epub+zip")
DOCUMENT_PREFIXES = ("text/", "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.")
STORAGE_KINDS = ("images", "videos", "audio", "documents", "other")


def storage_kind_of(mime_type: str) -> str:
    group = mime_group_of(mime_type)
    if group in ("image", "video"):
        return f"{group}s"
    if group == "audio":
        return "audio"
    if group in ("pdf", "text") or mime_type in DOCUMENT_TYPES or mime_type.startswith(DOCUMENT_PREFIXES):
        return "documents"
    if mime_type.startswith("application/vnd.ms-"):
        return "documents"
    return "other"


def storage_by_kind(*, user) -> dict:
    """What the user's storage holds: the stored (encrypted) bytes and count of the current versions of live files
    by kind, and the rest of the quota's usage (older versions, the trash, notes and chats) apart. One query."""
    kinds = {kind: {"kind": kind, "bytes": 0, "files": 0} for kind in STORAGE_KINDS}
    rows = (
        File.objects.filter(owner=user, trashed_at__isnull=True, current_version__isnull=False)
        .values("mime_type")
        .annotate(stored=Sum("current_version__stored_size"), files=Count("id"))
    )
    for row in rows:
        kind = kinds[storage_kind_of(row["mime_type"])]
        kind["bytes"] += row["stored"] or 0
        kind["files"] += row["files"]
    current = sum(k["bytes"] for k in kinds.values())
    return {
        "kinds": list(kinds.values()),
        "rest": max(0, user.storage_used - current),
        "used": user.storage_used,
        "quota": user.storage_quota,
    }


def archive_entries(*, user, keys, file_ids, folder_ids) -> list[tuple[str, File | None]]:
    """The zip members of a selection, as ``(path, file)`` (``file`` None: an empty folder's own entry), for the
    selected files and folders (with everything live below them) that the user may see. Any id the user may not
    see is 404, like a download of it: the whole archive is refused before its first byte, never a partial one."""
    file_ids, folder_ids = list(dict.fromkeys(file_ids)), list(dict.fromkeys(folder_ids))
    files = list(
        access.items(user, File).filter(pk__in=file_ids, trashed_at__isnull=True).select_related("current_version")
    )
    folders = list(access.items(user, Folder).filter(pk__in=folder_ids, trashed_at__isnull=True))
    if len(files) != len(file_ids) or len(folders) != len(folder_ids):
        raise NotFound("No such file or folder.")
    taken: set[str] = set()

    def unique(path: str) -> str:
        """``path``, or ``stem (2).ext`` when the archive already has it (names differ by case on some systems)."""
        stem, dot, ext = path.rpartition(".") if "." in path.rsplit("/", 1)[-1] else (path, "", "")
        candidate, n = path, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}" if dot else f"{path} ({n})"
        taken.add(candidate.casefold())
        return candidate

    entries: list[tuple[str, File | None]] = []
    for folder in sorted(folders, key=lambda f: normalize(keys.folder_name(f))):
        below = list(
            Folder.objects.filter(pk__in=access.subtree(folder.pk), owner_id=folder.owner_id, trashed_at__isnull=True)
        )
        paths = {folder.pk: unique(keys.folder_name(folder)) + "/"}
        pending = [f for f in below if f.pk != folder.pk]
        while pending:  # parents before children
            placed = [f for f in pending if f.parent_id in paths]
            if not placed:
                break  # the rest hangs under a trashed folder: not in the archive
            for child in sorted(placed, key=lambda f: normalize(keys.folder_name(f))):
                paths[child.pk] = f"{paths[child.parent_id]}{keys.folder_name(child)}/"
            pending = [f for f in pending if f.pk not in paths]
        inside = list(
            File.objects.filter(
                folder_id__in=list(paths), trashed_at__isnull=True, current_version__isnull=False
            ).select_related("current_version")
        )
        holding = {f.folder_id for f in inside}
        holding |= {f.parent_id for f in below if f.pk in paths}
        for folder_id, path in sorted(paths.items(), key=lambda kv: kv[1].casefold()):
            if folder_id not in holding:
                entries.append((path, None))  # an empty folder keeps its place
        named = sorted(((paths[f.folder_id] + keys.file_name(f), f) for f in inside), key=lambda e: e[0].casefold())
        entries.extend(named)
    for file in sorted(files, key=lambda f: normalize(keys.file_name(f))):
        if file.current_version_id:
            entries.append((unique(keys.file_name(file)), file))
    return entries
