"""Who a WebDAV request is: HTTP Basic with a username and an app password (never the account password).

The check is fast (``app_password_unlock``: HKDF and one unwrap, no Argon2), so every request carries it, as
WebDAV clients do. Failed attempts are counted per account and per client address, together with the API's
HTTP Basic (``accounts.app_passwords.app_password_unlock_limited``); past either limit every attempt, even a right
one, is refused with 429 and ``Retry-After`` until the window ends, so guessing cannot go on.
"""

from __future__ import annotations

import base64
import binascii

from accounts.app_passwords import app_password_unlock_limited
from locker.errors import InvalidCredentials
from locker.http import RequestMeta
from vault.keys import VaultKeys
from vault.transfers.dav.provider import DavSession

REALM = "Locker WebDAV"


class Unauthenticated(InvalidCredentials):
    code = "invalid_credentials"
    detail = "Sign in with your username and an app password (Settings, App passwords)."


def _credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep and username else None


def dav_authenticate(request) -> DavSession:
    """The request's :class:`DavSession`, or :class:`Unauthenticated` (401) / :class:`RateLimited` (429)."""
    found = _credentials(request)
    if found is None:
        raise Unauthenticated()
    username, password = found
    unlocked = app_password_unlock_limited(request, username=username, password=password)
    if unlocked is None:
        raise Unauthenticated("Wrong username or app password.")
    user, _row, udk = unlocked
    return DavSession(user=user, keys=VaultKeys(user.pk, udk), meta=RequestMeta.from_request(request))
