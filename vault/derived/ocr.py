"""Text recognition (OCR) of photos, scans and image-only PDFs: a job that runs after the version commits.

A new current version of an image (PNG, JPEG, TIFF, WebP, GIF, BMP, HEIC) or a PDF gets
``Derived.ocr_state`` "pending" in its own transaction when its owner has text recognition on and the
server has Tesseract with one of the owner's languages; otherwise "skipped", with the reason. After the
commit the job goes to this process's pool: ``LOCKER_OCR_WORKERS`` threads (default 1) that take jobs from
a queue of at most ``LOCKER_OCR_QUEUE``. A job holds a copy of the keys of the request that stored the version
(in memory only, for as long as it waits and runs; a restart drops them). It

1. reads the version's plaintext (decrypted as a download is) and streams it to the sandboxed worker
   process (:func:`vault.derived.derive.ocr_read`: Tesseract under the worker's memory, CPU and pixel limits,
   killed after ``LOCKER_OCR_TIMEOUT``), with no database transaction open;
2. then, in one short transaction, checks the version is still the file's current one and the job still
   pending, adds the words it read to the file's ``content`` blind-index tokens (the same tokens as any
   other content: search, ranking and filters see no difference) and to the sealed word list of the version
   (:class:`~vault.models.ContentWords`, what a share's recipient searches), keeps the beginning of the text
   sealed for search snippets (``Derived.text_sealed``), and marks the job "done" (or "failed" with the
   worker's reason: a decompression bomb, a truncated file, a page too large, too slow).

A PDF's job reads its first pages again: their text layer where they have one, what Tesseract reads where
they have none, so a scanned PDF with a typed cover page is read whole. Nothing the job reads is logged or
written anywhere readable.

Jobs whose server stopped are "orphans": pending, their claim older than :func:`stale_after`. The owner's
next search or look at their text recognition settings (``GET /api/v1/me/text-recognition``) queues them
(:func:`resume_for`, at most once a minute per user and server), ``POST /api/v1/search/reindex`` too, and
``manage.py vault_reindex`` runs them (:func:`run_pending`). Several servers never run one
job twice: a server claims a job with one conditional UPDATE before it queues it.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from locker.errors import InvalidInput
from vault.derived import preview_worker
from vault.derived.derive import (
    MAX_CONTENT_WORDS,
    MAX_IMAGE_BYTES,
    MAX_PDF_BYTES,
    excerpt,
    ocr_languages,
    ocr_read,
    text_words,
)
from vault.keys import VaultKeys
from vault.models import ContentWords, Derived, File, FileVersion, SearchToken
from vault.search.index import reindex_fields
from vault.transfers.downloads import plaintext_chunks

logger = logging.getLogger(__name__)

OCR_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/tiff",
        "image/webp",
        "image/gif",
        "image/bmp",
        "image/heic",
        "image/heif",
        "application/pdf",
    }
)

PENDING, DONE, FAILED, SKIPPED = (Derived.Ocr.PENDING, Derived.Ocr.DONE, Derived.Ocr.FAILED, Derived.Ocr.SKIPPED)

OFF = "Text recognition is off in your settings."
UNAVAILABLE = preview_worker.NO_OCR
NO_LANGUAGE = "None of your text recognition languages is installed on this server."
TOO_LARGE = "The file is too large for text recognition."
REPLACED = "A newer version replaced this one before its text was read."
NO_TEXT = "No text was found."
INTERRUPTED = "Text recognition was interrupted."

MAX_LANGUAGES = 8
RESUME_EVERY = 60  # seconds between two looks for a user's orphaned jobs on one server


def applies(mime: str) -> bool:
    """Whether versions of this type are read by text recognition."""
    return mime in OCR_TYPES


def chosen_languages(user) -> list[str]:
    """The languages ``user`` chose, in order (the server's ``LOCKER_OCR_LANGUAGES`` until they choose)."""
    return (user.vault_ocr_languages or settings.LOCKER_OCR_LANGUAGES).split("+")


def user_languages(user) -> list[str]:
    """The languages ``user`` chose that Tesseract has here."""
    installed = ocr_languages()
    return [language for language in chosen_languages(user) if language in installed][:MAX_LANGUAGES]


def initial_state(owner, mime: str, size: int) -> tuple[str, str]:
    """``(state, reason)`` of a new version of ``owner``'s: "" for types text recognition does not read."""
    if not applies(mime):
        return Derived.Ocr.NONE, ""
    if not owner.vault_ocr:
        return SKIPPED, OFF
    if not ocr_languages():
        return SKIPPED, UNAVAILABLE
    if not user_languages(owner):
        return SKIPPED, NO_LANGUAGE
    if size > (MAX_PDF_BYTES if mime == "application/pdf" else MAX_IMAGE_BYTES):
        return SKIPPED, TOO_LARGE
    return PENDING, ""


def stale_after() -> timedelta:
    """How old a pending job's claim must be before another server (or a restarted one) takes it."""
    return timedelta(seconds=max(600, 3 * int(settings.LOCKER_OCR_TIMEOUT)))


# --- the pool -------------------------------------------------------------------------------------------


@dataclass
class _Job:
    keys: VaultKeys
    version_id: object


class _Pool:
    """Threads running jobs from a bounded queue; :meth:`wait_idle` for tests and commands."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.queue: queue.Queue[_Job] | None = None
        self.threads: list[threading.Thread] = []
        self.unfinished = 0

    def put(self, job: _Job) -> bool:
        with self.lock:
            if self.queue is None:
                self.queue = queue.Queue(maxsize=max(1, int(settings.LOCKER_OCR_QUEUE)))
            try:
                self.queue.put_nowait(job)
            except queue.Full:
                return False
            self.unfinished += 1
            while len(self.threads) < max(1, int(settings.LOCKER_OCR_WORKERS)):
                thread = threading.Thread(target=self._work, name=f"locker-ocr-{len(self.threads)}", daemon=True)
                self.threads.append(thread)
                thread.start()
            return True

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            try:
                run_job(job.keys, job.version_id)
            except Exception as exc:  # noqa: BLE001 - one job's failure never stops the pool
                logger.warning("Text recognition of version %s failed: %s", job.version_id, type(exc).__name__)
                _finish(job.version_id, FAILED, INTERRUPTED)
            finally:
                job.keys = None  # the keys go as soon as the job ends
                if self.queue.empty():
                    connections.close_all()  # a thread's connections are its own: none is left open while idle
                with self.lock:
                    self.unfinished -= 1
                    self.idle.notify_all()

    def queued(self) -> int:
        with self.lock:
            return self.unfinished

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is queued or running; False if ``timeout`` seconds passed first."""
        with self.lock:
            return self.idle.wait_for(lambda: self.unfinished == 0, timeout=timeout)


_pool = _Pool()


def wait_idle(timeout: float = 60.0) -> bool:
    return _pool.wait_idle(timeout)


def queued_here() -> int:
    """Jobs queued or running in this process."""
    return _pool.queued()


def submit(keys: VaultKeys, version_id) -> bool:
    """Claim a pending job and queue it with a copy of ``keys`` (call after the version's commit). False when the
    job is not pending, another server holds a fresh claim on it, or the queue is full (it stays pending for
    :func:`resume_for`)."""
    if not settings.LOCKER_OCR_WORKERS:
        return False
    now = timezone.now()
    claimed = (
        Derived.objects.filter(version_id=version_id, ocr_state=PENDING)
        .filter(Q(ocr_claimed_at__isnull=True) | Q(ocr_claimed_at__lt=now - stale_after()))
        .update(ocr_claimed_at=now)
    )
    if not claimed:
        return False
    if _pool.put(_Job(keys=keys.detached(), version_id=version_id)):
        return True
    Derived.objects.filter(version_id=version_id, ocr_claimed_at=now).update(ocr_claimed_at=None)
    return False


def replaced(version_id) -> None:
    """A new current version replaced ``version_id`` (inside the new version's transaction): its job, if it has not
    run, never will."""
    if version_id:
        Derived.objects.filter(version_id=version_id, ocr_state=PENDING).update(
            ocr_state=SKIPPED, ocr_reason=REPLACED, ocr_finished_at=timezone.now(), ocr_claimed_at=None
        )


def submit_after_commit(keys: VaultKeys, version_id) -> None:
    """Queue the job of a version stored in the current transaction once it commits (still in its request)."""
    transaction.on_commit(lambda: submit(keys, version_id))


def _current(user):
    """The ``Derived`` rows of ``user``'s files' current versions."""
    return Derived.objects.filter(version__file__owner=user, version__file__current_version_id=F("version_id"))


def _pending(user):
    return _current(user).filter(ocr_state=PENDING)


def resume_for(user, keys: VaultKeys) -> int:
    """Queue ``user``'s orphaned jobs (pending, claim stale or none), at most once every ``RESUME_EVERY`` seconds
    per user and server; cheap otherwise (one cache check). Returns how many were queued."""
    if not settings.LOCKER_OCR_WORKERS or not cache.add(f"locker:ocr-resume:{user.pk}", 1, RESUME_EVERY):
        return 0
    stale = timezone.now() - stale_after()
    versions = list(
        _pending(user)
        .filter(Q(ocr_claimed_at__isnull=True) | Q(ocr_claimed_at__lt=stale))
        .values_list("version_id", flat=True)[: int(settings.LOCKER_OCR_QUEUE)]
    )
    return sum(submit(keys, version_id) for version_id in versions)


def mark_pending(user, *, again: bool = False) -> int:
    """Make jobs pending for ``user``'s current versions that text recognition has not read: those skipped while
    it was off or unavailable, those stored before it existed, and with ``again`` also those read or failed
    (after a language was added, say). Returns how many."""
    if not user.vault_ocr or not user_languages(user):
        return 0
    states = [SKIPPED, Derived.Ocr.NONE] + ([DONE, FAILED] if again else [])
    kept_out = Q(ocr_state=SKIPPED, ocr_reason__in=[TOO_LARGE, REPLACED])  # reading again would not change these
    rows = _current(user).filter(ocr_state__in=states, version__mime_type__in=OCR_TYPES).exclude(kept_out)
    return rows.update(ocr_state=PENDING, ocr_reason="", ocr_claimed_at=None, ocr_finished_at=None)


def queue_unread(user, keys: VaultKeys) -> int:
    """Make the jobs of versions text recognition has not read pending (:func:`mark_pending`) and queue them and
    any orphans in this process; returns how many jobs are pending."""
    mark_pending(user)
    versions = list(_pending(user).values_list("version_id", flat=True))
    for version_id in versions[: int(settings.LOCKER_OCR_QUEUE)]:
        submit(keys, version_id)
    return len(versions)


def run_pending(user, keys: VaultKeys, *, progress=None) -> dict[str, int]:
    """Run ``user``'s pending jobs here, one after the other (``manage.py vault_reindex``): ``{state: count}``."""
    versions = list(_pending(user).values_list("version_id", flat=True))
    counts: dict[str, int] = {}
    for number, version_id in enumerate(versions, 1):
        Derived.objects.filter(version_id=version_id).update(ocr_claimed_at=timezone.now())
        try:
            state = run_job(keys, version_id)
        except Exception as exc:  # noqa: BLE001 - one version's failure does not stop the others
            logger.warning("Text recognition of version %s failed: %s", version_id, type(exc).__name__)
            state = _finish(version_id, FAILED, INTERRUPTED)
        counts[state] = counts.get(state, 0) + 1
        if progress:
            progress(number, len(versions))
    return counts


# --- one job --------------------------------------------------------------------------------------------


def run_job(keys: VaultKeys, version_id) -> str:
    """Read the text of one pending version and store its words (see the module's docstring). Returns the state
    the job ended in ("" when it was not pending)."""
    close_old_connections()
    derived = Derived.objects.filter(version_id=version_id, ocr_state=PENDING).first()
    if derived is None:
        return ""
    version = FileVersion.objects.filter(pk=version_id).select_related("file", "file__owner").first()
    if version is None:
        return ""
    file = version.file
    if file.current_version_id != version.pk:
        return _finish(version_id, SKIPPED, REPLACED)
    languages = user_languages(file.owner)
    if not file.owner.vault_ocr or not languages:
        return _finish(version_id, SKIPPED, OFF if not file.owner.vault_ocr else NO_LANGUAGE)
    owner_keys = keys.for_owner(file.owner_id)
    kind = "pdf" if version.mime_type == "application/pdf" else "image"
    chunks = plaintext_chunks(owner_keys, file, version)
    try:
        answer = ocr_read(kind, chunks, languages=languages)
    finally:
        chunks.close()
    if answer.error:
        return _finish(version_id, SKIPPED if answer.error == UNAVAILABLE else FAILED, answer.error)
    return _store(owner_keys, file.pk, version_id, answer.text)


def _store(keys: VaultKeys, file_id, version_id, text: str) -> str:
    """Add the words of ``text`` to the version's content words and index, in one short transaction."""
    words = text_words([text]) if text else []
    with transaction.atomic():
        file = File.objects.select_for_update().filter(pk=file_id).first()
        derived = Derived.objects.select_for_update().filter(version_id=version_id, ocr_state=PENDING).first()
        if derived is None:
            return ""
        if file is None or file.current_version_id != version_id:
            _set(derived, SKIPPED, REPLACED)
            return SKIPPED
        version = file.current_version
        content_key = keys.content_key(version, keys.file_key(file))
        row = ContentWords.objects.filter(version_id=version_id).first()
        old = keys.open_words(content_key, version_id, row.words_sealed) if row is not None else []
        merged = list(dict.fromkeys([*old, *words]))[:MAX_CONTENT_WORDS]
        if merged != old:
            sealed = keys.seal_words(content_key, version_id, merged)
            ContentWords.objects.update_or_create(version_id=version_id, defaults={"words_sealed": sealed})
            reindex_fields(
                owner_id=file.owner_id,
                keys=keys.search,
                kind=SearchToken.Kind.FILE,
                item_id=file.pk,
                old={"content": old},
                new={"content": merged},
            )
            derived.text_indexed = True
        if text.strip() and words:
            derived.text_sealed = keys.seal_excerpt(content_key, version_id, excerpt(text))
        _set(derived, DONE, "" if words else NO_TEXT)
    return DONE


def _set(derived: Derived, state: str, reason: str) -> None:
    derived.ocr_state, derived.ocr_reason = state, reason[:200]
    derived.ocr_finished_at, derived.ocr_claimed_at = timezone.now(), None
    derived.save(
        update_fields=["ocr_state", "ocr_reason", "ocr_finished_at", "ocr_claimed_at", "text_indexed", "text_sealed"]
    )


def _finish(version_id, state: str, reason: str) -> str:
    Derived.objects.filter(version_id=version_id, ocr_state=PENDING).update(
        ocr_state=state, ocr_reason=reason[:200], ocr_finished_at=timezone.now(), ocr_claimed_at=None
    )
    return state


# --- a user's settings ---------------------------------------------------------------------------------


def settings_update(*, user, keys: VaultKeys | None, enabled=None, languages=None, meta=None) -> dict:
    """Turn text recognition on or off and choose its languages among those installed (400 naming any other).
    Turned on, or given languages, what it has not read yet is queued (with ``keys``: an unlocked request's).
    Returns :func:`user_settings`."""
    from accounts.services import user_settings_update

    if languages is not None:
        installed = ocr_languages()
        missing = [name for name in languages if name not in installed] if isinstance(languages, list) else []
        if missing:
            available = ", ".join(installed) or "none"
            raise InvalidInput(
                errors={"languages": [f"Not installed on this server: {', '.join(missing)} (installed: {available})."]}
            )
    user_settings_update(user=user, ocr=enabled, ocr_languages=languages, meta=meta)
    if keys is not None and user.vault_ocr and (enabled or languages is not None):
        queue_unread(user, keys)
    return user_settings(user)


def user_settings(user) -> dict:
    """What the settings page and ``GET /api/v1/me/text-recognition`` show."""
    installed = ocr_languages()
    return {
        "enabled": user.vault_ocr,
        "available": bool(installed),
        "languages": chosen_languages(user),
        "installed": installed,
        "files": user_summary(user),
    }


# --- what a user and an admin see -------------------------------------------------------------------------


def user_summary(user) -> dict[str, int]:
    """How many of ``user``'s current versions are in each state: ``{"pending": 2, "done": 10, ...}``."""
    rows = _current(user).exclude(ocr_state=Derived.Ocr.NONE).values("ocr_state").annotate(count=Count("pk"))
    summary = {state: 0 for state in (PENDING, DONE, FAILED, SKIPPED)}
    summary.update({row["ocr_state"]: row["count"] for row in rows})
    return summary


def server_summary() -> dict:
    """For the admin: jobs pending (and how many this process has queued), failures by reason. No content, no
    names: the reasons are this module's and the worker's own sentences."""
    pending = Derived.objects.filter(ocr_state=PENDING).count()
    failures = list(
        Derived.objects.filter(ocr_state=FAILED)
        .values("ocr_reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "ocr_reason")
    )
    last = (
        Derived.objects.filter(ocr_state=FAILED)
        .order_by("-ocr_finished_at")
        .values_list("ocr_finished_at", flat=True)[:1]
    )
    return {
        "available": bool(ocr_languages()),
        "languages": ocr_languages(),
        "pending": pending,
        "queued_here": queued_here(),
        "failed": sum(row["count"] for row in failures),
        "failures": [(row["ocr_reason"], row["count"]) for row in failures],
        "last_failure": last[0] if last else None,
    }
