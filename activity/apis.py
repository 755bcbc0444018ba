"""``GET /api/v1/activity/``: my events, filterable; admins may pass ``?user=``."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from activity import notifications
from activity.models import Event, Notification
from activity.selectors import event_list
from locker.filters import StrictFilterSet, UtcIsoDateTimeFilter
from locker.params import flag, flag_param, uuid_param, uuid_value
from locker.serializers import ErrorSerializer

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404)}


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "id",
            "created_at",
            "user",
            "action",
            "outcome",
            "ip",
            "user_agent",
            "object_type",
            "object_id",
            "data",
        ]
        read_only_fields = fields


class EventFilter(StrictFilterSet):
    type = django_filters.CharFilter(field_name="action", help_text="Exact action, e.g. auth.login")
    outcome = django_filters.ChoiceFilter(choices=Event.Outcome.choices)
    after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["type", "outcome", "after", "before"]


class ActivityListApi(ListAPIView):
    serializer_class = EventSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        user_id = uuid_value(self.request, "user", message="Must be a valid UUID.")
        return event_list(actor=self.request.user, user_id=user_id)

    @extend_schema(
        parameters=[
            uuid_param("user", "Admins only: another user's id (404 for other users, as for any object not theirs).")
        ],
        tags=["activity"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "object_type", "object_id", "data", "created_at", "read"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationListApi(ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notifications.notification_list(user=self.request.user, unread=flag(self.request, "unread"))

    @extend_schema(
        parameters=[flag_param("unread", "1: only the notifications not read yet.")],
        tags=["activity"],
        description="My notifications, newest first. Ids only grow: a client resumes after the last one it saw.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadApi(APIView):
    @extend_schema(
        request=None,
        responses={200: NotificationSerializer, **ERRORS},
        tags=["activity"],
        operation_id="v1_notifications_read_one",
    )
    def post(self, request, pk):
        """Mark one notification read."""
        return Response(
            NotificationSerializer(notifications.notification_read(user=request.user, notification_id=pk)).data
        )


class NotificationReadAllApi(APIView):
    @extend_schema(
        request=None,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        tags=["activity"],
        description="Mark all read.",
        operation_id="v1_notifications_read_all",
    )
    def post(self, request):
        return Response({"updated": notifications.notifications_read_all(user=request.user)})
