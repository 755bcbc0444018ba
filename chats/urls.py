from django.urls import path

from chats import views

urlpatterns = [
    path("chats/", views.chat_view, name="chats"),
    path("chats/<uuid:chat_id>/", views.chat_view, name="chat"),
]
