from django.urls import path

from activity import apis

urlpatterns = [
    path("activity/", apis.ActivityListApi.as_view(), name="api-activity"),
]
