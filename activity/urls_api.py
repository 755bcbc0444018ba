from django.urls import path

from activity import apis
from activity.live import apis as live

urlpatterns = [
    path("activity/", apis.ActivityListApi.as_view(), name="api-activity"),
    path("notifications/", apis.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/stream", live.NotificationStreamApi.as_view(), name="api-notifications-stream"),
    path("notifications/ws", live.NotificationSocketApi.as_view(), name="api-notifications-ws"),
    path("notifications/read", apis.NotificationReadAllApi.as_view(), name="api-notifications-read"),
    path("notifications/<int:pk>/read", apis.NotificationReadApi.as_view(), name="api-notification-read"),
]
