"""Reads of account data. Each takes the acting user and returns only what is theirs."""

from django.db.models import QuerySet

from accounts.models import AppPassword, UnlockSession, User


def app_password_list(*, user: User) -> QuerySet[AppPassword]:
    return AppPassword.objects.filter(user=user).order_by("-created_at")


def unlock_session_list(*, user: User) -> QuerySet[UnlockSession]:
    return UnlockSession.objects.filter(user=user).order_by("-created_at")


def admin_exists() -> bool:
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exists()
