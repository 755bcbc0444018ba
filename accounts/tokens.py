"""JWTs that carry an unlock session: ``sid`` plus ``ksx``, the session secret encrypted under a server key.

``ksx`` is AES-256-GCM under a key derived (HKDF) from ``JWT_SIGNING_KEY``,
bound to the user and session ids, so the token's readable claims reveal
nothing, and a database dump without a live token unlocks nothing.
"""

import uuid
from contextlib import contextmanager

from django.conf import settings
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token

from accounts.models import UnlockSession, User
from locker.crypto import DecryptionError, FormatError
from locker.crypto.aead import context
from locker.crypto.keys import open_claim, seal_for_claim

SESSION_CLAIM = "sid"
SECRET_CLAIM = "ksx"


def _aad(user_id, session_id) -> bytes:
    return context("token-claim", user_id, session_id)


class LockerRefreshToken(RefreshToken):
    """A refresh token whose copy in the blacklist app's table never holds ``ksx``.

    simplejwt stores every outstanding refresh token in the database; with the
    encrypted session secret inside, database + server key would unlock the
    vault. The stored copy is the same token without that claim: enough to
    audit and blacklist it by ``jti``, useless for unlocking.
    """

    @contextmanager
    def _without_secret(self):
        secret = self.payload.pop(SECRET_CLAIM, None)
        try:
            yield
        finally:
            if secret is not None:
                self.payload[SECRET_CLAIM] = secret

    def outstand(self):
        with self._without_secret():
            return super().outstand()

    def blacklist(self):
        with self._without_secret():
            return super().blacklist()


class RedeemableRefreshToken(LockerRefreshToken):
    """A refresh token checked for its signature, type and expiry, but not yet for being spent.

    Whether it was already used is decided by :func:`accounts.services.token_refresh`,
    atomically with spending it, and a spent token presented again is treated as
    reuse (the whole session family ends) rather than as a plain invalid token.
    """

    def check_blacklist(self):
        return None


def token_pair_for(*, user: User, session: UnlockSession, session_secret: bytes) -> dict[str, str]:
    refresh = LockerRefreshToken.for_user(user)  # stored before the secret claim is added
    refresh[SESSION_CLAIM] = str(session.pk)
    refresh[SECRET_CLAIM] = seal_for_claim(settings.JWT_SIGNING_KEY, session_secret, aad=_aad(user.pk, session.pk))
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_pair_rotated(old: Token) -> dict[str, str]:
    """A new pair carrying ``old``'s claims (user, session, sealed secret) with a new id and lifetime.

    The new refresh token is recorded as outstanding (without its secret claim).
    Spending ``old`` is the caller's job (:func:`accounts.services.token_refresh`).
    """
    refresh = LockerRefreshToken()
    for claim, value in old.payload.items():
        if claim not in ("exp", "iat", api_settings.JTI_CLAIM):
            refresh[claim] = value
    refresh.outstand()
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def session_from_token(token: Token) -> tuple[uuid.UUID, bytes] | None:
    """``(session_id, session_secret)`` from a validated token, or None if it has none."""
    try:
        session_id = uuid.UUID(str(token[SESSION_CLAIM]))
        user_id = token[settings.SIMPLE_JWT["USER_ID_CLAIM"]]
        secret = open_claim(settings.JWT_SIGNING_KEY, str(token[SECRET_CLAIM]), aad=_aad(user_id, session_id))
    except (KeyError, ValueError, DecryptionError, FormatError):
        return None
    return session_id, secret
