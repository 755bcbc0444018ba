"""Naming the credential of a request for the live streams (``activity.live.credentials``), and which are still
valid: an unexpired unlock session (Bearer token or browser) or an app password, of an active account."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import AppPassword, UnlockSession
from accounts.unlock import context_for_request


def identify(request) -> tuple[str, str] | None:
    context = context_for_request(request)
    if context.session_id is not None:
        return ("session", str(context.session_id))
    if context.app_password_id is not None:
        return ("app_password", str(context.app_password_id))
    return None


def valid(credentials: set[tuple[str, str]]) -> set[tuple[str, str]]:
    sessions = [cid for kind, cid in credentials if kind == "session"]
    passwords = [cid for kind, cid in credentials if kind == "app_password"]
    alive = set()
    if sessions:
        rows = UnlockSession.objects.filter(id__in=sessions, expires_at__gt=timezone.now(), user__is_active=True)
        alive |= {("session", str(pk)) for pk in rows.values_list("id", flat=True)}
    if passwords:
        rows = AppPassword.objects.filter(id__in=passwords, user__is_active=True)
        alive |= {("app_password", str(pk)) for pk in rows.values_list("id", flat=True)}
    return alive
