"""What a WebDAV path segment may be, and the files clients write that Locker does not keep (docs/webdav.md)."""

from __future__ import annotations

import re
import unicodedata

from vault.common import MAX_NAME_LENGTH

SHARED = "Shared"  # the top-level collection of what others share with the user

# Written by file managers for themselves, never by a person: macOS's folder view settings and resource forks
# (AppleDouble), Windows' folder settings and thumbnail caches. Accepted and dropped, never listed.
_JUNK = re.compile(r"^(\.DS_Store|\._.*|desktop\.ini|Thumbs\.db|ehthumbs\.db|\.directory)$", re.IGNORECASE)


def is_junk(name: str) -> bool:
    return bool(_JUNK.match(name))


def usable(name: str) -> bool:
    """Whether ``name`` could be a stored name at all (reads of anything else are simply not found)."""
    if not name or len(name) > MAX_NAME_LENGTH or name in {".", ".."} or "\\" in name:
        return False
    return not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in name)
