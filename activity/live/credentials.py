"""What keeps a live stream open after it started: the credential it was opened with must stay valid. Accounts
(above activity) says how a request's credential is named and which are still valid, from its ``ready()``; the hub
asks every ``LOCKER_STREAM_RECHECK`` seconds, in one query per kind, and ends the streams of a signed-out session,
a revoked app password or a deactivated account."""

from __future__ import annotations

from collections.abc import Callable

Credential = tuple[str, str]  # (kind, id): ("session", unlock session id), ("app_password", id)
_identify: Callable[[object], Credential | None] | None = None
_valid: Callable[[set[Credential]], set[Credential]] | None = None


def register(*, identify: Callable[[object], Credential | None], valid: Callable[[set], set]) -> None:
    global _identify, _valid
    _identify, _valid = identify, valid


def identify(request) -> Credential | None:
    """The credential the request was authenticated with (None: nothing to recheck)."""
    return _identify(request) if _identify else None


def still_valid(credentials: set[Credential]) -> set[Credential]:
    return _valid(credentials) if _valid else set(credentials)
