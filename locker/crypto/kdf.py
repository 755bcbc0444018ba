"""Key derivation: Argon2id for low-entropy secrets, HKDF-SHA256 for the rest.

Argon2id parameters travel with every value derived from them, encoded as
``m=<KiB>,t=<passes>,p=<lanes>``, so they can be raised later without
breaking what was stored under the old ones.
"""

import contextlib
import os
import re
import threading
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import FormatError

KEY_SIZE = 32
SALT_SIZE = 16
_PARAMS_RE = re.compile(r"^m=(\d+),t=(\d+),p=(\d+)$")


@dataclass(frozen=True, order=True)
class Argon2Params:
    memory_cost: int  # KiB
    time_cost: int
    parallelism: int

    def encode(self) -> str:
        return f"m={self.memory_cost},t={self.time_cost},p={self.parallelism}"

    @classmethod
    def decode(cls, text: str) -> "Argon2Params":
        match = _PARAMS_RE.match(text)
        if not match:
            raise FormatError("bad Argon2 parameters")
        return cls(*(int(group) for group in match.groups()))

    def weaker_than(self, other: "Argon2Params") -> bool:
        """True if any parameter is below ``other``'s (so a re-wrap is due)."""
        return (
            self.memory_cost < other.memory_cost
            or self.time_cost < other.time_cost
            or self.parallelism < other.parallelism
        )


# Argon2 computations at once in this process. Each holds its whole memory cost (64 to 100 MiB here) while it runs
# and already uses several cores (its lanes), so more at once only adds memory: a burst of sign-ins waits its turn
# instead of growing the process by 100 MiB a sign-in.
_slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


def set_argon2_concurrency(count: int) -> None:
    """How many Argon2 computations may run at once in this process (set at start-up, before any runs)."""
    global _slots
    if count < 1:
        raise ValueError("at least one Argon2 computation must be allowed")
    _slots = threading.BoundedSemaphore(count)


@contextlib.contextmanager
def argon2_slot():
    """Hold one of the process's Argon2 slots: wrap every Argon2 computation (key derivation, password hashes)."""
    slots = _slots
    with slots:
        yield


def argon2id(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """Derive a 32-byte key from a password with Argon2id (RFC 9106)."""
    if len(salt) < SALT_SIZE:
        raise ValueError("salt must be at least 16 bytes")
    with argon2_slot():
        return hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=KEY_SIZE,
            type=Type.ID,
        )


def hkdf(ikm: bytes, *, info: bytes, salt: bytes | None = None, length: int = KEY_SIZE) -> bytes:
    """HKDF-SHA256 (RFC 5869) of high-entropy input keying material."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)
