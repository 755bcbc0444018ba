"""Small query helpers shared by the apps."""

from __future__ import annotations

from django.db.models import Model, QuerySet


def one_or_none(queryset: QuerySet) -> Model | None:
    """The row a unique lookup (a primary key, a unique pair) finds, or None.

    Like ``.first()`` without its ``ORDER BY`` (the model's default ordering, or the primary key):
    one row cannot need sorting, and compiling the ordering was a visible part of every request.
    """
    return next(iter(queryset.order_by()[:1]), None)
