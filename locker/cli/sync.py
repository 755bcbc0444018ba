"""Two-way sync of a local folder with a remote one (docs/cli.md, *Sync*).

Each run: (1) the remote tree is brought up to date from the change feed since the last cursor (the first run, or
a feed ``reset``, walks it once); (2) the local folder is scanned (a file's content is hashed only when its size or
modification time changed); (3) every path is compared with what both sides were when they last agreed
(:mod:`locker.cli.sync_state`):

- changed on one side only: the change goes to the other (new file, new version, deletion, rename, move);
- changed on both sides (a conflict): nothing is lost. The remote keeps the name, the local content is uploaded as
  its new version (the remote's content stays as the version before), and a local conflict copy of it is kept and
  uploaded too; the run says so;
- a deletion goes over only when the other side did not change meanwhile (otherwise the changed file comes back);
- a rename or a move on either side is applied as one (a local file missing and another with the same content
  appearing is a rename: no upload).

``--push`` and ``--pull`` go one way only (the destination's own changes are overwritten, keeping the remote's as
versions; deletions on the destination's side only with ``--delete``). Transfers run a few at a time; large files
go over tus and a killed run resumes them. ``.lockerignore`` in the local folder lists patterns to leave out.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from locker.cli.client import CliError, error_of
from locker.cli.remote import TUS_FROM, Remote, parts_of
from locker.cli.sync_state import Entry, RemoteItem, State, content_hash

PARALLEL = 4
BATCH_FILES = 32  # new small files sent in one request
BATCH_FILE_MAX = 256 * 1024  # "small"
TEMP_SUFFIX = ".locker-part"
ALWAYS_IGNORED = ["*" + TEMP_SUFFIX, ".DS_Store", "Thumbs.db", "desktop.ini", "._*"]


@dataclass
class Local:
    kind: str
    size: int = 0
    mtime_ns: int = 0
    real: str | Path | None = None  # the path on disk (its name may be NFD; keys are NFC)

    @property
    def path(self) -> Path:
        return Path(self.real)


@dataclass
class Summary:
    uploaded: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    deleted_local: list[str] = field(default_factory=list)
    trashed_remote: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # --dry-run: what would be done

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items()}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _conflict_name(path: str) -> str:
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    stamp = time.strftime("%Y-%m-%d %H%M%S")
    copy = f"{stem} (conflict copy {stamp}){'.' + ext if ext else ''}"
    return _join(folder, copy)


class Sync:
    def __init__(
        self,
        remote: Remote,
        state: State,
        local_root: Path,
        remote_path: str,
        *,
        mode: str = "both",
        dry_run: bool = False,
        delete: bool = False,
        on_progress: Callable[[str, int], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ):
        self.remote = remote
        self.api = remote.api
        self.state = state
        self.root = local_root
        self.remote_path = remote_path
        self.mode = mode
        self.dry_run = dry_run
        self.delete = delete
        self.progress = on_progress or (lambda path, done: None)
        self.note = on_note or (lambda text: None)
        self.summary = Summary()
        self.sizes: dict[str, int] = {}  # bytes each planned transfer moves, for the progress bar's total
        self.batchable: dict[str, Local] = {}  # new small files, sent several in one request
        self.on_total: Callable[[int], None] = lambda total: None
        self.tree: dict[str, RemoteItem] = {}
        self.root_id: str | None = None
        remote.on_folder = self._remember_folder

    # --- 1. the remote tree -----------------------------------------------------------------------------------
    def refresh_remote(self) -> None:
        try:
            self.root_id = self.remote.folder_id(self.remote_path, create=not self.dry_run)
        except CliError as exc:
            if exc.code != CliError.NOT_FOUND:
                raise
            self.root_id, self.tree = "(to be made)", {}  # a dry run: the remote folder is not there yet
            return
        if self.state.get("root") != str(self.root_id):
            self.state.set("cursor", None)  # another remote folder than last time: start over
        cursor = self.state.get("cursor")
        self.tree = self.state.remote()
        if cursor:
            cursor = self._follow(cursor)
        if not cursor:
            cursor = self._walk()
        if not self.dry_run:
            self.state.set("cursor", cursor)
            self.state.set("root", str(self.root_id))

    def _walk(self) -> str:
        cursor = self.api.json("GET", "changes")["cursor"]  # before the walk: nothing between is missed
        items: list[RemoteItem] = []
        queue = [self.root_id]
        while queue:
            parent = queue.pop()
            for folder in self.remote.folders(parent):
                items.append(RemoteItem(folder["id"], parent, _nfc(folder["name"]), "folder"))
                queue.append(folder["id"])
        params = {"folder": self.root_id, "recursive": 1} if self.root_id else {"all": 1}
        for file in self.api.pages("files/", params):
            items.append(
                RemoteItem(file["id"], file["folder"], _nfc(file["name"]), "file", file["version"], file["size"])
            )
        self.tree = {item.id: item for item in items}
        if not self.dry_run:
            self.state.remote_replace(items)
        return cursor

    def _follow(self, cursor: str) -> str | None:
        while True:
            response = self.api.send("GET", "changes", params={"cursor": cursor, "limit": 2000})
            if response.status_code == 400:
                return None  # a cursor the server no longer takes: walk again
            if response.status_code != 200:
                raise error_of(response)
            body = response.json()
            if body["reset"]:
                return None
            with self.state.batch():
                for change in body["changes"]:
                    self._apply_remote(change)
            cursor = body["cursor"]
            if not body["has_more"]:
                return cursor

    def _apply_remote(self, change: dict) -> None:
        item = change["item"]
        if item is None or item.get("trashed"):
            self.tree.pop(change["id"], None)
            if not self.dry_run:
                self.state.remote_drop(change["id"])
            return
        if change["kind"] == "folder":
            known = RemoteItem(change["id"], item["parent"], _nfc(item["name"]), "folder")
        else:
            known = RemoteItem(change["id"], item["folder"], _nfc(item["name"]), "file", item["version"], item["size"])
        self.tree[known.id] = known
        if not self.dry_run:
            self.state.remote_put(known)

    def remote_paths(self) -> dict[str, RemoteItem]:
        """Every remote item below the synced folder, by its path relative to it."""
        paths: dict[str, RemoteItem] = {}
        memo: dict[str | None, str | None] = {self.root_id: ""}

        def path_of(item_id: str | None, depth: int = 0) -> str | None:
            if item_id in memo:
                return memo[item_id]
            item = self.tree.get(item_id)
            if item is None or depth > 256:
                return None
            parent = path_of(item.parent, depth + 1)
            memo[item_id] = None if parent is None else _join(parent, item.name)
            return memo[item_id]

        for item_id, item in self.tree.items():
            path = path_of(item_id)
            if path:
                paths[path] = item
        return paths

    # --- 2. the local folder ----------------------------------------------------------------------------------
    def _ignored(self):
        """One compiled pattern for everything left out (``.lockerignore`` and the usual junk)."""
        patterns = list(ALWAYS_IGNORED)
        try:
            lines = (self.root / ".lockerignore").read_text().splitlines()
        except OSError:
            lines = []
        patterns += [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]
        return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns))

    def scan_local(self) -> dict[str, Local]:
        """Every folder and file below the local root (``os.scandir``: one stat a file, no ``Path`` objects)."""
        ignored = self._ignored().match
        found: dict[str, Local] = {}
        stack = [(str(self.root), "")]
        while stack:
            folder, base = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                name = _nfc(entry.name)
                relative = _join(base, name)
                if ignored(name) or ignored(relative) or entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    found[relative] = Local("folder", real=Path(entry.path))
                    stack.append((entry.path, relative))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found[relative] = Local("file", stat.st_size, stat.st_mtime_ns, entry.path)
        return found

    # --- 3. decide and do ------------------------------------------------------------------------------------
    def run(self) -> Summary:
        self.refresh_remote()
        entries = self.state.entries()
        local = self.scan_local()
        remote = self.remote_paths()
        self._renames(entries, local, remote)
        if self.summary.renamed:
            entries, local, remote = self.state.entries(), self.scan_local(), self.remote_paths()
        self._folders_first(entries, local, remote)
        transfers, deletions = self._files(entries, local, remote)
        self._transfer(transfers)
        self._delete(deletions, entries, local, remote)
        return self.summary

    def _local_changed(self, entry: Entry | None, item: Local) -> bool:
        if entry is None or entry.kind != item.kind:
            return True
        if item.kind == "folder":
            return False
        if entry.size == item.size and entry.mtime_ns == item.mtime_ns:
            return False
        if entry.size != item.size:
            return True
        if content_hash(item.path) == entry.hash:  # touched, same content: remember the new time
            if not self.dry_run:
                entry.mtime_ns = item.mtime_ns
                self.state.put(entry)
            return False
        return True

    @staticmethod
    def _remote_changed(entry: Entry | None, item: RemoteItem) -> bool:
        if entry is None or entry.remote_id != item.id or entry.kind != item.kind:
            return True
        return item.kind == "file" and item.version != entry.version

    def _renames(self, entries: dict[str, Entry], local: dict[str, Local], remote: dict[str, RemoteItem]) -> None:
        by_id = {item.id: path for path, item in remote.items()}
        # the remote renamed or moved an item: the same locally, when the old local path is as it was
        for path, entry in sorted(entries.items()):
            new = by_id.get(entry.remote_id) if entry.remote_id else None
            if new is None or new == path or self.mode == "push":
                continue
            old_local = local.get(path)
            if old_local is None or new in local or entries.get(new) is not None:
                continue
            if self._local_changed(entry, old_local) and entry.kind == "file":
                continue
            self._do(f"rename local {path} → {new}", lambda p=path, n=new: self._rename_local(p, n, entries))
        # a local file gone and another with its content appeared: a rename on the server
        if self.mode == "pull":
            return
        gone = {e.hash: (p, e) for p, e in entries.items() if e.kind == "file" and p not in local and e.hash}
        for path, item in sorted(local.items()):
            if item.kind != "file" or path in entries or not gone:
                continue
            match = gone.get(content_hash(item.path))
            if match is None:
                continue
            old, entry = match
            current = remote.get(old)
            if current is None or current.id != entry.remote_id or self._remote_changed(entry, current):
                continue
            del gone[entry.hash]
            self._do(
                f"rename remote {old} → {path}", lambda o=old, p=path, e=entry, i=item: self._rename_remote(o, p, e, i)
            )

    def _rename_local(self, old: str, new: str, entries: dict[str, Entry]) -> None:
        target = self.root / new
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.root / old, target)
        for path, entry in list(entries.items()):
            if path == old or path.startswith(old + "/"):
                self.state.drop(path)
                entry.path = new + path[len(old) :]
                self.state.put(entry)
        self.summary.renamed.append(f"{old} → {new}")

    def _rename_remote(self, old: str, new: str, entry: Entry, item: Local) -> None:
        parent_path = _parent(new)
        parent_id = self.remote.folder_id(self._remote_join(parent_path), create=True)
        name = new.rsplit("/", 1)[-1]
        moved = self.api.json("PATCH", f"files/{entry.remote_id}/", json={"name": name, "folder": parent_id})
        self._remember_remote(moved)
        self.state.drop(old)
        self.state.put(Entry(new, "file", item.size, item.mtime_ns, entry.hash, entry.remote_id, moved["version"]))
        self.summary.renamed.append(f"{old} → {new}")

    def _remote_join(self, relative: str) -> str:
        return "/" + "/".join([*parts_of(self.remote_path), *[p for p in relative.split("/") if p]])

    def _remember_folder(self, folder: dict) -> None:
        item = RemoteItem(folder["id"], folder["parent"], _nfc(folder["name"]), "folder")
        self.tree[item.id] = item
        if not self.dry_run:
            self.state.remote_put(item)

    def _remember_remote(self, file: dict) -> None:
        item = RemoteItem(file["id"], file["folder"], _nfc(file["name"]), "file", file["version"], file["size"])
        self.tree[item.id] = item
        self.state.remote_put(item)

    def _do(self, what: str, action: Callable[[], None]) -> None:
        if self.dry_run:
            self.summary.planned.append(what)
            return
        try:
            action()
        except CliError as exc:
            self.summary.errors.append(f"{what}: {exc.message}")
        except OSError as exc:
            self.summary.errors.append(f"{what}: {exc}")

    def _folders_first(self, entries, local, remote) -> None:
        for path in sorted(set(local) | set(remote)):
            here, there = local.get(path), remote.get(path)
            if here is not None and here.kind == "folder" and there is None and path not in entries:
                if self.mode != "pull":
                    self._do(f"make remote folder {path}", lambda p=path: self._mkdir_remote(p))
            elif there is not None and there.kind == "folder" and here is None and path not in entries:
                if self.mode != "push":
                    self._do(f"make local folder {path}", lambda p=path, t=there: self._mkdir_local(p, t))
            elif here and there and here.kind == there.kind == "folder" and path not in entries and not self.dry_run:
                self.state.put(Entry(path, "folder", remote_id=there.id))

    def _mkdir_remote(self, path: str) -> None:
        parent_id = self.remote.folder_id(self._remote_join(_parent(path)), create=True)
        folder_id = self.remote.folder_id(self._remote_join(path), create=True)
        item = RemoteItem(folder_id, parent_id, path.rsplit("/", 1)[-1], "folder")
        self.tree[folder_id] = item
        self.state.remote_put(item)
        self.state.put(Entry(path, "folder", remote_id=folder_id))
        self.summary.folders.append(path)

    def _mkdir_local(self, path: str, item: RemoteItem) -> None:
        (self.root / path).mkdir(parents=True, exist_ok=True)
        self.state.put(Entry(path, "folder", remote_id=item.id))
        self.summary.folders.append(path)

    def _files(self, entries, local, remote):
        """The transfers and deletions each path needs, as ``(description, callable)``."""
        transfers, deletions = [], []
        for path in sorted(set(entries) | set(local) | set(remote)):
            entry, here, there = entries.get(path), local.get(path), remote.get(path)
            if "folder" in {here and here.kind, there and there.kind, entry and entry.kind}:
                continue
            plan = self._plan(path, entry, here, there)
            if plan is not None:
                what, job = plan
                (deletions if what.startswith(("delete", "trash")) else transfers).append(plan)
        return transfers, deletions

    def _plan(self, path: str, entry: Entry | None, here: Local | None, there: RemoteItem | None):
        pushing, pulling = self.mode != "pull", self.mode != "push"
        upload = (f"upload {path}", lambda: self._push(path, here, there.id if there else None))
        download = (f"download {path}", lambda: self._pull(path, there))
        self.sizes[path] = (here.size if here else 0) or (there.size if there else 0) or 0
        if here and not there and here.size <= BATCH_FILE_MAX:
            self.batchable[path] = here  # a new small file: it may go up in one request with others
        if here and there:
            local_changed, remote_changed = self._local_changed(entry, here), self._remote_changed(entry, there)
            if not (local_changed or remote_changed) or (entry is None and self._same_content(path, here, there)):
                return None
            if local_changed and remote_changed:
                if self.mode == "both":
                    return f"conflict {path}", lambda: self._conflict(path, here, there)
                return upload if pushing else download
            if local_changed:
                return upload if pushing else None
            return download if pulling else None
        if here:  # nothing there: new here, or deleted there
            deleting = self.mode == "both" or (pulling and self.delete)
            if entry is None or self._local_changed(entry, here) or not deleting:
                return upload if pushing else None
            return f"delete local {path}", lambda: self._delete_local(path)
        if there:  # nothing here: new there, or deleted here
            deleting = self.mode == "both" or (pushing and self.delete)
            if entry is None or self._remote_changed(entry, there) or not deleting:
                return download if pulling else None
            return f"trash remote {path}", lambda: self._trash_remote(path, there)
        if entry is not None and not self.dry_run:
            self.state.drop(path)  # gone on both sides
        return None

    def _same_content(self, path: str, here: Local, there: RemoteItem) -> bool:
        """A file new on both sides (a run killed after an upload, two computers adding the same file): the same
        bytes are one file, recorded without a transfer."""
        if here.size != there.size or here.size > TUS_FROM * 8 or self.dry_run:
            return False
        tmp = self.root / _join(_parent(path), f".{there.id}{TEMP_SUFFIX}")
        try:
            self.remote.download({"id": there.id}, tmp)
            same = content_hash(tmp) == content_hash(here.path)
        except (CliError, OSError):
            same = False
        finally:
            tmp.unlink(missing_ok=True)
        if same:
            digest = content_hash(here.path)
            self.state.put(Entry(path, "file", here.size, here.mtime_ns, digest, there.id, there.version))
        return same

    def _transfer(self, jobs: list) -> None:
        if self.dry_run:
            self.summary.planned += [what for what, _ in jobs]
            return
        self.on_total(sum(self.sizes.get(what.split(" ", 1)[1], 0) for what, _ in jobs))
        jobs = self._batched(jobs)
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="locker-sync") as pool:
            futures = {pool.submit(job): what for what, job in jobs}
            for future in as_completed(futures):
                try:
                    future.result()
                except CliError as exc:
                    self.summary.errors.append(f"{futures[future]}: {exc.message}")
                except OSError as exc:
                    self.summary.errors.append(f"{futures[future]}: {exc}")

    def _batched(self, jobs: list) -> list:
        """New small files of one folder go up BATCH_FILES at a time in one request (the API's many-file upload)."""
        single, groups = [], {}
        for what, job in jobs:
            path = what.split(" ", 1)[1]
            if what.startswith("upload ") and path in self.batchable:
                groups.setdefault(_parent(path), []).append(path)
            else:
                single.append((what, job))
        for parent, paths in groups.items():
            for start in range(0, len(paths), BATCH_FILES):
                chunk = paths[start : start + BATCH_FILES]
                single.append(
                    (f"upload {len(chunk)} files to {parent or '/'}", lambda p=parent, c=chunk: self._push_many(p, c))
                )
        return single

    def _push_many(self, parent: str, paths: list[str]) -> None:
        folder_id = self.remote.folder_id(self._remote_join(parent), create=True)
        items = [(path, self.batchable[path]) for path in paths]
        facts = {path: (content_hash(item.path), item.path.stat()) for path, item in items}
        outcomes = self.remote.upload_many([(item.path, path.rsplit("/", 1)[-1]) for path, item in items], folder_id)
        for (path, _item), outcome in zip(items, outcomes, strict=True):
            if not outcome.get("ok"):
                self.summary.errors.append(f"upload {path}: {outcome.get('detail') or outcome.get('code')}")
                continue
            stored = outcome["file"]
            digest, stat = facts[path]
            self._remember_remote(stored)
            self.state.put(Entry(path, "file", stat.st_size, stat.st_mtime_ns, digest, stored["id"], stored["version"]))
            self.summary.uploaded.append(path)
            self.progress(path, stat.st_size)

    def _push(self, path: str, here: Local, file_id: str | None) -> None:
        digest = content_hash(here.path)
        stat = here.path.stat()
        key = f"tus:{path}"
        pending = self.state.get(key)
        stored = None
        if pending:
            known = json.loads(pending)
            if known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
                try:
                    stored = self.remote.resume_tus(
                        here.path, known["location"], progress=lambda done: self.progress(path, done)
                    )
                except CliError:
                    stored = None  # expired or gone: start again
            self.state.set(key, None)
        if stored is None:
            folder_id = None if file_id else self.remote.folder_id(self._remote_join(_parent(path)), create=True)
            remember = json.dumps
            stored = self.remote.upload(
                here.path,
                folder_id=folder_id,
                name=path.rsplit("/", 1)[-1],
                file_id=file_id,
                progress=lambda done: self.progress(path, done),
                on_tus=lambda location: self.state.set(
                    key, remember({"location": location, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
                ),
            )
            self.state.set(key, None)
        self._remember_remote(stored)
        self.state.put(Entry(path, "file", stat.st_size, stat.st_mtime_ns, digest, stored["id"], stored["version"]))
        self.summary.uploaded.append(path)

    def _pull(self, path: str, there: RemoteItem) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        self.remote.download({"id": there.id}, target, progress=lambda done: self.progress(path, done))
        stat = target.stat()
        self.state.put(
            Entry(path, "file", stat.st_size, stat.st_mtime_ns, content_hash(target), there.id, there.version)
        )
        self.summary.downloaded.append(path)

    def _conflict(self, path: str, here: Local, there: RemoteItem) -> None:
        copy = _conflict_name(path)
        shutil.copy2(here.path, self.root / copy)
        self._push(path, here, there.id)  # the remote keeps the name; its content is the version before
        copied = self.root / copy
        stat = copied.stat()
        self._push(copy, Local("file", stat.st_size, stat.st_mtime_ns, copied), None)
        self.summary.conflicts.append(path)
        self.note(
            f"conflict: {path} changed here and on the server since the last sync. Your version is now the "
            f"server's current one (the server's is kept as the version before) and a copy of yours is {copy}."
        )

    def _delete_local(self, path: str) -> None:
        (self.root / path).unlink(missing_ok=True)
        self.state.drop(path)
        self.summary.deleted_local.append(path)

    def _trash_remote(self, path: str, there: RemoteItem) -> None:
        """A remote file or folder to the server's trash (already gone: fine)."""
        endpoint = "folders" if there.kind == "folder" else "files"
        response = self.api.send("DELETE", f"{endpoint}/{there.id}/")
        if response.status_code not in (200, 204, 404):
            raise error_of(response)
        self.tree.pop(there.id, None)
        self.state.remote_drop(there.id)
        self.state.drop(path)
        self.summary.trashed_remote.append(path + ("/" if there.kind == "folder" else ""))

    def _delete(self, deletions, entries, local, remote) -> None:
        for what, job in deletions:
            self._do(what, job)
        # folders: gone on one side and, below them, nothing left that the other side still needs
        gone = {p for p, e in entries.items() if e.kind == "folder" and (p not in local or p not in remote)}
        if self.dry_run or not (gone or deletions or self.summary.renamed):
            return
        now_local = self.scan_local()
        now_remote = self.remote_paths()
        for path, entry in sorted(entries.items(), key=lambda pair: -pair[0].count("/")):
            if entry.kind != "folder":
                continue
            here, there = now_local.get(path), now_remote.get(path)
            below_here = any(p.startswith(path + "/") for p in now_local)
            below_there = any(p.startswith(path + "/") for p in now_remote)
            if here and not there and not below_here and (self.mode == "both" or (self.mode == "pull" and self.delete)):
                self._do(f"delete local folder {path}", lambda p=path: self._rmdir_local(p))
            elif (
                there
                and not here
                and not below_there
                and (self.mode == "both" or (self.mode == "push" and self.delete))
            ):
                self._do(f"trash remote folder {path}", lambda p=path, t=there: self._trash_remote(p, t))
            elif not here and not there:
                self.state.drop(path)

    def _rmdir_local(self, path: str) -> None:
        try:
            (self.root / path).rmdir()
        except OSError:
            return  # something not synced (ignored files) is still in it: it stays
        self.state.drop(path)
        self.summary.deleted_local.append(path + "/")
