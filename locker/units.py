"""Sizes in human units, both ways: ``format_bytes`` for showing a size, ``parse_size`` for reading one.

Binary units (KiB, MiB, GiB, TiB, PiB: powers of 1024) and decimal ones (kB, MB, GB, TB, PB: powers of 1000)
mean what their names say; a bare letter (``5G``, ``500M``, as ``ls -h`` and ``df -h`` print them) is binary.
No Django here: bytes in, text out, and back.
"""

from __future__ import annotations

import re
from decimal import Decimal

BINARY = [("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)]
DECIMAL = [("PB", 1000**5), ("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)]

_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1}
for _name, _factor in BINARY:
    _UNITS[_name.lower()] = _factor
    _UNITS[_name[0].lower()] = _factor  # "5G", "500M"
    _UNITS[_name[:2].lower()] = _factor  # "5Gi"
for _name, _factor in DECIMAL:
    _UNITS[_name.lower()] = _factor

_SIZE = re.compile(r"\s*(?P<sign>[-+]?)\s*(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[A-Za-z]*)\s*")
MAX_INPUT_LENGTH = 64


class SizeError(ValueError):
    """A size that cannot be read; the message says why, in words for the person who typed it."""


def parse_size(text, *, maximum: int | None = None) -> int:
    """``"5 GB"`` → 5000000000, ``"1.5 GiB"`` → 1610612736, ``"123"`` → 123 (bytes), a whole number of bytes
    (rounded down). Raises :class:`SizeError` for anything else, a negative size or one above ``maximum``."""
    if isinstance(text, bool):
        raise SizeError("Enter a size such as 5 GB, 500 MiB or a number of bytes.")
    value = text if isinstance(text, int) else _parse_text(text)
    if value < 0:
        raise SizeError("A size cannot be negative.")
    if maximum is not None and value > maximum:
        raise SizeError(f"At most {format_size_exact(maximum)}.")
    return value


def _parse_text(text) -> int:
    if not isinstance(text, str) or not text.strip():
        raise SizeError("Enter a size such as 5 GB, 500 MiB or a number of bytes.")
    if len(text) > MAX_INPUT_LENGTH:
        raise SizeError(f"Use at most {MAX_INPUT_LENGTH} characters.")
    match = _SIZE.fullmatch(text.replace("_", "").replace("\u00a0", " "))
    if match is None:
        if re.search(r"[0-9],[0-9]", text):
            raise SizeError("Use a dot for decimals (1.5 GiB).")
        raise SizeError("Enter a size such as 5 GB, 500 MiB or a number of bytes.")
    unit = match["unit"].lower()
    if unit not in _UNITS:
        raise SizeError(f"Unknown unit “{match['unit']}”: use B, kB, MB, GB, TB or KiB, MiB, GiB, TiB.")
    number = Decimal(match["number"])  # the pattern admits only digits and one dot
    if match["sign"] == "-" and number != 0:
        raise SizeError("A size cannot be negative.")
    if number > 10**30:  # before multiplying: no giant intermediate values
        raise SizeError("That size is far too large.")
    return int(number * _UNITS[unit])


def format_bytes(value, *, trim: bool = False) -> str:
    """1536 → ``"1.5 KiB"`` (one decimal, binary units; ``trim`` drops a ``.0``: ``"5 GiB"``). Not a number → "-"."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{size:.0f} B"
            text = f"{size:.1f}"
            if trim and text.endswith(".0"):
                text = text[:-2]
            return f"{text} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_size_exact(value: int) -> str:
    """A size written so that :func:`parse_size` reads back exactly ``value``, in the largest unit that keeps it
    short: ``5368709120`` → ``"5 GiB"``, ``1610612736`` → ``"1.5 GiB"``, ``5000000000`` → ``"5 GB"``,
    ``12345`` → ``"12345 bytes"``."""
    value = int(value)
    best = None
    if value > 0:
        for name, factor in BINARY + DECIMAL:
            if value < factor or (best and best[1] >= factor):
                continue
            number = Decimal(value) / Decimal(factor)
            if number == number.quantize(Decimal("0.01")):
                best = (f"{format(number.normalize(), 'f')} {name}", factor)
    return best[0] if best else f"{value} bytes"
