from django.urls import path

from activity import apis

urlpatterns = [
    path("activity/", apis.ActivityListApi.as_view(), name="api-activity"),
    path("notifications/", apis.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/stream", apis.NotificationStreamApi.as_view(), name="api-notifications-stream"),
    path("notifications/read", apis.NotificationReadAllApi.as_view(), name="api-notifications-read"),
    path("notifications/<int:pk>/read", apis.NotificationReadApi.as_view(), name="api-notification-read"),
]
