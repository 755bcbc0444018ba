"""Search snippets: a window of plain text around the first matched word, and where the matched words are in it.

A word matches as the blind index matches it (``vault.search.index``): the same normalized word, or, for a query
word of 3 or more characters, a word starting with it (case and accents folded). Snippets are made per request,
for the reader, from text opened with their keys; nothing here is stored.
"""

from __future__ import annotations

import re

from locker.crypto.blind import MAX_PREFIX, MIN_PREFIX, normalize

WIDTH = 160  # characters of a snippet, about two lines of a result
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
_LOCATE_LIMIT = 200_000  # characters searched word by word for the first match; beyond, a faster rough search


def _matches(token: str, words: list[str]) -> bool:
    flat = normalize(token)
    return any(flat == w or (len(w) >= MIN_PREFIX and flat.startswith(w[:MAX_PREFIX])) for w in words)


def _first_match(text: str, words: list[str]) -> int | None:
    """Where the first word of ``text`` matching one of ``words`` starts, or None."""
    for found in _WORD.finditer(text, 0, min(len(text), _LOCATE_LIMIT)):
        if _matches(found.group(), words):
            return found.start()
    if len(text) > _LOCATE_LIMIT:  # a long text: find the words in its normalized form, map the place back roughly
        rest = text[_LOCATE_LIMIT:]
        flat = normalize(rest)
        at = min((i for i in (flat.find(w) for w in words) if i >= 0), default=-1)
        if at >= 0:
            return _LOCATE_LIMIT + int(at * len(rest) / max(len(flat), 1))
    return None


def locate(text: str, words: list[str]) -> int | None:
    """Where the first matching word of ``text`` is (for cutting a long text before making it plain)."""
    return _first_match(text, words) if words else None


def window(text: str, words: list[str], width: int = WIDTH, *, only_if_found: bool = False) -> str | None:
    """About ``width`` characters of ``text`` (spaces collapsed) around its first word matching ``words``, cut at
    spaces, with "…" where text was left out. Without a match: the beginning of the text (or None with
    ``only_if_found``)."""
    text = _SPACES.sub(" ", text).strip()
    at = _first_match(text, words) if words else None
    if at is None:
        if only_if_found:
            return None
        at = 0
    start = max(0, at - width // 4)
    if start:
        space = text.find(" ", start, at)
        start = space + 1 if space >= 0 else start
    end = start + width
    if end < len(text):
        space = text.rfind(" ", max(at + 1, start + width // 2), end)
        end = space if space > 0 else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def marks(text: str | None, words: list[str]) -> list[list[int]]:
    """``[start, end]`` of each word of ``text`` that matches ``words``, in UTF-16 code units (JavaScript's string
    indexes, so that a page can mark them without a second idea of what matches)."""
    if not text or not words:
        return []
    found = []
    units = 0  # UTF-16 length of text[:last]
    last = 0
    for match in _WORD.finditer(text):
        if _matches(match.group(), words):
            units += _utf16_len(text[last : match.start()])
            start = units
            units += _utf16_len(match.group())
            last = match.end()
            found.append([start, units])
    return found


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
