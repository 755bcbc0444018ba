"""Unlock sessions (SECURITY.md property 4): the server keeps only ``AEAD(Ks, UDK)``, the client holds Ks.
Created at login, extended and rotated by refresh (a refresh token is redeemed once), revoked at logout.
Each is a signed-in device: named from its User-Agent at sign-in (``accounts.devices``), renamed by its user
(the name sealed, ``accounts.keys``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.devices import device_name
from accounts.keys import aad_session, session_name_seal
from accounts.models import UnlockSession, User
from accounts.tokens import RedeemableRefreshToken, session_from_token, token_pair_rotated
from activity import actions
from activity.models import Event
from activity.services import event_record
from locker.crypto import DecryptionError, FormatError
from locker.crypto.keys import (
    new_key,
    unwrap_with_secret,
    wrap_with_secret,
)
from locker.db import one_or_none
from locker.errors import InvalidCredentials, InvalidInput, LockerError, NotFound, VaultLocked
from locker.http import RequestMeta


class TokenInvalid(LockerError):
    status_code = 401
    code = "token_not_valid"
    detail = "The refresh token is invalid, expired or already used."


class SessionEnded(TokenInvalid):
    code = "session_revoked"
    detail = "This session has ended (logged out, password changed or expired)."


def _session_lifetime(kind: str) -> timedelta:
    if kind == UnlockSession.Kind.BROWSER:
        return timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]


def unlock_session_create(
    *, user: User, udk: bytes, kind: str, meta: RequestMeta | None = None
) -> tuple[UnlockSession, bytes]:
    """Store ``AEAD(Ks, UDK)`` for a new session and return ``(session, Ks)``; Ks goes to the client only."""
    meta = meta or RequestMeta()
    session_id = uuid.uuid4()
    secret = new_key()
    session = UnlockSession.objects.create(
        id=session_id,
        user=user,
        kind=kind,
        udk_wrapped=wrap_with_secret(udk, secret, purpose="session", aad=aad_session(user.pk, session_id)),
        expires_at=timezone.now() + _session_lifetime(kind),
        ip=meta.ip,
        user_agent=meta.user_agent,
        device=device_name(meta.user_agent),
    )
    return session, secret


def unlock_session_udk(*, user_id, session_id, session_secret: bytes, session: UnlockSession | None = None) -> bytes:
    """The UDK held by a live session, or :class:`VaultLocked` (``session``: the row, if already loaded)."""
    if session is None or session.pk != session_id or session.user_id != user_id:
        session = UnlockSession.objects.filter(id=session_id, user_id=user_id).first()
    if session is None:
        raise VaultLocked()
    if session.expires_at <= timezone.now():
        session.delete()
        raise VaultLocked()
    try:
        return unwrap_with_secret(
            session.udk_wrapped, session_secret, purpose="session", aad=aad_session(user_id, session_id)
        )
    except (DecryptionError, FormatError):
        raise VaultLocked() from None


def unlock_session_revoke(*, user: User, session_id, meta: RequestMeta | None = None) -> None:
    """End one of the user's sessions (another device): its tokens or cookie stop working at once."""
    with transaction.atomic():
        deleted, _ = UnlockSession.objects.filter(user=user, id=session_id).delete()
        if not deleted:
            raise NotFound("No such session.")
        event_record(action=actions.SESSION_REVOKED, user=user, meta=meta, object_type="session", object_id=session_id)


DEVICE_NAME_MAX = 64


def unlock_session_rename(
    *, user: User, session_id, udk: bytes, name, meta: RequestMeta | None = None
) -> UnlockSession:
    """Give one of the user's devices a name of their own (sealed under a key the UDK wraps); a blank name
    goes back to the one read from its User-Agent. Another user's session, or none, is 404."""
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise InvalidInput(errors={"name": ["Not a valid string."]})
    if "\x00" in name:
        raise InvalidInput(errors={"name": ["Null characters are not allowed."]})
    name = " ".join(name.split())
    if len(name) > DEVICE_NAME_MAX:
        raise InvalidInput(errors={"name": [f"Use at most {DEVICE_NAME_MAX} characters."]})
    with transaction.atomic():
        session = one_or_none(
            UnlockSession.objects.select_for_update(of=("self",)).filter(
                user=user, id=session_id, expires_at__gt=timezone.now()
            )
        )
        if session is None:
            raise NotFound("No such session.")
        if name:
            session.name_key_wrapped, session.name_sealed = session_name_seal(
                user_id=user.pk, session_id=session.pk, udk=udk, name=name
            )
        else:
            session.name_key_wrapped = session.name_sealed = ""
        session.save(update_fields=["name_key_wrapped", "name_sealed"])
        event_record(action=actions.SESSION_RENAMED, user=user, meta=meta, object_type="session", object_id=session.pk)
    session.name = name or None
    return session


def unlock_session_extend(*, session: UnlockSession) -> None:
    """Slide a token session's expiry on refresh."""
    UnlockSession.objects.filter(id=session.id).update(expires_at=timezone.now() + _session_lifetime(session.kind))


def token_refresh(*, token: RedeemableRefreshToken, meta: RequestMeta | None = None) -> dict[str, str]:
    """Redeem a refresh token: spend it, return a new pair for the same unlock session, slide the session.

    A token is redeemed at most once. The session row is locked (PostgreSQL; SQLite's
    IMMEDIATE transactions serialize writers anyway) and the spent mark is a unique
    row, so of several concurrent redemptions of one token exactly one succeeds.

    Presenting a token that was already spent is reuse: someone else holds a copy,
    and the server cannot tell which holder is the legitimate one (OAuth 2.0 Security
    BCP, RFC 9700 section 4.14.2). The session the token belongs to ends, so every
    token of its family (access and refresh) stops working at once; the user's other
    sessions are untouched.
    """
    parsed = session_from_token(token)
    if parsed is None:
        raise TokenInvalid("The token carries no unlock session.")
    session_id, _ = parsed
    user_id = token.get(api_settings.USER_ID_CLAIM)
    reused = False
    with transaction.atomic():
        session = one_or_none(
            UnlockSession.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(id=session_id, user_id=user_id, expires_at__gt=timezone.now())
        )
        if session is None:
            raise SessionEnded()
        if not session.user.is_active:
            raise InvalidCredentials("This account is deactivated.", code="account_inactive")
        outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
        if outstanding is None:  # every refresh token Locker issues is recorded
            raise TokenInvalid()
        _, spent_now = BlacklistedToken.objects.get_or_create(token=outstanding)
        if spent_now:
            pair = token_pair_rotated(token)
            unlock_session_extend(session=session)
        else:
            reused = True
            session.delete()
            event_record(
                action=actions.REFRESH_TOKEN_REUSED,
                user=session.user,
                outcome=Event.Outcome.FAILURE,
                meta=meta,
                object_type="session",
                object_id=session_id,
            )
    if reused:  # raised after the commit: the family must end even though this request fails
        raise TokenInvalid(
            "This refresh token was already used. Its session has been ended for safety "
            "(every token it issued stops working): sign in again."
        )
    return pair


def unlock_session_purge_expired() -> int:
    """Delete expired unlock sessions (housekeeping). Returns how many."""
    deleted, _ = UnlockSession.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
