"""Reads of account data. Each takes the acting user and returns only what is theirs."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AppPassword, UnlockSession, User
from locker.db import one_or_none


def app_password_list(*, user: User) -> QuerySet[AppPassword]:
    return AppPassword.objects.filter(user=user).order_by("-created_at")


def unlock_session_list(*, user: User) -> QuerySet[UnlockSession]:
    """The user's live sessions, newest first."""
    return UnlockSession.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at")


def unlock_session_live(*, user_id, session_id) -> UnlockSession | None:
    """A user's unexpired unlock session (with its user), or None."""
    return one_or_none(
        UnlockSession.objects.select_related("user").filter(
            id=session_id, user_id=user_id, expires_at__gt=timezone.now()
        )
    )


def admin_exists() -> bool:
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exists()
