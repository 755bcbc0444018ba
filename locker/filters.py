"""django-filter pieces shared by the apps."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


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
