"""locker.crypto.keys: every way the UDK is wrapped, tamper cases, typable secrets, X25519."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.crypto import DecryptionError, FormatError
from locker.crypto.aead import context
from locker.crypto.kdf import Argon2Params
from locker.crypto.keys import (
    b64d,
    b64e,
    generate_typable_secret,
    generate_x25519_keypair,
    new_key,
    open_claim,
    parse_typable_secret,
    password_wrap_params,
    seal_for_claim,
    secret_verifier,
    unwrap_with_key,
    unwrap_with_password,
    unwrap_with_private_key,
    unwrap_with_secret,
    wrap_format,
    wrap_to_public_key,
    wrap_with_key,
    wrap_with_password,
    wrap_with_secret,
    x25519_public_from_private,
)

LOW = Argon2Params(memory_cost=1024, time_cost=1, parallelism=1)
AAD = context("udk", "password", "u1")


def test_password_wrap_round_trip_and_self_description():
    udk = new_key()
    wrapped = wrap_with_password(udk, "hunter2 but longer", LOW, aad=AAD)
    assert wrapped.startswith("lkw1$argon2id$m=1024,t=1,p=1$")
    assert password_wrap_params(wrapped) == LOW
    assert unwrap_with_password(wrapped, "hunter2 but longer", aad=AAD) == udk


def test_password_wrap_wrong_password_and_wrong_owner():
    wrapped = wrap_with_password(new_key(), "right password", LOW, aad=AAD)
    with pytest.raises(DecryptionError):
        unwrap_with_password(wrapped, "wrong password", aad=AAD)
    with pytest.raises(DecryptionError):
        unwrap_with_password(wrapped, "right password", aad=context("udk", "password", "u2"))


def test_password_wrap_parameter_tamper_is_detected():
    """Lowering the stored parameters changes the derived key, so the wrap no longer opens."""
    wrapped = wrap_with_password(new_key(), "pw", Argon2Params(2048, 1, 1), aad=AAD)
    tampered = wrapped.replace("m=2048", "m=1024")
    with pytest.raises(DecryptionError):
        unwrap_with_password(tampered, "pw", aad=AAD)


def test_parameter_upgrade_rewrap_keeps_the_key():
    udk = new_key()
    old = wrap_with_password(udk, "pw", LOW, aad=AAD)
    stronger = Argon2Params(2048, 2, 1)
    assert password_wrap_params(old).weaker_than(stronger)
    new = wrap_with_password(unwrap_with_password(old, "pw", aad=AAD), "pw", stronger, aad=AAD)
    assert password_wrap_params(new) == stronger
    assert unwrap_with_password(new, "pw", aad=AAD) == udk


@pytest.mark.parametrize(
    "wrap,unwrap",
    [
        (
            lambda k: wrap_with_secret(k, b"s" * 20, purpose="recovery", aad=AAD),
            lambda w: unwrap_with_secret(w, b"s" * 20, purpose="recovery", aad=AAD),
        ),
        (lambda k: wrap_with_key(k, b"k" * 32, aad=AAD), lambda w: unwrap_with_key(w, b"k" * 32, aad=AAD)),
        (
            lambda k: wrap_with_password(k, "pw", LOW, aad=AAD),
            lambda w: unwrap_with_password(w, "pw", aad=AAD),
        ),
        (
            lambda k: wrap_to_public_key(k, x25519_public_from_private(b"p" * 32), aad=AAD),
            lambda w: unwrap_with_private_key(w, b"p" * 32, aad=AAD),
        ),
    ],
    ids=["secret", "key", "password", "x25519"],
)
def test_every_character_tamper_of_a_wrap_is_detected(wrap, unwrap):
    udk = new_key()
    wrapped = wrap(udk)
    assert unwrap(wrapped) == udk
    last = wrapped.rsplit("$", 1)
    sealed = b64d(last[1])
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x80
        with pytest.raises((DecryptionError, FormatError)):
            unwrap(f"{last[0]}${b64e(bytes(tampered))}")


def test_public_key_wrap_round_trip_and_binding():
    private, public = generate_x25519_keypair()
    other_private, _ = generate_x25519_keypair()
    key = new_key()
    wrapped = wrap_to_public_key(key, public, aad=AAD)
    assert wrapped.startswith("lkw1$x25519$") and wrap_format(wrapped) == "x25519"
    assert wrapped != wrap_to_public_key(key, public, aad=AAD)  # a fresh ephemeral key every time
    assert unwrap_with_private_key(wrapped, private, aad=AAD) == key
    with pytest.raises(DecryptionError):
        unwrap_with_private_key(wrapped, other_private, aad=AAD)
    with pytest.raises(DecryptionError):
        unwrap_with_private_key(wrapped, private, aad=context("udk", "password", "u2"))
    # another ephemeral key in the header (same length) does not open it either
    prefix, _, sealed = wrapped.rsplit("$", 2)
    other_ephemeral = b64e(x25519_public_from_private(b"e" * 32))
    with pytest.raises(DecryptionError):
        unwrap_with_private_key(f"{prefix}${other_ephemeral}${sealed}", private, aad=AAD)


def test_public_key_wrap_refuses_bad_points_and_formats():
    private, _ = generate_x25519_keypair()
    with pytest.raises(FormatError):
        wrap_to_public_key(new_key(), bytes(32), aad=AAD)  # low order: an all-zero shared secret
    with pytest.raises(FormatError):
        wrap_to_public_key(new_key(), b"short", aad=AAD)
    with pytest.raises(DecryptionError):
        unwrap_with_private_key(f"lkw1$x25519${b64e(bytes(32))}${b64e(bytes(40))}", private, aad=AAD)
    for text in ("", "lkw1$key$AAAA", "lkw1$x25519$AAAA$AAAA", "lkw1$x25519$!!$AA"):
        with pytest.raises(FormatError):
            unwrap_with_private_key(text, private, aad=AAD)
    assert wrap_format(wrap_with_key(new_key(), b"k" * 32, aad=AAD)) == "key"
    with pytest.raises(FormatError):
        wrap_format("garbage")


def test_secret_wrap_separates_purposes():
    wrapped = wrap_with_secret(new_key(), b"s" * 20, purpose="recovery", aad=AAD)
    with pytest.raises(DecryptionError):
        unwrap_with_secret(wrapped, b"s" * 20, purpose="app-password", aad=AAD)


@pytest.mark.parametrize("text", ["", "lkw1$key", "lkw2$key$AAAA", "lkw1$argon2id$m=1,t=1,p=1$!!$AA", "garbage"])
def test_malformed_wraps_are_format_errors(text):
    with pytest.raises(FormatError):
        unwrap_with_key(text, b"k" * 32, aad=AAD)
    with pytest.raises(FormatError):
        unwrap_with_password(text, "pw", aad=AAD)
    with pytest.raises(FormatError):
        unwrap_with_secret(text, b"s", purpose="x", aad=AAD)


def test_typable_secret_format_and_forgiving_parse():
    secret = generate_typable_secret()
    groups = secret.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    raw = parse_typable_secret(secret)
    assert len(raw) == 20  # 160 bits
    assert parse_typable_secret(secret.lower().replace("-", " ")) == raw
    assert parse_typable_secret(secret.replace("-", "")) == raw
    look_alike = secret.replace("O", "0").replace("I", "1").replace("B", "8")
    assert parse_typable_secret(look_alike) == raw


@given(st.text(max_size=60))
def test_typable_secret_parse_never_crashes(text):
    try:
        parse_typable_secret(text)
    except FormatError:
        pass


def test_typable_secret_parse_rejects_non_text():
    with pytest.raises(FormatError):
        parse_typable_secret(12345)


def test_verifier_is_deterministic_and_purpose_bound():
    raw = parse_typable_secret(generate_typable_secret())
    assert secret_verifier(raw, purpose="app-password") == secret_verifier(raw, purpose="app-password")
    assert secret_verifier(raw, purpose="app-password") != secret_verifier(raw, purpose="other")


def test_x25519_keypair():
    private, public = generate_x25519_keypair()
    assert len(private) == 32 and len(public) == 32
    assert x25519_public_from_private(private) == public


def test_claim_sealing_is_bound_to_server_secret_and_context():
    value = new_key()
    text = seal_for_claim("server secret", value, aad=AAD)
    assert open_claim("server secret", text, aad=AAD) == value
    with pytest.raises(DecryptionError):
        open_claim("another secret", text, aad=AAD)
    with pytest.raises(DecryptionError):
        open_claim("server secret", text, aad=context("other"))


def test_blind_index_normalizes_and_is_keyed():
    from locker.crypto.blind import normalize, subkey, text_mac

    assert normalize("  Résumé.PDF ") == "resume.pdf"
    assert normalize("ﬁle　name") == "file name"  # ligature and ideographic space
    key = subkey(b"k" * 32, "name")
    assert text_mac(key, "Résumé.pdf") == text_mac(key, "resume.PDF")
    assert text_mac(key, "a") != text_mac(key, "b")
    assert text_mac(subkey(b"j" * 32, "name"), "a") != text_mac(key, "a")
    assert subkey(b"k" * 32, "name") != subkey(b"k" * 32, "content")


def test_tokenize_and_prefixes():
    from locker.crypto.blind import prefixes, token, tokenize

    assert tokenize("Quarterly_Report-2025 FINAL final.pdf") == ["quarterly", "report", "2025", "final", "pdf"]
    assert tokenize("Crème brûlée, naïve café") == ["creme", "brulee", "naive", "cafe"]
    assert tokenize("  ... ") == []
    assert prefixes("report") == ["rep", "repo", "repor"]
    assert prefixes("ab") == [] and len(prefixes("x" * 40)) == 14
    assert token(b"k" * 32, "report") == token(b"k" * 32, "report") != token(b"j" * 32, "report")
    assert -(2**63) <= token(b"k" * 32, "report") < 2**63
