"""Sharing a folder, file or note with another user (SECURITY.md property 10; API.md "Sharing").

A share is one row and one key wrap: the item's own key (a folder's key for a folder) wrapped to the
recipient's X25519 public key (``vault.keys.wrap_for_recipient``), whatever lies below the item. The recipient
opens it with their private key on their next request; the sharer need not be online. Only the owner shares,
changes and revokes; the recipient may leave. Who may then do what is answered by ``vault.access``.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Keyring, User
from activity import actions, chain
from activity.models import Notification
from activity.notifications import notify
from activity.services import event_record
from locker.crypto.keys import b64d
from locker.errors import Conflict, InvalidInput, NotFound
from vault import access
from vault.common import is_uuid
from vault.keys import VaultKeys, wrap_for_recipient
from vault.models import File, Folder, Note, Share
from vault.sharing import rotation

KINDS = {"folder": Folder, "file": File, "note": Note}


class AlreadyShared(Conflict):
    code = "already_shared"


def record_on(row, action: str, *, user: User, meta=None, **data) -> None:
    """The event of an action on a share or a link (``row``), naming its item and the row."""
    event_record(action=action, user=user, meta=meta, object_type=row.kind, object_id=str(row.item_id), data=data)


_RECIPIENT_EVENTS = {
    Notification.Kind.SHARE_RECEIVED: actions.SHARE_RECEIVED,
    Notification.Kind.SHARE_CHANGED: actions.SHARE_RECEIVED_CHANGED,
    Notification.Kind.SHARE_REVOKED: actions.SHARE_RECEIVED_ENDED,
}


def _tell_recipient(share: Share, kind: str, **data) -> None:
    """The recipient's notification and the event in their own log (the caller locked both chains first)."""
    about = {"share": str(share.pk), "permission": share.permission, **data}
    notify(
        user_id=share.recipient_id,
        kind=kind,
        object_type=share.kind,
        object_id=share.item_id,
        data={**about, "by": share.owner.username},
    )
    event_record(
        action=_RECIPIENT_EVENTS[kind],
        user_id=share.recipient_id,
        object_type=share.kind,
        object_id=str(share.item_id),
        data={**about, "owner": share.owner.username},
    )


def own_item(user: User, item_id, kinds=tuple(KINDS)) -> tuple[str, Folder | File | Note]:
    """``(kind, item)`` of the live item ``item_id`` of ``user``'s own, of one of ``kinds``; otherwise 404."""
    if is_uuid(item_id):
        for kind in kinds:
            found = access.items(user, KINDS[kind], shared=False).filter(pk=item_id, trashed_at__isnull=True).first()
            if found is not None:
                return kind, found
    raise NotFound(f"No such {' or '.join(kinds)}.")


def item_key(keys: VaultKeys, kind: str, item) -> bytes:
    """The key a share or a link wraps: the item's own (a folder's key for a folder)."""
    if kind == "folder":
        return keys.folder_key(item)
    if kind == "file":
        return keys.file_key(item)
    return keys.note_key(item)


def _recipient(user: User, username) -> User:
    """The account called exactly ``username`` (letter case aside), not ``user``; a 400 on the field otherwise."""
    recipient = User.objects.filter(username__iexact=username, is_active=True).first() if username else None
    if recipient is None:
        raise InvalidInput("No account has that username.", code="unknown_user", errors={"username": ["No such user."]})
    if recipient.pk == user.pk:
        raise InvalidInput("You cannot share with yourself.", errors={"username": ["That is you."]})
    return recipient


def _permission(permission) -> str:
    if permission not in Share.Permission.values:
        raise InvalidInput(errors={"permission": [f"One of: {', '.join(Share.Permission.values)}."]})
    return permission


def share_create(*, user: User, keys: VaultKeys, item_id, username, permission, meta=None) -> Share:
    """Share the item ``item_id`` of ``user``'s own with the account ``username``: one wrap, one row."""
    permission = _permission(permission)
    kind, item = own_item(user, item_id)
    recipient = _recipient(user, username)
    public_key = b64d(Keyring.objects.only("public_key").get(user_id=recipient.pk).public_key)
    wrapped = wrap_for_recipient(
        item_key(keys, kind, item),
        kind=kind,
        item_id=item.pk,
        owner_id=user.pk,
        recipient_id=recipient.pk,
        public_raw=public_key,
    )
    try:
        with transaction.atomic():
            chain.lock_heads(user.pk, recipient.pk)
            share = Share.objects.create(
                owner=user, recipient=recipient, kind=kind, permission=permission, key_wrapped=wrapped, **{kind: item}
            )
            _tell_recipient(share, Notification.Kind.SHARE_RECEIVED)
            record_on(
                share,
                actions.SHARE_CREATED,
                user=user,
                meta=meta,
                share=str(share.pk),
                permission=permission,
                recipient=recipient.username,
            )
    except IntegrityError:
        raise AlreadyShared(
            "This item is already shared with that user: change the permission of that share instead.",
            errors={"username": ["Already shared with this user."]},
        ) from None
    return share


def _made(user: User, share_id, *, lock: bool = False) -> Share:
    qs = Share.objects.filter(owner=user, pk=share_id) if is_uuid(share_id) else Share.objects.none()
    share = (qs.select_for_update() if lock else qs).first()
    if share is None:
        raise NotFound("No such share.")
    return share


def share_update(*, user: User, share_id, permission, meta=None) -> Share:
    """Change the permission of a share ``user`` made."""
    permission = _permission(permission)
    with transaction.atomic():
        share = _made(user, share_id, lock=True)
        chain.lock_heads(user.pk, share.recipient_id)
        before = share.permission
        share.permission, share.modified_at = permission, timezone.now()
        share.save(update_fields=["permission", "modified_at"])
        _tell_recipient(share, Notification.Kind.SHARE_CHANGED, was=before)
        record_on(
            share,
            actions.SHARE_CHANGED,
            user=user,
            meta=meta,
            share=str(share.pk),
            permission=permission,
            was=before,
            recipient=share.recipient.username,
        )
    return share


def share_revoke(*, user: User, keys: VaultKeys, share_id, meta=None) -> None:
    """End a share ``user`` made: the recipient loses access at once, and the item gets a new key
    (:mod:`vault.sharing.rotation`) so that what is written from now on is out of the recipient's reach."""
    with transaction.atomic():
        share = _made(user, share_id, lock=True)
        chain.lock_heads(user.pk, share.recipient_id)
        _tell_recipient(share, Notification.Kind.SHARE_REVOKED)
        share.delete()
        rewrapped = rotation.rotate(keys, share)
        record_on(
            share,
            actions.SHARE_REVOKED,
            user=user,
            meta=meta,
            share=str(share_id),
            rewrapped=rewrapped,
            recipient=share.recipient.username,
        )


def share_leave(*, user: User, share_id, meta=None) -> None:
    """The recipient ``user`` gives up a share made to them."""
    with transaction.atomic():
        qs = Share.objects.filter(recipient=user, pk=share_id) if is_uuid(share_id) else Share.objects.none()
        share = qs.select_for_update().first()
        if share is None:
            raise NotFound("No such share.")
        share.delete()
        record_on(share, actions.SHARE_LEFT, user=user, meta=meta, share=str(share_id), owner=share.owner.username)
    access.forget(user)


# --- selectors ----------------------------------------------------------------------------------


def shares_made(*, user: User):
    return (
        Share.objects.filter(owner=user)
        .select_related("recipient", "folder", "file", "note")
        .order_by("-created_at", "id")
    )


def shares_received(*, user: User):
    return (
        Share.objects.filter(recipient=user)
        .select_related("owner", "folder", "file", "note")
        .order_by("-created_at", "id")
    )


def share_get(*, user: User, share_id) -> Share:
    """A share ``user`` made or received; otherwise 404."""
    share = (
        shares_made(user=user).filter(pk=share_id).first() or shares_received(user=user).filter(pk=share_id).first()
        if is_uuid(share_id)
        else None
    )
    if share is None:
        raise NotFound("No such share.")
    return share
