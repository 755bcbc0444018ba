"""Locker's streaming file format (SECURITY.md property 7; age's STREAM on AES-256-GCM).

Layout (all integers big-endian)::

    header  = magic "LKS1" (4) | version 0x01 (1) | chunk size (4) | salt (16)      = 25 bytes
    chunk i = AES-256-GCM(payload key, nonce_i, plaintext_i, aad = header | context) = len(plaintext_i) + 16

* ``payload key = HKDF-SHA256(content key, salt, info="locker stream v1")``: a fresh
  random salt per blob, so one content key never encrypts two streams under the same nonces.
* ``nonce_i = i as 11 bytes | last flag (0x01 on the final chunk, else 0x00)``.
* Every chunk holds exactly ``chunk size`` plaintext bytes except the final one, which
  holds 0..chunk size bytes; an empty plaintext is one empty final chunk.
* The associated data of every chunk is the header followed by the caller's context
  (owner, object id, version, ...), so a header edit, or a blob moved to another row
  or user, fails to decrypt.

Reordering, dropping or duplicating chunks changes their counters; truncation at a chunk
boundary leaves a final chunk without the last flag; appended bytes make the real final
chunk non-final. All are detected. Encryption and decryption hold one chunk at a time,
and a byte range reads and decrypts only the chunks that cover it.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, FormatError
from .kdf import hkdf

MAGIC = b"LKS1"
VERSION = 1
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 16 * 1024 * 1024
SALT_SIZE = 16
TAG_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + 4 + SALT_SIZE
_COUNTER_LIMIT = 1 << 88  # 11-byte counter


def _payload_key(content_key: bytes, salt: bytes) -> AESGCM:
    if len(content_key) != 32:
        raise ValueError("the content key must be 32 bytes")
    return AESGCM(hkdf(content_key, salt=salt, info=b"locker stream v1"))


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _COUNTER_LIMIT:
        raise OverflowError("stream too long")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encode_header(chunk_size: int, salt: bytes) -> bytes:
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError("chunk size out of range")
    if len(salt) != SALT_SIZE:
        raise ValueError("salt must be 16 bytes")
    return MAGIC + bytes([VERSION]) + struct.pack(">I", chunk_size) + salt


def decode_header(header: bytes) -> tuple[int, bytes]:
    """``(chunk_size, salt)`` of a header, or :class:`FormatError`."""
    if len(header) < HEADER_SIZE or header[:4] != MAGIC:
        raise FormatError("not a Locker stream")
    if header[4] != VERSION:
        raise FormatError(f"unknown stream version {header[4]}")
    (chunk_size,) = struct.unpack(">I", header[5:9])
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise FormatError("chunk size out of range")
    return chunk_size, header[9:HEADER_SIZE]


def ciphertext_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER_SIZE + plaintext_size + chunks * TAG_SIZE


def plaintext_size(ciphertext_size: int, chunk_size: int) -> int:
    """The plaintext length of a well-formed stream of ``ciphertext_size`` bytes."""
    body = ciphertext_size - HEADER_SIZE
    if body < TAG_SIZE:
        raise FormatError("stream too short")
    chunks = chunk_count(ciphertext_size, chunk_size)
    last = body - (chunks - 1) * (chunk_size + TAG_SIZE)
    if last < TAG_SIZE or (chunks > 1 and last == TAG_SIZE):  # only an empty stream ends on an empty chunk
        raise FormatError("stream has an impossible length")
    return body - chunks * TAG_SIZE


def chunk_count(ciphertext_size: int, chunk_size: int) -> int:
    """How many sealed chunks a stream of ``ciphertext_size`` bytes holds (the last may be short)."""
    return max(1, -(-(ciphertext_size - HEADER_SIZE) // (chunk_size + TAG_SIZE)))


class Encryptor:
    """Incremental encryption: ``update()`` any amount, then ``finalize()`` once.

    Holds at most one chunk of plaintext. The first output carries the header.
    """

    def __init__(
        self, content_key: bytes, *, aad: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE, salt: bytes | None = None
    ):
        salt = salt if salt is not None else os.urandom(SALT_SIZE)
        self.header = encode_header(chunk_size, salt)
        self._aead = _payload_key(content_key, salt)
        self._aad = self.header + aad
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._counter = 0
        self._header_sent = False
        self._finished = False

    @classmethod
    def resume(cls, content_key: bytes, *, aad: bytes, header: bytes, sealed_chunks: int, pending: bytes) -> Encryptor:
        """An encryptor that continues a stream already begun (a resumable upload, across requests): its header
        (already written), how many chunks were sealed, and the plaintext received after them (at most one chunk),
        which :meth:`state` gave."""
        chunk_size, salt = decode_header(header)
        if len(pending) > chunk_size:
            raise ValueError("more than one chunk pending")
        encryptor = cls(content_key, aad=aad, chunk_size=chunk_size, salt=salt)
        encryptor._counter = sealed_chunks
        encryptor._buffer = bytearray(pending)
        encryptor._header_sent = True
        return encryptor

    def state(self) -> tuple[int, bytes]:
        """``(chunks sealed so far, plaintext pending after them)``: with the header, what :meth:`resume` needs.
        The pending plaintext is the caller's to keep safe (sealed, never at rest in the clear)."""
        return self._counter, bytes(self._buffer)

    def _take_header(self) -> bytes:
        if self._header_sent:
            return b""
        self._header_sent = True
        return self.header

    def _seal(self, plaintext: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._counter, last), plaintext, self._aad)
        self._counter += 1
        return sealed

    def update(self, data: bytes) -> bytes:
        return b"".join(self.update_pieces(data))

    def update_pieces(self, data: bytes) -> list[bytes]:
        """Like :meth:`update`, as a list of pieces (header, sealed chunks) that callers may write one by one."""
        if self._finished:
            raise ValueError("encryptor already finalized")
        out = [self._take_header()] if not self._header_sent else []
        size, pos = self._chunk_size, 0
        # A chunk is sealed only once a byte after it has arrived: only finalize() knows the last one.
        if self._buffer:
            need = size - len(self._buffer)
            if len(data) <= need:
                self._buffer += data
                return out
            self._buffer += data[:need]
            out.append(self._seal(bytes(self._buffer), last=False))
            self._buffer.clear()
            pos = need
        view = memoryview(data)
        while len(data) - pos > size:  # whole chunks straight from the input, without copying
            out.append(self._seal(view[pos : pos + size], last=False))
            pos += size
        self._buffer += view[pos:]
        return out

    def finalize(self) -> bytes:
        if self._finished:
            raise ValueError("encryptor already finalized")
        self._finished = True
        out = self._take_header() + self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        return out


def encrypt_iter(
    content_key: bytes,
    pieces: Iterable[bytes],
    *,
    aad: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    salt: bytes | None = None,
) -> Iterator[bytes]:
    """Encrypt an iterable of byte pieces into an iterator of ciphertext pieces."""
    encryptor = Encryptor(content_key, aad=aad, chunk_size=chunk_size, salt=salt)
    for piece in pieces:
        out = encryptor.update(piece)
        if out:
            yield out
    yield encryptor.finalize()


def encrypt_bytes(content_key: bytes, plaintext: bytes, *, aad: bytes, **kwargs) -> bytes:
    return b"".join(encrypt_iter(content_key, [plaintext], aad=aad, **kwargs))


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts, remaining = [], size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_iter(content_key: bytes, source: BinaryIO, *, aad: bytes) -> Iterator[bytes]:
    """Decrypt a stream read from ``source``, one chunk at a time.

    Raises :class:`DecryptionError` on any tampering, including a stream that
    ends without its final chunk. Callers must not treat output as complete
    until the iterator is exhausted.
    """
    header = _read_exact(source, HEADER_SIZE)
    chunk_size, salt = decode_header(header)
    aead = _payload_key(content_key, salt)
    full = header + aad
    sealed_size = chunk_size + TAG_SIZE
    counter = 0
    current = _read_exact(source, sealed_size)
    while True:
        following = _read_exact(source, sealed_size) if len(current) == sealed_size else b""
        last = not following
        if len(current) < TAG_SIZE or (not last and len(current) != sealed_size):
            raise DecryptionError("stream truncated")
        if last and counter and len(current) == TAG_SIZE:
            raise DecryptionError("stream ends on an empty chunk after others")  # never written: a forgery
        try:
            yield aead.decrypt(_nonce(counter, last), current, full)
        except InvalidTag:
            raise DecryptionError("stream chunk does not authenticate") from None
        if last:
            return
        counter += 1
        current = following


def decrypt_bytes(content_key: bytes, ciphertext: bytes, *, aad: bytes) -> bytes:
    return b"".join(decrypt_iter(content_key, io.BytesIO(ciphertext), aad=aad))


class ChunkReader:
    """Random access to the chunks of a stream of ``total_size`` ciphertext bytes whose header is known.

    :meth:`span` says which ciphertext bytes hold a run of chunks; :meth:`open` authenticates and
    decrypts such a run. Runs are independent of each other, so callers may read and open them on
    several threads at once. Each chunk is checked with its position and final-chunk flag, so a
    run is as tamper-proof as a whole read.
    """

    def __init__(self, content_key: bytes, header: bytes, total_size: int, *, aad: bytes):
        self.chunk_size, salt = decode_header(header)
        self.size = plaintext_size(total_size, self.chunk_size)
        self.sealed_size = self.chunk_size + TAG_SIZE
        # from the sealed chunks, not the plaintext size: a trailing chunk is never skipped
        self.last_index = chunk_count(total_size, self.chunk_size) - 1
        self._total_size = total_size
        self._aead = _payload_key(content_key, salt)
        self._aad = header[:HEADER_SIZE] + aad

    def span(self, first: int, count: int = 1) -> tuple[int, int]:
        """``(offset, length)`` of chunks ``first .. first+count-1`` in the stream."""
        offset = HEADER_SIZE + first * self.sealed_size
        return offset, min(self._total_size, offset + count * self.sealed_size) - offset

    def _pieces(self, first: int, sealed, count: int):
        """``(nonce, sealed chunk)`` for each chunk of a run, or :class:`DecryptionError` if one is cut short."""
        view = memoryview(sealed)
        for position in range(count):
            index = first + position
            piece = view[position * self.sealed_size : (position + 1) * self.sealed_size]
            expected = self.span(index)[1]
            if len(piece) != expected or expected < TAG_SIZE:
                raise DecryptionError("stream truncated")
            yield _nonce(index, index == self.last_index), piece

    def open(self, first: int, sealed: bytes, count: int = 1) -> bytes:
        """The plaintext of ``count`` chunks from ``first`` (bytes from :meth:`span`), or :class:`DecryptionError`."""
        try:
            out = [self._aead.decrypt(nonce, piece, self._aad) for nonce, piece in self._pieces(first, sealed, count)]
        except InvalidTag:
            raise DecryptionError("stream chunk does not authenticate") from None
        return out[0] if count == 1 else b"".join(out)

    def open_into(self, first: int, sealed, count: int, out) -> int:
        """Like :meth:`open`, decrypting into the writable buffer ``out``; returns the plaintext length.

        Saves an allocation per chunk and the join. When it raises, ``out`` may hold
        unauthenticated bytes: the caller must not use them.
        """
        target, written = memoryview(out), 0
        try:
            for nonce, piece in self._pieces(first, sealed, count):
                size = len(piece) - TAG_SIZE
                self._aead.decrypt_into(nonce, piece, self._aad, target[written : written + size])
                written += size
        except InvalidTag:
            raise DecryptionError("stream chunk does not authenticate") from None
        return written


def decrypt_range(
    content_key: bytes, source: BinaryIO, total_size: int, start: int, end: int, *, aad: bytes
) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` (inclusive) of a seekable stream of ``total_size`` ciphertext bytes.

    Seeks to and decrypts only the chunks covering the range (:class:`ChunkReader`).
    """
    source.seek(0)
    chunks = ChunkReader(content_key, _read_exact(source, HEADER_SIZE), total_size, aad=aad)
    if not 0 <= start <= end < chunks.size:
        raise ValueError("range outside the plaintext")
    size = chunks.chunk_size
    for index in range(start // size, end // size + 1):
        offset, length = chunks.span(index)
        source.seek(offset)
        plain = chunks.open(index, _read_exact(source, length))
        chunk_start = index * size
        yield plain[max(start - chunk_start, 0) : end - chunk_start + 1]
