"""Locker's pure crypto layer: bytes in, bytes out. No ORM, no request.

Every primitive comes from ``cryptography`` or ``argon2-cffi``; this package
only composes them into Locker's versioned, self-describing formats:

* :mod:`.aead` seals small values (keys, fields) with AES-256-GCM.
* :mod:`.kdf` derives keys: Argon2id for passwords, HKDF-SHA256 otherwise.
* :mod:`.keys` wraps a user's data key (UDK) by a password, a recovery key,
  an app password or a session secret, and makes X25519 key pairs.

Services call this package; nothing else does.
"""

from .errors import DecryptionError, FormatError

__all__ = ["DecryptionError", "FormatError"]
