"""Rebuild a user's blind indexes (search tokens and tag index) from their decrypted data.

Needs the user's data key, so it runs inside the user's own request (``POST /api/v1/search/reindex``) or from
``manage.py vault_reindex --user NAME`` with their password. Every registered kind (``vault.kinds``: files,
folders, notes, chat messages...) rebuilds its own items; each item is re-indexed in its own short transaction,
with any decryption and text extraction done before it (SQLite writers never wait long). Index rows of items
that no longer exist, or of kinds nothing describes, are removed first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from vault import kinds
from vault.keys import VaultKeys
from vault.models import SearchToken, TagIndex


def vault_reindex(*, user, keys: VaultKeys, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Re-index every item of every kind of ``user``. Returns counts per kind (``{"files": 12, ...}``)."""
    registered = kinds.all_kinds()
    with transaction.atomic():
        for model in (SearchToken, TagIndex):
            model.objects.filter(owner=user).exclude(kind__in=[kind.code for kind in registered]).delete()
            for kind in registered:
                existing = kind.model.objects.filter(owner=user).values("pk")
                model.objects.filter(owner=user, kind=kind.code).exclude(item_id__in=existing).delete()
    total = sum(kind.model.objects.filter(owner=user).count() for kind in registered)
    done = 0
    counts = {}
    for kind in registered:

        def step(name: str = kind.name) -> None:
            nonlocal done
            done += 1
            if progress and (done % 200 == 0 or done == total):
                progress(name, done, total)

        counts[f"{kind.name}s"] = kind.reindex(user, keys, step)
    return counts
