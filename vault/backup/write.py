"""``manage.py backup``: the whole instance, rows and blobs, as one archive (``vault.backup.format``).

Consistent while the server keeps serving: blob deletions are held first (``vault.transfers.blobs``), then every
row is read in one read-only transaction (SQLite: a deferred transaction, whose snapshot WAL keeps while writers
go on; PostgreSQL: REPEATABLE READ), then the blobs that the snapshot's rows name are read. A blob written after
the snapshot is not in it and is left out; one deleted after it is still there, its deletion waiting for the end.
Constant memory in the data's size, but for the manifest's line per member (about 150 bytes per blob).
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import tarfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.apps import apps
from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Sum
from django.utils import timezone
from django.utils.encoding import is_protected_type

from vault.backup.format import (
    BLOB_PREFIX,
    CHUNK_ROWS,
    DB_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    MANIFEST,
    READ_SIZE,
    Crc32,
    EncryptingWriter,
)
from vault.models import Derived, FileVersion
from vault.transfers.blobs import blob_open, deletions_hold
from vault.transfers.pipeline import HASH_POOL, Stage

CHUNK_BYTES = 16 * 1024 * 1024  # a db member closes after this many bytes of JSON, or CHUNK_ROWS rows


# Rows of work in progress, whose blobs the archive does not hold: a resumable upload not finished (its client
# starts it again) and a personal export waiting to be downloaded (its owner asks for it again).
TRANSIENT = {"vault.upload", "vault.exportjob"}


def dumped_models() -> list:
    """Every table's model whose rows the archive holds, in a fixed order: all of them, content types and
    permissions too (rows refer to them by id, and a fresh instance's migrate may number them otherwise)."""
    models = [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in TRANSIENT
    ]
    return sorted(models, key=lambda model: model._meta.label_lower)


def blob_names() -> Iterator[tuple[str, int]]:
    """``(name, stored size)`` of every blob a row names: versions' contents and their thumbnails."""
    yield from FileVersion.objects.order_by("blob").values_list("blob", "stored_size").iterator(chunk_size=2000)
    previews = Derived.objects.exclude(preview_blob="").order_by("preview_blob")
    yield from previews.values_list("preview_blob", "preview_size").iterator(chunk_size=2000)


def app_version() -> str:
    with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


@contextmanager
def read_snapshot():
    """One read-only snapshot of the database for the block, without holding SQLite's write lock."""
    if connection.in_atomic_block:  # inside a caller's transaction (tests): its snapshot
        yield
        return
    connection.ensure_connection()
    begin = {
        "sqlite": "BEGIN DEFERRED",
        "postgresql": "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    }.get(connection.vendor, "BEGIN")
    with connection.cursor() as cursor:
        cursor.execute(begin)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


class ArchiveWriter:
    """Writes a tar stream (PAX headers from ``tarfile``), each member's data straight through in large pieces, and
    remembers each member's size and CRC-32 for the manifest. (``tarfile``'s own stream mode gathers what it writes
    by concatenating bytes, which copies a 1 MiB buffer over and over: a third of the speed on large archives.)"""

    def __init__(self, out: BinaryIO):
        self._out = out
        self.members: dict[str, dict] = {}
        self._now = int(time.time())
        self._written = 0

    def _write(self, data) -> None:
        self._out.write(data)
        self._written += len(data)

    def add(self, name: str, source: BinaryIO, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self._now, 0o600
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        checksum, remaining = Crc32(), size
        hashing = Stage(HASH_POOL)  # a piece is summed on another core while it is written (both free the GIL)
        try:
            while remaining:
                piece = source.read(min(READ_SIZE, remaining))
                if not piece:
                    raise OSError(f"{name} changed size while it was read")
                hashing.submit(checksum.update, piece)
                self._write(piece)
                remaining -= len(piece)
        finally:
            hashing.wait()
        if source.read(1):
            raise OSError(f"{name} changed size while it was read")
        self._write(bytes(-size % tarfile.BLOCKSIZE))
        self.members[name] = {"size": size, "crc32": checksum.hexdigest()}

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))

    def close(self) -> None:
        """The end-of-archive marker (two zero blocks), padded to a whole tar record as tar writes them."""
        end = self._written + 2 * tarfile.BLOCKSIZE
        self._write(bytes(2 * tarfile.BLOCKSIZE + (-end % tarfile.RECORDSIZE)))


class ExactEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (Django's cuts them to milliseconds, and a restored
    row must be the row that was backed up: the activity chain hashes its times)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class RowSerializer(jsonl.Serializer):
    """Django's JSON-lines serializer, each row encoded in one call (``json.dumps`` uses the C encoder; the
    ``json.dump`` Django calls streams through the pure-Python one, four times slower)."""

    def end_object(self, obj):
        self.stream.write(json.dumps(self.get_dump_object(obj), **self.json_kwargs))
        self.stream.write("\n")
        self._current = None


def _fields(model) -> list | None:
    """The fields Django's serializer writes for ``model``, when its rows can be written from plain tuples (no
    many-to-many, no binary or file field): then :func:`row_lines` writes the same lines without model instances."""
    if model._meta.many_to_many:
        return None
    fields = [f for f in model._meta.concrete_model._meta.local_fields if f.serialize]
    if any(isinstance(f, models.BinaryField | models.FileField) for f in fields):
        return None
    return fields


def _plain(value, field):
    """What Django's serializer makes of a value: kept when JSON has it (or it is a date, a number), else its text."""
    if is_protected_type(value) or isinstance(field, models.JSONField):
        return value
    return str(value)


def row_lines(model, queryset=None) -> Iterator[str]:
    """The JSON lines Django's ``jsonl`` serializer writes for every row of ``model`` (times to the microsecond),
    read as tuples: four times faster than serializing model instances."""
    fields = _fields(model)
    label = model._meta.label_lower
    queryset = model._base_manager.order_by("pk") if queryset is None else queryset
    if fields is None:
        for row in queryset.iterator(chunk_size=1000):
            text = io.StringIO()
            RowSerializer().serialize([row], stream=text, cls=ExactEncoder)
            yield text.getvalue()
        return
    pk = model._meta.pk
    names = [f.name for f in fields]
    encoder = ExactEncoder(separators=(",", ": "), ensure_ascii=False)
    for values in queryset.values_list(pk.attname, *[f.attname for f in fields]).iterator(chunk_size=2000):
        row = {"model": label, "pk": _plain(values[0], pk)}
        row["fields"] = {
            name: _plain(value, field) for name, field, value in zip(names, fields, values[1:], strict=True)
        }
        yield encoder.encode(row) + "\n"


def _db_chunks(models_, step_rows) -> Iterator[tuple[bytes, str, int]]:
    """gzip'd JSON-lines chunks of every model's rows: ``(data, model label, rows)``."""
    for model in models_:
        text, taken = io.StringIO(), 0
        for line in row_lines(model):
            text.write(line)
            taken += 1
            if taken >= CHUNK_ROWS or text.tell() >= CHUNK_BYTES:
                step_rows(taken)
                yield gzip.compress(text.getvalue().encode(), compresslevel=1, mtime=0), model._meta.label_lower, taken
                text, taken = io.StringIO(), 0
        if taken:
            step_rows(taken)
            yield gzip.compress(text.getvalue().encode(), compresslevel=1, mtime=0), model._meta.label_lower, taken


def backup_write(out: BinaryIO, *, passphrase: bytes | None = None, bars=None) -> dict:
    """Write the instance's archive to ``out``; returns the manifest."""
    from vault.backup.progress import _Quiet

    bars = bars or _Quiet()
    target = EncryptingWriter(out, passphrase) if passphrase else out
    archive = ArchiveWriter(target)
    counts: dict[str, int] = {}
    blobs = blob_bytes = 0
    with deletions_hold(), read_snapshot():
        models = dumped_models()
        created_at = timezone.now().isoformat()
        header = {
            "created_at": created_at,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": app_version(),
            "database": connection.vendor,
            "migrations": applied_migrations(),
        }
        archive.add_bytes(HEADER, json.dumps(header, indent=1).encode())
        total_rows = sum(model._base_manager.count() for model in models)
        step_rows = bars.task("Database rows", total_rows, "rows")
        for number, (data, label, rows) in enumerate(_db_chunks(models, step_rows), start=1):
            archive.add_bytes(f"{DB_PREFIX}{number:06d}.jsonl.gz", data)
            counts[label] = counts.get(label, 0) + rows
        stored = FileVersion.objects.aggregate(s=Sum("stored_size"))["s"] or 0
        stored += Derived.objects.aggregate(s=Sum("preview_size"))["s"] or 0
        step_bytes = bars.task("Blobs", stored / 2**20, "MiB")
        for name, _size in blob_names():
            with blob_open(name) as handle:
                size = handle.size
                archive.add(f"{BLOB_PREFIX}{name}", handle, size)
            blobs += 1
            blob_bytes += size
            step_bytes(size / 2**20)
    manifest = {
        **header,  # what wrote it, again: the manifest alone describes the archive
        "created_at": created_at,
        "counts": counts,
        "blobs": blobs,
        "blob_bytes": blob_bytes,
        "members": archive.members,
    }
    archive.add_bytes(MANIFEST, json.dumps(manifest, indent=0).encode())
    archive.close()
    if passphrase:
        target.finish()
    out.flush()
    return manifest
