"""Receiving a request body that carries files: the steps every upload endpoint takes, in one place.

The file API, the chat-message API and the assistant seed's aliases of both call :func:`received_form`
(refuse by declared size, read the form while the upload handler encrypts its file parts, raise what the
handler refused, check the body arrived whole) and :func:`raw_body_pieces` for a raw ``PUT`` body; the rows
are then written by one service (``vault.files.services.file_upload_many``, ``chats.services.message_create``).
Blobs that no row ends up owning are deleted by ``UploadCleanupMiddleware`` before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings

from locker.errors import InvalidInput
from locker.http import whole_number
from vault import access
from vault.common import QuotaExceeded
from vault.transfers.upload_handler import body_fully_read, request_uploads
from vault.transfers.uploads import EncryptedUpload, FileTooLarge

RAW_BODY_PIECE = 1024 * 1024  # gunicorn reads up to 1 MiB per recv() when asked for that much


class IncompleteUpload(InvalidInput):
    code = "incomplete_upload"
    detail = "The upload ended before all its bytes arrived; nothing was stored."


def check_declared_size(request, user) -> None:
    """Refuse before reading a body that cannot fit (413), from its declared length. ``user``: whose storage it
    will take (a shared item's owner when a recipient writes into it). When that is not known before the body is
    read (a multipart upload from someone things are shared with may go to a shared folder), pass None: only
    the upload size limit is checked early, the quota exactly after encryption."""
    size = whole_number(request.META.get("CONTENT_LENGTH"))
    if size is None:
        return
    # multipart adds headers per part; the stream format adds 16 bytes per 64 KiB: a body much larger than
    # the free space surely does not fit, a borderline one is decided exactly after encryption
    if size > settings.LOCKER_MAX_UPLOAD_SIZE * 1.01 + 1024 * 1024:
        raise FileTooLarge(settings.LOCKER_MAX_UPLOAD_SIZE)
    if user is None:
        return
    free = user.storage_quota - user.storage_used
    if size > free * 1.01 + 1024 * 1024:
        raise QuotaExceeded.needing(needed=size, free=free, quota=user.storage_quota)


def received_form(request, *, check_size: bool = True) -> tuple[dict, dict[str, list[EncryptedUpload]]]:
    """``(form fields, {field: [encrypted uploads]})`` of a multipart request to a view with ``upload_fields``."""
    if check_size:
        # The target folder is in the body: for someone things are shared with, it may be another user's.
        check_declared_size(request, None if access.receives_shares(request.user) else request.user)
    form = request.data  # parsing runs the encrypting upload handler
    request_uploads(request).raise_error()
    if not body_fully_read(request):
        raise IncompleteUpload()
    fields = getattr(request, "FILES", None)
    files = {name: [part.encrypted for part in fields.getlist(name)] for name in fields} if fields else {}
    return form, files


def raw_body_pieces(request) -> Iterator[bytes]:
    """A raw request body in pieces of up to 1 MiB; :class:`IncompleteUpload` if it ends short of its length."""
    body = getattr(request, "_request", request)
    declared = request.META.get("CONTENT_LENGTH", "")
    received = 0
    while chunk := body.read(RAW_BODY_PIECE):
        received += len(chunk)
        yield chunk
    if (expected := whole_number(declared)) is not None and received < expected:
        raise IncompleteUpload()
