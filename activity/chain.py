"""Tamper evidence for the activity log (issue: live notifications and a tamper-evident log).

Every event carries ``hash = SHA-256(prev_hash, user_key, seq, created_at, action, outcome, ip, user_agent,
object_type, object_id, data)``, chained to the previous event of the same user (``user_key``: a copy of the
user's id, which outlives the account). Appending locks the user's :class:`~activity.models.ChainHead`, so
concurrent events take turns. :func:`verify` recomputes every chain and names the first broken link: an edited
row (its hash), a deleted one (a gap), an inserted one (a duplicate or a link that does not follow), rows put in
another order (links that do not follow), and a chain cut back (its head or an anchor ahead of it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from activity.models import ChainAnchor, ChainHead, Event


def event_hash(
    *,
    prev_hash: str,
    user_key: str,
    seq: int,
    created_at,
    action,
    outcome,
    ip,
    user_agent,
    object_type,
    object_id,
    data,
) -> str:
    body = [
        prev_hash,
        user_key,
        seq,
        created_at.isoformat(),
        action,
        outcome,
        ip or "",
        user_agent,
        object_type,
        object_id,
        data,
    ]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_of(event: Event) -> str:
    return event_hash(
        prev_hash=event.prev_hash,
        user_key=event.user_key,
        seq=event.seq,
        created_at=event.created_at,
        action=event.action,
        outcome=event.outcome,
        ip=event.ip,
        user_agent=event.user_agent,
        object_type=event.object_type,
        object_id=event.object_id,
        data=event.data,
    )


def lock_heads(*user_keys) -> None:
    """Lock the chains of several users at once, in one order (by key), before an action that appends to more than
    one: two such actions between the same users (each sharing with the other, say) then wait for each other
    instead of deadlocking. Call inside the transaction, before its first event."""
    for key in sorted({str(key) for key in user_keys}):
        ChainHead.objects.select_for_update().get_or_create(user_key=key)


def append(event: Event) -> Event:
    """Link ``event`` (not saved yet) to its user's chain and save it. Call inside a transaction."""
    if event.ip:  # hashed as the database will give it back (IPv6 compressed)
        event.ip = Event._meta.get_field("ip").to_python(event.ip)
    head, _ = ChainHead.objects.select_for_update().get_or_create(user_key=event.user_key)
    event.seq, event.prev_hash = head.seq + 1, head.hash
    event.hash = hash_of(event)
    event.save(force_insert=True)
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


def anchor() -> ChainAnchor:
    heads = {head.user_key: [head.seq, head.hash] for head in ChainHead.objects.order_by("user_key")}
    digest = hashlib.sha256(json.dumps(heads, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return ChainAnchor.objects.create(heads=heads, digest=digest)


def verify() -> Iterator[str]:
    """Every problem found, first broken link of each chain first; nothing when the log is intact."""
    heads = {head.user_key: head for head in ChainHead.objects.all()}
    keys = set(Event.objects.values_list("user_key", flat=True).distinct()) | set(heads)
    for key in sorted(keys):
        prev_hash, expected = "", 1
        last = None
        for event in Event.objects.filter(user_key=key).order_by("seq", "created_at", "id").iterator(chunk_size=1000):
            where = f"chain {key or '(no user)'} at event {event.pk} (#{event.seq})"
            if event.seq != expected:
                yield f"{where}: expected #{expected}: a row was deleted, inserted or moved"
                break
            if event.prev_hash != prev_hash:
                yield f"{where}: does not follow the event before it: rows were reordered or replaced"
                break
            if event.hash != hash_of(event):
                yield f"{where}: its content does not match its hash: the row was edited"
                break
            prev_hash, expected, last = event.hash, expected + 1, event
        else:
            head = heads.get(key)
            if head is not None and (last is None or (head.seq, head.hash) != (last.seq, last.hash)):
                yield f"chain {key or '(no user)'}: its last event is not the recorded head (#{head.seq}): cut back"
    for anchor_row in ChainAnchor.objects.order_by("pk"):
        digest = hashlib.sha256(json.dumps(anchor_row.heads, sort_keys=True, separators=(",", ":")).encode())
        if digest.hexdigest() != anchor_row.digest:
            yield f"anchor {anchor_row.pk}: its digest does not match its heads: the anchor was edited"
            continue
        for key, (seq, value) in anchor_row.heads.items():
            found = Event.objects.filter(user_key=key, seq=seq).values_list("hash", flat=True).first()
            if found != value:
                yield f"anchor {anchor_row.pk}: chain {key or '(no user)'} #{seq} is not what it was when anchored"
