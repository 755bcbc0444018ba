"""Authenticated encryption of small values (keys, fields) with AES-256-GCM.

Sealed format (version 1)::

    0x01 | nonce (12 random bytes) | ciphertext | tag (16 bytes)

The associated data is never stored: the caller rebuilds it from the
context (owner, object id, field, ...) with :func:`context`, so a value
copied into another row or field fails to open.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, FormatError

VERSION = 1
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = 1 + NONCE_SIZE + TAG_SIZE


def context(*parts: object) -> bytes:
    """Build associated data from labelled parts, unambiguously.

    Each part is length-prefixed, so ``("ab", "c")`` and ``("a", "bc")`` differ.
    """
    out = bytearray(b"locker/v1")
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
        raise ValueError("AES-256-GCM needs a 32-byte key")


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``key`` bound to ``aad``."""
    _check_key(key)
    nonce = os.urandom(NONCE_SIZE)
    return bytes([VERSION]) + nonce + AESGCM(bytes(key)).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    """Decrypt a value made by :func:`seal`; raise DecryptionError if it does not authenticate."""
    _check_key(key)
    return open_with(AESGCM(bytes(key)), sealed, aad=aad)


def check_key(key: bytes) -> None:
    """ValueError unless ``key`` is a 256-bit key (for callers that keep one :class:`AESGCM` for many values)."""
    _check_key(key)


def open_with(cipher: AESGCM, sealed: bytes, *, aad: bytes) -> bytes:
    """:func:`open_sealed` with an AES-GCM context already made for the key (many values under one key)."""
    if not sealed or len(sealed) < OVERHEAD:
        raise FormatError("sealed value too short")
    if sealed[0] != VERSION:
        raise FormatError(f"unknown sealed-value version {sealed[0]}")
    nonce, body = sealed[1 : 1 + NONCE_SIZE], sealed[1 + NONCE_SIZE :]
    try:
        return cipher.decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionError("value does not authenticate") from None
