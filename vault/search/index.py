"""Search over encrypted names, tags and text with blind indexes (SECURITY.md property 8).

Indexing: every word of a field becomes a token ``HMAC(K_field_word, word)``; every prefix
of 3+ characters (up to 16) becomes ``HMAC(K_field_prefix, prefix)``, so that "rep" finds
"report". The keys are derived from the user's data key per field (``name``, ``tag``,
``body``, ``content``) and per token kind; tokens are truncated to 64 bits.

Querying: each query word maps to its exact and prefix tokens in every field; an item
matches when every word matches (AND); results rank by the number of matching tokens
(a word in the name and in a tag counts twice), then by recency.

Leakage (documented in docs/security.md): within one user, equal words and equal
prefixes of 3+ characters give equal tokens, and the number of tokens per item is
visible. No plaintext, no word lengths beyond that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import Count, Q

from locker.crypto import aead
from locker.crypto.aead import context
from locker.crypto.blind import normalize, prefixes, subkey, token, tokenize
from locker.crypto.keys import b64d, b64e
from vault.models import IndexPending, SearchToken, TagIndex

FIELDS = ("name", "tag", "body", "content")
MAX_QUERY_WORDS = 8


class SearchKeys:
    """Per-field blind-index keys of one user, derived once per request."""

    def __init__(self, udk: bytes):
        self._udk = udk
        self._keys: dict[tuple[str, str], bytes] = {}

    def key(self, field: str, kind: str) -> bytes:
        if (field, kind) not in self._keys:
            self._keys[field, kind] = subkey(self._udk, f"search {field} {kind}")
        return self._keys[field, kind]

    def item_tokens(self, fields: dict[str, Iterable[str]]) -> set[int]:
        """Tokens of an item from its fields' texts (``{"name": ["Report.pdf"], "tag": ["tax", "2025"]}``)."""
        out: set[int] = set()
        for field, texts in fields.items():
            for text in texts:
                for word in tokenize(text):
                    out.add(token(self.key(field, "word"), word))
                    out.update(token(self.key(field, "prefix"), p) for p in prefixes(word))
        return out

    def tag_token(self, tag: str) -> int:
        """The token of a whole tag (case and accents folded): equal tags share it."""
        return token(self.key("tagfull", "word"), normalize(tag))

    def seal_tag(self, owner_id, tag: str) -> str:
        return b64e(
            aead.seal(self.key("tagname", "seal"), tag.encode(), aad=context("tag", owner_id, self.tag_token(tag)))
        )

    def open_tag(self, owner_id, tag_token: int, sealed: str) -> str:
        return aead.open_sealed(
            self.key("tagname", "seal"), b64d(sealed), aad=context("tag", owner_id, tag_token)
        ).decode()

    def query_tokens(self, word: str) -> set[int]:
        out = {token(self.key(field, "word"), word) for field in FIELDS}
        if len(word) >= 3:
            out.update(token(self.key(field, "prefix"), word[:16]) for field in FIELDS)
        return out


class DeferredIndex:
    """The index "keys" of a write made through a share: the writer has the item's key, not the owner's index keys.

    Each change is sealed under the item's own key as an :class:`~vault.models.IndexPending` row, applied by
    :func:`apply_pending` when the owner next searches (with their keys). ``item_key(kind, item_id)`` gives the
    key of an item the writer just opened or made.
    """

    def __init__(self, item_key):
        self._item_key = item_key

    def record(self, *, owner_id, kind: int, item_id, change: dict) -> None:
        row = IndexPending(owner_id=owner_id, kind=kind, item_id=item_id)
        aad = context("index-pending", owner_id, kind, item_id, row.pk)
        row.change_sealed = b64e(aead.seal(self._item_key(kind, item_id), json.dumps(change).encode(), aad=aad))
        row.save(force_insert=True)


def apply_pending(*, owner_id, keys: SearchKeys, item_key) -> int:
    """Apply the index changes that recipients made to ``owner_id``'s items, oldest first (call with the owner's
    keys, inside a transaction; ``item_key(kind, item_id)`` opens an item's key, or None when the item is gone).
    Each row is deleted before it is applied, so two requests never apply one twice. Returns how many."""
    rows = list(IndexPending.objects.filter(owner_id=owner_id).order_by("created_at", "id"))
    for row in rows:
        if not IndexPending.objects.filter(pk=row.pk).delete()[0]:
            continue  # another request applied it
        key = item_key(row.kind, row.item_id)
        if key is not None:
            aad = context("index-pending", owner_id, row.kind, row.item_id, row.pk)
            change = json.loads(aead.open_sealed(key, b64d(row.change_sealed), aad=aad))
            if "fields" in change:
                index_item(owner_id=owner_id, keys=keys, kind=row.kind, item_id=row.item_id, fields=change["fields"])
            else:
                reindex_fields(
                    owner_id=owner_id,
                    keys=keys,
                    kind=row.kind,
                    item_id=row.item_id,
                    old=change["old"],
                    new=change["new"],
                )
    return len(rows)


def index_item(*, owner_id, keys: SearchKeys, kind: int, item_id, fields: dict[str, Iterable[str]]) -> None:
    """Replace an item's tokens (and its tag index from ``fields["tag"]``). Call inside the write's transaction."""
    if isinstance(keys, DeferredIndex):
        keys.record(owner_id=owner_id, kind=kind, item_id=item_id, change={"fields": _plain(fields)})
        return
    SearchToken.objects.filter(kind=kind, item_id=item_id).delete()
    SearchToken.objects.bulk_create(
        [SearchToken(owner_id=owner_id, kind=kind, item_id=item_id, token=t) for t in keys.item_tokens(fields)],
        batch_size=1000,
    )
    _replace_tags(owner_id=owner_id, keys=keys, kind=kind, item_id=item_id, tags=fields.get("tag", []))


def _replace_tags(*, owner_id, keys: SearchKeys, kind: int, item_id, tags: Iterable[str]) -> None:
    TagIndex.objects.filter(kind=kind, item_id=item_id).delete()
    tokens = {keys.tag_token(tag): tag for tag in tags}
    TagIndex.objects.bulk_create(
        [
            TagIndex(owner_id=owner_id, kind=kind, item_id=item_id, token=t, tag_sealed=keys.seal_tag(owner_id, tag))
            for t, tag in tokens.items()
        ]
    )


def reindex_fields(
    *, owner_id, keys: SearchKeys, kind: int, item_id, old: dict[str, Iterable[str]], new: dict[str, Iterable[str]]
) -> None:
    """Swap the tokens of some fields of an item (its name, its tags) for their new values and leave the rest.

    Tokens are keyed per field, so a rename touches name tokens only: a file's content words, which
    only a decryption and a text extraction could give again, stay as they are. The tag index follows
    ``new["tag"]`` when given. Call inside the write's transaction.
    """
    if isinstance(keys, DeferredIndex):
        keys.record(owner_id=owner_id, kind=kind, item_id=item_id, change={"old": _plain(old), "new": _plain(new)})
        return
    before, after = keys.item_tokens(old), keys.item_tokens(new)
    gone, added = before - after, after - before
    if gone:
        SearchToken.objects.filter(kind=kind, item_id=item_id, token__in=list(gone)).delete()
    if added:
        SearchToken.objects.bulk_create(
            [SearchToken(owner_id=owner_id, kind=kind, item_id=item_id, token=t) for t in added], batch_size=1000
        )
    if "tag" in new:
        _replace_tags(owner_id=owner_id, keys=keys, kind=kind, item_id=item_id, tags=new["tag"])


def _plain(fields: dict[str, Iterable[str]]) -> dict[str, list[str]]:
    return {field: list(texts) for field, texts in fields.items()}


def unindex(*, kind: int, item_ids: Iterable) -> None:
    item_ids = list(item_ids)
    IndexPending.objects.filter(kind=kind, item_id__in=item_ids).delete()
    SearchToken.objects.filter(kind=kind, item_id__in=item_ids).delete()
    TagIndex.objects.filter(kind=kind, item_id__in=item_ids).delete()


def matching_items(
    *, owner_id, keys: SearchKeys, query: str, kinds: Iterable[int], limit: int = 500
) -> tuple[list[str], list[dict]]:
    """``(words, [{kind, item_id, hits}])`` for items matching every word of ``query``, best first."""
    words = tokenize(query)[:MAX_QUERY_WORDS]
    if not words:
        return [], []
    per_word = [keys.query_tokens(word) for word in words]
    every = set().union(*per_word)
    rows = (
        SearchToken.objects.filter(owner_id=owner_id, kind__in=list(kinds), token__in=every)
        .values("kind", "item_id")
        .annotate(hits=Count("id"))
    )
    if len(words) > 1:  # AND: every word must have a matching token (one word matches by construction)
        rows = rows.annotate(
            **{f"w{i}": Count("id", filter=Q(token__in=tokens)) for i, tokens in enumerate(per_word)}
        ).filter(**{f"w{i}__gt": 0 for i in range(len(words))})
    rows = rows.order_by("-hits")[:limit]
    return words, [{"kind": row["kind"], "item_id": row["item_id"], "hits": row["hits"]} for row in rows]
