from django.urls import path

from chats import compat

urlpatterns = [
    path("auth/login", compat.LoginAlias.as_view(), name="compat-login"),
    path("upload/files", compat.UploadFilesAlias.as_view(), name="compat-upload-files"),
    path("messages", compat.MessagesAlias.as_view(), name="compat-messages"),
    path("upload/audio", compat.UploadAudioAlias.as_view(), name="compat-upload-audio"),
    path("user/data", compat.UserDataAlias.as_view(), name="compat-user-data"),
]
