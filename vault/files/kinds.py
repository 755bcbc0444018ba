"""Files and folders as kinds of the vault's registry (``vault.kinds``): how a search result shows them and where
it opens, and how their index is rebuilt. A file's content words are read again (decrypted and extracted)
before each file's short transaction, never inside it."""

from __future__ import annotations

import logging

from django.urls import reverse

from locker.errors import NotFound
from vault import kinds
from vault.derived.derive import current_content_text, excerpt_read, excerpt_store, words_read
from vault.files.services import index_file, index_folder
from vault.models import File, Folder, SearchToken
from vault.notes.markdown import plain_text
from vault.search.snippets import window
from vault.transfers.integrity import CRYPTO_FAILURES

logger = logging.getLogger(__name__)

SHARED_WITH_ME = "Shared with me"


def _files_url(folder_id) -> str:
    return reverse("files-folder", args=[folder_id]) if folder_id else reverse("files")


def place_of(keys, item, folder: Folder | None) -> tuple[str | None, str]:
    """``(name, url)`` of the folder an item is in, as the reader sees it: the folder's name (None at the top of
    their own files), or, for an item shared with them on its own (its folder is not theirs to open), "Shared with
    me". Inside a shared folder the names are the owner's, the shared folder's own name is the share's."""
    if folder is None:
        return (None, _files_url(None)) if item.owner_id == keys.owner_id else (SHARED_WITH_ME, _files_url(None))
    try:
        return keys.folder_name(folder), _files_url(folder.pk)
    except NotFound:
        return SHARED_WITH_ME, _files_url(None)


def content_snippet(keys, file: File, words) -> str | None:
    """Words around the first match in the file's extracted text (its sealed excerpt), or None when the excerpt
    has no matching word (the file matched by its name or tags) or there is none."""
    if not words:
        return None
    try:
        text = excerpt_read(keys=keys, file=file)
    except CRYPTO_FAILURES:
        logger.warning("The text excerpt of file %s failed to open", file.pk)
        return None
    if not text:
        return None
    if file.mime_type in ("text/markdown", "text/x-markdown"):
        text = plain_text(text)
    return window(text, words, only_if_found=True)


def describe_file(keys, file: File, words) -> kinds.SearchView:
    parent_name, parent_url = place_of(keys, file, file.folder if file.folder_id else None)
    return kinds.SearchView(
        name=keys.file_name(file),
        parent=str(file.folder_id) if file.folder_id else None,
        tags=keys.file_tags(file),
        url=f"{_files_url(file.folder_id)}?preview={file.pk}",
        snippet=content_snippet(keys, file, words),
        parent_name=parent_name,
        parent_url=parent_url,
    )


def describe_folder(keys, folder: Folder, _words) -> kinds.SearchView:
    parent_name, parent_url = place_of(keys, folder, folder.parent if folder.parent_id else None)
    return kinds.SearchView(
        name=keys.folder_name(folder),
        parent=str(folder.parent_id) if folder.parent_id else None,
        tags=keys.folder_tags(folder),
        url=_files_url(folder.pk),
        parent_name=parent_name,
        parent_url=parent_url,
    )


def reindex_folders(user, keys, step) -> int:
    folders = list(Folder.objects.filter(owner=user))
    keys.preload(folders)
    return kinds.reindex_rows(
        folders,
        step,
        read=lambda folder: (keys.folder_name(folder), keys.folder_tags(folder)),
        write=lambda folder, named: index_folder(user, keys, folder.pk, *named),
    )


def reindex_files(user, keys, step) -> int:
    keys.preload(Folder.objects.filter(owner=user))
    files = File.objects.filter(owner=user).only(
        "id", "owner_id", "folder_id", "key_wrapped", "name_sealed", "tags_sealed"
    )
    return kinds.reindex_rows(
        files,
        step,
        # the content words are decrypted and extracted again here, before the item's transaction; a version
        # stored before text excerpts were kept gets its sealed excerpt now
        read=lambda file: (
            keys.file_name(file),
            keys.file_tags(file),
            current_content_text(keys=keys, file_id=file.pk),
        ),
        write=lambda file, read: (
            index_file(user, keys, file.pk, read[0], read[1], content=read[2].words),
            excerpt_store(read[2]),
        ),
    )


def register() -> None:
    kinds.register(
        kinds.ItemKind(
            name="file",
            code=SearchToken.Kind.FILE,
            model=File,
            describe=describe_file,
            reindex=reindex_files,
            select_related=("folder", "current_version__derived"),
            scan_defer=("current_version__derived__text_sealed",),
            texts=lambda keys, file: [keys.file_name(file), *keys.file_tags(file)],
            content_words=lambda keys, files: words_read(keys=keys, files=files),
        )
    )
    kinds.register(
        kinds.ItemKind(
            name="folder",
            code=SearchToken.Kind.FOLDER,
            model=Folder,
            describe=describe_folder,
            reindex=reindex_folders,
            folder_field="parent_id",
            select_related=("parent",),
            texts=lambda keys, folder: [keys.folder_name(folder), *keys.folder_tags(folder)],
        )
    )
