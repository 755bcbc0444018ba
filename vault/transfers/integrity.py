"""Stored data that fails its integrity check: a stable error, a log line, and an event for its owner.

A blob or a sealed value that does not authenticate (tampering, disk corruption) or a blob that
is gone is never a generic server error: downloads answer ``content_damaged`` or
``content_missing`` (500, the server's storage is at fault, not the request), listings show the
item marked ``damaged`` and every other item as usual. Each failure is logged with ids only
(never names or content) and recorded once a day per object in the owner's activity log
(``file.integrity_failed``), so the owner learns of it without a line per page view.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.utils import timezone
from rest_framework import status

from activity import actions
from activity.models import Event
from activity.services import event_record
from locker.crypto.errors import CryptoError
from locker.errors import LockerError

logger = logging.getLogger("locker.integrity")

# What opening damaged stored data raises: the crypto layer's errors, and a sealed value that opened
# (it authenticated under a wrong key? never) but is not the text or JSON it should be.
CRYPTO_FAILURES = (CryptoError, UnicodeDecodeError, json.JSONDecodeError)
RECORD_AGAIN_AFTER = timedelta(days=1)


class ContentDamaged(LockerError):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    code = "content_damaged"
    detail = (
        "This item's stored data is damaged or was tampered with: it fails its integrity check and is not served. "
        "Other versions and items are not affected; the event is in your activity log."
    )


class ContentMissing(LockerError):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    code = "content_missing"
    detail = (
        "This item's stored data is missing from the server's storage. Other versions and items are not "
        "affected; the event is in your activity log."
    )


def integrity_failure_record(*, owner_id, object_type: str, object_id, reason: str, version=None) -> None:
    """Log a failed integrity check and tell the owner (at most once a day per object and reason)."""
    logger.error(
        "integrity check failed: owner=%s %s=%s version=%s reason=%s", owner_id, object_type, object_id, version, reason
    )
    recent = Event.objects.filter(
        user_id=owner_id,
        action=actions.INTEGRITY_FAILED,
        object_id=str(object_id),
        created_at__gte=timezone.now() - RECORD_AGAIN_AFTER,
        data__reason=reason,
    )
    if recent.exists():
        return
    data = {"reason": reason}
    if version is not None:
        data["version"] = version
    event_record(
        action=actions.INTEGRITY_FAILED,
        user_id=owner_id,
        outcome=Event.Outcome.FAILURE,
        object_type=object_type,
        object_id=object_id,
        data=data,
    )
