"""Data derived from a file version's content at upload: an encrypted thumbnail and words for search.

For images (``image/*``) and PDFs the thumbnail is made by :mod:`vault.derived.preview_worker` in a
separate process (crash, hang and memory isolation; PDFium is not thread-safe). The plaintext
reaches it through a pipe, never a file. The thumbnail is stored like any blob: LKS1 under a
fresh content key, associated data ``("file-preview", owner, version)``, the key wrapped by the
file key with associated data ``("preview-key", owner, version)``, in a :class:`~vault.models.Derived`
row next to the version. Videos and other types get no thumbnail (no pure-Python library can
grab a video frame without a system binary such as ffmpeg).

Text (``text/*``, JSON, XML, and a PDF's first pages) is split into words that feed the blind
index of the file (field ``content``) and are kept, sorted and sealed, for a share's recipient to search
(:class:`~vault.models.ContentWords`). Its beginning (at most ``MAX_EXCERPT_BYTES`` of UTF-8) is kept
sealed (``Derived.text_sealed``, under a key derived from the version's content key:
:meth:`vault.keys.VaultKeys.seal_excerpt`), so that a search can show the words around a match; it is
opened only while answering the reader's search. Extracted text is never stored readable, in the
database, a file or a log. ``Derived.text_indexed`` is true when the index holds content words
of that version.

Two steps, so that no parsing happens while the database is locked:

1. :func:`derive_upload` runs before the version's transaction (reads the upload's plaintext,
   writes the encrypted thumbnail blob); it never raises, a failure is a "no preview" reason.
2. :func:`derived_store` runs inside the transaction, right after the version row: it writes
   the ``Derived`` row and says which content words the file's index needs.

Limits: images up to 50 MiB, PDFs up to 100 MiB (bigger ones get no preview), text read up to
10 MiB, PDF text from the first 50 pages and at most a million characters, at most
5,000 distinct words per version (about 20,000 tokens); pixel and page-size limits are in the worker.
"""

from __future__ import annotations

import codecs
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

from locker.crypto.blind import tokenize
from locker.crypto.keys import new_key
from locker.crypto.stream import Encryptor, decrypt_iter
from locker.errors import NotFound
from vault.derived import preview_worker
from vault.keys import VaultKeys, aad_blob, aad_preview
from vault.models import ContentWords, Derived, File, FileVersion
from vault.transfers.blobs import BlobWriter, blob_delete, blob_open
from vault.transfers.downloads import plaintext_chunks

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_PDF_BYTES = 100 * 1024 * 1024
MAX_TEXT_BYTES = 10 * 1024 * 1024
MAX_CONTENT_WORDS = 5_000  # with their prefixes, about 20,000 index rows: a bound on index size and write time
MAX_WORD_LENGTH = 40  # longer "words" (hashes, base64) are not indexed
MAX_EXCERPT_BYTES = 64 * 1024  # of extracted text kept sealed for search snippets (a bound on row size)
MAX_PREVIEW_BYTES = 4 * 1024 * 1024  # a 512 x 512 WebP is far smaller; anything bigger is not a thumbnail
TEXT_TYPES = {"application/json", "application/xml"}

NO_PREVIEW_TYPE = "No preview for this type of file."
NO_PREVIEW_VIDEO = "Videos have no preview."
NO_PREVIEW_TEXT = "Text files have no preview."
NO_PREVIEW_OLD = "This version was stored before previews existed."
PREVIEW_FAILED = "The preview could not be made."
PREVIEW_TOO_SLOW = "Making the preview took too long."
PREVIEW_BUSY = "The server was too busy to make a preview."
TOO_LARGE = preview_worker.TOO_LARGE_INPUT


class NoPreview(NotFound):
    code = "no_preview"
    detail = NO_PREVIEW_TYPE


@dataclass
class DerivedResult:
    """What :func:`derive_upload` made: an encrypted thumbnail blob (or why not) and content words."""

    preview_blob: str = ""
    preview_key: bytes = field(default=b"", repr=False)
    preview_mime: str = ""
    preview_size: int = 0  # plaintext bytes of the thumbnail
    preview_error: str = ""
    words: list[str] = field(default_factory=list, repr=False)
    text: str = field(default="", repr=False)  # the beginning of the extracted text (MAX_EXCERPT_BYTES), to seal

    def discard(self) -> None:
        """Remove the thumbnail blob (the version it was made for was not stored)."""
        if self.preview_blob:
            blob_delete(self.preview_blob)
            self.preview_blob = ""


def is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in TEXT_TYPES


def derivable(mime: str) -> bool:
    """Whether a version of this type gets derived data at all (others skip derivation entirely)."""
    return mime.startswith("image/") or mime == "application/pdf" or is_text(mime)


# --- deriving -----------------------------------------------------------------------------------


def derive_upload(*, keys: VaultKeys, upload) -> DerivedResult | None:
    """Thumbnail and words of a finished :class:`~vault.transfers.uploads.EncryptedUpload`, or None for other types.

    Run before the version's transaction; never raises. The result is attached to the
    upload (``upload.derivation``), so discarding the upload discards the thumbnail too.
    """
    if upload.derivation is not None:  # derived already (before an enclosing transaction)
        return upload.derivation
    if not derivable(upload.mime_type):
        return None

    def chunks() -> Iterator[bytes]:
        handle = blob_open(upload.blob)
        try:
            yield from decrypt_iter(upload.content_key, handle, aad=aad_blob(upload.writer_id, upload.version_id))
        finally:
            handle.close()

    result = _derive(
        owner_id=upload.writer_id, version_id=upload.version_id, mime=upload.mime_type, size=upload.size, chunks=chunks
    )
    upload.derivation = result
    return result


def derive_for_version(*, keys: VaultKeys, file: File, version: FileVersion, preview: bool = True) -> DerivedResult:
    """Thumbnail and words of a stored version (its plaintext read through :func:`plaintext_chunks`).

    With ``preview=False`` only the words are extracted and no blob is written.
    """
    return _derive(
        owner_id=version.writer_id(file),
        version_id=version.pk,
        mime=version.mime_type,
        size=version.size,
        chunks=lambda: plaintext_chunks(keys, file, version),
        preview=preview,
    )


def _derive(
    *, owner_id, version_id, mime: str, size: int, chunks: Callable[[], Iterable[bytes]], preview: bool = True
) -> DerivedResult:
    result = DerivedResult()
    try:
        if is_text(mime):
            head = _Head(MAX_EXCERPT_BYTES)
            result.words = text_words(head.keep(_limited(chunks(), MAX_TEXT_BYTES)))
            result.text = head.text()
            result.preview_error = NO_PREVIEW_TEXT
        elif mime == "application/pdf" or mime.startswith("image/"):
            kind, limit = ("pdf", MAX_PDF_BYTES) if mime == "application/pdf" else ("image", MAX_IMAGE_BYTES)
            if size > limit:
                result.preview_error = TOO_LARGE
                return result
            if kind == "image" and not preview:
                return result
            answer = run_worker(kind, chunks(), max_input=limit, text=kind == "pdf", render=preview)
            result.preview_error = answer.error
            result.words = text_words([answer.text]) if answer.text else []
            result.text = excerpt(answer.text)
            if answer.thumbnail and preview:
                result.preview_blob, result.preview_key = _write_preview(owner_id, version_id, answer.thumbnail)
                result.preview_mime, result.preview_size = answer.mime, len(answer.thumbnail)
                result.preview_error = ""
        else:
            result.preview_error = NO_PREVIEW_TYPE
    except Exception as exc:  # noqa: BLE001 - derived data never fails an upload
        # The exception's text could quote content: only its type is logged.
        logger.warning("Derived data of version %s failed: %s", version_id, type(exc).__name__)
        result.discard()
        return DerivedResult(preview_error=PREVIEW_FAILED)
    return result


def _limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The first ``limit`` bytes of ``chunks`` (the rest is not read)."""
    remaining = limit
    for chunk in chunks:
        if remaining <= 0:
            break
        yield chunk[:remaining]
        remaining -= len(chunk)
    if hasattr(chunks, "close"):
        chunks.close()  # a generator reading a blob closes it now


class _Head:
    """Keeps the first ``limit`` bytes of the pieces that pass through :meth:`keep`, as text."""

    def __init__(self, limit: int):
        self.limit, self.data = limit, bytearray()

    def keep(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            if len(self.data) < self.limit:
                self.data += piece[: self.limit - len(self.data)]
            yield piece

    def text(self) -> str:
        # a character cut at the limit is left out, not replaced; invalid bytes elsewhere become U+FFFD
        return codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(self.data), final=False)


def excerpt(text: str) -> str:
    """The beginning of ``text``: at most ``MAX_EXCERPT_BYTES`` of UTF-8, whole characters."""
    return text.encode()[:MAX_EXCERPT_BYTES].decode("utf-8", "ignore") if text else ""


def _write_preview(owner_id, version_id, data: bytes) -> tuple[str, bytes]:
    """Encrypt a thumbnail into a new blob under a fresh key: ``(blob name, key)``."""
    key = new_key()
    encryptor = Encryptor(key, aad=aad_preview(owner_id, version_id))
    with BlobWriter(owner_id) as writer:
        for piece in encryptor.update_pieces(data):
            writer.write(piece)
        writer.write(encryptor.finalize())
        return writer.commit(), key


# --- words ----------------------------------------------------------------------------------------


class _Words:
    """Distinct normalized words (as :func:`~locker.crypto.blind.tokenize` makes them), capped."""

    def __init__(self, limit: int = MAX_CONTENT_WORDS):
        self.limit = limit
        self.words: dict[str, None] = {}
        self._seen: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.words) >= self.limit

    def add(self, text: str) -> None:
        # Normalizing is slow per character: split on whitespace first and normalize each distinct piece once
        # (normalization never joins two pieces, so the words are the same as tokenize(text)'s).
        for piece in text.split():
            if piece in self._seen:
                continue
            if len(self._seen) < 4 * self.limit:
                self._seen.add(piece)
            for word in tokenize(piece):
                if len(word) <= MAX_WORD_LENGTH:
                    self.words.setdefault(word, None)
            if self.full:
                return


def text_words(pieces: Iterable[bytes | str]) -> list[str]:
    """Distinct words of UTF-8 text given in pieces (bytes cut anywhere, or str), at most ``MAX_CONTENT_WORDS``."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    words, carry = _Words(), ""
    for piece in pieces:
        text = carry + (piece if isinstance(piece, str) else decoder.decode(piece))
        cut = _last_space(text)
        words.add(text[:cut])
        carry = text[cut:]
        if words.full:
            return list(words.words)
    words.add(carry + decoder.decode(b"", final=True))
    return list(words.words)[:MAX_CONTENT_WORDS]


def _last_space(text: str, *, look_back: int = 256) -> int:
    """Where to cut ``text`` so that no word straddles two pieces (a word longer than ``look_back`` may)."""
    for index in range(len(text) - 1, max(-1, len(text) - 1 - look_back), -1):
        if text[index].isspace():
            return index + 1
    return len(text) if len(text) > look_back else 0


# --- the worker process ---------------------------------------------------------------------------


@dataclass
class WorkerAnswer:
    thumbnail: bytes = b""
    mime: str = ""
    text: str = ""
    error: str = ""


_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


def _worker_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, int(settings.LOCKER_PREVIEW_WORKERS)))
        return _slots


def worker_timeout() -> float:
    return float(settings.LOCKER_PREVIEW_TIMEOUT)


def run_worker(
    kind: str,
    data: Iterable[bytes],
    *,
    max_input: int,
    text: bool,
    render: bool = True,
    languages: list[str] | None = None,
    timeout: float | None = None,
) -> WorkerAnswer:
    """Stream ``data`` to a fresh :mod:`vault.derived.preview_worker` process and read its answer.

    At most ``LOCKER_PREVIEW_WORKERS`` run at once; a worker is killed after ``timeout`` seconds
    (``LOCKER_PREVIEW_TIMEOUT`` by default). Any failure of the worker is an answer with an ``error``, never an
    exception. ``kind`` "ocr-image" and "ocr-pdf" read text with Tesseract in ``languages``.
    """
    timeout = timeout or worker_timeout()
    slots = _worker_slots()
    if not slots.acquire(timeout=timeout):
        return WorkerAnswer(error=PREVIEW_BUSY)
    try:
        return _run_worker(
            kind, data, max_input=max_input, text=text, render=render, languages=languages, timeout=timeout
        )
    finally:
        slots.release()


def ocr_languages() -> list[str]:
    """The languages the installed Tesseract reads (none without Tesseract), asked once per process."""
    global _languages
    if _languages is None:
        binary = shutil.which("tesseract")
        found: list[str] = []
        if binary is not None:
            try:
                listed = subprocess.run(  # noqa: S603 - a fixed program, no shell
                    [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
                ).stdout
            except (OSError, subprocess.TimeoutExpired):
                listed = ""
            found = sorted(
                line.strip()
                for line in listed.splitlines()[1:]
                if preview_worker.OCR_LANGUAGE.fullmatch(line.strip()) and line.strip() != "osd"
            )
        if not found:
            logger.warning("Text recognition is unavailable: no Tesseract with a language installed.")
        _languages = found
    return _languages


_languages: list[str] | None = None


def ocr_read(kind: str, data: Iterable[bytes], *, languages: list[str]) -> WorkerAnswer:
    """What Tesseract reads in an image (``kind`` "image") or in a PDF's pages without a text layer ("pdf"), in
    ``languages`` (those installed only), within ``LOCKER_OCR_TIMEOUT`` seconds."""
    installed = ocr_languages()
    chosen = [language for language in languages if language in installed]
    if not chosen:
        return WorkerAnswer(error=preview_worker.NO_OCR)
    limit = MAX_PDF_BYTES if kind == "pdf" else MAX_IMAGE_BYTES
    return run_worker(
        f"ocr-{kind}",
        data,
        max_input=limit,
        text=True,
        render=False,
        languages=chosen,
        timeout=float(settings.LOCKER_OCR_TIMEOUT),
    )


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """Where this interpreter finds installed libraries (Pillow, pypdfium2...), for a worker started without site
    processing (``-S``): this process's import path, wherever the libraries were installed."""
    return tuple(dict.fromkeys(path for path in sys.path if path and os.path.isabs(path)))


def _run_worker(kind, data, *, max_input, text, render, languages, timeout) -> WorkerAnswer:
    env = {name: os.environ[name] for name in ("PATH", "LD_LIBRARY_PATH") if name in os.environ}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own file, no shell
        [sys.executable, "-I", "-S", preview_worker.__file__, *_library_dirs()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,  # nothing of the server's environment (secrets) reaches the worker
        cwd="/",
    )
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        request = {"kind": kind, "text": text, "render": render, "max_input": max_input, "languages": languages}
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            for piece in data:
                process.stdin.write(piece)
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the worker stopped reading (input too large, or killed): its answer says why
        header = _read_header(process.stdout.readline(4096))
        thumbnail = process.stdout.read(header["size"]) if header else b""
        words = process.stdout.read(header["text_size"]) if header else b""
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
    if expired.is_set():
        return WorkerAnswer(error=PREVIEW_TOO_SLOW)
    if header is None or process.returncode != 0 or len(thumbnail) != header["size"]:
        return WorkerAnswer(error=PREVIEW_FAILED)
    return WorkerAnswer(
        thumbnail=thumbnail,
        mime=header["mime"],
        text=words.decode("utf-8", "replace"),
        error=header["error"] if not thumbnail else "",
    )


def _read_header(line: bytes) -> dict | None:
    """The worker's answer header, checked (the worker parses hostile input: trust nothing it says)."""
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    size, text_size = header.get("size"), header.get("text_size")
    mime, error = header.get("mime"), header.get("error")
    if not (isinstance(size, int) and 0 <= size <= MAX_PREVIEW_BYTES):
        return None
    if not (isinstance(text_size, int) and 0 <= text_size <= 4 * preview_worker.PDF_TEXT_CHARS):
        return None
    if mime not in ("", "image/webp", "image/jpeg") or (size and not mime):
        return None
    if not isinstance(error, str):
        return None
    return {"size": size, "text_size": text_size, "mime": mime, "error": error[:200]}


# --- storing (inside the version's transaction) ---------------------------------------------------


def derived_store(
    *,
    keys: VaultKeys,
    version: FileVersion,
    file_key: bytes,
    previous_version_id,
    result: DerivedResult | None,
    ocr: tuple[str, str] = ("", ""),
) -> list[str] | None:
    """Write the ``Derived`` row of a new current version (``ocr``: its text recognition's state and reason,
    :func:`vault.derived.ocr.initial_state`).

    Returns the content words the file's index must now hold, or None when the index
    needs no change (neither this version nor the one it replaces has content words).
    """
    derived = None
    if result is not None:
        text_sealed = ""
        if result.text and result.words:
            text_sealed = keys.seal_excerpt(keys.content_key(version, file_key), version.pk, result.text)
        derived = Derived.objects.create(
            version=version,
            preview_blob=result.preview_blob,
            preview_key_wrapped=(
                keys.wrap_preview_key(result.preview_key, version.pk, file_key) if result.preview_blob else ""
            ),
            preview_mime=result.preview_mime,
            preview_size=result.preview_size,
            preview_error=result.preview_error[:200],
            text_indexed=bool(result.words),
            text_sealed=text_sealed,
            ocr_state=ocr[0],
            ocr_reason=ocr[1],
        )
    FileVersion.derived.related.set_cached_value(version, derived)  # serializers read it without a query
    if result is not None and result.words:
        ContentWords.objects.create(
            version=version, words_sealed=keys.seal_words(keys.content_key(version, file_key), version.pk, result.words)
        )
        return result.words
    if previous_version_id and Derived.objects.filter(version_id=previous_version_id, text_indexed=True).exists():
        return []  # the old version's words must go
    return None


@dataclass
class ContentText:
    """What a file's current version's content gives search, read again: its words, and its text excerpt and word
    list sealed (each empty when the version already has one or has no text)."""

    words: list[str] = field(default_factory=list, repr=False)
    version_id: object = None
    excerpt_sealed: str = field(default="", repr=False)
    words_sealed: str = field(default="", repr=False)


def current_content_text(*, keys: VaultKeys, file_id) -> ContentText:
    """The content words of a file's current version, read again from its content (they are never stored), and
    its sealed text excerpt and word list if the version has none yet (stored before they were kept).

    Used when the file's index is rebuilt (``reindex``), so that its content stays searchable; run before the
    file's transaction, never inside one.
    """
    file = File.objects.filter(pk=file_id).select_related("current_version__derived", "folder").first()
    version = file.current_version if file is not None else None
    derived = getattr(version, "derived", None) if version is not None else None
    if derived is None or not derived.text_indexed:
        return ContentText()
    if derived.ocr_state == Derived.Ocr.DONE:
        # text recognition's words are kept sealed with the version: read again from there, not recognised again
        row = ContentWords.objects.filter(version=version).first()
        if row is not None:
            owner_keys = keys.for_owner(file.owner_id)
            content_key = owner_keys.content_key(version, owner_keys.file_key(file))
            return ContentText(
                words=owner_keys.open_words(content_key, version.pk, row.words_sealed), version_id=version.pk
            )
    result = derive_for_version(keys=keys, file=file, version=version, preview=False)
    if not result.words:
        logger.warning("Content words of version %s could not be read again: %s", version.pk, result.preview_error)
        return ContentText()
    owner_keys = keys.for_owner(file.owner_id)
    content_key = owner_keys.content_key(version, owner_keys.file_key(file))
    sealed = ""
    if not derived.text_sealed and result.text:
        sealed = owner_keys.seal_excerpt(content_key, version.pk, result.text)
    words_sealed = ""
    if not ContentWords.objects.filter(version=version).exists():
        words_sealed = owner_keys.seal_words(content_key, version.pk, result.words)
    return ContentText(words=result.words, version_id=version.pk, excerpt_sealed=sealed, words_sealed=words_sealed)


def excerpt_store(content: ContentText) -> None:
    """Keep a text excerpt and a word list read again by :func:`current_content_text` (only where the version has
    none)."""
    if content.excerpt_sealed:
        Derived.objects.filter(version_id=content.version_id, text_sealed="").update(text_sealed=content.excerpt_sealed)
    if content.words_sealed and FileVersion.objects.filter(pk=content.version_id).exists():
        ContentWords.objects.get_or_create(
            version_id=content.version_id, defaults={"words_sealed": content.words_sealed}
        )


def current_content_words(*, keys: VaultKeys, file_id) -> list[str]:
    """The content words of a file's current version, read again from its content (they are never stored)."""
    return current_content_text(keys=keys, file_id=file_id).words


def excerpt_read(*, keys: VaultKeys, file: File) -> str:
    """The text excerpt of a file's current version, opened for the reader (a search snippet), or ""."""
    version = file.current_version if file.current_version_id else None
    derived = getattr(version, "derived", None) if version is not None else None
    if derived is None or not derived.text_sealed:
        return ""
    keys = keys.for_owner(file.owner_id)
    return keys.open_excerpt(keys.content_key(version, keys.file_key(file)), version.pk, derived.text_sealed)


def words_read(*, keys: VaultKeys, files: list[File]) -> dict:
    """The content words of each file's current version, opened with the reader's keys: ``{file id: sorted
    words}`` (files without any are left out). One query for the lot; each list is one decryption."""
    by_version = {file.current_version_id: file for file in files if file.current_version_id}
    out = {}
    for version_id, sealed in ContentWords.objects.filter(version_id__in=list(by_version)).values_list(
        "version_id", "words_sealed"
    ):
        file = by_version[version_id]
        owner_keys = keys.for_owner(file.owner_id)
        content_key = owner_keys.content_key(file.current_version, owner_keys.file_key(file))
        out[file.pk] = owner_keys.open_words(content_key, version_id, sealed)
    return out


def preview_blobs(versions) -> list[str]:
    """Thumbnail blobs of ``versions`` (a queryset or ids), to delete with them after commit."""
    return list(
        Derived.objects.filter(version__in=versions).exclude(preview_blob="").values_list("preview_blob", flat=True)
    )


# --- reading ----------------------------------------------------------------------------------------


def preview_etag(version_id) -> str:
    return f'"{version_id.hex}-preview"'


def preview_read(*, keys: VaultKeys, file: File) -> tuple[bytes, str, str]:
    """``(thumbnail, MIME type, ETag)`` of a file's current version, or :class:`NoPreview` with the reason."""
    version = file.current_version if file.current_version_id else None
    derived = getattr(version, "derived", None) if version is not None else None
    if derived is None:
        raise NoPreview(_reason_without_row(file.mime_type))
    if not derived.preview_blob:
        raise NoPreview(derived.preview_error or NO_PREVIEW_TYPE)
    keys = keys.for_owner(file.owner_id)
    key = keys.preview_key(derived, keys.file_key(file))
    handle = blob_open(derived.preview_blob)
    try:
        data = b"".join(decrypt_iter(key, handle, aad=aad_preview(version.writer_id(file), version.pk)))
    finally:
        handle.close()
    return data, derived.preview_mime, preview_etag(version.pk)


def _reason_without_row(mime: str) -> str:
    if mime.startswith("video/"):
        return NO_PREVIEW_VIDEO
    if mime.startswith("image/") or mime == "application/pdf":
        return NO_PREVIEW_OLD
    if is_text(mime):
        return NO_PREVIEW_TEXT
    return NO_PREVIEW_TYPE
