from django.urls import path

from chats import apis

urlpatterns = [
    path("chats/", apis.ChatListCreateApi.as_view(), name="api-chats"),
    path("chats/attachments-folder/", apis.AttachmentsFolderApi.as_view(), name="api-chat-attachments-folder"),
    path("chats/<uuid:pk>/", apis.ChatDetailApi.as_view(), name="api-chat"),
    path("chats/<uuid:pk>/messages/", apis.MessageListCreateApi.as_view(), name="api-chat-messages"),
    path("messages/<uuid:pk>/", apis.MessageDetailApi.as_view(), name="api-message"),
]
