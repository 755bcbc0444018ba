"""Invitations: an admin's single-use link to sign up, with the new account's role and quota decided ahead.

The link's secret is 160 random bits, shown once to the admin and kept only in the link: the server stores its
verifier (``secret_verifier``, as for app passwords), so neither a database dump nor the admin can open an
invitation later. Accepting one runs the normal registration (``accounts.services.account_create``: the user
picks the password, the keys are made from it, the recovery key is shown once) and marks the invitation used
in the same transaction, so two people racing for one link make one account. Invitations work whether or not
open registration is closed. A used, expired, revoked or unknown link is one and the same answer
(:class:`InvitationInvalid`): nothing tells a visitor which.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import MAX_STORAGE_QUOTA, Invitation, User, username_validator
from activity import actions
from activity.services import event_record
from locker.crypto import FormatError
from locker.crypto.keys import generate_typable_secret, parse_typable_secret, secret_verifier
from locker.errors import InvalidInput, LockerError, NotFound
from locker.http import RequestMeta
from locker.units import SizeError, parse_size

MAX_VALID_DAYS = 90


class InvitationInvalid(LockerError):
    status_code = 404
    code = "invitation_not_valid"
    detail = "This invitation is not valid: it may have been used, have expired or been revoked. Ask for a new one."


def _verifier(token) -> str | None:
    if not isinstance(token, str) or len(token) > 128:
        return None
    try:
        return secret_verifier(parse_typable_secret(token), purpose="invitation")
    except FormatError:
        return None


def invitation_create(
    *,
    admin: User,
    username_hint="",
    role=User.Role.REGULAR,
    storage_quota=None,
    valid_days=7,
    meta: RequestMeta | None = None,
) -> tuple[Invitation, str]:
    """Make an invitation. Returns ``(invitation, token)``: the token goes into the link, shown once."""
    errors: dict[str, list[str]] = {}
    if username_hint is None:
        username_hint = ""
    if not isinstance(username_hint, str):
        errors["username_hint"] = ["Not a valid string."]
    elif username_hint.strip():
        username_hint = username_hint.strip()
        try:
            username_validator(username_hint)
        except ValidationError as exc:
            errors["username_hint"] = exc.messages
        else:
            if User.objects.filter(username__iexact=username_hint).exists():
                errors["username_hint"] = ["That username is taken."]
    else:
        username_hint = ""
    if role not in User.Role.values:
        errors["role"] = [f"One of: {', '.join(User.Role.values)}."]
    if storage_quota is None:
        storage_quota = settings.LOCKER_DEFAULT_QUOTA
    try:
        storage_quota = parse_size(storage_quota, maximum=MAX_STORAGE_QUOTA)
    except SizeError as exc:
        errors["storage_quota"] = [str(exc)]
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= MAX_VALID_DAYS:
        errors["valid_days"] = [f"A whole number of days from 1 to {MAX_VALID_DAYS}."]
    if errors:
        raise InvalidInput(errors=errors)
    token = generate_typable_secret()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            verifier=secret_verifier(parse_typable_secret(token), purpose="invitation"),
            username_hint=username_hint,
            role=role,
            storage_quota=storage_quota,
            created_by=admin,
            expires_at=timezone.now() + timedelta(days=valid_days),
        )
        event_record(
            action=actions.INVITATION_CREATED,
            user=admin,
            meta=meta,
            object_type="invitation",
            object_id=invitation.pk,
            data={"role": role, "storage_quota": storage_quota, "valid_days": valid_days},
        )
    return invitation, token


def invitation_open(*, token) -> Invitation:
    """The pending invitation a link's token names, or :class:`InvitationInvalid` (whatever the reason)."""
    verifier = _verifier(token)
    invitation = Invitation.objects.filter(verifier=verifier).first() if verifier else None
    if invitation is None or invitation.status() != "pending":
        raise InvitationInvalid()
    return invitation


def invitation_accept(*, token, username, email, password, meta: RequestMeta | None = None) -> tuple[User, str]:
    """Sign up through an invitation: the normal registration with the invitation's role and quota, and the
    invitation used up in the same transaction. Returns ``(user, recovery_key)``."""
    invitation = invitation_open(token=token)

    def use(user: User) -> None:
        fresh = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if fresh is None or fresh.status() != "pending":  # used, revoked or expired since it was opened
            raise InvitationInvalid()
        fresh.used_at = timezone.now()
        fresh.used_by = user
        fresh.save(update_fields=["used_at", "used_by"])
        event_record(
            action=actions.INVITATION_USED,
            user=user,
            meta=meta,
            object_type="invitation",
            object_id=fresh.pk,
            data={"by": str(fresh.created_by_id or "")},
        )

    return services.account_create(
        username=username,
        email=email,
        password=password,
        meta=meta,
        role=invitation.role,
        storage_quota=invitation.storage_quota,
        within=use,
    )


def invitation_revoke(*, admin: User, invitation_id, meta: RequestMeta | None = None) -> Invitation:
    """Turn a pending invitation off; its link then gives the same "not valid" page as a used one."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None:
            raise NotFound("No such invitation.")
        if invitation.status() != "pending":
            raise InvalidInput(f"This invitation is already {invitation.status()}.", code="invitation_not_pending")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        event_record(
            action=actions.INVITATION_REVOKED, user=admin, meta=meta, object_type="invitation", object_id=invitation.pk
        )
    return invitation
