"""Which text the API takes in names, tags and search words, as regular expressions.

Serializers and query-parameter parsers validate with these patterns, and the OpenAPI schema states the very
same patterns: one definition, so what the schema allows and what the server takes cannot drift apart.

The patterns mean the same in Python's ``re`` and in the regex engines that read the schema: explicit
character ranges (never ``\\s``, ``\\d``, ``\\w`` or ``\\p{...}``, which differ from engine to engine), ``\\A`` and
``\\Z`` anchors (drf-spectacular writes them as ``^`` and ``$``), characters beyond U+FFFF as themselves.

The tables below are Unicode 14 as Python 3.11's ``unicodedata`` has it (``tests/test_textrules.py`` checks them
against it, so an upgrade that changes them fails a test instead of letting the rules drift).
"""

import re

# Control (Cc) and format (Cf: soft hyphen, zero-width characters, bidirectional overrides, tag characters) code
# points: what vault.services refuses in names and tags.
CONTROL_AND_FORMAT = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
# Private-use (Co) code points, refused in names too.
PRIVATE_USE = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
# What str.isspace() and str.strip() call whitespace.
WHITESPACE = (
    (0x0009, 0x000D),
    (0x001C, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)


def _escape(code_point: int) -> str:
    # Beyond U+FFFF the character itself: Python's re and the schema's readers take it, not every engine
    # takes an escape for it (JSON carries it as a surrogate pair, which parsers join again).
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else chr(code_point)


def char_class(*tables, chars: str = "") -> str:
    """The inside of a character class (``[...]``) holding every range of ``tables`` and the ASCII ``chars``."""
    parts = []
    for table in tables:
        for low, high in table:
            parts.append(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}")
    return "".join(parts) + "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)


def _minus(table, removed) -> tuple:
    """The ranges of ``table`` without the code points of ``removed``."""
    gone = {cp for low, high in removed for cp in range(low, high + 1)}
    out, start = [], None
    for low, high in table:
        for cp in range(low, high + 2):
            inside = cp <= high and cp not in gone
            if inside and start is None:
                start = cp
            elif not inside and start is not None:
                out.append((start, cp - 1))
                start = None
    return tuple(out)


_HIDDEN = char_class(CONTROL_AND_FORMAT, PRIVATE_USE, chars="/\\")  # never in a name (nor a slash)
_NAME_SPACE = char_class(_minus(WHITESPACE, CONTROL_AND_FORMAT))  # the whitespace a name may hold (not tabs)
_ANY = f"[^{_HIDDEN}]"
_SOLID = f"[^{_HIDDEN}{_NAME_SPACE}]"
_SOLID_NOT_DOT = f"[^{_HIDDEN}{_NAME_SPACE}.]"

# Device names Windows reserves, alone or before an extension ("CON", "nul.txt", "com1.tar.gz"): no file of
# that name can be made on Windows, so a client syncing or mounting the vault there would fail on it.
WINDOWS_RESERVED = (
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"),
)
_RESERVED = (
    "(?:"
    + "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in name) for name in WINDOWS_RESERVED)
    + ")"
)

# A folder or file name: something other than whitespace, no slash or backslash, no control, format or
# private-use character, not "." or "..", not a device name Windows reserves (spaces around it are trimmed).
# Length is checked apart.
NAME_PATTERN = (
    rf"\A(?![{_NAME_SPACE}]*{_RESERVED}(?:\.[^{_HIDDEN}]*)?[{_NAME_SPACE}]*\Z)[{_NAME_SPACE}]*"
    rf"(?:{_SOLID_NOT_DOT}|{_SOLID_NOT_DOT}{_SOLID}|\.{_SOLID_NOT_DOT}|{_SOLID}{_ANY}+{_SOLID})"
    rf"[{_NAME_SPACE}]*\Z"
)
NAME_RULE = (
    "Not blank, not . or .., without / or \\ and without control, format (invisible) or private-use characters; "
    "not a device name Windows reserves (CON, PRN, AUX, NUL, COM1-9, LPT1-9), with or without an extension."
)

_TAG_HIDDEN = char_class(_minus(CONTROL_AND_FORMAT, WHITESPACE))  # runs of whitespace in a tag become one space
_TAG_SPACE = char_class(WHITESPACE)

# One tag: something other than whitespace, no control or format character (whitespace runs become one space).
# The group changes nothing for a matcher; it keeps schema fuzzers that fold ``maxLength`` into a pattern's
# quantifiers (schemathesis 4.32) from rewriting it with Python-only ``\U`` escapes, which they then reject.
TAG_PATTERN = rf"\A([^{_TAG_HIDDEN}]*[^{_TAG_HIDDEN}{_TAG_SPACE}][^{_TAG_HIDDEN}]*)\Z"
TAG_RULE = "Not blank, without control or format (invisible) characters; runs of whitespace become one space."


def tag_list_pattern(*, max_tags: int, max_length: int) -> str:
    """Comma-separated tags (a multipart upload's ``tags``): at most ``max_tags`` parts of at most ``max_length``
    characters each, without control or format characters; blank parts are skipped."""
    part = f"[^,{_TAG_HIDDEN}]{{0,{max_length}}}"
    return rf"\A{part}(?:,{part}){{0,{max_tags - 1}}}\Z"


# Text that holds something other than whitespace (unanchored: a search, as JSON Schema's ``pattern`` is).
NOT_BLANK_PATTERN = f"[^{_TAG_SPACE}]"
# Any text without NUL, which Django's and DRF's fields refuse (and databases cannot store).
NO_NUL_PATTERN = r"\A[^\u0000]*\Z"
# Text without NUL that holds something other than whitespace.
NOT_BLANK_NO_NUL_PATTERN = rf"\A[^\u0000]*[^\u0000{_TAG_SPACE}][^\u0000]*\Z"


_U_ESCAPE = re.compile(r"\\U([0-9a-fA-F]{8})")


def schema_pattern(pattern: str) -> str:
    """``pattern`` as the OpenAPI schema writes it: ``^``/``$`` for ``\\A``/``\\Z`` (as drf-spectacular does), and
    characters beyond U+FFFF as themselves, never as Python's ``\\U`` escapes, which a schema's regex dialect
    (ECMA 262) does not have: JSON carries them as surrogate pairs, and readers join those again."""
    anchored = pattern.replace(r"\A", "^").replace(r"\Z", "$")
    return _U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), anchored)


# A Tesseract language's name: eng, deu, chi_sim, ... (vault.derived.preview_worker keeps its own copy: it runs
# isolated and imports nothing of the project)
OCR_LANGUAGE = re.compile(r"[a-z]{3}(_[a-z]{3,4})?")
