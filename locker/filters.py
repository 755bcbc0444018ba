"""django-filter pieces shared by the apps."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time that exists in UTC, where the database compares it.

    ``0001-01-01T00:00+14:00`` parses, but is before year 1 in UTC: the query would fail with OverflowError.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                raise ValidationError(
                    "Enter a date and time between the years 1 and 9999 (UTC).", code="invalid"
                ) from None
        return value


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


MAX_BIGINT = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_BIGINT})
class SizeFilter(django_filters.NumberFilter):
    """A size in bytes: a whole number from 0 (to what the database stores), as the schema says."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=0, max_value=MAX_BIGINT, **kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses a typed parameter given empty (``?min_size=``, ``?created_after=``).

    django-filter reads an empty value as "no filter"; the schema says a number, a date-time or one of the
    choices, and an empty value is none of these. Text filters take an empty value (no filter), as their schema
    allows.
    """

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if not isinstance(filter_, django_filters.CharFilter) and self.data.get(name) == "":
                if name not in self.form.errors:
                    self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid
