"""The names of app passwords in a page of activity events, opened with the reader's data key
(``activity.naming``): the reader's own, while their vault is unlocked; a revoked one (its row is gone) or a
damaged one stays unnamed. One query for the page.
"""

from __future__ import annotations

import uuid

from accounts.keys import AccountKeys
from accounts.models import AppPassword
from accounts.unlock import context_for_request
from locker.crypto.errors import CryptoError
from locker.errors import VaultLocked


def name_app_passwords(request, refs: list) -> dict[tuple[str, str], str]:
    ids = {ref.object_id for ref in refs if ref.object_type == "app_password"}
    if not ids or not getattr(request.user, "is_authenticated", False):
        return {}
    rows = list(AppPassword.objects.filter(user=request.user, pk__in=[i for i in ids if _is_uuid(i)]))
    if not rows:
        return {}
    try:
        keys = AccountKeys(request.user.pk, context_for_request(request).udk())
    except VaultLocked:
        return {}
    names = {}
    for row in rows:
        try:
            names[("app_password", str(row.pk))] = keys.app_password_name(row)
        except (CryptoError, UnicodeDecodeError):
            continue
    return names


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
