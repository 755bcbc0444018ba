"""locker.crypto.stream: the streaming file format (SECURITY.md property 7, issue 3 acceptance 1)."""

import io
import os
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locker.crypto import DecryptionError, FormatError
from locker.crypto.aead import context
from locker.crypto.stream import (
    DEFAULT_CHUNK_SIZE,
    HEADER_SIZE,
    TAG_SIZE,
    ChunkReader,
    Encryptor,
    ciphertext_size,
    decode_header,
    decrypt_bytes,
    decrypt_iter,
    decrypt_range,
    encrypt_bytes,
    encrypt_iter,
    plaintext_size,
)

KEY = bytes(range(32))
AAD = context("file-version", "user-1", "file-1", 1)
SMALL = 16  # a tiny chunk size makes multi-chunk streams short enough to tamper with byte by byte
KIB64 = DEFAULT_CHUNK_SIZE


def chunks_of(ciphertext: bytes, chunk_size: int) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    step = chunk_size + TAG_SIZE
    return [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize("size", [0, 1, KIB64 - 1, KIB64, KIB64 + 1, 2 * KIB64, 10 * 1024 * 1024 + 3])
def test_round_trip_sizes(size):
    plaintext = os.urandom(size)
    ciphertext = encrypt_bytes(KEY, plaintext, aad=AAD)
    assert len(ciphertext) == ciphertext_size(size)
    assert plaintext_size(len(ciphertext), KIB64) == size
    assert decrypt_bytes(KEY, ciphertext, aad=AAD) == plaintext


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=600),
    chunk_size=st.integers(min_value=16, max_value=80),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_round_trip_any_size_chunking_and_piece_boundaries(data, chunk_size, cuts):
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    pieces = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    ciphertext = b"".join(encrypt_iter(KEY, pieces, aad=AAD, chunk_size=chunk_size))
    assert len(ciphertext) == ciphertext_size(len(data), chunk_size)
    assert decrypt_bytes(KEY, ciphertext, aad=AAD) == data
    if data:
        start = min(cuts[0] if cuts else 0, len(data) - 1)
        end = len(data) - 1 - start // 2
        end = max(start, end)
        got = b"".join(decrypt_range(KEY, io.BytesIO(ciphertext), len(ciphertext), start, end, aad=AAD))
        assert got == data[start : end + 1]


def test_same_key_gives_different_streams():
    assert encrypt_bytes(KEY, b"x", aad=AAD) != encrypt_bytes(KEY, b"x", aad=AAD)


def test_every_byte_flip_is_detected():
    ciphertext = encrypt_bytes(KEY, os.urandom(3 * SMALL + 5), aad=AAD, chunk_size=SMALL)
    for index in range(len(ciphertext)):
        tampered = bytearray(ciphertext)
        tampered[index] ^= 0x01
        with pytest.raises((DecryptionError, FormatError)):
            decrypt_bytes(KEY, bytes(tampered), aad=AAD)


@pytest.mark.parametrize("size", [3 * SMALL, 3 * SMALL + 5])
def test_truncation_anywhere_is_detected(size):
    ciphertext = encrypt_bytes(KEY, os.urandom(size), aad=AAD, chunk_size=SMALL)
    for cut in range(len(ciphertext)):
        with pytest.raises((DecryptionError, FormatError)):
            decrypt_bytes(KEY, ciphertext[:cut], aad=AAD)


def test_truncation_at_each_chunk_boundary_is_detected():
    ciphertext = encrypt_bytes(KEY, os.urandom(4 * SMALL + 3), aad=AAD, chunk_size=SMALL)
    parts = chunks_of(ciphertext, SMALL)
    for keep in range(len(parts)):
        with pytest.raises(DecryptionError):
            decrypt_bytes(KEY, ciphertext[:HEADER_SIZE] + b"".join(parts[:keep]), aad=AAD)


def test_extension_is_detected():
    ciphertext = encrypt_bytes(KEY, os.urandom(2 * SMALL), aad=AAD, chunk_size=SMALL)
    for extra in (b"\x00", os.urandom(SMALL + TAG_SIZE), chunks_of(ciphertext, SMALL)[-1]):
        with pytest.raises(DecryptionError):
            decrypt_bytes(KEY, ciphertext + extra, aad=AAD)


def test_dropping_duplicating_and_reordering_chunks_is_detected():
    ciphertext = encrypt_bytes(KEY, os.urandom(4 * SMALL + 7), aad=AAD, chunk_size=SMALL)
    header, parts = ciphertext[:HEADER_SIZE], chunks_of(ciphertext, SMALL)
    variants = []
    for i in range(len(parts)):
        variants.append(parts[:i] + parts[i + 1 :])  # drop one
        variants.append(parts[: i + 1] + [parts[i]] + parts[i + 1 :])  # duplicate one
    for i in range(len(parts) - 1):
        swapped = list(parts)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        variants.append(swapped)
    variants.append(list(reversed(parts)))
    for variant in variants:
        with pytest.raises(DecryptionError):
            decrypt_bytes(KEY, header + b"".join(variant), aad=AAD)


def test_header_edits_are_detected():
    ciphertext = encrypt_bytes(KEY, b"hello world, a few chunks long!!", aad=AAD, chunk_size=SMALL)
    for index in range(HEADER_SIZE):
        for flip in (0x01, 0x80):
            tampered = bytearray(ciphertext)
            tampered[index] ^= flip
            with pytest.raises((DecryptionError, FormatError)):
                decrypt_bytes(KEY, bytes(tampered), aad=AAD)


def test_swapping_blobs_between_files_or_users_is_detected():
    """The caller's context (owner, object, version) is bound into every chunk."""
    mine = encrypt_bytes(KEY, b"my file", aad=context("file-version", "user-1", "file-1", 1))
    for other in (
        context("file-version", "user-1", "file-2", 1),  # another file of mine
        context("file-version", "user-2", "file-1", 1),  # another user
        context("file-version", "user-1", "file-1", 2),  # another version
    ):
        with pytest.raises(DecryptionError):
            decrypt_bytes(KEY, mine, aad=other)
    with pytest.raises(DecryptionError):
        decrypt_bytes(os.urandom(32), mine, aad=context("file-version", "user-1", "file-1", 1))


def test_decryption_yields_nothing_unauthenticated():
    """A tampered final chunk raises before any of *its* bytes are produced."""
    ciphertext = bytearray(encrypt_bytes(KEY, b"A" * (2 * SMALL + 4), aad=AAD, chunk_size=SMALL))
    ciphertext[-1] ^= 1
    produced = []
    with pytest.raises(DecryptionError):
        for piece in decrypt_iter(KEY, io.BytesIO(bytes(ciphertext)), aad=AAD):
            produced.append(piece)
    assert b"".join(produced) == b"A" * (2 * SMALL)


class CountingReader(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        out = super().read(size)
        self.bytes_read += len(out)
        return out


def test_range_reads_only_the_chunks_it_needs():
    plaintext = os.urandom(10 * KIB64 + 123)
    ciphertext = encrypt_bytes(KEY, plaintext, aad=AAD)
    reader = CountingReader(ciphertext)
    start, end = 5 * KIB64 + 10, 6 * KIB64 + 20  # spans chunks 5 and 6
    got = b"".join(decrypt_range(KEY, reader, len(ciphertext), start, end, aad=AAD))
    assert got == plaintext[start : end + 1]
    assert reader.bytes_read <= HEADER_SIZE + 2 * (KIB64 + TAG_SIZE)
    last = b"".join(
        decrypt_range(KEY, io.BytesIO(ciphertext), len(ciphertext), len(plaintext) - 5, len(plaintext) - 1, aad=AAD)
    )
    assert last == plaintext[-5:]


def test_range_detects_tampering_and_bad_ranges():
    ciphertext = bytearray(encrypt_bytes(KEY, os.urandom(3 * SMALL), aad=AAD, chunk_size=SMALL))
    with pytest.raises(ValueError):
        list(decrypt_range(KEY, io.BytesIO(bytes(ciphertext)), len(ciphertext), 10, 3 * SMALL, aad=AAD))
    ciphertext[HEADER_SIZE + (SMALL + TAG_SIZE) + 3] ^= 1  # inside chunk 1
    with pytest.raises(DecryptionError):
        list(decrypt_range(KEY, io.BytesIO(bytes(ciphertext)), len(ciphertext), SMALL, SMALL + 1, aad=AAD))


def test_range_over_a_full_final_chunk_needs_the_last_flag():
    """A stream cut after a full chunk must not pass as complete to a range read of that chunk."""
    ciphertext = encrypt_bytes(KEY, os.urandom(3 * SMALL), aad=AAD, chunk_size=SMALL)
    cut = ciphertext[: HEADER_SIZE + 2 * (SMALL + TAG_SIZE)]
    with pytest.raises(DecryptionError):
        list(decrypt_range(KEY, io.BytesIO(cut), len(cut), SMALL, 2 * SMALL - 1, aad=AAD))


def test_chunk_reader_opens_runs_into_a_reused_buffer_and_checks_every_chunk():
    plaintext = os.urandom(5 * SMALL + 7)
    ciphertext = encrypt_bytes(KEY, plaintext, aad=AAD, chunk_size=SMALL)
    reader = ChunkReader(KEY, ciphertext[:HEADER_SIZE], len(ciphertext), aad=AAD)
    out = bytearray(3 * SMALL)
    for first, count in [(0, 3), (3, 3), (2, 1), (5, 1)]:
        offset, length = reader.span(first, count)
        opened = reader.open_into(first, ciphertext[offset : offset + length], count, out)
        want = plaintext[first * SMALL : (first + count) * SMALL]
        assert (opened, bytes(out[:opened])) == (len(want), want)
        assert reader.open(first, ciphertext[offset : offset + length], count) == want
    offset, length = reader.span(3, 3)  # chunks 3, 4 and the final 5
    with pytest.raises(DecryptionError):  # chunks at the wrong position
        reader.open_into(2, ciphertext[offset : offset + length], 3, out)
    with pytest.raises(DecryptionError):  # the final chunk cut off
        reader.open_into(3, ciphertext[offset : offset + length - 1], 3, out)
    tampered = bytearray(ciphertext[offset : offset + length])
    tampered[SMALL + TAG_SIZE + 2] ^= 1  # inside chunk 4
    with pytest.raises(DecryptionError):
        reader.open_into(3, tampered, 3, out)


def test_encryption_and_decryption_run_in_constant_memory():
    """64 MiB through encrypt and decrypt iterators never holds more than a few chunks."""
    total = 64 * 1024 * 1024
    block = os.urandom(256 * 1024)

    def source():
        for _ in range(total // len(block)):
            yield block

    class PipeReader(io.RawIOBase):
        def __init__(self, pieces):
            self._pieces = iter(pieces)
            self._pending = b""

        def readable(self):
            return True

        def read(self, size=-1):
            while len(self._pending) < size:
                try:
                    self._pending += next(self._pieces)
                except StopIteration:
                    break
            out, self._pending = self._pending[:size], self._pending[size:]
            return out

    tracemalloc.start()
    seen = 0
    for piece in decrypt_iter(KEY, PipeReader(encrypt_iter(KEY, source(), aad=AAD)), aad=AAD):
        seen += len(piece)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen == total
    assert peak < 4 * 1024 * 1024  # a few 64 KiB chunks and the 256 KiB source block, not 64 MiB


def test_encryptor_misuse():
    encryptor = Encryptor(KEY, aad=AAD)
    encryptor.finalize()
    with pytest.raises(ValueError):
        encryptor.update(b"x")
    with pytest.raises(ValueError):
        encryptor.finalize()
    with pytest.raises(ValueError):
        Encryptor(KEY, aad=AAD, chunk_size=8)
    with pytest.raises(ValueError):
        Encryptor(b"short", aad=AAD)


@pytest.mark.parametrize(
    "blob", [b"", b"LKS1", b"XXXX" + bytes(40), b"LKS1\x02" + bytes(40), b"LKS1\x01\x00\x00\x00\x01" + bytes(32)]
)
def test_malformed_headers(blob):
    with pytest.raises(FormatError):
        decrypt_bytes(KEY, blob, aad=AAD)


def test_header_fields():
    ciphertext = encrypt_bytes(KEY, b"x", aad=AAD, salt=b"s" * 16)
    assert ciphertext[:4] == b"LKS1" and ciphertext[4] == 1
    assert decode_header(ciphertext[:HEADER_SIZE]) == (KIB64, b"s" * 16)
