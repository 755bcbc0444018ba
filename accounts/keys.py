"""Keys of the account objects that hold user-chosen text: each app password's name, and the name a user gives
a signed-in device (an unlock session), sealed the same way with their own associated data.

A name is content (SECURITY.md property 6), sealed like the vault's names:

* every app password has its own random key; the name is sealed under it with
  associated data ``("app-password-name", owner, app password)``;
* that key is wrapped by the user data key (``lkw1$key$``, associated data
  ``("app-password-key", owner, app password)``). Rows that existed before
  names were sealed were converted by migration 0003, which has no data key:
  their key is wrapped to the user's X25519 public key (``lkw1$x25519$``, same
  associated data), and opening it takes the private key, itself wrapped by
  the data key.

Nothing here is stored: :class:`AccountKeys` opens names for one request.
"""

from __future__ import annotations

from locker.crypto import aead
from locker.crypto.aead import context
from locker.crypto.keys import (
    b64d,
    b64e,
    new_key,
    unwrap_with_key,
    unwrap_with_private_key,
    wrap_format,
    wrap_with_key,
)


# Associated data of the UDK's wraps: binds each to its owner and purpose (SECURITY.md property 1).
def aad_password(user_id) -> bytes:
    return context("udk", "password", user_id)


def aad_recovery(user_id) -> bytes:
    return context("udk", "recovery", user_id)


def aad_app_password(user_id, app_password_id) -> bytes:
    return context("udk", "app-password", user_id, app_password_id)


def aad_session(user_id, session_id) -> bytes:
    return context("udk", "session", user_id, session_id)


def aad_private_key(user_id) -> bytes:
    return context("x25519", "private", user_id)


def aad_app_password_key(user_id, app_password_id) -> bytes:
    return context("app-password-key", user_id, app_password_id)


def aad_app_password_name(user_id, app_password_id) -> bytes:
    return context("app-password-name", user_id, app_password_id)


def _name_seal(udk: bytes, name: str, *, key_aad: bytes, name_aad: bytes) -> tuple[str, str]:
    """``(key_wrapped, name_sealed)``: a fresh key wrapped by the UDK, the name sealed under it."""
    key = new_key()
    return wrap_with_key(key, udk, aad=key_aad), b64e(aead.seal(key, name.encode(), aad=name_aad))


def app_password_name_seal(*, user_id, app_password_id, udk: bytes, name: str) -> tuple[str, str]:
    """``(key_wrapped, name_sealed)`` for a new app password."""
    return _name_seal(
        udk,
        name,
        key_aad=aad_app_password_key(user_id, app_password_id),
        name_aad=aad_app_password_name(user_id, app_password_id),
    )


def aad_session_name_key(user_id, session_id) -> bytes:
    return context("session-name-key", user_id, session_id)


def aad_session_name(user_id, session_id) -> bytes:
    return context("session-name", user_id, session_id)


def session_name_seal(*, user_id, session_id, udk: bytes, name: str) -> tuple[str, str]:
    """``(name_key_wrapped, name_sealed)`` for a device's name."""
    return _name_seal(
        udk, name, key_aad=aad_session_name_key(user_id, session_id), name_aad=aad_session_name(user_id, session_id)
    )


class AccountKeys:
    """One user's keys for opening account objects' names, from the UDK, on demand."""

    def __init__(self, user_id, udk: bytes):
        self.user_id = user_id
        self.udk = udk
        self._private_key: bytes | None = None

    def private_key(self) -> bytes:
        """The user's X25519 private key (one query, the first time)."""
        if self._private_key is None:
            from accounts.models import Keyring

            keyring = Keyring.objects.only("private_key_wrapped").get(user_id=self.user_id)
            self._private_key = unwrap_with_key(
                keyring.private_key_wrapped, self.udk, aad=aad_private_key(self.user_id)
            )
        return self._private_key

    def app_password_key(self, row) -> bytes:
        aad = aad_app_password_key(self.user_id, row.pk)
        if wrap_format(row.key_wrapped) == "x25519":
            return unwrap_with_private_key(row.key_wrapped, self.private_key(), aad=aad)
        return unwrap_with_key(row.key_wrapped, self.udk, aad=aad)

    def app_password_name(self, row) -> str:
        key = self.app_password_key(row)
        return aead.open_sealed(key, b64d(row.name_sealed), aad=aad_app_password_name(self.user_id, row.pk)).decode()

    def session_name(self, row) -> str | None:
        """The name the user gave a device (unlock session), or None if they gave none."""
        if not row.name_sealed:
            return None
        key = unwrap_with_key(row.name_key_wrapped, self.udk, aad=aad_session_name_key(self.user_id, row.pk))
        return aead.open_sealed(key, b64d(row.name_sealed), aad=aad_session_name(self.user_id, row.pk)).decode()
