"""Django upload handler that encrypts every uploaded file while it streams in.

It replaces Django's default handlers (``FILE_UPLOAD_HANDLERS``): Django's
``TemporaryFileUploadHandler`` would write plaintext to the system temp
directory, and ``MemoryFileUploadHandler`` would hold it in memory. Multipart
bodies can be parsed early (by the CSRF check of a browser session), so the
handler finds the unlock context on its own: the one an API authentication
class attached to the request, or the browser's unlock cookie.

Problems are recorded on the request (``request.locker_upload_error``) and
stop the upload without storing anything; the view reports them (423 locked,
413 too large). Every finished upload is listed in ``request.locker_uploads``
so the view can discard the ones it does not keep.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from locker.errors import LockerError, VaultLocked
from vault.uploads import EncryptedUpload, UploadSink


class EncryptedUploadedFile(UploadedFile):
    """What ``request.FILES`` holds: a reference to an encrypted blob, not the bytes."""

    def __init__(self, encrypted: EncryptedUpload, field_name: str):
        super().__init__(file=None, name=encrypted.name, content_type=encrypted.mime_type, size=encrypted.size)
        self.encrypted = encrypted
        self.field_name = field_name

    def open(self, mode=None):  # pragma: no cover - the plaintext is not here by design
        raise ValueError("encrypted uploads are read through vault.downloads")


def browser_file_name(name: str) -> str:
    """Undo the browsers' escaping of ``"`` as ``%22`` in multipart file names (HTML spec; CR/LF stay refused)."""
    return name.replace("%22", '"')


def unlock_for_upload(request):
    """The unlock context of an API client (set by authentication) or of the browser cookie."""
    from accounts.unlock import LOCKED, context_from_cookie

    context = getattr(request, "locker_unlock", None)
    if context is not None:
        return context
    user = getattr(request, "user", None)
    return context_from_cookie(request, user) if user is not None else LOCKED


class EncryptingUploadHandler(FileUploadHandler):
    chunk_size = 1024 * 1024  # bytes handed over per call: fewer Python round trips, memory still constant

    def __init__(self, request=None):
        super().__init__(request)
        self.sink: UploadSink | None = None
        if request is not None and not hasattr(request, "locker_uploads"):
            request.locker_uploads = []
            request.locker_upload_error = None

    def _fail(self, error: LockerError):
        if self.sink is not None and not self.sink.closed:
            self.sink.abort()
        if self.request is not None and getattr(self.request, "locker_upload_error", None) is None:
            self.request.locker_upload_error = error
        raise StopUpload(connection_reset=True)

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        context = unlock_for_upload(self.request)
        try:
            udk = context.udk()
        except LockerError as exc:
            self._fail(exc)
        except Exception:  # noqa: BLE001 - anything else still means: do not store
            self._fail(VaultLocked())
        from locker.crypto.blind import subkey

        self.sink = UploadSink(
            owner_id=context.user_id, mac_key=subkey(udk, "content-mac"), name=browser_file_name(file_name or "")
        )
        self.request.locker_active_sink = self.sink  # so the view can abort it if parsing dies half-way

    def receive_data_chunk(self, raw_data, start):
        try:
            self.sink.write(raw_data)
        except LockerError as exc:
            self._fail(exc)
        return  # consumed: no later handler sees plaintext

    def file_complete(self, file_size):
        encrypted = self.sink.finish()
        self.request.locker_uploads.append(encrypted)
        return EncryptedUploadedFile(encrypted, self.field_name)

    def upload_interrupted(self):
        if self.sink is not None and not self.sink.closed:
            self.sink.abort()


def body_fully_read(request) -> bool:
    """False if the body ended before its declared Content-Length (the client went away mid-upload)."""
    from django.core.handlers.wsgi import LimitedStream

    stream = getattr(request, "_stream", None)
    if isinstance(stream, LimitedStream):
        return stream._pos >= stream.limit
    return True


def discard_unclaimed_uploads(request) -> None:
    """Delete blobs no row refers to: failed or unused uploads, and a file cut off mid-stream."""
    from vault.models import FileVersion

    active = getattr(request, "locker_active_sink", None)
    if active is not None and not active.closed:
        active.abort()
    uploads = getattr(request, "locker_uploads", [])
    if not uploads:
        return
    kept = set(FileVersion.objects.filter(pk__in=[u.version_id for u in uploads]).values_list("pk", flat=True))
    for upload in uploads:
        if upload.version_id not in kept:
            upload.discard()
