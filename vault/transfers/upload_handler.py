"""Django upload handler that encrypts uploaded files while they stream in, for the views that take files.

It replaces Django's default handlers (``FILE_UPLOAD_HANDLERS``): Django's
``TemporaryFileUploadHandler`` would write plaintext to the system temp
directory, and ``MemoryFileUploadHandler`` would hold it in memory.

Only a view that declares it takes files stores them: a view class lists the multipart
fields it accepts in ``upload_fields`` (POST only). A file part anywhere else, or in
another field, is never written: the handler skips its bytes and records
:class:`FilesNotAccepted`, which the API's multipart parser (``locker.parsers``) raises as
a 400. Multipart bodies can be parsed early (by the CSRF check of a browser session),
so the handler finds the unlock context on its own: the one an API authentication class
attached to the request, or the browser's unlock cookie.

Everything the handler did for one request lives in one :class:`RequestUploads` (see
:func:`request_uploads`): the finished uploads, the sink being written, and the first
problem (423 locked, 413 too large, 400 not accepted), which stops the upload without
storing anything. :class:`UploadCleanupMiddleware` deletes, before the response leaves,
every blob of the request that no committed row refers to, whatever the status: a
refused, failed or half-parsed request leaves nothing on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser

from locker.errors import InvalidInput, LockerError, VaultLocked
from locker.http import whole_number
from vault.transfers.uploads import EncryptedUpload, UploadSink

UPLOAD_METHODS = frozenset({"POST"})


class FilesNotAccepted(InvalidInput):
    code = "files_not_accepted"

    def __init__(self, field_name: str, accepted: frozenset[str]):
        where = f"only in {', '.join(f'`{name}`' for name in sorted(accepted))}" if accepted else "not at all"
        super().__init__(
            f"This endpoint takes files {where}; nothing was stored.",
            errors={field_name or "file": ["File parts are not accepted here."]},
        )


class EncryptedUploadedFile(UploadedFile):
    """What ``request.FILES`` holds: a reference to an encrypted blob, not the bytes."""

    def __init__(self, encrypted: EncryptedUpload, field_name: str):
        super().__init__(file=None, name=encrypted.name, content_type=encrypted.mime_type, size=encrypted.size)
        self.encrypted = encrypted
        self.field_name = field_name

    def open(self, mode=None):  # pragma: no cover - the plaintext is not here by design
        raise ValueError("encrypted uploads are read through vault.transfers.downloads")

    def close(self) -> None:
        """Nothing to close: the blob was written and closed when the part ended (Django closes
        every uploaded file when parsing fails and at the end of the request)."""


@dataclass
class RequestUploads:
    """What the encrypting upload handler did for one request."""

    finished: list[EncryptedUpload] = field(default_factory=list)
    active: UploadSink | None = None
    error: LockerError | None = None

    def fail(self, error: LockerError) -> None:
        """Remember the first problem; the view (or the parser) reports it."""
        if self.error is None:
            self.error = error

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def discard_unclaimed(self) -> None:
        """Delete blobs no committed row refers to: failed or unused uploads, and a file cut off mid-stream."""
        from vault.models import FileVersion

        if self.active is not None and not self.active.closed:
            self.active.abort()
        if not self.finished:
            return
        kept = set(
            FileVersion.objects.filter(pk__in=[u.version_id for u in self.finished]).values_list("pk", flat=True)
        )
        for upload in self.finished:
            if upload.version_id not in kept:
                upload.discard()
        self.finished = [upload for upload in self.finished if upload.version_id in kept]


_STATE = "_locker_uploads"


def request_uploads(request) -> RequestUploads:
    """The :class:`RequestUploads` of a Django or DRF request (made on first use)."""
    request = getattr(request, "_request", request)
    state = getattr(request, _STATE, None)
    if state is None:
        state = RequestUploads()
        setattr(request, _STATE, state)
    return state


def accepted_upload_fields(request) -> frozenset[str]:
    """The multipart fields in which the view that ``request`` is routed to takes files (none for most)."""
    if request is None or request.method not in UPLOAD_METHODS:
        return frozenset()
    match = getattr(request, "resolver_match", None)
    func = getattr(match, "func", None)
    view = getattr(func, "view_class", None) or getattr(func, "cls", None) or func
    return frozenset(getattr(view, "upload_fields", ()))


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
        self.state = request_uploads(request) if request is not None else RequestUploads()

    def _fail(self, error: LockerError):
        if self.sink is not None and not self.sink.closed:
            self.sink.abort()
        self.state.fail(error)
        raise StopUpload(connection_reset=True)

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.sink = None
        accepted = accepted_upload_fields(self.request)
        if field_name not in accepted:
            self.state.fail(FilesNotAccepted(field_name, accepted))
            raise SkipFile()  # Django reads past the part; not a byte of it is kept
        if self.state.error is not None:
            raise SkipFile()  # the request already failed: store nothing more
        context = unlock_for_upload(self.request)
        try:
            udk = context.udk()
        except LockerError as exc:
            self._fail(exc)
        except Exception:  # noqa: BLE001 - anything else still means: do not store
            self._fail(VaultLocked())
        from vault.keys import VaultKeys

        self.sink = UploadSink(
            owner_id=context.user_id,
            mac_key=VaultKeys(context.user_id, udk).content_mac_key(),
            name=browser_file_name(file_name or ""),
        )
        self.state.active = self.sink  # aborted by the cleanup if parsing dies half-way

    def receive_data_chunk(self, raw_data, start):
        try:
            self.sink.write(raw_data)
        except LockerError as exc:
            self._fail(exc)
        return  # consumed: no later handler sees plaintext

    def file_complete(self, file_size):
        if self.sink is None:
            return None
        encrypted = self.sink.finish()
        self.state.finished.append(encrypted)
        self.state.active = None
        self.sink = None
        return EncryptedUploadedFile(encrypted, self.field_name)

    def upload_interrupted(self):
        if self.sink is not None and not self.sink.closed:
            self.sink.abort()


def body_fully_read(request) -> bool:
    """False if the body ended before its declared Content-Length (the client went away mid-upload)."""
    from django.core.handlers.wsgi import LimitedStream

    stream = getattr(getattr(request, "_request", request), "_stream", None)
    if isinstance(stream, LimitedStream):
        return stream._pos >= stream.limit
    return True


def discard_unclaimed_uploads(request) -> None:
    """Delete the request's blobs that no committed row refers to (see :meth:`RequestUploads.discard_unclaimed`)."""
    state = getattr(getattr(request, "_request", request), _STATE, None)
    if state is not None:
        state.discard_unclaimed()


class UploadCleanupMiddleware:
    """Before any response leaves, delete the blobs this request wrote that no committed row refers to.

    Listed first, so that it also covers requests that a later middleware refuses after the body was
    parsed (a browser upload failing the CSRF check) and requests that end in an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            discard_unclaimed_uploads(request)


class _Tail:
    """A body stream that keeps the last bytes read from it (where a multipart body's closing boundary is)."""

    KEEP = 4096

    def __init__(self, stream):
        self._stream = stream
        self.last = b""

    def read(self, *args):
        data = self._stream.read(*args)
        if data:
            self.last = (self.last + data[-self.KEEP :])[-self.KEEP :]  # never a copy of a whole chunk
        return data

    def __getattr__(self, name):
        return getattr(self._stream, name)


class UploadMultiPartParser(MultiPartParser):
    """DRF's multipart parser, raising what the upload handler refused (a file part where none is taken,
    a locked vault, a file too large) instead of handing the view a form without it."""

    def parse(self, stream, media_type=None, parser_context=None):
        tail = _Tail(stream)
        parsed = super().parse(tail, media_type, parser_context)
        request = (parser_context or {}).get("request")
        if request is not None:
            request_uploads(request).raise_error()  # first: a refused file part (too large, locked) says why
        boundary = (media_type or "").partition("boundary=")[2].split(";")[0].strip().strip('"').encode()
        if boundary and b"--" + boundary + b"--" not in tail.last:
            # Django takes a body cut short (no closing boundary) as the parts it got: a form missing its end is
            # a truncated request, not a smaller form
            raise ParseError("The multipart body ends before its closing boundary: it was cut short.")
        if request is not None:
            declared = whole_number(request.META.get("CONTENT_LENGTH")) or 0
            if not parsed.data and not parsed.files and declared > 0:
                # a body that holds no part at all is not a form with no fields: it is not multipart
                raise ParseError('The multipart body holds no part (name="...").')
        # Django reads a part's text and file name with errors="replace": U+FFFD where bytes were not UTF-8
        texts = [*parsed.data.keys(), *(value for _key, values in parsed.data.lists() for value in values)]
        texts += [part.name or "" for _key, parts in parsed.files.lists() for part in parts]
        if any("\ufffd" in text for text in texts if isinstance(text, str)):
            raise ParseError("A part's text or file name is not UTF-8 (or holds U+FFFD, which stands for bytes lost).")
        return parsed
