"""The vault's key hierarchy for one request: UDK → folder keys → file keys → content keys.

:class:`VaultKeys` unwraps keys on demand and remembers them for the rest of
the request, so listing a folder unwraps its key once and each child's key
from it, with no extra queries. Nothing here is stored.

Associated data binds every wrap and sealed field to its owner and object:

* folder key: ``("folder-key", owner, folder)``; file key: ``("file-key", owner, file)``
* content key: ``("content-key", owner, version)``; blob: ``("file-version", owner, version)``
* thumbnail key: ``("preview-key", owner, version)``, wrapped by the file key; thumbnail blob:
  ``("file-preview", owner, version)``
* names and tags: ``("folder-name" | "file-name" | "file-tags", owner, object)``, sealed under the object's own key
* a version's text excerpt (search snippets): ``("text-excerpt", owner, version)``, sealed under a key derived
  from the version's content key (HKDF), so it is exactly as reachable as the version's bytes: a share, a key
  rotation (which re-wraps content keys) and a purge (which deletes them) treat both alike
* name MACs (uniqueness within a folder) are keyed by the *parent's* key, so a later
  share of a folder carries everything needed to keep names unique in it.
* a share: the item's key wrapped to the recipient's X25519 public key, ``("share-key", kind, item, owner,
  recipient)``. A recipient's :class:`VaultKeys` opens the grant, then every key below it as the owner would
  (:meth:`VaultKeys.for_owner`): the owner's associated data, the recipient's private key only at the top.
"""

from __future__ import annotations

import hashlib
import json

from accounts.keys import AccountKeys
from locker.crypto import aead
from locker.crypto.aead import context
from locker.crypto.blind import subkey, text_mac
from locker.crypto.kdf import hkdf
from locker.crypto.keys import (
    b64d,
    b64e,
    new_key,
    open_under_wrapped_keys,
    unwrap_with_key,
    unwrap_with_private_key,
    wrap_to_public_key,
    wrap_with_key,
)
from locker.errors import NotFound


def aad_folder_key(owner_id, folder_id) -> bytes:
    return context("folder-key", owner_id, folder_id)


def aad_file_key(owner_id, file_id) -> bytes:
    return context("file-key", owner_id, file_id)


def aad_content_key(owner_id, version_id) -> bytes:
    return context("content-key", owner_id, version_id)


def aad_blob(owner_id, version_id) -> bytes:
    return context("file-version", owner_id, version_id)


def aad_preview(owner_id, version_id) -> bytes:
    """A version's thumbnail blob (vault.derived.derive)."""
    return context("file-preview", owner_id, version_id)


def aad_preview_key(owner_id, version_id) -> bytes:
    return context("preview-key", owner_id, version_id)


def aad_share_key(kind: str, item_id, owner_id, recipient_id) -> bytes:
    """A share's wrap: bound to the item, who granted it and to whom (moving the wrap to another row fails)."""
    return context("share-key", kind, item_id, owner_id, recipient_id)


def wrap_for_recipient(key: bytes, *, kind: str, item_id, owner_id, recipient_id, public_raw: bytes) -> str:
    """An item's key wrapped to a recipient's X25519 public key: one wrap, whatever lies below the item."""
    return wrap_to_public_key(key, public_raw, aad=aad_share_key(kind, item_id, owner_id, recipient_id))


class ReceivedKeys:
    """The keys of the items shared with one user, unwrapped with their private key on first use."""

    def __init__(self, recipient_id, udk: bytes):
        self.recipient_id = recipient_id
        self._account = AccountKeys(recipient_id, udk)
        self._grants: dict | None = None
        self._keys: dict = {}

    def key(self, kind: str, item) -> bytes | None:
        """The key of ``item`` if it was shared with this user as a ``kind``; None otherwise."""
        if self._grants is None:
            from vault.models import Share

            rows = Share.objects.filter(recipient_id=self.recipient_id).values_list(
                "kind", "folder_id", "file_id", "note_id", "key_wrapped"
            )
            self._grants = {(kind_, folder or file or note): wrapped for kind_, folder, file, note, wrapped in rows}
        wrapped = self._grants.get((kind, item.pk))
        if wrapped is None:
            return None
        if (kind, item.pk) not in self._keys:
            aad = aad_share_key(kind, item.pk, item.owner_id, self.recipient_id)
            self._keys[kind, item.pk] = unwrap_with_private_key(wrapped, self._account.private_key(), aad=aad)
        return self._keys[kind, item.pk]


def aad_link_key(kind: str, item_id, owner_id, link_id) -> bytes:
    return context("link-key", kind, item_id, owner_id, link_id)


def link_secret_key(secret: bytes) -> bytes:
    """The key a public link's URL secret gives (HKDF-SHA256: the secret is 256 random bits)."""
    return hkdf(secret, info=b"locker link key v1")


def link_token_hash(secret: bytes) -> str:
    """What the server keeps to find a link: a hash of its secret (which has 256 bits: no stretching needed)."""
    return hashlib.sha256(b"locker link id v1" + secret).hexdigest()


class LinkKeys:
    """The key of the one item a public link opens (the grant of an anonymous visitor with the URL)."""

    def __init__(self, link, secret: bytes):
        self._kind, self._item_id = link.kind, link.item_id
        aad = aad_link_key(link.kind, link.item_id, link.owner_id, link.pk)
        self._key = unwrap_with_key(link.key_wrapped, link_secret_key(secret), aad=aad)

    def key(self, kind: str, item) -> bytes | None:
        return self._key if (kind, item.pk) == (self._kind, self._item_id) else None


def seal_text(key: bytes, text: str, *, aad: bytes) -> str:
    return b64e(aead.seal(key, text.encode(), aad=aad))


def open_text(key: bytes, sealed: str, *, aad: bytes) -> str:
    return aead.open_sealed(key, b64d(sealed), aad=aad).decode()


class VaultKeys:
    """Keys of one user's vault, unwrapped from the UDK as needed."""

    def __init__(self, owner_id, udk: bytes | None, *, received: ReceivedKeys | None = None):
        self.owner_id = owner_id
        self.udk = udk  # None in the keys of another owner's items reached through shares
        self._folder_keys: dict = {None: udk} if udk is not None else {}
        self._file_keys: dict = {}
        self._object_keys: dict = {}
        self._received = received if received is not None or udk is None else ReceivedKeys(owner_id, udk)
        self._owners: dict = {owner_id: self}

    def for_owner(self, owner_id) -> VaultKeys:
        """The keys of ``owner_id``'s items as this user reaches them (itself for the user's own): another
        owner's keys start at the items shared with this user and go down from there, never up."""
        if owner_id not in self._owners:
            other = VaultKeys(owner_id, None, received=self._received)
            other._owners = self._owners
            self._owners[owner_id] = other
        return self._owners[owner_id]

    def detached(self) -> VaultKeys:
        """The same reach in a new object with empty caches, for work that outlives the request (a background job in
        another thread): the UDK of the user who holds these keys (or the link's key), and nothing more."""
        root = next((keys for keys in self._owners.values() if keys.udk is not None), None)
        if root is not None:
            copy = VaultKeys(root.owner_id, root.udk)
        else:
            copy = VaultKeys(self.owner_id, None, received=self._received)
        return copy.for_owner(self.owner_id)

    @classmethod
    def for_link(cls, link, secret: bytes) -> VaultKeys:
        """The keys an anonymous visitor with a link's URL reaches: its item and what lies below it."""
        return cls(link.owner_id, None, received=LinkKeys(link, secret))

    def _granted(self, kind: str, item) -> bytes | None:
        return None if self.udk is not None or self._received is None else self._received.key(kind, item)

    # --- derived keys ---------------------------------------------------------
    @property
    def search(self):
        """Blind-index keys (vault.search.index.SearchKeys), derived on first use; for another owner's items reached
        through a share, a ``DeferredIndex`` that keeps each change for the owner's next search."""
        if getattr(self, "_search", None) is None:
            from vault.search.index import DeferredIndex, SearchKeys

            self._search = SearchKeys(self.udk) if self.udk is not None else DeferredIndex(self.known_key)
        return self._search

    def known_key(self, kind: int, item_id) -> bytes:
        """The key of an item opened or made in this request (``SearchToken.Kind`` codes: 1 file, 2 folder, 3 note)."""
        from vault.models import SearchToken

        if kind == SearchToken.Kind.FOLDER:
            return self._folder_keys[item_id]
        if kind == SearchToken.Kind.FILE:
            return self._file_keys[item_id]
        return self._object_keys["note-key", item_id]

    def content_mac_key(self) -> bytes:
        """Keyed HMAC of plaintext, per user (SECURITY.md property 9: never a plain hash)."""
        return subkey(self.udk, "content-mac")

    def name_mac(self, parent_key: bytes, name: str) -> str:
        return text_mac(subkey(parent_key, "name"), name)

    # --- folders ---------------------------------------------------------------
    def folder_key(self, folder) -> bytes:
        """The key of ``folder`` (None means the top level, whose key is the UDK)."""
        if folder is not None and folder.owner_id != self.owner_id:
            return self.for_owner(folder.owner_id).folder_key(folder)
        folder_id = getattr(folder, "pk", None)
        if folder_id not in self._folder_keys:
            if folder is None:  # another owner's top level: never reachable through a share
                raise NotFound("No such folder.")
            if (granted := self._granted("folder", folder)) is not None:
                self._folder_keys[folder_id] = granted
                return granted
            if folder.parent_id in self._folder_keys:  # no query for a parent we know
                self._folder_keys[folder_id] = unwrap_with_key(
                    folder.key_wrapped,
                    self._folder_keys[folder.parent_id],
                    aad=aad_folder_key(self.owner_id, folder_id),
                )
                return self._folder_keys[folder_id]
            parent_key = self.folder_key(folder.parent if folder.parent_id else None)
            self._folder_keys[folder_id] = unwrap_with_key(
                folder.key_wrapped, parent_key, aad=aad_folder_key(self.owner_id, folder_id)
            )
        return self._folder_keys[folder_id]

    def preload(self, folders) -> None:
        """Know every folder's wrapped key at once, so keys of any depth need no further queries."""
        rows = {folder.pk: folder for folder in folders}

        def key_of(folder_id):
            if folder_id not in self._folder_keys:
                row = rows[folder_id]
                parent_key = key_of(row.parent_id)
                self._folder_keys[folder_id] = unwrap_with_key(
                    row.key_wrapped, parent_key, aad=aad_folder_key(self.owner_id, folder_id)
                )
            return self._folder_keys[folder_id]

        for folder_id in rows:
            key_of(folder_id)

    def remember_folder_key(self, folder_id, key: bytes) -> None:
        self._folder_keys[folder_id] = key

    def wrap_folder_key(self, key: bytes, folder_id, parent_key: bytes) -> str:
        return wrap_with_key(key, parent_key, aad=aad_folder_key(self.owner_id, folder_id))

    def folder_name(self, folder) -> str:
        if folder.owner_id != self.owner_id:
            return self.for_owner(folder.owner_id).folder_name(folder)
        return open_text(
            self.folder_key(folder), folder.name_sealed, aad=context("folder-name", self.owner_id, folder.pk)
        )

    def seal_folder_name(self, key: bytes, folder_id, name: str) -> str:
        return seal_text(key, name, aad=context("folder-name", self.owner_id, folder_id))

    def folder_tags(self, folder) -> list[str]:
        if not folder.tags_sealed:
            return []
        if folder.owner_id != self.owner_id:
            return self.for_owner(folder.owner_id).folder_tags(folder)
        text = open_text(
            self.folder_key(folder), folder.tags_sealed, aad=context("folder-tags", self.owner_id, folder.pk)
        )
        return json.loads(text)

    def seal_folder_tags(self, key: bytes, folder_id, tags: list[str]) -> str:
        return seal_text(key, json.dumps(tags), aad=context("folder-tags", self.owner_id, folder_id)) if tags else ""

    # --- files -------------------------------------------------------------------
    def file_key(self, file, folder_key: bytes | None = None) -> bytes:
        if file.owner_id != self.owner_id:
            return self.for_owner(file.owner_id).file_key(file, folder_key)
        if file.pk not in self._file_keys:
            if (granted := self._granted("file", file)) is not None:
                self._file_keys[file.pk] = granted
                return granted
            if folder_key is not None:
                parent_key = folder_key
            elif file.folder_id in self._folder_keys:  # no query for a folder we know
                parent_key = self._folder_keys[file.folder_id]
            else:
                parent_key = self.folder_key(file.folder)
            self._file_keys[file.pk] = unwrap_with_key(
                file.key_wrapped, parent_key, aad=aad_file_key(self.owner_id, file.pk)
            )
        return self._file_keys[file.pk]

    def child_names(self, parent_key: bytes, kind: str, children) -> list[str | None]:
        """The names of many children of one folder (``kind``: "folder" or "file"), for a listing: ``children``
        are ``(id as text, key_wrapped, name_sealed)``; a name that fails to open is None. The same keys and
        associated data as :meth:`folder_name` and :meth:`file_name`, unwrapped under the parent's key in one
        pass (no key is remembered)."""
        key_head = context(f"{kind}-key", self.owner_id)
        name_head = context(f"{kind}-name", self.owner_id)

        def items():
            for item_id, wrapped, sealed in children:
                tail = item_id.encode()
                tail = len(tail).to_bytes(4, "big") + tail  # context(..., item_id), one part more
                yield wrapped, key_head + tail, sealed, name_head + tail

        return [
            None if name is None else name.decode("utf-8", "replace")
            for name in open_under_wrapped_keys(parent_key, items())
        ]

    def remember_file_key(self, file_id, key: bytes) -> None:
        self._file_keys[file_id] = key

    def wrap_file_key(self, key: bytes, file_id, parent_key: bytes) -> str:
        return wrap_with_key(key, parent_key, aad=aad_file_key(self.owner_id, file_id))

    def file_name(self, file, folder_key: bytes | None = None) -> str:
        if file.owner_id != self.owner_id:
            return self.for_owner(file.owner_id).file_name(file, folder_key)
        return open_text(
            self.file_key(file, folder_key), file.name_sealed, aad=context("file-name", self.owner_id, file.pk)
        )

    def seal_file_name(self, key: bytes, file_id, name: str) -> str:
        return seal_text(key, name, aad=context("file-name", self.owner_id, file_id))

    def file_tags(self, file, folder_key: bytes | None = None) -> list[str]:
        if not file.tags_sealed:
            return []
        if file.owner_id != self.owner_id:
            return self.for_owner(file.owner_id).file_tags(file, folder_key)
        text = open_text(
            self.file_key(file, folder_key), file.tags_sealed, aad=context("file-tags", self.owner_id, file.pk)
        )
        return json.loads(text)

    def seal_file_tags(self, key: bytes, file_id, tags: list[str]) -> str:
        return seal_text(key, json.dumps(tags), aad=context("file-tags", self.owner_id, file_id)) if tags else ""

    # --- versions --------------------------------------------------------------------
    def content_key(self, version, file_key: bytes) -> bytes:
        return unwrap_with_key(version.content_key_wrapped, file_key, aad=aad_content_key(self.owner_id, version.pk))

    def wrap_content_key(self, key: bytes, version_id, file_key: bytes) -> str:
        return wrap_with_key(key, file_key, aad=aad_content_key(self.owner_id, version_id))

    @staticmethod
    def _excerpt_key(content_key: bytes) -> bytes:
        return hkdf(content_key, info=b"locker text excerpt v1")

    def seal_excerpt(self, content_key: bytes, version_id, text: str) -> str:
        """A version's extracted text excerpt (``Derived.text_sealed``), sealed for search snippets."""
        return seal_text(self._excerpt_key(content_key), text, aad=context("text-excerpt", self.owner_id, version_id))

    def open_excerpt(self, content_key: bytes, version_id, sealed: str) -> str:
        return open_text(self._excerpt_key(content_key), sealed, aad=context("text-excerpt", self.owner_id, version_id))

    @staticmethod
    def _words_key(content_key: bytes) -> bytes:
        return hkdf(content_key, info=b"locker content words v1")

    def seal_words(self, content_key: bytes, version_id, words: list[str]) -> str:
        """A version's distinct content words, sorted (``ContentWords.words_sealed``): a share's recipient searches
        them (docs/sharing.md)."""
        text = "\n".join(sorted(set(words)))
        return seal_text(self._words_key(content_key), text, aad=context("content-words", self.owner_id, version_id))

    def open_words(self, content_key: bytes, version_id, sealed: str) -> list[str]:
        """The sorted words :meth:`seal_words` sealed."""
        text = open_text(self._words_key(content_key), sealed, aad=context("content-words", self.owner_id, version_id))
        return text.split("\n") if text else []

    def preview_key(self, derived, file_key: bytes) -> bytes:
        """The content key of a version's thumbnail (``Derived.preview_key_wrapped``)."""
        return unwrap_with_key(
            derived.preview_key_wrapped, file_key, aad=aad_preview_key(self.owner_id, derived.version_id)
        )

    def wrap_preview_key(self, key: bytes, version_id, file_key: bytes) -> str:
        return wrap_with_key(key, file_key, aad=aad_preview_key(self.owner_id, version_id))

    # --- keys of other objects (notes, and the kinds of apps above the vault: chats) ---------------------
    def object_key(self, purpose: str, object_id, wrapped: str, parent_key: bytes | None = None) -> bytes:
        """The key of an object wrapped by ``parent_key`` (default: the UDK) with associated data
        ``(purpose, owner, object)``, unwrapped once per request and remembered."""
        cached = self._object_keys.get((purpose, object_id))
        if cached is None:
            cached = unwrap_with_key(
                wrapped, self.udk if parent_key is None else parent_key, aad=context(purpose, self.owner_id, object_id)
            )
            self._object_keys[purpose, object_id] = cached
        return cached

    def wrap_object_key(self, purpose: str, object_id, key: bytes, parent_key: bytes | None = None) -> str:
        """``key`` wrapped for :meth:`object_key`; remembered for the rest of the request."""
        self._object_keys[purpose, object_id] = key
        return wrap_with_key(
            key, self.udk if parent_key is None else parent_key, aad=context(purpose, self.owner_id, object_id)
        )

    def remember_note_key(self, note_id, key: bytes) -> None:
        self._object_keys["note-key", note_id] = key

    def note_key(self, note) -> bytes:
        """A note's key, wrapped by its folder's key (the UDK at the top level)."""
        if note.owner_id != self.owner_id:
            return self.for_owner(note.owner_id).note_key(note)
        if ("note-key", note.pk) in self._object_keys:
            return self._object_keys["note-key", note.pk]
        if (granted := self._granted("note", note)) is not None:
            self._object_keys["note-key", note.pk] = granted
            return granted
        return self.object_key(
            "note-key", note.pk, note.key_wrapped, self.folder_key(note.folder if note.folder_id else None)
        )

    def wrap_note_key(self, note_id, key: bytes, folder) -> str:
        """A note key wrapped by ``folder``'s key (None: the top level), for a new note, a move or a restore."""
        self._object_keys.pop(("note-key", note_id), None)
        return wrap_with_key(key, self.folder_key(folder), aad=context("note-key", self.owner_id, note_id))

    # --- resumable uploads (vault.transfers.tus) ----------------------------------------------------------------
    # The content key of an upload in progress is wrapped by the uploader's data key; its sealed target (name,
    # folder, tags) and the plaintext after its last whole chunk are sealed under keys derived from it, so an
    # unfinished upload is as closed at rest as a finished file.
    def upload_key(self, upload) -> bytes:
        return self.object_key("upload-key", upload.pk, upload.key_wrapped)

    def wrap_upload_key(self, upload_id, key: bytes) -> str:
        return self.wrap_object_key("upload-key", upload_id, key)

    def seal_upload_part(self, content_key: bytes, upload_id, part: str, data: bytes, *, position: int = 0) -> bytes:
        """``part`` ("meta", "pending") of an upload sealed; ``position``: the offset it was sealed at (a pending
        tail from another offset does not open)."""
        key = hkdf(content_key, info=b"locker upload " + part.encode() + b" v1")
        return aead.seal(key, data, aad=context("upload-" + part, self.owner_id, upload_id, position))

    def open_upload_part(self, content_key: bytes, upload_id, part: str, sealed: bytes, *, position: int = 0) -> bytes:
        key = hkdf(content_key, info=b"locker upload " + part.encode() + b" v1")
        return aead.open_sealed(key, bytes(sealed), aad=context("upload-" + part, self.owner_id, upload_id, position))

    @staticmethod
    def new_key() -> bytes:
        return new_key()
