"""Keyed MACs of normalized text (blind indexes, CipherSweet's idea; SECURITY.md properties 8 and 9).

``normalize`` folds case, accents and Unicode width, so that "Résumé.PDF" and
"resume.pdf" give the same token. ``mac`` is HMAC-SHA256 under a key derived
per purpose, truncated: equal inputs under one key give equal tokens (the
documented leakage), nothing else is revealed.
"""

import hmac
import re
import unicodedata
from hashlib import sha256

from .kdf import hkdf


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def subkey(key: bytes, purpose: str) -> bytes:
    """A key for one purpose, derived from a 256-bit key (UDK, folder key...)."""
    return hkdf(key, info=f"locker blind {purpose} v1".encode())


def mac(key: bytes, data: bytes, *, length: int = 16) -> str:
    """Truncated HMAC-SHA256, hex."""
    return hmac.new(key, data, sha256).hexdigest()[: 2 * length]


def text_mac(key: bytes, text: str, *, length: int = 16) -> str:
    return mac(key, normalize(text).encode(), length=length)


_WORD = re.compile(r"[^\W_]+")
MIN_PREFIX = 3
MAX_PREFIX = 16


def tokenize(text: str) -> list[str]:
    """Normalized words of ``text``, in order, without repeats ("Résumé_2025.PDF" -> resume, 2025, pdf)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(normalize(text)):
        seen.setdefault(word, None)
    return list(seen)


def prefixes(word: str) -> list[str]:
    """The prefixes indexed for prefix search: 3 characters up to the word minus one (capped at 16)."""
    return [word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX + 1)) if n < len(word)]


def token(key: bytes, word: str) -> int:
    """A 64-bit blind-index token of one normalized word (signed, to fit a SQL BIGINT)."""
    return int.from_bytes(hmac.new(key, word.encode(), sha256).digest()[:8], "big", signed=True)
