"""App passwords (SECURITY.md property 5): random, shown once, each wrapping the UDK, names sealed at rest."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.keys import aad_app_password, app_password_name_seal
from accounts.models import AppPassword, User
from activity import actions
from activity.services import event_record
from locker import ratelimit
from locker.crypto import DecryptionError, FormatError
from locker.crypto.keys import (
    generate_typable_secret,
    parse_typable_secret,
    secret_verifier,
    unwrap_with_secret,
    wrap_with_secret,
)
from locker.errors import Conflict, InvalidInput, NotFound, RateLimited
from locker.http import RequestMeta, client_ip

MAX_APP_PASSWORDS = 50


APP_PASSWORD_LAST_USED_RESOLUTION = timedelta(minutes=5)


def app_password_create(*, user: User, udk: bytes, name, meta: RequestMeta | None = None) -> tuple[AppPassword, str]:
    """Create an app password wrapping the UDK. Returns ``(row, password)``; the password is shown once.

    The name is sealed (:mod:`accounts.keys`); the returned row carries it in ``row.name``.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(errors={"name": ["This field is required."]})
    name = " ".join(name.split())
    if len(name) > 100:
        raise InvalidInput(errors={"name": ["Use at most 100 characters."]})
    if AppPassword.objects.filter(user=user).count() >= MAX_APP_PASSWORDS:
        raise Conflict(
            f"You already have {MAX_APP_PASSWORDS} app passwords; revoke one first.", code="too_many_app_passwords"
        )
    password = generate_typable_secret()
    secret = parse_typable_secret(password)
    app_password_id = uuid.uuid4()
    key_wrapped, name_sealed = app_password_name_seal(
        user_id=user.pk, app_password_id=app_password_id, udk=udk, name=name
    )
    with transaction.atomic():
        row = AppPassword.objects.create(
            id=app_password_id,
            user=user,
            key_wrapped=key_wrapped,
            name_sealed=name_sealed,
            verifier=secret_verifier(secret, purpose="app-password"),
            udk_wrapped=wrap_with_secret(
                udk, secret, purpose="app-password", aad=aad_app_password(user.pk, app_password_id)
            ),
        )
        event_record(
            action=actions.APP_PASSWORD_CREATED, user=user, meta=meta, object_type="app_password", object_id=row.pk
        )
    row.name = name
    return row, password


def app_password_revoke(*, user: User, app_password_id, meta: RequestMeta | None = None) -> None:
    """Delete an app password (its wrap of the UDK goes with it)."""
    with transaction.atomic():
        deleted, _ = AppPassword.objects.filter(user=user, id=app_password_id).delete()
        if not deleted:
            raise NotFound("No such app password.")
        event_record(
            action=actions.APP_PASSWORD_REVOKED,
            user=user,
            meta=meta,
            object_type="app_password",
            object_id=app_password_id,
        )


def app_password_unlock_limited(request, *, username: str, password: str) -> tuple[User, AppPassword, bytes] | None:
    """:func:`app_password_unlock` for HTTP Basic (the API and WebDAV alike), with failed attempts counted per account
    and per client address (``LOCKER_RATELIMITS["app_password_user"]``, ``["app_password_ip"]``, in the shared
    cache: every server counts together). Past either limit every attempt, even a right one, raises
    :class:`~locker.errors.RateLimited` until the window ends, so guessing cannot go on."""
    limits = [
        ("app_password_user", str(username).lower()),
        ("app_password_ip", (client_ip(request) or "unknown").lower()),
    ]
    for group, value in limits:
        usage = ratelimit.usage(request, group=group, value=value, increment=False)
        if usage and usage["count"] >= usage["limit"]:
            wait = max(1, int(usage["time_left"]))
            raise RateLimited(
                retry_after=wait,
                detail=f"Too many failed sign-ins; even the right app password is refused for {wait} seconds.",
            )
    unlocked = app_password_unlock(username=username, password=password)
    if unlocked is None:
        for group, value in limits:
            ratelimit.usage(request, group=group, value=value, increment=True)
    return unlocked


def app_password_unlock(*, username: str, password: str) -> tuple[User, AppPassword, bytes] | None:
    """Check an app password (fast: HKDF, no Argon2). Returns ``(user, row, udk)`` or None."""
    try:
        secret = parse_typable_secret(password)
    except FormatError:
        return None
    row = (
        AppPassword.objects.select_related("user")
        .filter(verifier=secret_verifier(secret, purpose="app-password"))
        .first()
    )
    if row is None or not row.user.is_active or row.user.username.lower() != str(username).lower():
        return None
    try:
        udk = unwrap_with_secret(
            row.udk_wrapped, secret, purpose="app-password", aad=aad_app_password(row.user_id, row.pk)
        )
    except (DecryptionError, FormatError):
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > APP_PASSWORD_LAST_USED_RESOLUTION:
        AppPassword.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user, row, udk
