"""The names of vault items in a page of activity events, opened with the reader's keys (``activity.naming``).

Only items the reader may see (their own, and what is shared with them) are named, and only while their vault is
unlocked; a damaged name or a purged item stays unnamed. One query per kind of item on the page.
"""

from __future__ import annotations

from vault import access, kinds
from vault.transfers.integrity import CRYPTO_FAILURES

NAMED_KINDS = ("folder", "file", "note")


def name_events(request, events: list) -> dict[tuple[str, str], str]:
    from vault.files.apis import vault_keys

    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in NAMED_KINDS:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    if not wanted:
        return {}
    keys = vault_keys(request)
    names = {}
    for kind_name, ids in wanted.items():
        kind = kinds.get(kind_name)
        rows = access.items(request.user, kind.model).filter(pk__in=ids).select_related(*kind.select_related)
        for item in rows:
            try:
                names[(kind_name, str(item.pk))] = kind.describe(keys, item, []).name
            except CRYPTO_FAILURES:
                continue
    return names
