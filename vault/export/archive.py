"""``POST /api/v1/me/export``: a user's own data as one zip encrypted with AES-256 (WinZip AE-2), which opens in
7-Zip and most archive tools with the passphrase the user chose (docs/export.md).

Built while it streams (``stream_zip``): each file is decrypted from its blob straight into the zip, hashed on the
way, and the manifest, written last, lists what each member held. Never the whole archive, nor any plaintext, in
memory or on disk.

Layout::

    Files/<folder>/<sub folder>/<name>         every live file's current version, in its folders, real names
    Versions/<folder>/<name>/<n> <name>        older versions, with ``all_versions``
    Notes/<folder>/<title>.md                  notes as Markdown
    Chats/<title>/chat.md, chat.json           chats (registered by the chats app: ``register_part``)
    manifest.json                              ids, paths, tags, versions, sizes and SHA-256 of every member

The parts come from a registry, like the sections of ``GET /api/v1/me/data``: the vault writes files and notes;
apps above it add theirs from their ``AppConfig.ready()``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from stream_zip import NO_COMPRESSION_32, NO_COMPRESSION_64, ZIP_32, ZIP_AUTO, stream_zip

from vault.keys import VaultKeys
from vault.models import File, FileVersion, Folder, Note
from vault.notes import services as notes
from vault.transfers.downloads import plaintext_chunks

FORMAT = "locker-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LEVEL = 1  # deflate level of the members that compress (docs/benchmarks.md)
SAMPLE = 64 * 1024  # bytes of a file tried with deflate to decide whether it is worth deflating
BATCH = 500
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_name(name: str, fallback: str = "unnamed") -> str:
    """A name that is one path segment on every system the zip may be opened on (no separators, no control
    characters, no "." or "..", nothing Windows refuses), at most 200 characters."""
    cleaned = _UNSAFE.sub("_", name).strip().rstrip(".")
    if cleaned in ("", ".", ".."):
        cleaned = fallback
    return cleaned[:200]


class Paths:
    """Unique member paths: a second "a.txt" in one place becomes "a (2).txt" (names that differ only in case
    count as the same, as they would on Windows and macOS)."""

    def __init__(self):
        self._taken: set[str] = set()

    def unique(self, directory: str, name: str) -> str:
        stem, dot, extension = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
        candidate, n = f"{directory}/{name}", 1
        while candidate.casefold() in self._taken:
            n += 1
            candidate = f"{directory}/{stem} ({n}){dot}{extension}" if dot else f"{directory}/{name} ({n})"
        self._taken.add(candidate.casefold())
        return candidate


@dataclass
class Export:
    """What the parts share while the zip is built: the reader's keys, the manifest being filled, member paths."""

    user: object
    keys: VaultKeys
    all_versions: bool = False
    manifest: dict = field(default_factory=dict)
    paths: Paths = field(default_factory=Paths)
    file_paths: dict = field(default_factory=dict)  # file id -> its member path (chats link their attachments)
    folder_paths: dict = field(default_factory=dict)  # folder id -> "a/b" below Files/

    def entries(self, kind: str) -> list:
        return self.manifest.setdefault(kind, [])


Member = tuple[str, datetime, int, object, Iterable[bytes]]


@dataclass(frozen=True)
class Part:
    label: str
    order: int
    members: Callable[[Export], Iterator[Member]]


_PARTS: dict[str, Part] = {}


def register_part(label: str, order: int, members: Callable[[Export], Iterator[Member]]) -> None:
    _PARTS[label] = Part(label, order, members)


def hashed(chunks: Iterable[bytes], entry: dict) -> Iterator[bytes]:
    """``chunks`` passed through, their size and SHA-256 written into ``entry`` once the last one has gone."""
    sha256, size = hashlib.sha256(), 0
    for chunk in chunks:
        sha256.update(chunk)
        size += len(chunk)
        yield chunk
    entry["size"], entry["sha256"] = size, sha256.hexdigest()


def file_member(path: str, modified: datetime, size: int, chunks: Iterable[bytes]) -> Member:
    return path, modified, stat.S_IFREG | 0o600, ZIP_AUTO(size, level=LEVEL), chunks


def vault_member(path: str, modified: datetime, size: int, read: Callable[[], Iterable[bytes]], entry: dict) -> Member:
    """A member whose bytes ``read()`` gives (a file's version, decrypted), hashed into ``entry``. Deflated (level
    1) when its first 64 KiB compress; stored otherwise (photos, videos, archives: deflating them costs time and
    saves nothing). A stored member needs its CRC-32 up front, so such a file is read twice: once for the CRC (a
    decryption, far cheaper than deflate), once into the zip."""
    pieces = iter(read())
    first = bytes(next(pieces, b""))
    sample = first[:SAMPLE]
    if size < SAMPLE or len(zlib.compress(sample, LEVEL)) < 0.97 * len(sample):
        return file_member(path, modified, size, hashed(itertools.chain([first], pieces), entry))
    crc = zlib.crc32(first)
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    method = NO_COMPRESSION_64(size, crc) if size >= 0xFFFFFFFF else NO_COMPRESSION_32(size, crc)
    return path, modified, stat.S_IFREG | 0o600, method, hashed(read(), entry)


def bytes_member(path: str, data: bytes, modified: datetime | None = None) -> Member:
    return file_member(path, modified or timezone.now(), len(data), (data,))


# --- the vault's parts -------------------------------------------------------------------------------------------


def _folder_paths(export: Export) -> list[Folder]:
    folders = list(Folder.objects.filter(owner=export.user, trashed_at__isnull=True).order_by("created_at", "id"))
    export.keys.preload(folders)
    by_id = {folder.pk: folder for folder in folders}
    siblings: dict = {}

    def path_of(folder) -> str | None:
        if folder.pk in export.folder_paths:
            return export.folder_paths[folder.pk]
        parent = ""
        if folder.parent_id:
            if folder.parent_id not in by_id:
                return None  # below a trashed folder: not exported
            parent = path_of(by_id[folder.parent_id])
            if parent is None:
                return None
        taken = siblings.setdefault(folder.parent_id, Paths())
        own = taken.unique("", safe_name(export.keys.folder_name(folder), "folder"))[1:]
        export.folder_paths[folder.pk] = f"{parent}/{own}" if parent else own
        return export.folder_paths[folder.pk]

    return [folder for folder in folders if path_of(folder) is not None]


def files_part(export: Export) -> Iterator[Member]:
    keys = export.keys
    folders = _folder_paths(export)
    holding: set = set()
    files = (
        File.objects.filter(owner=export.user, trashed_at__isnull=True, current_version__isnull=False)
        .select_related("current_version")
        .order_by("folder_id", "created_at", "id")
    )
    for file in files.iterator(BATCH):
        if file.folder_id and file.folder_id not in export.folder_paths:
            continue  # in a trashed folder
        directory = "Files/" + export.folder_paths[file.folder_id] if file.folder_id else "Files"
        path = export.paths.unique(directory, safe_name(keys.file_name(file)))
        holding.add(file.folder_id)
        export.file_paths[file.pk] = path
        entry = {
            "id": str(file.pk),
            "path": path,
            "name": keys.file_name(file),
            "folder": export.folder_paths.get(file.folder_id, ""),
            "tags": keys.file_tags(file),
            "mime_type": file.mime_type,
            "modified_at": file.modified_at.isoformat(),
            "versions": [],
        }
        export.entries("files").append(entry)
        if export.all_versions:
            older = FileVersion.objects.filter(file=file).exclude(pk=file.current_version_id).order_by("number")
            for version in older.iterator(BATCH):
                version_path = export.paths.unique(
                    f"Versions/{path[len('Files/') :]}", f"{version.number} {safe_name(keys.file_name(file))}"
                )
                recorded = {
                    "number": version.number,
                    "path": version_path,
                    "created_at": version.created_at.isoformat(),
                }
                entry["versions"].append(recorded)
                yield file_member(
                    version_path,
                    version.created_at,
                    version.size,
                    hashed(plaintext_chunks(keys, file, version), recorded),
                )
        current = file.current_version
        entry["current"] = {"number": current.number, "created_at": current.created_at.isoformat()}
        read = functools.partial(plaintext_chunks, keys, file, current)
        yield vault_member(path, file.modified_at, file.size, read, entry)
    for folder in folders:  # folders with nothing in them still show (as their own entries), with their tags
        path = export.folder_paths[folder.pk]
        export.entries("folders").append({"id": str(folder.pk), "path": path, "tags": keys.folder_tags(folder)})
        if folder.pk not in holding:
            yield f"Files/{path}/", folder.modified_at, stat.S_IFDIR | 0o700, ZIP_32, ()


def notes_part(export: Export) -> Iterator[Member]:
    keys = export.keys
    for note in (
        Note.objects.filter(owner=export.user, trashed_at__isnull=True).order_by("created_at", "id").iterator(BATCH)
    ):
        key = keys.note_key(note)
        title = notes.note_title(keys, note, key)
        body = notes.note_body(keys, note, key)
        folder = export.folder_paths.get(note.folder_id, "") if note.folder_id else ""
        directory = f"Notes/{folder}" if folder else "Notes"
        path = export.paths.unique(directory, safe_name(title or "Untitled note") + ".md")
        data = body.encode()
        entry = {
            "id": str(note.pk),
            "path": path,
            "title": title,
            "folder": folder,
            "tags": notes.note_tags(keys, note, key),
            "modified_at": note.modified_at.isoformat(),
        }
        export.entries("notes").append(entry)
        yield file_member(path, note.modified_at, len(data), hashed((data,), entry))


register_part("files", 10, files_part)
register_part("notes", 20, notes_part)


# --- the whole zip -----------------------------------------------------------------------------------------------


def export_members(export: Export) -> Iterator[Member]:
    export.manifest.update(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "username": export.user.username,
            "created_at": timezone.now().isoformat(),
            "all_versions": export.all_versions,
        }
    )
    for part in sorted(_PARTS.values(), key=lambda p: p.order):
        yield from part.members(export)
    yield bytes_member(MANIFEST, json.dumps(export.manifest, ensure_ascii=False, indent=1).encode())


def export_zip(*, user, keys: VaultKeys, passphrase: str, all_versions: bool = False) -> Iterator[bytes]:
    """The zip's bytes as they are made."""
    export = Export(user=user, keys=keys, all_versions=all_versions)
    # The key is derived from the passphrase's UTF-8 bytes, as 7-Zip and the import (stream-unzip) derive it;
    # stream-zip encodes a str as Latin-1 (an error past U+00FF, mid-stream), so it is given those bytes as one.
    return stream_zip(export_members(export), password=passphrase.encode("utf-8").decode("latin-1"))
