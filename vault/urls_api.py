from django.urls import path

from vault.changes import apis as changes_apis
from vault.derived import apis as derived_apis
from vault.export import apis as export_apis
from vault.files import apis, browse_apis
from vault.notes import apis as notes_apis
from vault.search import apis as search_apis
from vault.sharing import apis as sharing_apis
from vault.transfers.tus import apis as tus_apis
from vault.trash import apis as trash_apis

urlpatterns = [
    path("folders/", apis.FolderListCreateApi.as_view(), name="api-folders"),
    path("folders/<uuid:pk>/", apis.FolderDetailApi.as_view(), name="api-folder"),
    path("folders/<uuid:pk>/star", browse_apis.FolderStarApi.as_view(), name="api-folder-star"),
    path("folders/<uuid:pk>/archive", browse_apis.FolderArchiveApi.as_view(), name="api-folder-archive"),
    path("files/<uuid:pk>/star", browse_apis.FileStarApi.as_view(), name="api-file-star"),
    path("starred/", browse_apis.StarredListApi.as_view(), name="api-starred"),
    path("recent/", browse_apis.RecentListApi.as_view(), name="api-recent"),
    path("archive", browse_apis.ArchiveApi.as_view(), name="api-archive"),
    path("me/storage", browse_apis.StorageApi.as_view(), name="api-me-storage"),
    path("me/text-recognition", derived_apis.TextRecognitionApi.as_view(), name="api-me-text-recognition"),
    path("changes", changes_apis.ChangeFeedApi.as_view(), name="api-changes"),
    path("uploads/", tus_apis.UploadCreateApi.as_view(), name="api-uploads"),
    path("uploads/<uuid:pk>", tus_apis.UploadApi.as_view(), name="api-upload"),
    path("files/", apis.FileListCreateApi.as_view(), name="api-files"),
    path("files/<uuid:pk>/", apis.FileDetailApi.as_view(), name="api-file"),
    path("files/<uuid:pk>/content", apis.FileContentApi.as_view(), name="api-file-content"),
    path("files/<uuid:pk>/preview", apis.FilePreviewApi.as_view(), name="api-file-preview"),
    path("files/<uuid:pk>/versions/", apis.VersionListApi.as_view(), name="api-file-versions"),
    path(
        "files/<uuid:pk>/versions/<int:number>/content",
        apis.VersionContentApi.as_view(),
        name="api-file-version-content",
    ),
    path(
        "files/<uuid:pk>/versions/<int:number>/restore",
        apis.VersionRestoreApi.as_view(),
        name="api-file-version-restore",
    ),
    path("me/data", export_apis.MyDataApi.as_view(), name="api-me-data"),
    path("me/export", export_apis.MyExportApi.as_view(), name="api-me-export"),
    path("me/import", export_apis.MyImportApi.as_view(), name="api-me-import"),
    path("me/exports/", export_apis.MyExportJobListApi.as_view(), name="api-me-exports"),
    path("me/exports/<uuid:pk>/", export_apis.MyExportJobApi.as_view(), name="api-me-export-job"),
    path("me/exports/<uuid:pk>/content", export_apis.MyExportJobContentApi.as_view(), name="api-me-export-content"),
    path("search", search_apis.SearchApi.as_view(), name="api-search"),
    path("search/reindex", search_apis.ReindexApi.as_view(), name="api-search-reindex"),
    path("tags/", search_apis.TagListApi.as_view(), name="api-tags"),
    path("notes/", notes_apis.NoteListCreateApi.as_view(), name="api-notes"),
    path("notes/<uuid:pk>/", notes_apis.NoteDetailApi.as_view(), name="api-note"),
    path("notes/<uuid:pk>/versions/", notes_apis.NoteVersionListApi.as_view(), name="api-note-versions"),
    path("notes/<uuid:pk>/versions/<int:number>/", notes_apis.NoteVersionDetailApi.as_view(), name="api-note-version"),
    path(
        "notes/<uuid:pk>/versions/<int:number>/restore",
        notes_apis.NoteVersionRestoreApi.as_view(),
        name="api-note-version-restore",
    ),
    path("shares/", sharing_apis.ShareListCreateApi.as_view(), name="api-shares"),
    path("shares/<uuid:pk>/", sharing_apis.ShareDetailApi.as_view(), name="api-share"),
    path("links/", sharing_apis.LinkListCreateApi.as_view(), name="api-links"),
    path("links/<uuid:pk>/", sharing_apis.LinkDetailApi.as_view(), name="api-link"),
    path("shared-with-me/", sharing_apis.SharedWithMeApi.as_view(), name="api-shared-with-me"),
    path("trash/", trash_apis.TrashListApi.as_view(), name="api-trash"),
    path("trash/<uuid:pk>/restore", trash_apis.TrashRestoreApi.as_view(), name="api-trash-restore"),
    path("trash/<uuid:pk>/", trash_apis.TrashPurgeApi.as_view(), name="api-trash-purge"),
]
