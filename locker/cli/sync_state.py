"""What a sync remembers between runs (docs/cli.md, *Sync*): one SQLite database per pair of local folder and remote
folder, in the config directory.

- ``entries``: every path as it was when both sides last agreed: kind, the local file's size, modification time
  and keyed content hash (HMAC-SHA256 under a random key of this computer's, so the database names no content),
  and the remote item's id and version.
- ``remote``: the remote tree below the synced folder as the change feed last left it (id, parent, name, kind,
  version, size), so remote changes are found without walking the tree.
- ``meta``: the change feed's cursor, the remote root's id, tus uploads under way (to resume them).

Each change is committed as soon as it is done on both sides, so a sync killed midway goes on from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from locker.cli import config

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, hash TEXT,
    remote_id TEXT, version INTEGER
);
CREATE TABLE IF NOT EXISTS remote (
    id TEXT PRIMARY KEY, parent TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER, size INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass
class Entry:
    path: str
    kind: str  # "file" or "folder"
    size: int | None = None
    mtime_ns: int | None = None
    hash: str | None = None
    remote_id: str | None = None
    version: int | None = None


@dataclass
class RemoteItem:
    id: str
    parent: str | None
    name: str
    kind: str
    version: int | None = None
    size: int | None = None


_key_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def _hash_key() -> bytes:
    """This computer's hashing key, made once: the first of several threads or processes to need it writes it whole
    (a temporary file linked into place), and the others read that one, so no hash is ever kept under a key that
    another writer then replaced."""
    path = config.config_dir() / "sync-key"
    with _key_lock:
        if path in _keys:
            return _keys[path]
        try:
            key = bytes.fromhex(path.read_text().strip())
            if len(key) != 32:
                raise ValueError(path)
        except FileNotFoundError:
            key = _make_key(path, replace=False)
        except (OSError, ValueError):
            key = _make_key(path, replace=True)  # unreadable: hashes made under it can't be checked anyway
        _keys[path] = key
        return key


def _make_key(path: Path, *, replace: bool) -> bytes:
    key = secrets.token_bytes(32)
    draft = path.with_name(f".sync-key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(draft, path)
            return key
        try:
            os.link(draft, path)  # atomic, and refused when another process linked its key first
        except FileExistsError:
            return bytes.fromhex(path.read_text().strip())
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(draft)


def content_hash(path: Path) -> str:
    digest = hmac.new(_hash_key(), digestmod=hashlib.sha256)
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


class State:
    def __init__(self, server: str, username: str, local: Path, remote_path: str):
        name = hashlib.sha256(json.dumps([server, username, str(local.resolve()), remote_path]).encode()).hexdigest()
        folder = config.config_dir() / "sync"
        folder.mkdir(mode=0o700, exist_ok=True)
        # transfers run on worker threads: they write here one at a time, under the lock
        self.db = sqlite3.connect(folder / f"{name[:24]}.sqlite3", isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- meta ---
    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str | None) -> None:
        with self.lock:
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- entries ---
    def entries(self) -> dict[str, Entry]:
        rows = self.db.execute("SELECT path, kind, size, mtime_ns, hash, remote_id, version FROM entries")
        return {row[0]: Entry(*row) for row in rows}

    def put(self, entry: Entry) -> None:
        with self.lock:
            self._put(entry)

    def _put(self, entry: Entry) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.path, entry.kind, entry.size, entry.mtime_ns, entry.hash, entry.remote_id, entry.version),
        )

    def drop(self, path: str) -> None:
        with self.lock:
            self.db.execute(
                "DELETE FROM entries WHERE path = ? OR substr(path, 1, ?) = ?", (path, len(path) + 1, path + "/")
            )

    # --- the remote tree ---
    def remote(self) -> dict[str, RemoteItem]:
        rows = self.db.execute("SELECT id, parent, name, kind, version, size FROM remote")
        return {row[0]: RemoteItem(*row) for row in rows}

    def remote_put(self, item: RemoteItem) -> None:
        with self.lock:
            self._remote_put(item)

    def _remote_put(self, item: RemoteItem) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO remote VALUES (?, ?, ?, ?, ?, ?)",
            (item.id, item.parent, item.name, item.kind, item.version, item.size),
        )

    def remote_drop(self, item_id: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM remote WHERE id = ?", (item_id,))

    @contextlib.contextmanager
    def batch(self):
        """Many writes as one transaction (a page of the change feed): one commit instead of one each."""
        with self.lock:
            self.db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def remote_replace(self, items: list[RemoteItem]) -> None:
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM remote")
            for item in items:
                self._remote_put(item)
            self.db.execute("COMMIT")
