from django.urls import path

from vault import apis

urlpatterns = [
    path("folders/", apis.FolderListCreateApi.as_view(), name="api-folders"),
    path("folders/<uuid:pk>/", apis.FolderDetailApi.as_view(), name="api-folder"),
    path("files/", apis.FileListCreateApi.as_view(), name="api-files"),
    path("files/<uuid:pk>/", apis.FileDetailApi.as_view(), name="api-file"),
    path("files/<uuid:pk>/content", apis.FileContentApi.as_view(), name="api-file-content"),
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
    path("search", apis.SearchApi.as_view(), name="api-search"),
    path("trash/", apis.TrashListApi.as_view(), name="api-trash"),
    path("trash/<uuid:pk>/restore", apis.TrashRestoreApi.as_view(), name="api-trash-restore"),
    path("trash/<uuid:pk>/", apis.TrashPurgeApi.as_view(), name="api-trash-purge"),
]
