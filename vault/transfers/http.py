"""HTTP downloads of decrypted content (Range, ETag, Last-Modified, safe Content-Disposition) and thumbnails."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

from locker.http import server_write_now
from locker.params import flag
from vault.common import etag_of
from vault.derived.derive import preview_read
from vault.keys import VaultKeys
from vault.models import File, FileVersion
from vault.transfers.downloads import plaintext_chunks
from vault.transfers.integrity import CRYPTO_FAILURES, ContentDamaged, ContentMissing, integrity_failure_record

# Types a browser may show inline on ?inline=1 (never HTML, SVG or anything scriptable).
INLINE_SAFE = re.compile(r"^(image/(png|jpeg|gif|webp|avif|bmp)|audio/.+|video/.+|application/pdf|text/plain)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def allow_same_origin_framing(response: HttpResponse) -> HttpResponse:
    """Let this site's own pages frame ``response`` (the file browser shows PDFs in an <iframe>).

    Django's ``xframe_options_sameorigin`` semantics plus the matching CSP ``frame-ancestors``
    (replaced, not appended to the site-wide ``'none'``); only for inline content of safe types.
    """
    response["X-Frame-Options"] = "SAMEORIGIN"
    response._csp_replace = {"frame-ancestors": ["'self'"]}
    return response


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(start, end)`` for one satisfiable range, None to send everything, "unsatisfiable" for 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None  # multiple or malformed ranges: RFC 9110 allows ignoring them
    first, last = (_position(group) for group in match.groups())
    if first is None and last is None:
        return None
    if first is None:  # suffix: the last N bytes
        length = last
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = first
    end = min(last, size - 1) if last is not None else size - 1
    if start >= size or (last is not None and last < start):
        return "unsatisfiable"
    return start, end


# Beyond any stored size: longer digit strings mean the same (and Python refuses to parse thousands of digits).
_HUGE = 10**18


def _position(digits: str) -> int | None:
    """A byte position of a Range header ("" -> None); absurdly long numbers count as "past every end"."""
    if not digits:
        return None
    stripped = digits.lstrip("0") or "0"
    return int(stripped) if len(stripped) <= 18 else _HUGE


def content_response(request, *, keys: VaultKeys, file: File, version: FileVersion, name: str) -> HttpResponse:
    etag = etag_of(version.pk)
    last_modified = version.created_at.timestamp()
    inline = flag(request, "inline") and bool(INLINE_SAFE.match(version.mime_type))
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return _not_modified(etag, last_modified, inline=inline)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", "")) if not if_none_match else None
    if since is not None and int(last_modified) <= since:
        return _not_modified(etag, last_modified, inline=inline)

    size = version.size
    wanted = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range.strip() != etag:
        wanted = None  # the client's copy is stale: send the whole new content
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    send = server_write_now(request)
    if wanted is None:
        body = _checked_body(keys, file, version, send=send)
        response = StreamingHttpResponse(body, content_type=version.mime_type, status=200)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        body = _checked_body(keys, file, version, send=send, start=start, end=end)
        response = StreamingHttpResponse(body, content_type=version.mime_type, status=206)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(not inline, name)
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        allow_same_origin_framing(response)
    else:
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _checked_body(
    keys: VaultKeys, file: File, version: FileVersion, send: Callable | None = None, **span
) -> Iterator[bytes]:
    """The decrypted body, its first piece already read and authenticated (so that a missing or damaged blob
    is a clear error response, not a dropped connection); a failure further on is logged and recorded, and
    ends the stream early so the client sees an incomplete body, never a wrong one.

    ``send``: the server's ``write_now`` (``locker.http.server_write_now``); given, pieces after the first go
    straight from the decryption buffer to it instead of being copied into ``bytes`` for the server."""
    try:
        pieces = plaintext_chunks(keys, file, version, reuse=send is not None, **span)
        first = bytes(next(pieces, b""))
    except FileNotFoundError:
        _integrity_failure(file, version, "missing")
        raise ContentMissing() from None
    except CRYPTO_FAILURES:
        _integrity_failure(file, version, "damaged")
        raise ContentDamaged() from None
    return _rest(first, pieces, file, version, send)


def _rest(first: bytes, pieces: Iterator, file: File, version: FileVersion, send: Callable | None) -> Iterator[bytes]:
    yield first
    while True:
        try:
            piece = next(pieces, None)
        except (*CRYPTO_FAILURES, OSError):
            _integrity_failure(file, version, "damaged")
            raise  # the server aborts the connection: Content-Length is not met
        if piece is None:
            return
        if send is None:
            yield piece
        else:
            send(piece)  # an error here is the client's connection, not the content


def download_name(keys: VaultKeys, file: File) -> str:
    """The file's name for Content-Disposition; a neutral one (recorded as damage) when its sealed name fails
    to open, so content that is intact is still served."""
    try:
        return keys.file_name(file)
    except CRYPTO_FAILURES:
        _integrity_failure(file, file.current_version, "name_damaged")
        return "download"


def _integrity_failure(file: File, version: FileVersion, reason: str) -> None:
    integrity_failure_record(
        owner_id=file.owner_id, object_type="file", object_id=file.pk, reason=reason, version=version.number
    )


def preview_response(request, *, keys: VaultKeys, file: File) -> HttpResponse:
    """The decrypted thumbnail of ``file``'s current version; 404 ``no_preview`` (with the reason) when it has none."""
    try:
        data, mime, etag = preview_read(keys=keys, file=file)
    except FileNotFoundError:
        _integrity_failure(file, file.current_version, "preview_missing")
        raise ContentMissing() from None
    except CRYPTO_FAILURES:
        _integrity_failure(file, file.current_version, "preview_damaged")
        raise ContentDamaged() from None
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=mime)
        response["Content-Length"] = str(len(data))
        response["Content-Disposition"] = "inline"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _not_modified(etag: str, last_modified: float, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    if inline:  # a revalidated inline copy keeps its framing headers
        allow_same_origin_framing(response)
    return response
