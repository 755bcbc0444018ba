"""docs/file-format.md's test vectors, against the code and an independent reading of the document."""

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from locker.crypto.stream import decrypt_bytes, encrypt_bytes

DOC = Path(settings.BASE_DIR) / "docs" / "file-format.md"
KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
SALT = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")
AAD = b"locker test vector"


def vectors():
    rows = re.findall(
        r"^\| (empty|hello|three chunks) \| (\d+) \| `?([0-9a-f]*|\(none\))`? \| `([0-9a-f]+)` \|$",
        DOC.read_text(),
        re.M,
    )
    assert len(rows) == 3, "the vector table in docs/file-format.md changed shape"
    return [
        pytest.param(int(c), bytes.fromhex("" if p == "(none)" else p), bytes.fromhex(ct), id=name)
        for name, c, p, ct in rows
    ]


def independent_encrypt(key: bytes, plaintext: bytes, chunk_size: int, salt: bytes, context: bytes) -> bytes:
    """Written from docs/file-format.md only, without locker.crypto."""
    header = b"LKS1" + bytes([1]) + chunk_size.to_bytes(4, "big") + salt
    payload_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"locker stream v1").derive(key)
    pieces = [plaintext[i : i + chunk_size] for i in range(0, len(plaintext), chunk_size)] or [b""]
    out = [header]
    for index, piece in enumerate(pieces):
        nonce = index.to_bytes(11, "big") + (b"\x01" if index == len(pieces) - 1 else b"\x00")
        out.append(AESGCM(payload_key).encrypt(nonce, piece, header + context))
    return b"".join(out)


def test_documented_payload_key():
    payload_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=b"locker stream v1").derive(KEY)
    assert f"K = {payload_key.hex()}" in DOC.read_text()


@pytest.mark.parametrize("chunk_size,plaintext,ciphertext", vectors())
def test_vectors(chunk_size, plaintext, ciphertext):
    assert encrypt_bytes(KEY, plaintext, aad=AAD, chunk_size=chunk_size, salt=SALT) == ciphertext
    assert independent_encrypt(KEY, plaintext, chunk_size, SALT, AAD) == ciphertext
    assert decrypt_bytes(KEY, ciphertext, aad=AAD) == plaintext


def _three_chunks() -> tuple[bytes, int]:
    (chunk_size, _plaintext, ciphertext) = next(p.values for p in vectors() if p.id == "three chunks")
    return ciphertext, chunk_size


def tampered_streams():
    """docs/file-format.md, "Tampered streams": each must fail, read whole or chunk by chunk."""
    three, c = _three_chunks()
    sealed = c + 16
    header, chunk0 = three[:25], three[25 : 25 + sealed]
    two_full = independent_encrypt(KEY, b"0123456789abcdef" * 2, c, SALT, AAD)  # 2 x C: no empty final chunk
    payload_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=b"locker stream v1").derive(KEY)
    # the same 2 x C plaintext as a writer that ends on an empty final chunk would seal it
    two_full_then_empty = (
        header
        + b"".join(
            AESGCM(payload_key).encrypt(i.to_bytes(11, "big") + b"\x00", b"0123456789abcdef", header + AAD)
            for i in range(2)
        )
        + AESGCM(payload_key).encrypt((2).to_bytes(11, "big") + b"\x01", b"", header + AAD)
    )
    return [
        pytest.param(three + b"\x00", id="one byte appended"),
        pytest.param(three + chunk0, id="chunk 0 appended"),
        pytest.param(three[: 25 + 2 * sealed], id="final chunk dropped"),
        pytest.param(two_full[:-sealed], id="2 x C, final chunk dropped"),
        pytest.param(two_full + AESGCM(payload_key).encrypt(bytes(12), b"", header + AAD), id="2 x C, chunk added"),
        pytest.param(two_full_then_empty[:-16], id="2 x C then empty final chunk, empty chunk dropped"),
        pytest.param(two_full_then_empty, id="2 x C then an empty final chunk (never written)"),
        pytest.param(three[:-1], id="last byte cut"),
    ]


@pytest.mark.parametrize("stream", tampered_streams())
def test_tampered_streams_fail_whole_and_by_chunk(stream):
    from locker.crypto.errors import CryptoError
    from locker.crypto.stream import ChunkReader

    with pytest.raises(CryptoError):
        decrypt_bytes(KEY, stream, aad=AAD)
    with pytest.raises(CryptoError):  # random access over the stream's real length: its last chunk fails
        reader = ChunkReader(KEY, stream[:25], len(stream), aad=AAD)
        for index in range(reader.last_index + 1):
            offset, length = reader.span(index)
            reader.open(index, stream[offset : offset + length])
