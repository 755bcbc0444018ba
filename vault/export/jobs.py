"""Personal exports built in the background, for accounts too large to wait for in one request (docs/export.md).

``POST /api/v1/me/export`` with ``background: true`` starts a thread in the serving process that writes the zip
(``vault.export.archive``) into a blob, encrypted once more under a random key wrapped by the owner's data key
(the zip's own encryption leaves member names readable). The request's unlocked keys go to that thread in memory
only. The job's progress (bytes of files written of the total) is saved every few MiB; once the zip is complete the
owner gets a notification (``export.ready``: live to open pages) and downloads it
(``GET /api/v1/me/exports/{id}/content``, decrypted as it streams). A job is deleted, blob and all, when its owner
deletes it or ``LOCKER_EXPORT_KEEP_HOURS`` after it was made (``manage.py vault_purge_trash`` removes expired ones);
a job whose thread died with its process (no progress for ``STALE_MINUTES``) shows as failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Sum
from django.utils import timezone

from activity.models import Notification
from activity.notifications import notify
from locker.crypto.aead import context
from locker.crypto.keys import new_key
from locker.crypto.stream import Encryptor, decrypt_iter
from locker.errors import NotFound
from vault.common import is_uuid
from vault.export.archive import export_zip
from vault.keys import VaultKeys
from vault.models import ExportJob, File, FileVersion
from vault.transfers.blobs import BlobWriter, blob_delete, blob_open

logger = logging.getLogger(__name__)

PURPOSE = "export-key"
STALE_MINUTES = 10
SAVE_EVERY = 8 * 1024 * 1024  # bytes of zip between two progress updates
_THREADS: list[threading.Thread] = []  # started jobs (tests wait on them)


def _aad(job) -> bytes:
    return context("export-blob", job.owner_id, job.pk)


def _total(user, all_versions: bool) -> int:
    live = File.objects.filter(owner=user, trashed_at__isnull=True)
    if all_versions:
        return FileVersion.objects.filter(file__in=live).aggregate(s=Sum("size"))["s"] or 0
    return live.aggregate(s=Sum("size"))["s"] or 0


def export_job_start(*, user, keys: VaultKeys, passphrase: str, all_versions: bool) -> ExportJob:
    """Make the job and start its thread; returns at once."""
    hours = getattr(settings, "LOCKER_EXPORT_KEEP_HOURS", 24)
    job = ExportJob.objects.create(
        owner=user,
        all_versions=all_versions,
        total_bytes=_total(user, all_versions),
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    key = new_key()
    ExportJob.objects.filter(pk=job.pk).update(key_wrapped=keys.wrap_object_key(PURPOSE, job.pk, key))
    thread = threading.Thread(
        target=_build, args=(job.pk, user, keys, key, passphrase, all_versions), name=f"export-{job.pk}", daemon=True
    )
    _THREADS.append(thread)
    thread.start()
    return ExportJob.objects.get(pk=job.pk)


def _build(job_id, user, keys: VaultKeys, key: bytes, passphrase: str, all_versions: bool) -> None:
    job = ExportJob.objects.get(pk=job_id)
    writer = BlobWriter(user.pk)
    try:
        encryptor = Encryptor(key, aad=_aad(job))
        written = since_save = 0
        for piece in export_zip(user=user, keys=keys, passphrase=passphrase, all_versions=all_versions):
            writer.write(encryptor.update_pieces(piece))
            written += len(piece)
            since_save += len(piece)
            if since_save >= SAVE_EVERY:
                since_save = 0
                ExportJob.objects.filter(pk=job_id).update(
                    done_bytes=min(written, job.total_bytes), updated_at=timezone.now()
                )
        writer.write(encryptor.finalize())
        blob = writer.commit()
        if not ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.READY,
            blob=blob,
            size=written,
            done_bytes=job.total_bytes,
            updated_at=timezone.now(),
        ):
            blob_delete(blob)  # deleted while it was built
            return
        notify(user_id=user.pk, kind=Notification.Kind.EXPORT_READY, object_type="export", object_id=job_id)
    except Exception as exc:  # noqa: BLE001 - whatever stopped it, the job says so and keeps nothing
        writer.abort()
        logger.warning("Export %s failed: %s", job_id, type(exc).__name__)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error="The export could not be completed.", updated_at=timezone.now()
        )
    finally:
        close_old_connections()
        connection.close()


def export_job_list(*, user):
    """The user's export jobs, newest first; one whose thread stopped answering shows as failed."""
    stale = timezone.now() - timedelta(minutes=STALE_MINUTES)
    ExportJob.objects.filter(owner=user, status=ExportJob.Status.RUNNING, updated_at__lt=stale).update(
        status=ExportJob.Status.FAILED, error="The export stopped (the server restarted): start it again."
    )
    return ExportJob.objects.filter(owner=user).order_by("-created_at")


def export_job_get(*, user, job_id) -> ExportJob:
    job = export_job_list(user=user).filter(pk=job_id).first() if is_uuid(job_id) else None
    if job is None:
        raise NotFound("No such export.")
    return job


def export_job_content(*, user, keys: VaultKeys, job_id) -> tuple[ExportJob, Iterator[bytes]]:
    """A ready job's zip, decrypted as it streams."""
    job = export_job_get(user=user, job_id=job_id)
    if job.status != ExportJob.Status.READY:
        raise NotFound("This export is not ready.")
    key = keys.object_key(PURPOSE, job.pk, job.key_wrapped)

    def body():
        with blob_open(job.blob) as handle:
            yield from decrypt_iter(key, handle, aad=_aad(job))

    return job, body()


def export_job_delete(*, user, job_id) -> None:
    job = export_job_get(user=user, job_id=job_id)
    ExportJob.objects.filter(pk=job.pk).delete()
    if job.blob:
        blob_delete(job.blob)


def export_jobs_expire() -> int:
    """Delete expired jobs and their blobs; returns how many."""
    expired = list(ExportJob.objects.filter(expires_at__lte=timezone.now()).values_list("pk", "blob"))
    ExportJob.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
    for _, blob in expired:
        if blob:
            blob_delete(blob)
    return len(expired)
