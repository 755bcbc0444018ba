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
* name MACs (uniqueness within a folder) are keyed by the *parent's* key, so a later
  share of a folder carries everything needed to keep names unique in it.
"""

from __future__ import annotations

import json

from locker.crypto import aead
from locker.crypto.aead import context
from locker.crypto.blind import subkey, text_mac
from locker.crypto.keys import b64d, b64e, new_key, unwrap_with_key, wrap_with_key


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


def seal_text(key: bytes, text: str, *, aad: bytes) -> str:
    return b64e(aead.seal(key, text.encode(), aad=aad))


def open_text(key: bytes, sealed: str, *, aad: bytes) -> str:
    return aead.open_sealed(key, b64d(sealed), aad=aad).decode()


class VaultKeys:
    """Keys of one user's vault, unwrapped from the UDK as needed."""

    def __init__(self, owner_id, udk: bytes):
        self.owner_id = owner_id
        self.udk = udk
        self._folder_keys: dict = {None: udk}
        self._file_keys: dict = {}
        self._object_keys: dict = {}

    # --- derived keys ---------------------------------------------------------
    @property
    def search(self):
        """Blind-index keys (vault.search.index.SearchKeys), derived on first use."""
        if getattr(self, "_search", None) is None:
            from vault.search.index import SearchKeys

            self._search = SearchKeys(self.udk)
        return self._search

    def content_mac_key(self) -> bytes:
        """Keyed HMAC of plaintext, per user (SECURITY.md property 9: never a plain hash)."""
        return subkey(self.udk, "content-mac")

    def name_mac(self, parent_key: bytes, name: str) -> str:
        return text_mac(subkey(parent_key, "name"), name)

    # --- folders ---------------------------------------------------------------
    def folder_key(self, folder) -> bytes:
        """The key of ``folder`` (None means the top level, whose key is the UDK)."""
        folder_id = getattr(folder, "pk", None)
        if folder_id not in self._folder_keys:
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
        return open_text(
            self.folder_key(folder), folder.name_sealed, aad=context("folder-name", self.owner_id, folder.pk)
        )

    def seal_folder_name(self, key: bytes, folder_id, name: str) -> str:
        return seal_text(key, name, aad=context("folder-name", self.owner_id, folder_id))

    def folder_tags(self, folder) -> list[str]:
        if not folder.tags_sealed:
            return []
        text = open_text(
            self.folder_key(folder), folder.tags_sealed, aad=context("folder-tags", self.owner_id, folder.pk)
        )
        return json.loads(text)

    def seal_folder_tags(self, key: bytes, folder_id, tags: list[str]) -> str:
        return seal_text(key, json.dumps(tags), aad=context("folder-tags", self.owner_id, folder_id)) if tags else ""

    # --- files -------------------------------------------------------------------
    def file_key(self, file, folder_key: bytes | None = None) -> bytes:
        if file.pk not in self._file_keys:
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

    def remember_file_key(self, file_id, key: bytes) -> None:
        self._file_keys[file_id] = key

    def wrap_file_key(self, key: bytes, file_id, parent_key: bytes) -> str:
        return wrap_with_key(key, parent_key, aad=aad_file_key(self.owner_id, file_id))

    def file_name(self, file, folder_key: bytes | None = None) -> str:
        return open_text(
            self.file_key(file, folder_key), file.name_sealed, aad=context("file-name", self.owner_id, file.pk)
        )

    def seal_file_name(self, key: bytes, file_id, name: str) -> str:
        return seal_text(key, name, aad=context("file-name", self.owner_id, file_id))

    def file_tags(self, file, folder_key: bytes | None = None) -> list[str]:
        if not file.tags_sealed:
            return []
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

    def note_key(self, note) -> bytes:
        """A note's key, wrapped by its folder's key (the UDK at the top level)."""
        return self.object_key(
            "note-key", note.pk, note.key_wrapped, self.folder_key(note.folder if note.folder_id else None)
        )

    def wrap_note_key(self, note_id, key: bytes, folder) -> str:
        """A note key wrapped by ``folder``'s key (None: the top level), for a new note, a move or a restore."""
        self._object_keys.pop(("note-key", note_id), None)
        return wrap_with_key(key, self.folder_key(folder), aad=context("note-key", self.owner_id, note_id))

    @staticmethod
    def new_key() -> bytes:
        return new_key()
