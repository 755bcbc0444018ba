"""locker.crypto.kdf: Argon2id parameters and HKDF."""

import pytest

from locker.crypto import FormatError
from locker.crypto.kdf import Argon2Params, argon2id, hkdf

LOW = Argon2Params(memory_cost=1024, time_cost=1, parallelism=1)


def test_params_encode_decode():
    params = Argon2Params(65536, 3, 4)
    assert params.encode() == "m=65536,t=3,p=4"
    assert Argon2Params.decode(params.encode()) == params


@pytest.mark.parametrize("text", ["", "m=1,t=2", "m=a,t=1,p=1", "t=1,m=1,p=1", "m=1,t=1,p=1,x=2"])
def test_params_decode_rejects_garbage(text):
    with pytest.raises(FormatError):
        Argon2Params.decode(text)


def test_weaker_than():
    target = Argon2Params(65536, 3, 4)
    assert Argon2Params(32768, 3, 4).weaker_than(target)
    assert Argon2Params(65536, 2, 4).weaker_than(target)
    assert Argon2Params(65536, 3, 1).weaker_than(target)
    assert not target.weaker_than(target)
    assert not Argon2Params(131072, 4, 4).weaker_than(target)


def test_argon2id_is_deterministic_and_salted():
    salt = b"s" * 16
    key = argon2id(b"pw", salt, LOW)
    assert len(key) == 32
    assert key == argon2id(b"pw", salt, LOW)
    assert key != argon2id(b"pw", b"t" * 16, LOW)
    assert key != argon2id(b"pw2", salt, LOW)
    assert key != argon2id(b"pw", salt, Argon2Params(1024, 2, 1))


def test_argon2id_known_answer():
    """RFC 9106-style check against argon2-cffi's own hash (guards against parameter mix-ups)."""
    from argon2.low_level import Type, hash_secret_raw

    expected = hash_secret_raw(
        b"password", b"somesalt" * 2, time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, type=Type.ID
    )
    assert argon2id(b"password", b"somesalt" * 2, LOW) == expected


def test_argon2id_rejects_short_salt():
    with pytest.raises(ValueError):
        argon2id(b"pw", b"short", LOW)


def test_hkdf_separates_by_info_and_salt():
    ikm = b"k" * 32
    assert hkdf(ikm, info=b"a") != hkdf(ikm, info=b"b")
    assert hkdf(ikm, info=b"a", salt=b"1") != hkdf(ikm, info=b"a", salt=b"2")
    assert len(hkdf(ikm, info=b"a", length=16)) == 16


def test_hkdf_rfc5869_case_1():
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = hkdf(ikm, salt=salt, info=info, length=42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
