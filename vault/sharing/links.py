"""Public links to a folder or a file (API.md "Sharing"; docs/sharing.md).

The URL ``/s/<token>`` holds 256 random bits. The server keeps a hash of them (to find the link) and the
item's key wrapped by a key derived from them: without the URL, the stored data opens nothing. A link has an
expiry (required, at most ``LOCKER_LINK_MAX_DAYS`` ahead), optionally a password (Argon2id, attempts rate limited
per link and per address) and a download limit, and counts its views and downloads. An expired, revoked or used
up link, and a wrong password, all answer the same 404.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from activity import actions
from activity.services import event_record
from locker.crypto.errors import FormatError
from locker.crypto.keys import b64d, b64e, wrap_with_key
from locker.errors import InvalidInput, NotFound
from vault import access
from vault.common import is_uuid
from vault.keys import VaultKeys, aad_link_key, link_secret_key, link_token_hash
from vault.models import File, Link
from vault.sharing.services import item_key, own_item, record_on

SECRET_BYTES = 32


class LinkGone(NotFound):
    """Every way a link can fail (unknown, expired, revoked, used up, wrong password): one answer."""

    detail = "This link does not exist or no longer works."


def _expiry(expires_at):
    now = timezone.now()
    latest = now + timedelta(days=settings.LOCKER_LINK_MAX_DAYS)
    if expires_at is None or expires_at <= now:
        raise InvalidInput(errors={"expires_at": ["Give a time in the future."]})
    if expires_at > latest + timedelta(minutes=1):  # a minute of slack for the client's clock
        raise InvalidInput(
            errors={"expires_at": [f"A link lasts at most {settings.LOCKER_LINK_MAX_DAYS} days."]},
        )
    return min(expires_at, latest)


def link_create(
    *, user: User, keys: VaultKeys, item_id, expires_at, password: str = "", max_downloads=None, meta=None
) -> tuple[Link, str]:
    """A new link to a folder or file of ``user``'s own. Returns ``(link, token)``: the token is in no row."""
    expires_at = _expiry(expires_at)
    kind, item = own_item(user, item_id, kinds=("folder", "file"))
    secret = os.urandom(SECRET_BYTES)
    link = Link(
        owner=user,
        kind=kind,
        expires_at=expires_at,
        max_downloads=max_downloads,
        token_hash=link_token_hash(secret),
        password_hash=make_password(password) if password else "",
        **{kind: item},
    )
    link.key_wrapped = wrap_with_key(
        item_key(keys, kind, item), link_secret_key(secret), aad=aad_link_key(kind, item.pk, user.pk, link.pk)
    )
    with transaction.atomic():
        link.save(force_insert=True)
        record_on(
            link,
            actions.LINK_CREATED,
            user=user,
            meta=meta,
            link=str(link.pk),
            password=bool(password),
            max_downloads=max_downloads,
        )
    return link, b64e(secret)


def link_revoke(*, user: User, link_id, meta=None) -> None:
    with transaction.atomic():
        link = Link.objects.filter(owner=user, pk=link_id).select_for_update().first() if is_uuid(link_id) else None
        if link is None:
            raise NotFound("No such link.")
        link.delete()
        record_on(link, actions.LINK_REVOKED, user=user, meta=meta, link=str(link_id))


def links_made(*, user: User):
    return Link.objects.filter(owner=user).select_related("folder", "file").order_by("-created_at", "id")


# --- the visitor's side ----------------------------------------------------------------------------------


def _usable() -> Q:
    return Q(expires_at__gt=timezone.now()) & (Q(max_downloads__isnull=True) | Q(downloads__lt=F("max_downloads")))


def link_open(token: str) -> tuple[Link, VaultKeys]:
    """The live link whose URL holds ``token``, and the keys it opens; :class:`LinkGone` otherwise."""
    try:
        secret = b64d(token) if isinstance(token, str) and len(token) < 64 else b""
    except FormatError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise LinkGone()
    link = (
        Link.objects.filter(_usable(), token_hash=link_token_hash(secret))
        .select_related("folder", "file", "owner")
        .first()
    )
    item = link and (link.folder if link.kind == "folder" else link.file)
    if link is None or item is None or item.trashed_at is not None or not link.owner.is_active:
        raise LinkGone()
    return link, VaultKeys.for_link(link, secret)


def link_password_ok(link: Link, password) -> bool:
    return not link.password_hash or (isinstance(password, str) and check_password(password, link.password_hash))


def link_files(link: Link):
    """The live files a link shows: its file, or every file below its folder."""
    if link.kind == "file":
        return File.objects.filter(pk=link.file_id, trashed_at__isnull=True).select_related("current_version__derived")
    return File.objects.filter(
        owner_id=link.owner_id, folder_id__in=access.subtree(link.folder_id), trashed_at__isnull=True
    ).select_related("current_version", "folder")


def link_file(link: Link, file_id) -> File:
    found = link_files(link).select_related("current_version").filter(pk=file_id).first() if is_uuid(file_id) else None
    if found is None or found.current_version_id is None:
        raise LinkGone()
    return found


def link_viewed(link: Link) -> None:
    Link.objects.filter(pk=link.pk).update(views=F("views") + 1)


def link_download_record(link: Link, *, what: str) -> None:
    """Count one download (a file or the folder's zip) before it starts; :class:`LinkGone` when the limit is
    reached (two visitors racing for the last one: one of them gets it)."""
    with transaction.atomic():
        if not Link.objects.filter(_usable(), pk=link.pk).update(downloads=F("downloads") + 1):
            raise LinkGone()
        event_record(
            action=actions.LINK_USED,
            user_id=link.owner_id,
            object_type=link.kind,
            object_id=str(link.item_id),
            data={"link": str(link.pk), "download": what},
        )
