"""A user's key material and the ways it is wrapped.

Each user has a random 256-bit user data key (UDK). It is only ever stored
wrapped, in a self-describing text format (STYLE.md: ``algorithm$params$...``):

``lkw1$argon2id$m=65536,t=3,p=4$<salt>$<sealed>``
    wrapped by a key derived from the password with Argon2id. The
    parameters travel with the wrap so that they can be raised later.
``lkw1$hkdf-sha256$<salt>$<sealed>``
    wrapped by a key derived with HKDF from a high-entropy secret: the
    recovery key, an app password or an unlock-session secret.
``lkw1$key$<sealed>``
    wrapped directly by another 256-bit key (e.g. the X25519 private key
    wrapped by the UDK).
``lkw1$x25519$<ephemeral public key>$<sealed>``
    wrapped to a user's X25519 public key, as age's X25519 recipients do:
    an ephemeral key pair, the shared secret through HKDF (salt: both public
    keys) as the key-encryption key. Anyone may wrap to a public key; only
    the holder of the private key (itself wrapped by the UDK) unwraps.

``<salt>`` and ``<sealed>`` are unpadded URL-safe base64; ``<sealed>`` is an
:mod:`.aead` value whose associated data the caller supplies, binding the wrap
to its owner and purpose.

Recovery keys and app passwords are 160 random bits written as RFC 4648
base32 in groups of four (``ABCD-EFGH-...``); typing is forgiving about
case, spaces, dashes and the look-alikes 0/O, 1/I and 8/B.
"""

import base64
import binascii
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import aead
from .errors import DecryptionError, FormatError
from .kdf import SALT_SIZE, Argon2Params, argon2id, hkdf

PREFIX = "lkw1"
KEY_SIZE = 32
SECRET_BYTES = 20  # 160 bits for recovery keys and app passwords


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def b64d(text: str) -> bytes:
    # What base64.b64decode(..., altchars=b"-_", validate=True) does, without building its translation table and
    # checking its arguments on every call (listings decode two values per item)
    try:
        data = (text + "=" * (-len(text) % 4)).encode("ascii")
        return binascii.a2b_base64(data.translate(_FROM_URLSAFE), strict_mode=True)
    except (binascii.Error, ValueError):
        raise FormatError("bad base64") from None


def new_key() -> bytes:
    """A fresh random 256-bit key (UDK, content key, session secret)."""
    return os.urandom(KEY_SIZE)


# --- wrapping by a password (Argon2id) ------------------------------------


def wrap_with_password(key: bytes, password: str, params: Argon2Params, *, aad: bytes) -> str:
    salt = os.urandom(SALT_SIZE)
    kek = argon2id(password.encode(), salt, params)
    sealed = aead.seal(kek, key, aad=aad)
    return "$".join([PREFIX, "argon2id", params.encode(), b64e(salt), b64e(sealed)])


def unwrap_with_password(wrapped: str, password: str, *, aad: bytes) -> bytes:
    params, salt, sealed = _split_password_wrap(wrapped)
    kek = argon2id(password.encode(), salt, params)
    return aead.open_sealed(kek, sealed, aad=aad)


def password_wrap_params(wrapped: str) -> Argon2Params:
    """The Argon2id parameters a password wrap was made with."""
    return _split_password_wrap(wrapped)[0]


def _split_password_wrap(wrapped: str) -> tuple[Argon2Params, bytes, bytes]:
    parts = wrapped.split("$")
    if len(parts) != 5 or parts[0] != PREFIX or parts[1] != "argon2id":
        raise FormatError("not a password wrap")
    salt = b64d(parts[3])
    if len(salt) < SALT_SIZE:
        raise FormatError("password wrap salt too short")
    return Argon2Params.decode(parts[2]), salt, b64d(parts[4])


# --- wrapping by a high-entropy secret (HKDF) -------------------------------


def wrap_with_secret(key: bytes, secret: bytes, *, purpose: str, aad: bytes) -> str:
    salt = os.urandom(SALT_SIZE)
    kek = hkdf(secret, salt=salt, info=f"locker kek {purpose}".encode())
    sealed = aead.seal(kek, key, aad=aad)
    return "$".join([PREFIX, "hkdf-sha256", b64e(salt), b64e(sealed)])


def unwrap_with_secret(wrapped: str, secret: bytes, *, purpose: str, aad: bytes) -> bytes:
    parts = wrapped.split("$")
    if len(parts) != 4 or parts[0] != PREFIX or parts[1] != "hkdf-sha256":
        raise FormatError("not a secret wrap")
    kek = hkdf(secret, salt=b64d(parts[2]), info=f"locker kek {purpose}".encode())
    return aead.open_sealed(kek, b64d(parts[3]), aad=aad)


# --- wrapping by another key ------------------------------------------------


def wrap_with_key(key: bytes, kek: bytes, *, aad: bytes) -> str:
    return "$".join([PREFIX, "key", b64e(aead.seal(kek, key, aad=aad))])


def unwrap_with_key(wrapped: str, kek: bytes, *, aad: bytes) -> bytes:
    parts = wrapped.split("$")
    if len(parts) != 3 or parts[0] != PREFIX or parts[1] != "key":
        raise FormatError("not a key wrap")
    return aead.open_sealed(kek, b64d(parts[2]), aad=aad)


def open_under_wrapped_keys(kek: bytes, items) -> list[bytes | None]:
    """Many ``(wrapped key, its aad, sealed value, the value's aad)`` at once, every key wrapped by ``kek`` (the
    children of one folder and their names, for a listing): each value opened with its unwrapped key, or None
    where the wrap or the value is malformed or fails to authenticate. The same checks as :func:`unwrap_with_key`
    and :func:`aead.open_sealed`, with one AES-GCM context for ``kek``."""
    aead.check_key(kek)
    outer = aead.AESGCM(bytes(kek))
    opened: list[bytes | None] = []
    for wrapped, key_aad, sealed_text, value_aad in items:
        try:
            prefix, kind, body = wrapped.split("$")
            if prefix != PREFIX or kind != "key":
                raise FormatError("not a key wrap")
            key = aead.open_with(outer, b64d(body), aad=key_aad)
            opened.append(aead.open_sealed(key, b64d(sealed_text), aad=value_aad))
        except (ValueError, FormatError, DecryptionError):
            opened.append(None)
    return opened


# --- human-typable secrets ---------------------------------------------------

_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def generate_typable_secret() -> str:
    """160 random bits as ``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX``."""
    text = base64.b32encode(os.urandom(SECRET_BYTES)).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_typable_secret(text: str) -> bytes:
    """The 20 secret bytes of a typed recovery key or app password."""
    if not isinstance(text, str):
        raise FormatError("secret must be text")
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(_LOOKALIKES)
    if len(cleaned) != 32:
        raise FormatError("secret has the wrong length")
    try:
        raw = base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        raise FormatError("secret has characters outside its alphabet") from None
    return raw


def secret_verifier(secret: bytes, *, purpose: str) -> str:
    """A lookup verifier for a high-entropy secret (stored instead of it).

    The secret has 160 random bits, so a fast keyed derivation is as good as a
    slow hash: nobody can enumerate the input space.
    """
    return b64e(hkdf(secret, info=f"locker verifier {purpose}".encode()))


# --- X25519 key pairs (for sharing) ------------------------------------------


def generate_x25519_keypair() -> tuple[bytes, bytes]:
    """Return ``(private_raw, public_raw)``, 32 bytes each."""
    private = X25519PrivateKey.generate()
    private_raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private_raw, public_raw


def x25519_public_from_private(private_raw: bytes) -> bytes:
    private = X25519PrivateKey.from_private_bytes(private_raw)
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- wrapping to an X25519 public key ------------------------------------------------

_X25519_INFO = b"locker kek x25519"


def _raw_public(public) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def wrap_to_public_key(key: bytes, public_raw: bytes, *, aad: bytes) -> str:
    """Wrap ``key`` so that only the holder of the matching X25519 private key can unwrap it."""
    if len(public_raw) != 32:
        raise FormatError("an X25519 public key has 32 bytes")
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw_public(ephemeral.public_key())
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_raw))
    except ValueError:  # a low-order point: the shared secret would be all zeros
        raise FormatError("unusable X25519 public key") from None
    kek = hkdf(shared, salt=ephemeral_public + public_raw, info=_X25519_INFO)
    return "$".join([PREFIX, "x25519", b64e(ephemeral_public), b64e(aead.seal(kek, key, aad=aad))])


def unwrap_with_private_key(wrapped: str, private_raw: bytes, *, aad: bytes) -> bytes:
    parts = wrapped.split("$")
    if len(parts) != 4 or parts[0] != PREFIX or parts[1] != "x25519":
        raise FormatError("not a public-key wrap")
    ephemeral_public = b64d(parts[2])
    if len(ephemeral_public) != 32:
        raise FormatError("an X25519 public key has 32 bytes")
    private = X25519PrivateKey.from_private_bytes(private_raw)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise DecryptionError("unusable ephemeral key") from None
    kek = hkdf(shared, salt=ephemeral_public + _raw_public(private.public_key()), info=_X25519_INFO)
    return aead.open_sealed(kek, b64d(parts[3]), aad=aad)


def wrap_format(wrapped: str) -> str:
    """How a wrap was made: ``argon2id``, ``hkdf-sha256``, ``key`` or ``x25519``."""
    parts = wrapped.split("$", 2)
    if len(parts) < 3 or parts[0] != PREFIX:
        raise FormatError("not a wrap")
    return parts[1]


# --- sealing a session secret for a token claim --------------------------------


def seal_for_claim(server_secret: str, value: bytes, *, aad: bytes) -> str:
    """Encrypt ``value`` under a key derived from a server secret, as text."""
    return b64e(aead.seal(_claim_key(server_secret), value, aad=aad))


def open_claim(server_secret: str, text: str, *, aad: bytes) -> bytes:
    return aead.open_sealed(_claim_key(server_secret), b64d(text), aad=aad)


def _claim_key(server_secret: str) -> bytes:
    return hkdf(server_secret.encode(), info=b"locker token claim v1")
