"""``POST /api/v1/me/import``: a personal export (``vault.export.archive``) brought back into an account.

Two passes over the archive, which the request stored as an encrypted blob like any upload:

1. **Check** (nothing is written): the zip's members are read as a stream (``stream_unzip``, AES only), each one
   decompressed with limits (its own size, the whole archive's, the ratio to its packed size), hashed, and
   compared with ``manifest.json`` (sizes and SHA-256 of every member, no member it does not list, none missing).
   Names are checked as they come: no absolute path, no "..", no backslash, no duplicate (case folded). Anything
   wrong stops here with a clear error. Then the plan: what exists already (same path and same content: skipped),
   what would be created, and whether the quota holds it.
2. **Write** (unless ``dry_run``): folders, files (older versions first, as versions of the same file), tags,
   notes, and the parts other apps register (chats), each through the usual services.

Idempotent: a second import of the same archive finds everything in place and creates nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stream_unzip import AE_1, AE_2, AES_256, UnzipError, stream_unzip

from locker.crypto.blind import normalize
from locker.errors import InvalidInput, LockerError
from vault.common import QuotaExceeded
from vault.export.archive import FORMAT, FORMAT_VERSION, MANIFEST
from vault.files import services as file_services
from vault.keys import VaultKeys, aad_blob
from vault.models import File, Folder, Note
from vault.notes import services as note_services
from vault.transfers.blobs import blob_open
from vault.transfers.downloads import PlaintextReader
from vault.transfers.uploads import upload_from_iterable

MAX_MEMBERS = 100_000
MAX_RATIO = 200  # a member may unpack to at most this many times its packed size (plus a little)
MAX_MANIFEST = 64 * 1024 * 1024
MODES = ("new_folder", "merge")


class ImportRefused(InvalidInput):
    code = "invalid_archive"


@dataclass
class Member:
    path: str
    size: int
    sha256: str
    mac: str


@dataclass
class Report:
    dry_run: bool
    created: dict = field(default_factory=lambda: {"folders": 0, "files": 0, "versions": 0, "notes": 0, "chats": 0})
    skipped: dict = field(default_factory=lambda: {"folders": 0, "files": 0, "versions": 0, "notes": 0, "chats": 0})
    failed: list = field(default_factory=list)
    bytes: int = 0
    folder: str | None = None

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "folder": self.folder,
            "created": self.created,
            "skipped": self.skipped,
            "failed": self.failed,
            "bytes": self.bytes,
        }


# --- reading the archive -------------------------------------------------------------------------------------------


def archive_chunks(upload) -> Iterator[bytes]:
    """The plaintext of the uploaded archive (the AES zip), decrypted from its blob a chunk at a time."""
    from locker.crypto.stream import decrypt_iter

    with blob_open(upload.blob) as handle:
        yield from decrypt_iter(upload.content_key, handle, aad=aad_blob(upload.writer_id, upload.version_id))


def _safe_path(raw: bytes, seen: set[str]) -> str:
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRefused("The archive holds a name that is not UTF-8: refused.") from None
    parts = path.rstrip("/").split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or re.match(r"^[A-Za-z]:", path)
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ImportRefused(f"The archive holds a path that leaves its folder or is not a plain path: {path!r}.")
    folded = normalize(path)
    if folded in seen:
        raise ImportRefused(f"The archive holds {path!r} twice.")
    seen.add(folded)
    return path


def _members(chunks, passphrase: str) -> Iterator[tuple[str, Iterator[bytes], Callable[[], int]]]:
    """``(path, decompressed chunks, packed size so far)`` of each member, with names checked."""
    seen: set[str] = set()
    counted = {"packed": 0}

    def counting():
        for chunk in chunks:
            counted["packed"] += len(chunk)
            yield chunk

    try:
        for n, (name, _size, unzipped) in enumerate(
            stream_unzip(counting(), password=passphrase.encode(), allowed_encryption_mechanisms=(AE_1, AE_2, AES_256))
        ):
            if n >= MAX_MEMBERS:
                raise ImportRefused(f"The archive holds more than {MAX_MEMBERS:,} members.")
            yield _safe_path(name, seen), unzipped, lambda: counted["packed"]
    except LockerError:
        raise
    except UnzipError as exc:
        raise ImportRefused(_unzip_problem(exc)) from None


def _unzip_problem(exc: Exception) -> str:
    name = type(exc).__name__
    if "Password" in name or "HMAC" in name:
        return "The passphrase does not open this archive (or the archive was altered)."
    if "Truncated" in name or "UnexpectedSignature" in name and "end" in str(exc).lower():
        return "The archive is truncated."
    if "UnsupportedFeature" in name or "Encrypt" in name or "Missing" in name:
        return "This is not an encrypted Locker export (every member must be AES-encrypted)."
    return f"This is not a readable zip archive ({name})."


def _directory_check(upload) -> None:
    """The zip's central directory: a zip at all, no link or special file, no path that leaves the archive, no name
    twice, sizes within reason. Read first, before any member is decompressed."""
    import stat
    import zipfile

    try:
        with PlaintextReader.of_upload(upload.writer_id, upload) as plain, zipfile.ZipFile(plain) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportRefused("This is not a zip archive (or it is truncated): not a Locker export.") from None
    if len(infos) > MAX_MEMBERS:
        raise ImportRefused(f"The archive holds more than {MAX_MEMBERS:,} members.")
    seen: set[str] = set()
    for info in infos:
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):  # (no type at all: a tool that writes none)
            raise ImportRefused(f"The archive holds a link or a special file ({info.filename!r}): refused.")
        _safe_path(info.filename.encode(), seen)
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportRefused(f"{info.filename} unpacks to far more than its packed size (a zip bomb?): refused.")


def _read(path: str, unzipped, packed, total: list, mac_key: bytes, max_bytes: int) -> tuple[Member, bytes | None]:
    """One member read through with the limits: its checksum and content MAC, and its bytes if it is the manifest."""
    sha256, mac, size = hashlib.sha256(), hmac.new(mac_key, digestmod=hashlib.sha256), 0
    kept = bytearray() if path == MANIFEST else None
    for chunk in unzipped:
        size += len(chunk)
        total[0] += len(chunk)
        if total[0] > max_bytes:
            raise ImportRefused("The archive unpacks to more than this import accepts: refused.")
        if size > 1024 * 1024 and size > MAX_RATIO * max(packed(), 1):
            raise ImportRefused(f"{path} unpacks to far more than its packed size (a zip bomb?): refused.")
        if kept is not None:
            if len(kept) + len(chunk) > MAX_MANIFEST:
                raise ImportRefused("The archive's manifest is far too large.")
            kept += chunk
        sha256.update(chunk)
        mac.update(chunk)
    return Member(path, size, sha256.hexdigest(), mac.hexdigest()[:32]), (bytes(kept) if kept is not None else None)


def check(upload, *, passphrase: str, mac_key: bytes, max_bytes: int) -> tuple[dict, dict[str, Member]]:
    """Pass 1: every member read, limited, hashed and held against the manifest. Returns ``(manifest, members)``."""
    _directory_check(upload)
    members: dict[str, Member] = {}
    manifest = None
    total = [0]
    try:
        for path, unzipped, packed in _members(archive_chunks(upload), passphrase):
            if manifest is not None:
                raise ImportRefused("The archive has members after its manifest.")
            member, data = _read(path, unzipped, packed, total, mac_key, max_bytes)
            if data is not None:
                manifest = _manifest(data)
            elif not path.endswith("/"):
                members[path] = member
    except LockerError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged stream surfaces as any of the decoders' errors
        raise ImportRefused(_unzip_problem(exc)) from None
    if manifest is None:
        raise ImportRefused("This is not a Locker export, or it is truncated: it has no manifest.json.")
    _hold_to_manifest(manifest, members)
    return manifest, members


def _manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        raise ImportRefused("The archive's manifest.json is not JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportRefused("This is not a Locker export.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ImportRefused(f"Export format {manifest.get('format_version')!r} is not one this version reads.")
    for kind in ("files", "folders", "notes", "chats"):
        if not isinstance(manifest.get(kind, []), list):
            raise ImportRefused(f"The manifest's {kind} is not a list.")
    return manifest


def _listed(manifest: dict) -> Iterator[dict]:
    """Every member the manifest describes (files, their versions, notes), with its size and checksum."""
    for entry in manifest.get("files", []):
        yield from (v for v in entry.get("versions", []) if isinstance(v, dict))
        yield entry
    yield from manifest.get("notes", [])


def _hold_to_manifest(manifest: dict, members: dict[str, Member]) -> None:
    described = set()
    for entry in _listed(manifest):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ImportRefused("The manifest holds an entry without a path.")
        member = members.get(entry["path"])
        if member is None:
            raise ImportRefused(f"The manifest lists {entry['path']!r}, which the archive does not hold.")
        if entry.get("size") != member.size or entry.get("sha256") != member.sha256:
            raise ImportRefused(f"{entry['path']} does not match the manifest's size and checksum: refused.")
        described.add(entry["path"])
    chats = {c.get("path") for c in manifest.get("chats", []) if isinstance(c, dict)}
    for path in members:
        if path not in described and path.rsplit("/", 1)[0] not in chats:
            raise ImportRefused(f"The archive holds {path!r}, which its manifest does not list.")


# --- writing -------------------------------------------------------------------------------------------------------

_IMPORTERS: dict[str, Callable] = {}


def register_importer(kind: str, run: Callable) -> None:
    """``run(ctx, entries)`` imports the manifest's ``kind`` entries (the chats app registers its own): it counts
    what it would create or skip in ``ctx.report`` and writes only when ``ctx.report.dry_run`` is false."""
    _IMPORTERS[kind] = run


@dataclass
class ImportContext:
    user: object
    keys: VaultKeys
    report: Report
    members: dict  # member path -> the bytes of the small members kept in the second pass (notes, chats' JSON)
    file_ids: dict  # member path of a file -> the vault file it became (or already was)
    meta: object = None


SMALL_LIMIT = 64 * 1024 * 1024


class Importer:
    def __init__(self, *, user, keys: VaultKeys, upload, passphrase: str, mode: str, dry_run: bool, meta=None):
        self.user, self.keys, self.upload, self.passphrase = user, keys, upload, passphrase
        self.mode, self.meta = mode, meta
        self.report = Report(dry_run=dry_run)
        self.folders: dict[str, Folder | None | bool] = {}
        self.folder_tags: dict[str, list] = {}
        self.file_ids: dict = {}
        self.small: dict[str, bytes] = {}

    def run(self) -> Report:
        from django.conf import settings

        limit = settings.LOCKER_IMPORT_MAX_BYTES
        self.manifest, self.members = check(
            self.upload, passphrase=self.passphrase, mac_key=self.keys.content_mac_key(), max_bytes=limit
        )
        root = None
        if self.mode == "new_folder":
            stamp = str(self.manifest.get("created_at", ""))[:16].replace("T", " ")
            root = f"Imported {stamp}".strip()
            self.report.folder = root
        self.prefix = f"{root}/" if root else ""
        self.folder_tags = {
            self.prefix + f["path"]: f.get("tags") or []
            for f in self.manifest.get("folders", [])
            if isinstance(f, dict) and isinstance(f.get("path"), str)
        }
        files = self._plan_files()
        notes = self._plan_notes()
        self.report.bytes = sum(self.members[path].size for path in files["write"])
        free = self.user.storage_quota - self.user.storage_used
        if self.report.bytes > free:
            raise QuotaExceeded.needing(needed=self.report.bytes, free=free, quota=self.user.storage_quota)
        self._plan_folders(root)
        if not self.report.dry_run:
            self._write(root, files, notes)
        else:
            self._others()
        return self.report

    # --- the plan: what is there already ---

    def _find_folder(self, path: str):
        """The existing folder at ``path``, None for the top level, False when there is none (yet)."""
        if not path:
            return None
        if path in self.folders:
            return self.folders[path]
        parent_path, _, name = path.rpartition("/")
        parent = self._find_folder(parent_path)
        found = False
        if parent is not False:
            mac = self.keys.name_mac(self.keys.folder_key(parent), name)
            found = (
                Folder.objects.filter(owner=self.user, parent=parent, name_mac=mac, trashed_at__isnull=True).first()
                or False
            )
        self.folders[path] = found
        return found

    def _plan_folders(self, root) -> None:
        """Count each folder the import needs (the root, every exported folder and their parents) once: there
        already (skipped) or to be made (created)."""
        wanted = {root} if root else set()
        wanted.update(self.folder_tags)
        counted: set[str] = set()
        for path in sorted(wanted):
            parts = path.split("/")
            for depth in range(1, len(parts) + 1):
                ancestor = "/".join(parts[:depth])
                if ancestor not in counted:
                    counted.add(ancestor)
                    (self.report.skipped if self._find_folder(ancestor) else self.report.created)["folders"] += 1

    def _plan_files(self) -> dict:
        plan = {"write": [], "files": []}
        for entry in self.manifest.get("files", []):
            folder_path = (self.prefix + (entry.get("folder") or "")).rstrip("/")
            name = entry.get("name") or entry["path"].rsplit("/", 1)[-1]
            folder = self._find_folder(folder_path)
            existing = None
            if folder is not False:
                mac = self.keys.name_mac(self.keys.folder_key(folder), name)
                existing = (
                    File.objects.filter(owner=self.user, folder=folder, name_mac=mac, trashed_at__isnull=True)
                    .select_related("current_version")
                    .first()
                )
            versions = [v["path"] for v in entry.get("versions", [])]
            if existing is not None and existing.current_version.content_mac == self.members[entry["path"]].mac:
                self.report.skipped["files"] += 1
                self.report.skipped["versions"] += len(versions)
                self.file_ids[entry["path"]] = existing.pk
                continue
            plan["write"].extend([*versions, entry["path"]])
            plan["files"].append((entry, folder_path, name))
            self.report.created["files"] += 1
            self.report.created["versions"] += len(versions)
        return plan

    def _plan_notes(self) -> list:
        plan = []
        for entry in self.manifest.get("notes", []):
            folder_path = (self.prefix + (entry.get("folder") or "")).rstrip("/")
            folder = self._find_folder(folder_path)
            title = entry.get("title") if isinstance(entry.get("title"), str) else ""
            same = False
            if folder is not False:
                for note in Note.objects.filter(owner=self.user, folder=folder, trashed_at__isnull=True):
                    key = self.keys.note_key(note)
                    body = note_services.note_body(self.keys, note, key)
                    if note_services.note_title(self.keys, note, key) == title and hashlib.sha256(
                        body.encode()
                    ).hexdigest() == entry.get("sha256"):
                        same = True
                        break
            (self.report.skipped if same else self.report.created)["notes"] += 1
            if not same:
                plan.append((entry, folder_path, title))
        return plan

    # --- writing ---

    def _folder(self, path: str) -> Folder | None:
        found = self._find_folder(path)
        if found is not False:
            return found
        parent_path, _, name = path.rpartition("/")
        parent = self._folder(parent_path)
        folder = file_services.folder_create(
            user=self.user,
            keys=self.keys,
            name=name,
            parent_id=parent.pk if parent else None,
            tags=self.folder_tags.get(path) or None,
            meta=self.meta,
        )
        self.folders[path] = folder
        return folder

    def _write(self, root, files: dict, notes: list) -> None:
        if root:
            self._folder(root)
        for path in self.folder_tags:  # empty folders too, with their tags
            self._folder(path)
        by_member = {}
        for entry, folder_path, name in files["files"]:
            for version in entry.get("versions", []):
                by_member[version["path"]] = (entry, folder_path, name)
            by_member[entry["path"]] = (entry, folder_path, name)
        kept = {entry["path"] for entry, _, _ in notes}
        kept.update(f"{c['path']}/chat.json" for c in self.manifest.get("chats", []) if isinstance(c, dict))
        for path, unzipped, _ in _members(archive_chunks(self.upload), self.passphrase):
            target = by_member.get(path)
            if target is not None:
                self._store(*target, path, unzipped)
            elif path in kept and self.members.get(path) and self.members[path].size <= SMALL_LIMIT:
                self.small[path] = b"".join(unzipped)
            else:
                for _ in unzipped:
                    pass
        for entry, folder_path, title in notes:
            folder = self._folder(folder_path) if folder_path else None
            note_services.note_create(
                user=self.user,
                keys=self.keys,
                title=title,
                body=self.small[entry["path"]].decode(),
                tags=entry.get("tags") or [],
                folder_id=folder.pk if folder else None,
                meta=self.meta,
            )
        self._others()

    def _others(self) -> None:
        ctx = ImportContext(self.user, self.keys, self.report, self.small, self.file_ids, self.meta)
        for kind, run in _IMPORTERS.items():
            run(ctx, [e for e in self.manifest.get(kind, []) if isinstance(e, dict)])

    def _store(self, entry, folder_path, name, path, unzipped) -> None:
        member = self.members[path]
        upload = upload_from_iterable(
            owner_id=self.user.pk, mac_key=self.keys.content_mac_key(), name=name, pieces=unzipped, max_size=member.size
        )
        if upload.content_mac != member.mac:  # the archive is not what the first pass read
            upload.discard()
            raise ImportRefused(f"{path} changed while it was imported: stopped.")
        folder = self._folder(folder_path) if folder_path else None
        try:
            stored = file_services.file_upload(
                user=self.user,
                keys=self.keys,
                upload=upload,
                folder_id=folder.pk if folder else None,
                tags=entry.get("tags") or None,
                on_conflict="version",
                meta=self.meta,
            )
        except LockerError as exc:
            self.report.failed.append({"path": path, "reason": exc.detail})
            return
        self.file_ids[entry["path"]] = stored.file.pk
