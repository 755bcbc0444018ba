"""``GET /api/v1/activity/``: my events, filterable; admins may pass ``?user=``."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from activity.models import Event
from activity.selectors import event_list
from locker.filters import StrictFilterSet, UtcIsoDateTimeFilter
from locker.params import uuid_param, uuid_value


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
