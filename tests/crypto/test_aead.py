"""locker.crypto.aead: round trips, wrong keys, wrong context, every tamper case."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.crypto import DecryptionError, FormatError
from locker.crypto.aead import OVERHEAD, context, open_sealed, seal

KEY = bytes(range(32))
AAD = context("udk", "password", "user-1")


@given(st.binary(max_size=4096), st.binary(max_size=64))
def test_round_trip(plaintext, extra):
    aad = context("field", extra)
    sealed = seal(KEY, plaintext, aad=aad)
    assert len(sealed) == len(plaintext) + OVERHEAD
    assert open_sealed(KEY, sealed, aad=aad) == plaintext


def test_nonces_differ():
    assert seal(KEY, b"same", aad=AAD) != seal(KEY, b"same", aad=AAD)


def test_wrong_key_fails():
    sealed = seal(KEY, b"secret", aad=AAD)
    with pytest.raises(DecryptionError):
        open_sealed(os.urandom(32), sealed, aad=AAD)


def test_wrong_context_fails():
    sealed = seal(KEY, b"secret", aad=AAD)
    with pytest.raises(DecryptionError):
        open_sealed(KEY, sealed, aad=context("udk", "password", "user-2"))


def test_every_single_byte_flip_is_detected():
    sealed = seal(KEY, b"sixteen byte msg", aad=AAD)
    for index in range(1, len(sealed)):  # byte 0 is the version: a flip there is a FormatError
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            open_sealed(KEY, bytes(tampered), aad=AAD)


def test_truncation_and_extension_are_detected():
    sealed = seal(KEY, b"payload", aad=AAD)
    for cut in range(len(sealed)):
        with pytest.raises((DecryptionError, FormatError)):
            open_sealed(KEY, sealed[:cut], aad=AAD)
    with pytest.raises(DecryptionError):
        open_sealed(KEY, sealed + b"\x00", aad=AAD)


def test_unknown_version_is_a_format_error():
    sealed = bytearray(seal(KEY, b"payload", aad=AAD))
    sealed[0] = 2
    with pytest.raises(FormatError):
        open_sealed(KEY, bytes(sealed), aad=AAD)


def test_context_is_unambiguous():
    assert context("ab", "c") != context("a", "bc")
    assert context(b"x") == context("x")


@pytest.mark.parametrize("bad", [b"", b"short", bytes(31), bytes(33), "x" * 32])
def test_key_must_be_32_bytes(bad):
    with pytest.raises(ValueError):
        seal(bad, b"x", aad=AAD)
