"""Where a marker word could be found at rest: every value of every table, and files (blobs, temporary files)."""

from __future__ import annotations

from django.db import connection


def tables_holding(marker: str) -> list[str]:
    """The tables with a value that contains ``marker`` (any case; bytes read as Latin-1)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                for value in row:
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if marker.lower() in text.lower():
                        found.append(table)
    return sorted(set(found))


def files_holding(marker: str, paths) -> list:
    """The files among ``paths`` (each with ``read_bytes()``: a path, or a blob in the test's object store) holding
    ``marker`` in UTF-8 or UTF-16, as written or in lower case."""
    needles = [form.encode(encoding) for form in (marker, marker.lower()) for encoding in ("utf-8", "utf-16-le")]
    return [path for path in paths if any(needle in path.read_bytes() for needle in needles)]
