"""Who may do what to a vault item: the one place that answers it.

Services and selectors find folders and files only through :func:`items` (and check a loaded item with
:func:`may`), so an item the acting user may not touch is simply not found (404, never 403). Today only an
item's owner may do anything with it; sharing adds grants here (view, edit, delete) and every lookup follows.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    DELETE = "delete"


def items(user, model: type[models.Model], action: Action = Action.VIEW) -> models.QuerySet:
    """The rows of ``model`` that ``user`` may ``action``."""
    return model.objects.filter(owner=user)


def may(user, item, action: Action = Action.VIEW) -> bool:
    """Whether ``user`` may ``action`` this loaded item."""
    return item.owner_id == getattr(user, "pk", None)
