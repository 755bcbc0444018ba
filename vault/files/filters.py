"""Filters of file and search listings (django-filter): MIME, dates, sizes. Names and tags are handled by
selectors (they are encrypted), see ``vault.files.selectors``."""

import django_filters
from django.db.models import Q

from locker.filters import SizeFilter, StrictFilterSet, UtcIsoDateTimeFilter
from vault.models import File

TEXT_TYPES = ["application/json", "application/xml"]
MIME_GROUPS = {
    "image": Q(mime_type__startswith="image/"),
    "audio": Q(mime_type__startswith="audio/"),
    "video": Q(mime_type__startswith="video/"),
    "pdf": Q(mime_type="application/pdf"),
    "text": Q(mime_type__startswith="text/") | Q(mime_type__in=TEXT_TYPES),
}
MIME_GROUPS["other"] = ~(
    MIME_GROUPS["image"] | MIME_GROUPS["audio"] | MIME_GROUPS["video"] | MIME_GROUPS["pdf"] | MIME_GROUPS["text"]
)


def mime_group_of(mime_type: str) -> str:
    for group in ("image", "audio", "video"):
        if mime_type.startswith(f"{group}/"):
            return group
    if mime_type == "application/pdf":
        return "pdf"
    if mime_type.startswith("text/") or mime_type in TEXT_TYPES:
        return "text"
    return "other"


class FileFilter(StrictFilterSet):
    mime = django_filters.CharFilter(field_name="mime_type", help_text="Exact MIME type, e.g. image/png.")
    mime_group = django_filters.ChoiceFilter(
        choices=[(g, g) for g in MIME_GROUPS],
        method="filter_mime_group",
        help_text="image, audio, video, pdf, text or other.",
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    modified_after = UtcIsoDateTimeFilter(field_name="modified_at", lookup_expr="gte")
    modified_before = UtcIsoDateTimeFilter(field_name="modified_at", lookup_expr="lt")
    min_size = SizeFilter(field_name="size", lookup_expr="gte")
    max_size = SizeFilter(field_name="size", lookup_expr="lte")

    class Meta:
        model = File
        fields = [
            "mime",
            "mime_group",
            "created_after",
            "created_before",
            "modified_after",
            "modified_before",
            "min_size",
            "max_size",
        ]

    def filter_mime_group(self, queryset, name, value):
        return queryset.filter(MIME_GROUPS[value])
