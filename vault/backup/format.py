"""The instance backup's archive: a tar stream, optionally encrypted as a whole (``docs/backup.md``).

Members, in this order::

    locker-backup.json          what wrote it: format and app version, database vendor, applied migrations
    db/000001.jsonl.gz ...      every row, Django's JSON-lines serialization (natural keys for content types),
                                in chunks of at most CHUNK_ROWS rows, gzip level 1
    blobs/<owner>/<name> ...    every blob a row of the snapshot names, byte for byte as stored (encrypted)
    manifest.json               counts per model, and the size and CRC-32 of every member before it

With ``--passphrase-file`` the whole tar is one LKS1 stream (``docs/file-format.md``) under a key derived with
Argon2id from the passphrase, after a one-line header that names the KDF's parameters and salt.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from locker.crypto.errors import CryptoError
from locker.crypto.kdf import Argon2Params, argon2id
from locker.crypto.keys import b64d, b64e
from locker.crypto.stream import Encryptor, decrypt_iter
from locker.errors import LockerError

FORMAT = "locker-backup"
FORMAT_VERSION = 1
HEADER = "locker-backup.json"
MANIFEST = "manifest.json"
DB_PREFIX = "db/"
BLOB_PREFIX = "blobs/"
CHUNK_ROWS = 5000
ENCRYPTED_MAGIC = b"LOCKER-BACKUP-ENCRYPTED 1 "
KDF_PARAMS = Argon2Params(memory_cost=65536, time_cost=3, parallelism=4)
READ_SIZE = 1024 * 1024


class Crc32:
    """A member's checksum in the manifest (``hashlib``'s interface). CRC-32 finds a damaged or cut archive; it is not
    meant to stop a forger, and need not: every blob is sealed (AES-GCM, docs/file-format.md), a passphrase
    archive is sealed whole, and a forger who can rewrite members can rewrite a plain archive's manifest too. It is
    also what keeps the backup near tar's speed: SHA-256 took twice as long as reading and writing (1.7 GB/s here)."""

    def __init__(self):
        self.value = 0

    def update(self, data) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


class BackupError(LockerError):
    """An archive that cannot be read, verified or restored: the message says why, in words."""

    code = "invalid_backup"


# --- encryption of the whole stream ------------------------------------------------------------------------------


def _key(passphrase: bytes, salt: bytes, params: Argon2Params) -> bytes:
    return argon2id(passphrase, salt, params)


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that encrypts what it is given onto ``out`` (the header first)."""

    def __init__(self, out: BinaryIO, passphrase: bytes):
        salt = os.urandom(16)
        self._header = ENCRYPTED_MAGIC + f"{KDF_PARAMS.encode()} {b64e(salt)}\n".encode()
        self._out = out
        self._out.write(self._header)
        self._encryptor = Encryptor(_key(passphrase, salt, KDF_PARAMS), aad=self._header)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        for piece in self._encryptor.update_pieces(bytes(data)):
            self._out.write(piece)
        return len(data)

    def finish(self) -> None:
        self._out.write(self._encryptor.finalize())


class _IterReader(io.RawIOBase):
    """A read-only stream over an iterator of byte pieces."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._current:
            try:
                self._current = memoryview(next(self._pieces))
            except StopIteration:
                return 0
            except CryptoError:
                raise BackupError("The archive does not decrypt: a wrong passphrase, or a damaged file.") from None
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


def open_archive(source: BinaryIO, passphrase: bytes | None) -> BinaryIO:
    """The tar stream of an archive: ``source`` itself, or its decryption when it is an encrypted one."""
    source = source if hasattr(source, "peek") else io.BufferedReader(source, READ_SIZE)
    start = source.peek(len(ENCRYPTED_MAGIC))[: len(ENCRYPTED_MAGIC)]
    if start != ENCRYPTED_MAGIC:
        if passphrase is not None:
            raise BackupError("This archive is not encrypted: leave out the passphrase.")
        return source
    header = source.readline(256)
    try:
        params_text, salt_text = header[len(ENCRYPTED_MAGIC) :].decode().split()
        params, salt = Argon2Params.decode(params_text), b64d(salt_text)
    except (ValueError, UnicodeDecodeError, CryptoError):
        raise BackupError("The archive's encryption header is damaged.") from None
    if passphrase is None:
        raise BackupError("This archive is encrypted: give its passphrase (--passphrase-file).")
    if params.memory_cost > 4 * 1024 * 1024 or params.time_cost > 20 or params.parallelism > 64:
        raise BackupError("The archive asks for key derivation beyond what a backup uses.")
    pieces = decrypt_iter(_key(passphrase, salt, params), source, aad=header)
    return io.BufferedReader(_IterReader(pieces), READ_SIZE)


def read_passphrase(path: str) -> bytes:
    """A passphrase from a file (its first line; "-" for standard input), refused when empty."""
    import sys

    if path == "-":
        text = sys.stdin.readline()
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.readline()
    phrase = text.rstrip("\r\n")
    if not phrase:
        raise BackupError("The passphrase file is empty.")
    return phrase.encode()
