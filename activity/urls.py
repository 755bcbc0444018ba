from django.urls import path

from activity import views

urlpatterns = [
    path("notifications", views.notifications_view, name="notifications"),
    path("activity", views.activity_view, name="activity"),
]
