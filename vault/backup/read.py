"""Reading an instance archive: ``manage.py backup_verify`` (check it all, write nothing) and ``manage.py restore``
(into an empty instance, in one transaction, blobs written atomically, everything checked before the commit).

An archive is read once, as a stream (it may come from a pipe). Every member is checked against the manifest at the
end; a restore writes rows and blobs as they come and, when anything fails to check (a checksum, a count, a blob that
no row names or a row whose blob is missing, a truncated stream, a wrong passphrase), rolls the rows back and removes
the blobs it wrote.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from vault.backup.format import (
    BLOB_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    MANIFEST,
    READ_SIZE,
    BackupError,
    Crc32,
    open_archive,
)
from vault.backup.write import applied_migrations, dumped_models
from vault.transfers.blobs import blob_delete, blob_exists, blob_put, blob_storage

DB_MEMBER = re.compile(r"^db/\d{6}\.jsonl\.gz$")
BLOB_MEMBER = re.compile(r"^blobs/[0-9a-f-]{36}/[0-9a-f]{32}$")
BLOB_FIELDS = {"vault.fileversion": "blob", "vault.derived": "preview_blob"}
MAX_HEADER = 1024 * 1024
MAX_MANIFEST = 512 * 1024 * 1024
MAX_DB_CHUNK = 256 * 1024 * 1024  # uncompressed bytes of one db member (the writer closes them at 16 MiB)
BULK = 1000


@dataclass
class ReadReport:
    header: dict = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0


def _hashed(source: BinaryIO, size: int, checksum) -> Iterator[bytes]:
    remaining = size
    while remaining:
        try:
            piece = source.read(min(READ_SIZE, remaining))
        except tarfile.ReadError:
            piece = b""
        if not piece:
            raise BackupError("The archive ends in the middle of a member: it is truncated.")
        checksum.update(piece)
        remaining -= len(piece)
        yield piece


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    try:
        yield from tar
    except tarfile.ReadError as exc:
        raise BackupError(f"The archive is damaged or truncated ({exc}).") from None


class _Reader:
    """Walks an archive's members in order, checking names and sizes; ``on_rows`` and ``on_blob`` act on them."""

    def __init__(self, source: BinaryIO, passphrase: bytes | None, bars):
        self.stream = open_archive(source, passphrase)
        self.bars = bars
        self.report = ReadReport()
        self.seen: dict[str, dict] = {}
        self.referenced: set[str] = set()  # blob names the rows name
        self.blobs_seen: set[str] = set()
        self._step_rows = self._step_blobs = None

    def walk(self, *, on_header: Callable, on_rows: Callable, on_blob: Callable) -> dict:
        self._on = {"header": on_header, "rows": on_rows, "blob": on_blob}
        try:
            # a file is read in place (seeking past headers); a pipe or a decryption as a stream
            mode = "r:" if self.stream.seekable() else "r|"
            tar = tarfile.open(fileobj=self.stream, mode=mode, bufsize=READ_SIZE)  # noqa: SIM115
        except tarfile.ReadError:
            raise BackupError(
                "This is not a Locker backup (not a tar archive, or an encrypted one without its passphrase)."
            ) from None
        manifest = None
        for number, info in enumerate(_members(tar)):
            if manifest is not None:
                raise BackupError("The archive has members after its manifest.")
            if not info.isreg():
                raise BackupError(f"The archive holds a link or a special file ({info.name!r}): refused.")
            if info.name in self.seen:
                raise BackupError(f"The archive holds {info.name!r} twice.")
            if number == 0 and info.name != HEADER:
                raise BackupError("This is not a Locker backup: it does not start with its header.")
            source, checksum = tar.extractfile(info), Crc32()
            if info.name == MANIFEST:
                manifest = self._json(source, info.size, checksum, MAX_MANIFEST, "manifest")
                continue
            self._member(number, info, source, checksum)
            self.seen[info.name] = {"size": info.size, "crc32": checksum.hexdigest()}
        if manifest is None:
            raise BackupError("The archive has no manifest: it is truncated.")
        self._check(manifest)
        return manifest

    def _member(self, number: int, info: tarfile.TarInfo, source, checksum) -> None:
        name = info.name
        if name == HEADER and number == 0:
            header = self._json(source, info.size, checksum, MAX_HEADER, "header")
            if header.get("format") != FORMAT:
                raise BackupError("This is not a Locker backup.")
            if header.get("format_version") != FORMAT_VERSION:
                raise BackupError(f"Backup format {header.get('format_version')} is not one this version reads.")
            self.report.header = header
            self._on["header"](header)
            self._step_rows = self.bars.task("Database rows", None, "rows")
        elif DB_MEMBER.match(name):
            if self.blobs_seen:
                raise BackupError("The archive has database rows after its blobs.")
            rows = self._rows(self._lines(b"".join(_hashed(source, info.size, checksum)), name), name)
            self._on["rows"](rows)
            self._step_rows(len(rows))
        elif BLOB_MEMBER.match(name):
            blob = name[len(BLOB_PREFIX) :]
            if blob not in self.referenced:
                raise BackupError(f"The archive holds a blob no row names ({blob}).")
            if self._step_blobs is None:
                self._step_blobs = self.bars.task("Blobs", None, "MiB")
            self._on["blob"](blob, _hashed(source, info.size, checksum))
            self.blobs_seen.add(blob)
            self.report.blobs += 1
            self.report.blob_bytes += info.size
            self._step_blobs(info.size / 2**20)
        else:
            raise BackupError(f"The archive holds an unexpected member {name!r}: refused.")

    def _json(self, source, size: int, checksum, limit: int, what: str) -> dict:
        if size > limit:
            raise BackupError(f"The archive's {what} is far too large.")
        try:
            value = json.loads(b"".join(_hashed(source, size, checksum)))
        except ValueError:
            raise BackupError(f"The archive's {what} is not JSON.") from None
        if not isinstance(value, dict):
            raise BackupError(f"The archive's {what} is not what a backup writes.")
        return value

    @staticmethod
    def _lines(data: bytes, name: str) -> list[bytes]:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                text = gz.read(MAX_DB_CHUNK + 1)
        except (OSError, EOFError):
            raise BackupError(f"{name} is damaged.") from None
        if len(text) > MAX_DB_CHUNK:
            raise BackupError(f"{name} unpacks to more than a backup writes: refused.")
        return [line for line in text.split(b"\n") if line.strip()]

    def _rows(self, lines: list[bytes], name: str) -> list[dict]:
        rows = []
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                raise BackupError(f"{name} holds a line that is not JSON.") from None
            if not isinstance(row, dict) or not isinstance(row.get("model"), str):
                raise BackupError(f"{name} holds a line that is not a row.")
            label = row["model"]
            self.report.counts[label] = self.report.counts.get(label, 0) + 1
            blob_field = BLOB_FIELDS.get(label)
            if blob_field:
                blob = (row.get("fields") or {}).get(blob_field)
                if blob:
                    self.referenced.add(blob)
            rows.append(row)
        return rows

    def _check(self, manifest: dict) -> None:
        listed = manifest.get("members")
        if not isinstance(listed, dict):
            raise BackupError("The archive's manifest lists no members.")
        for name, facts in self.seen.items():
            if listed.get(name) != facts:
                raise BackupError(f"{name} does not match the manifest's size and checksum: the archive is damaged.")
        if set(listed) != set(self.seen):
            raise BackupError("The manifest lists members the archive does not hold: it is truncated or altered.")
        if manifest.get("counts") != self.report.counts:
            raise BackupError("The manifest's row counts differ from the rows in the archive.")
        missing = self.referenced - self.blobs_seen
        if missing:
            raise BackupError(f"{len(missing)} blob(s) named by rows are not in the archive.")


def backup_verify(source: BinaryIO, *, passphrase: bytes | None = None, bars=None) -> ReadReport:
    """Check an archive's structure and every checksum; nothing is written."""
    from vault.backup.progress import _Quiet

    reader = _Reader(source, passphrase, bars or _Quiet())
    reader.walk(on_header=lambda header: None, on_rows=lambda rows: None, on_blob=lambda name, pieces: _drain(pieces))
    return reader.report


def _drain(pieces) -> None:
    for _ in pieces:
        pass


def instance_contents() -> dict[str, int]:
    """What the instance holds, per model with rows (what a forced restore would delete)."""
    counts = {}
    for model in dumped_models():
        n = model._base_manager.count()
        if n:
            counts[model._meta.label_lower] = n
    return counts


def instance_is_empty() -> bool:
    from django.contrib.auth import get_user_model

    return not get_user_model()._base_manager.exists()


def _check_migrations(header: dict) -> None:
    theirs, ours = header.get("migrations"), applied_migrations()
    if theirs != ours:
        differ = sorted(app for app in set(theirs or {}) | set(ours) if (theirs or {}).get(app) != ours.get(app))
        raise BackupError(
            "The archive was written by a different version of the database schema "
            f"(apps {', '.join(differ)}): restore it with the Locker version that wrote it "
            f"({header.get('app_version', 'unknown')}), then upgrade."
        )


def backup_restore(source: BinaryIO, *, passphrase: bytes | None = None, force: bool = False, bars=None) -> ReadReport:
    """Restore an archive into this instance, in one transaction; refused on a non-empty instance unless ``force``
    (then everything there is deleted first, inside the same transaction)."""
    from vault.backup.progress import _Quiet

    if not force and not instance_is_empty():
        raise BackupError("This instance already has accounts: restore into an empty one, or use --force.")
    reader = _Reader(source, passphrase, bars or _Quiet())
    written: list[str] = []
    storage = blob_storage()
    models = {model._meta.label_lower: model for model in dumped_models()}

    def on_header(header):
        _check_migrations(header)
        # everything goes, inside the transaction: with --force the instance's data, and in any case the rows
        # migrate made (content types, permissions), which the archive brings with the ids its rows use
        for model in models.values():
            model._base_manager.all()._raw_delete(connection.alias)

    def on_rows(rows):
        for label in {row["model"] for row in rows}:
            if label not in models:
                raise BackupError(f"The archive holds rows of {label!r}, which this version does not know.")
        _load(rows)

    def on_blob(name, pieces):
        existed = blob_exists(name, storage=storage)
        blob_put(name, pieces, storage=storage)
        if not existed:
            written.append(name)

    try:
        with transaction.atomic(), _times_as_stored(models.values()):
            reader.walk(on_header=on_header, on_rows=on_rows, on_blob=on_blob)
            _reset_sequences(list(models.values()))
    except BaseException:
        for name in written:
            blob_delete(name, storage=storage)
        raise
    return reader.report


@contextmanager
def _times_as_stored(models):
    """Rows keep the times they were stored with: ``auto_now`` and ``auto_now_add`` fields would stamp the restore's
    time on every row that bulk insertion writes (loaddata's raw saves skip them; bulk_create does not)."""
    stamped = [
        (column, column.auto_now, column.auto_now_add)
        for model in models
        for column in model._meta.concrete_fields
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False)
    ]
    for column, _, _ in stamped:
        column.auto_now = column.auto_now_add = False
    try:
        yield
    finally:
        for column, auto_now, auto_now_add in stamped:
            column.auto_now, column.auto_now_add = auto_now, auto_now_add


def _load(rows: list[dict]) -> None:
    """Insert rows as they were (primary keys included), in bulk per model; rows with many-to-many values one by one."""
    try:
        objects = list(serializers.deserialize("python", rows, handle_forward_references=False))
    except DeserializationError as exc:
        raise BackupError(f"A row of the archive does not fit this version's tables ({exc}).") from None
    batch: dict[type, list] = {}
    try:
        for item in objects:
            if item.m2m_data:
                item.save()
            else:
                batch.setdefault(type(item.object), []).append(item.object)
        for model, instances in batch.items():
            model._base_manager.bulk_create(instances, batch_size=BULK)
    except (IntegrityError, DatabaseError) as exc:
        raise BackupError(f"The archive's rows do not fit this database ({type(exc).__name__}).") from None


def _reset_sequences(models: list) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def read_archive(path: str, *, passphrase_file: str | None, quiet: bool, run: Callable, **options) -> ReadReport:
    """``run(source, passphrase=, bars=, **options)`` (:func:`backup_verify`, :func:`backup_restore`) on the archive
    at ``path`` ("-": standard input), with the passphrase from ``passphrase_file`` and progress bars unless quiet.
    The commands' shared part; a problem is a :class:`BackupError` or an ``OSError``."""
    import sys

    from vault.backup.format import read_passphrase
    from vault.backup.progress import progress_bars

    passphrase = read_passphrase(passphrase_file) if passphrase_file else None
    source = open(sys.stdin.fileno(), "rb", closefd=False) if path == "-" else open(path, "rb")  # noqa: SIM115
    with source, progress_bars(quiet=quiet) as bars:
        return run(source, passphrase=passphrase, bars=bars, **options)
