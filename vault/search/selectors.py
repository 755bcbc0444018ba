"""Search over every registered kind (``vault.kinds``), and the tag list. Each takes the acting user."""

from __future__ import annotations

from bisect import bisect_left

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet

from locker.crypto.blind import MAX_PREFIX, MIN_PREFIX, prefixes, tokenize
from vault import kinds
from vault.models import File, Folder, IndexPending, Note, SearchToken, TagIndex
from vault.search.index import MAX_QUERY_WORDS, apply_pending, matching_items


def pending_applied(*, user, keys) -> int:
    """Bring the user's index up to date with what share recipients changed in their items (vault.models.IndexPending).
    Cheap when there is nothing: one query."""
    models = {SearchToken.Kind.FILE: File, SearchToken.Kind.FOLDER: Folder, SearchToken.Kind.NOTE: Note}

    def item_key(kind, item_id):
        row = models[kind].objects.filter(owner=user, pk=item_id).first() if kind in models else None
        if row is None:
            return None
        if kind == SearchToken.Kind.FOLDER:
            return keys.folder_key(row)
        return keys.file_key(row) if kind == SearchToken.Kind.FILE else keys.note_key(row)

    if not IndexPending.objects.filter(owner_id=user.pk).exists():
        return 0
    with transaction.atomic():
        return apply_pending(owner_id=user.pk, keys=keys.search, item_key=item_key)


def search_kinds() -> dict[str, int]:
    """kind name -> index code, for every registered kind (``vault.kinds``)."""
    return {kind.name: kind.code for kind in kinds.all_kinds()}


def search(*, user, keys, query: str, kinds: list[str] | None = None, narrow=None) -> SearchResults:
    """Live items of every registered kind matching every word of ``query``: best match first, then most recent.

    Ranking reads only ids and dates; whole rows are loaded a page at a time. Each result:
    ``{"kind", "item", "score", "words"}``. Trashed items are not found. ``narrow(kind_name, queryset)``, when
    given, may filter each kind's candidate queryset further (the listing filters).
    """
    from vault import kinds as registry

    pending_applied(user=user, keys=keys)
    described = [registry.get(name) for name in kinds] if kinds else registry.all_kinds()
    words, matches = matching_items(
        owner_id=user.pk, keys=keys.search, query=query, kinds=[kind.code for kind in described]
    )
    ranked = []
    for kind in described:
        hits = {m["item_id"]: m["hits"] for m in matches if m["kind"] == kind.code}
        if hits:
            candidates = kind.rows(user).filter(pk__in=list(hits))
            if narrow is not None:
                candidates = narrow(kind.name, candidates)
            live = candidates.values_list("pk", kind.date_field)
            ranked.extend((-hits[pk], -modified.timestamp(), str(pk), kind.name, pk) for pk, modified in live)
    ranked.sort()
    return SearchResults(user, [(kind, pk, -score) for score, _, _, kind, pk in ranked], words)


def search_shared(*, user, keys, query: str, folder_ids, kinds: list[str] | None = None, narrow=None) -> list[dict]:
    """Search inside a folder someone shares with ``user``: the owner's blind-index keys stay with the owner (a
    recipient holding them could test words against the owner's whole index), so the items below the folder are
    opened with the share's keys and matched here as the index matches them: each word, or a prefix of 3 or more
    characters, in the name, a tag or the content (a file's sealed word list, a note's text: docs/sharing.md).
    Same result rows and ranking as :func:`search`."""
    from vault import access
    from vault import kinds as registry

    words = tokenize(query)[:MAX_QUERY_WORDS]
    ranked = []
    for kind in [registry.get(name) for name in kinds] if kinds else registry.all_kinds():
        if kind.model not in (File, Folder, Note) or not words:
            continue
        candidates = access.items(user, kind.model).filter(**{f"{kind.folder_field}__in": folder_ids}, **kind.live)
        if narrow is not None:
            candidates = narrow(kind.name, candidates)
        # every item below the folder is opened to match its name, tags and content words (a file's text excerpt
        # stays unread); the page's results are described with the query's words by the serializer
        items = list(candidates.select_related(*kind.select_related).defer(*kind.scan_defer))
        content = kind.content_words(keys, items) if kind.content_words else {}
        for item in items:
            texts = kind.texts(keys, item) if kind.texts else [(view := kind.describe(keys, item, [])).name, *view.tags]
            own = [w for text in texts for w in tokenize(text)]
            hits = [_hits(word, own, content.get(item.pk, ())) for word in words]
            if all(hits):
                ranked.append((-sum(hits), -getattr(item, kind.date_field).timestamp(), str(item.pk), kind.name, item))
    ranked.sort(key=lambda row: row[:3])
    return [{"kind": name, "item": item, "score": -score, "words": words} for score, _, _, name, item in ranked]


def _hits(word: str, own: list[str], content) -> int:
    """How many tokens of an item the blind index would match for ``word``: in its name and tags each matching word
    counts, in its content (sorted words) the exact word and the prefix count once each, as the index's tokens do."""
    hits = sum(t == word or (len(word) >= MIN_PREFIX and word[:MAX_PREFIX] in prefixes(t)) for t in own)
    if content:
        hits += _contains(content, word)
        if len(word) >= MIN_PREFIX:
            start = word[:MAX_PREFIX]
            at = bisect_left(content, start)
            while at < len(content) and content[at].startswith(start):
                if len(content[at]) > len(start):
                    hits += 1
                    break
                at += 1
    return hits


def _contains(words, word: str) -> bool:
    at = bisect_left(words, word)
    return at < len(words) and words[at] == word


class SearchResults:
    """Ranked search results that load their rows only for the slice a page asks for (one query per kind)."""

    def __init__(self, user, ranked: list[tuple[str, object, int]], words: list[str]):
        self._user, self._ranked, self._words = user, ranked, words

    def __len__(self) -> int:
        return len(self._ranked)

    def count(self) -> int:
        return len(self._ranked)

    def __iter__(self):
        return iter(self[0 : len(self)])

    def __getitem__(self, index):
        chosen = self._ranked[index] if isinstance(index, slice) else [self._ranked[index]]
        rows = {}
        for kind in kinds.all_kinds():
            ids = [pk for name, pk, _ in chosen if name == kind.name]
            if ids:
                found = kind.model.objects.filter(owner=self._user, pk__in=ids)
                if kind.select_related:
                    found = found.select_related(*kind.select_related)
                rows.update({(kind.name, row.pk): row for row in found})
        results = [
            {"kind": kind, "item": rows[kind, pk], "score": score, "words": self._words}
            for kind, pk, score in chosen
            if (kind, pk) in rows
        ]
        return results if isinstance(index, slice) else results[0]


def _live_items_q(user) -> Q:
    return (
        Q(kind=SearchToken.Kind.FILE, item_id__in=File.objects.filter(owner=user, trashed_at__isnull=True).values("pk"))
        | Q(
            kind=SearchToken.Kind.FOLDER,
            item_id__in=Folder.objects.filter(owner=user, trashed_at__isnull=True).values("pk"),
        )
        | Q(
            kind=SearchToken.Kind.NOTE,
            item_id__in=Note.objects.filter(owner=user, trashed_at__isnull=True).values("pk"),
        )
    )


def tag_list(*, user, keys) -> list[dict]:
    """The user's tags with how many live items carry each, most used first.

    Counted on the tag index (blind tokens), named by decrypting one sealed name per tag.
    """
    pending_applied(user=user, keys=keys)
    rows = (
        TagIndex.objects.filter(owner=user)
        .filter(_live_items_q(user))
        .values("token")
        .annotate(count=Count("id"), sealed=Max("tag_sealed"))
    )
    tags = [{"tag": keys.search.open_tag(user.pk, row["token"], row["sealed"]), "count": row["count"]} for row in rows]
    return sorted(tags, key=lambda t: (-t["count"], t["tag"].casefold()))


def tagged_item_ids(*, user, keys, tag: str, kind: int) -> QuerySet:
    """Ids of the user's items of ``kind`` carrying ``tag`` (case and accents folded), as a subquery."""
    pending_applied(user=user, keys=keys)
    return TagIndex.objects.filter(owner=user, kind=kind, token=keys.search.tag_token(tag)).values("item_id")
