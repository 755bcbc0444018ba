"""``GET /api/v1/activity/``: my events, filterable; admins may pass ``?user=`` or ``?all=1``."""

import csv
import json
from collections.abc import Iterator

import django_filters
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from activity import naming, notifications, words
from activity.models import Event, Notification
from activity.selectors import event_list
from activity.services import export_record
from locker.filters import StrictFilterSet, UtcIsoDateTimeFilter
from locker.http import RequestMeta
from locker.params import flag, flag_param, uuid_param, uuid_value
from locker.serializers import ErrorSerializer

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404)}


class EventSerializer(serializers.ModelSerializer):
    object_name = serializers.SerializerMethodField(
        help_text="The item's name, opened for the reader (never stored); null when they cannot open it."
    )
    summary = serializers.SerializerMethodField(
        help_text="The event in one sentence from the reader's point of view, with the names they can open "
        '("You uploaded invoice.pdf to Documents"; "a file" for an item they cannot open). `action` keeps the code.'
    )

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
            "object_name",
            "summary",
            "data",
        ]
        read_only_fields = fields

    def get_object_name(self, event) -> str | None:
        return self.context.get("names", {}).get((event.object_type, event.object_id))

    def get_summary(self, event) -> str:
        request = self.context.get("request")
        names = self.context.get("names", {})
        return words.event_summary(event, reader=getattr(request, "user", None), names=names)


class EventFilter(StrictFilterSet):
    type = django_filters.CharFilter(field_name="action", help_text="Exact action, e.g. auth.login")
    outcome = django_filters.ChoiceFilter(choices=Event.Outcome.choices)
    after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    object = django_filters.UUIDFilter(field_name="object_id", help_text="Only the events about this item (its id).")

    class Meta:
        model = Event
        fields = ["type", "outcome", "after", "before", "object"]


CSV_COLUMNS = ["id", "created_at", "user", "action", "outcome", "ip", "user_agent", "object_type", "object_id", "data"]


class CSVRenderer(renderers.BaseRenderer):
    """``?format=csv``: the whole filtered log as CSV, streamed (an error is its JSON body)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()


class _Line:
    """A file-like sink for csv.writer that hands back each line."""

    def write(self, text):
        return text


def csv_lines(events) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=1000):
        row = [getattr(event, "user_id" if column == "user" else column) for column in CSV_COLUMNS]
        row[CSV_COLUMNS.index("data")] = json.dumps(event.data, sort_keys=True)
        # a value starting with = + - @ would be a formula to a spreadsheet: quote it as text
        yield writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in map(_text, row)])


def _text(value) -> str:
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


class ActivityListApi(ListAPIView):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        user_id = uuid_value(self.request, "user", message="Must be a valid UUID.")
        return event_list(actor=self.request.user, user_id=user_id, every=flag(self.request, "all"))

    def list(self, request, *args, **kwargs):
        # the user rows come along: an admin reading others' events reads their usernames in the sentences
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).select_related("user"))
        context = {**self.get_serializer_context(), "names": naming.names_for(request, page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(
        parameters=[
            uuid_param("user", "Admins only: another user's id (404 for other users, as for any object not theirs)."),
            flag_param("all", "Admins only: 1 for every user's events (404 for other users)."),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: every matching event, streamed."),
        ],
        responses={(200, "application/json"): EventSerializer(many=True), (200, "text/csv"): OpenApiTypes.STR},
        tags=["activity"],
        description="My events, newest first. Each has `summary`, the event in one sentence from the reader's point "
        'of view with the names they can open ("You uploaded invoice.pdf to Documents"); `action` keeps its code.',
    )
    def get(self, request, *args, **kwargs):
        if request.accepted_renderer.format != "csv":
            return super().get(request, *args, **kwargs)
        events = self.filter_queryset(self.get_queryset()).order_by("created_at", "id")
        filters = {k: v for k, v in request.query_params.items() if k != "format"}
        export_record(
            user=request.user, what="activity", meta=RequestMeta.from_request(request), data={"filters": filters}
        )
        response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="activity.csv"'
        return response


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField(
        help_text='The notification in one sentence, with the names the reader can open ("alice shared Holidays '
        'with you"; "a folder" for an item they cannot open). `kind` keeps the code.'
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "object_type", "object_id", "data", "created_at", "read", "summary"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None

    def get_summary(self, notification) -> str:
        summary = self.context.get("summaries", {}).get(notification.pk)
        return summary if summary is not None else words.notification_summary(notification)


class NotificationListApi(ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notifications.notification_list(user=self.request.user, unread=flag(self.request, "unread"))

    @extend_schema(
        parameters=[flag_param("unread", "1: only the notifications not read yet.")],
        tags=["activity"],
        description="My notifications, newest first. Ids only grow: a client resumes after the last one it saw. "
        "Each has `summary`, the sentence to show (with the names I can open); `kind` keeps its code.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "summaries": words.notification_summaries(request, page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)


class NotificationReadApi(APIView):
    @extend_schema(
        request=None,
        responses={200: NotificationSerializer, **ERRORS},
        tags=["activity"],
        operation_id="v1_notifications_read_one",
    )
    def post(self, request, pk):
        """Mark one notification read."""
        found = notifications.notification_read(user=request.user, notification_id=pk)
        context = {"request": request, "summaries": words.notification_summaries(request, [found])}
        return Response(NotificationSerializer(found, context=context).data)


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
