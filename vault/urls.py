from django.urls import path

from vault import views

urlpatterns = [
    path("files/", views.browser_view, name="files"),
    path("files/<uuid:folder_id>/", views.browser_view, name="files-folder"),
    path("trash/", views.trash_view, name="trash"),
]
