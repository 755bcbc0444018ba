"""Files and folders as kinds of the vault's registry (``vault.kinds``): how a search result shows them and where
it opens, and how their index is rebuilt. A file's content words are read again (decrypted and extracted)
before each file's short transaction, never inside it."""

from __future__ import annotations

from django.urls import reverse

from vault import kinds
from vault.derived.derive import current_content_words
from vault.files.services import index_file, index_folder
from vault.models import File, Folder, SearchToken


def _files_url(folder_id) -> str:
    return reverse("files-folder", args=[folder_id]) if folder_id else reverse("files")


def describe_file(keys, file: File, _words) -> kinds.SearchView:
    return kinds.SearchView(
        name=keys.file_name(file),
        parent=str(file.folder_id) if file.folder_id else None,
        tags=keys.file_tags(file),
        url=f"{_files_url(file.folder_id)}?preview={file.pk}",
    )


def describe_folder(keys, folder: Folder, _words) -> kinds.SearchView:
    return kinds.SearchView(
        name=keys.folder_name(folder),
        parent=str(folder.parent_id) if folder.parent_id else None,
        tags=keys.folder_tags(folder),
        url=_files_url(folder.pk),
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
        # the content words are decrypted and extracted again here, before the item's transaction
        read=lambda file: (
            keys.file_name(file),
            keys.file_tags(file),
            current_content_words(keys=keys, file_id=file.pk),
        ),
        write=lambda file, read: index_file(user, keys, file.pk, read[0], read[1], content=read[2]),
    )


def register() -> None:
    kinds.register(
        kinds.ItemKind(
            name="file", code=SearchToken.Kind.FILE, model=File, describe=describe_file, reindex=reindex_files
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
        )
    )
