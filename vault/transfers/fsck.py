"""Consistency check between blob storage and the database (``manage.py vault_fsck``)."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field

from django.core.files.storage import FileSystemStorage

from vault.models import Derived, ExportJob, FileVersion, Upload
from vault.transfers import objects
from vault.transfers.blobs import blob_storage
from vault.transfers.objects import is_object_storage


@dataclass
class FsckReport:
    orphans: list[str] = field(default_factory=list)  # blobs (or partial writes) no version or thumbnail refers to
    missing: list[str] = field(default_factory=list)  # version ids whose blob is gone
    removed: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing


def vault_fsck(*, remove: bool = False, min_age_seconds: int = 3600) -> FsckReport:
    """Find orphan blobs (older than ``min_age_seconds``, so in-flight uploads are left alone) and missing blobs."""
    storage = blob_storage()
    report = FsckReport()
    known = dict(FileVersion.objects.values_list("blob", "pk"))
    previews = set(Derived.objects.exclude(preview_blob="").values_list("preview_blob", flat=True))
    # blobs of work in progress are nobody's version yet, and no orphans: an export waiting to be downloaded, an
    # unfinished resumable upload (a finished one's blob is its version's)
    previews |= set(ExportJob.objects.exclude(blob="").values_list("blob", flat=True))
    previews |= set(Upload.objects.filter(file_id__isnull=True).values_list("blob", flat=True))
    present: set[str] = set()
    now = time.time()
    for name, modified, remove_it in _stored(storage):
        if name in known or name in previews:
            present.add(name)
            continue
        if now - modified < min_age_seconds:
            continue
        report.orphans.append(name)
        if remove:
            remove_it()
            report.removed.append(name)
    if remove and is_object_storage(storage):
        # the parts of uploads a stopped server never completed: no blob, but room taken in the store
        stale = objects.abort_stale_uploads(storage, now - min_age_seconds)
        report.removed += [f"{name} (an unfinished multipart upload)" for name in stale]
    if not isinstance(storage, FileSystemStorage) and not is_object_storage(storage):
        present = {name for name in known if storage.exists(name)}
    report.missing = sorted(str(known[name]) for name in known if name not in present)
    report.orphans.sort()
    return report


def _stored(storage):
    """``(name, last modified, remove it)`` of everything in the blob storage (partial writes included)."""
    if is_object_storage(storage):
        for name, _size, modified in objects.list_blobs(storage):
            yield name, modified, functools.partial(objects.delete_blob, storage, name)
    elif isinstance(storage, FileSystemStorage) and os.path.isdir(storage.location):
        for root, _dirs, files in os.walk(storage.location):
            for filename in files:
                path = os.path.join(root, filename)
                name = os.path.relpath(path, storage.location).replace(os.sep, "/")
                yield name, os.path.getmtime(path), functools.partial(os.unlink, path)
