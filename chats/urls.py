from django.urls import path

from chats import views

urlpatterns = [
    path("chats/", views.chat_view, name="chats"),
    path("chats/assistant/", views.assistant_view, name="chat-assistant"),
    path("chats/assistant/examples/assistant_echo.py", views.assistant_example_view, name="chat-assistant-example"),
    path("chats/<uuid:chat_id>/", views.chat_view, name="chat"),
]
