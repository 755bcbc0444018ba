from django.urls import path

from vault import views

urlpatterns = [
    path("files/", views.browser_view, name="files"),
    path("files/<uuid:folder_id>/", views.browser_view, name="files-folder"),
    path("trash/", views.trash_view, name="trash"),
    path("search/", views.search_view, name="search"),
    path("notes/", views.notes_view, name="notes"),
    path("notes/new/", views.note_view, name="note-new"),
    path("notes/<uuid:note_id>/", views.note_view, name="note"),
]
