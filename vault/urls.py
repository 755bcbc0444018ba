from django.urls import path

from vault import views
from vault.sharing import views as link_views

urlpatterns = [
    path("files/", views.browser_view, name="files"),
    path("files/<uuid:folder_id>/", views.browser_view, name="files-folder"),
    path("files/recent/", views.browser_view, {"place": "recent"}, name="files-recent"),
    path("files/starred/", views.browser_view, {"place": "starred"}, name="files-starred"),
    path("trash/", views.trash_view, name="trash"),
    path("settings/text-recognition", views.text_recognition_settings_view, name="settings-text-recognition"),
    path("search/", views.search_view, name="search"),
    path("notes/", views.notes_view, name="notes"),
    path("notes/new/", views.note_view, name="note-new"),
    path("notes/<uuid:note_id>/", views.note_view, name="note"),
    path("s/<str:token>", link_views.link_page, name="link"),
    path("s/<str:token>/files/<uuid:file_id>", link_views.link_download, name="link-download"),
    path("s/<str:token>/zip", link_views.link_zip, name="link-zip"),
    path("s/<str:token>/files/<uuid:file_id>/preview", link_views.link_preview, name="link-preview"),
]
