"""How a request proves it may decrypt: an unlock context.

Authentication tells *who* the caller is; an :class:`UnlockContext` tells
whether, and how, this request can reach the user's data key (UDK):

* API tokens carry the session id and the session secret Ks (encrypted under
  a server key) in their claims;
* the browser holds ``<session id>.<Ks>`` in an HttpOnly, SameSite=Strict cookie;
* an app password (HTTP Basic) unwraps the UDK directly.

The UDK is produced on demand by :meth:`UnlockContext.udk` and never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings

from locker.crypto import FormatError
from locker.crypto.keys import b64d, b64e
from locker.errors import VaultLocked


@dataclass
class UnlockContext:
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    session_secret: bytes | None = None
    app_password_id: uuid.UUID | None = None
    session: object | None = field(default=None, repr=False)  # the row, when authentication already loaded it
    _udk: bytes | None = field(default=None, repr=False)

    @property
    def is_unlocked(self) -> bool:
        return self._udk is not None or (self.session_id is not None and self.session_secret is not None)

    def udk(self) -> bytes:
        """The user's data key, or :class:`VaultLocked` (423)."""
        if self._udk is None:
            if self.session_id is None or self.session_secret is None or self.user_id is None:
                raise VaultLocked()
            from accounts.sessions import unlock_session_udk

            self._udk = unlock_session_udk(
                user_id=self.user_id,
                session_id=self.session_id,
                session_secret=self.session_secret,
                session=self.session,
            )
        return self._udk


LOCKED = UnlockContext()

SESSION_KEY = "locker_unlock_session"  # in the browser's Django session: the id of its unlock session


def cookie_value(session_id: uuid.UUID, session_secret: bytes) -> str:
    return f"{session_id}.{b64e(session_secret)}"


def parse_cookie(value: str | None) -> tuple[uuid.UUID, bytes] | None:
    if not value or "." not in value:
        return None
    sid, _, secret = value.partition(".")
    try:
        return uuid.UUID(sid), b64d(secret)
    except (ValueError, FormatError):
        return None


def context_from_cookie(request, user) -> UnlockContext:
    """The browser's unlock context (locked if the cookie is missing or not this user's session)."""
    parsed = parse_cookie(request.COOKIES.get(settings.LOCKER_UNLOCK_COOKIE))
    if parsed is None or not getattr(user, "is_authenticated", False):
        return LOCKED
    session_id, secret = parsed
    if str(request.session.get(SESSION_KEY)) != str(session_id):
        return LOCKED
    row = getattr(request, "locker_unlock_row", None)  # loaded by accounts.middleware.UnlockSessionMiddleware
    return UnlockContext(user_id=user.pk, session_id=session_id, session_secret=secret, session=row)


def context_for_request(request) -> UnlockContext:
    """The unlock context of any request: DRF's ``request.auth`` or the browser cookie."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, UnlockContext):
        return auth
    return context_from_cookie(request, request.user)


def set_unlock_cookie(response, request, session_id: uuid.UUID, session_secret: bytes) -> None:
    request.session[SESSION_KEY] = str(session_id)
    response.set_cookie(
        settings.LOCKER_UNLOCK_COOKIE,
        cookie_value(session_id, session_secret),
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def clear_unlock_cookie(response) -> None:
    response.delete_cookie(settings.LOCKER_UNLOCK_COOKIE, samesite="Strict")
