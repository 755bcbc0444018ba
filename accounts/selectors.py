"""Reads of account data. Each takes the acting user and returns only what is theirs."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.devices import device_name
from accounts.keys import AccountKeys
from accounts.models import AppPassword, SiteSettings, UnlockSession, User
from locker.db import one_or_none


def app_password_list(*, user: User, udk: bytes | None) -> list[AppPassword]:
    """The user's app passwords, newest first, each with its opened ``name``.

    ``udk`` opens the sealed names; without it (a locked vault) every ``name`` is None.
    """
    rows = list(AppPassword.objects.filter(user=user).order_by("-created_at"))
    keys = AccountKeys(user.pk, udk) if udk is not None else None
    for row in rows:
        row.name = keys.app_password_name(row) if keys else None
    return rows


def unlock_session_list(*, user: User) -> QuerySet[UnlockSession]:
    """The user's live sessions, newest first."""
    return UnlockSession.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at")


def unlock_session_names(sessions, *, user: User, udk: bytes | None):
    """Set ``name`` on each of the user's ``sessions``: the name they gave the device, opened with ``udk``, or
    else the one read from its User-Agent (also when the vault is locked); ``renamed`` says which."""
    keys = AccountKeys(user.pk, udk) if udk is not None else None
    for session in sessions:
        given = keys.session_name(session) if keys and session.name_sealed else None
        session.renamed = given is not None
        session.name = given or session.device or device_name(session.user_agent)
    return sessions


def registration_open() -> bool:
    """Whether anyone may create an account (``SiteSettings``; no row yet means open, as before the switch)."""
    settings_row = SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_ID).first()
    return settings_row.registration_open if settings_row else True


def site_settings() -> SiteSettings:
    """The site settings row, or an unsaved one holding the defaults."""
    return SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_ID).first() or SiteSettings()


def unlock_session_live(*, user_id, session_id) -> UnlockSession | None:
    """A user's unexpired unlock session (with its user), or None."""
    return one_or_none(
        UnlockSession.objects.select_related("user").filter(
            id=session_id, user_id=user_id, expires_at__gt=timezone.now()
        )
    )


def admin_exists() -> bool:
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exists()
