"""Query parameters: how a view reads one, and how the OpenAPI schema states it, side by side.

Each ``*_param`` function gives the schema of a parameter (an :class:`OpenApiParameter`), and the function of the
same kind reads it from a request, refusing with 400 ``validation_error`` what that schema forbids. A parameter
left out takes its default; one given empty (``?parent=``) is a value like any other, and is refused where the
schema wants a UUID, a date-time or a flag.
"""

from __future__ import annotations

import re
import uuid

from drf_spectacular.utils import OpenApiParameter

from locker.errors import InvalidInput
from locker.serializers import UUID_RE
from locker.textrules import schema_pattern

FLAGS = {"1": True, "true": True, "0": False, "false": False}


def flag_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "enum": list(FLAGS)}, description=description)


def flag(request, name: str) -> bool:
    """A yes/no parameter: 1 or true, 0 or false; absent is no."""
    value = getattr(request, "query_params", request.GET).get(name)  # DRF or a plain Django request
    if value is None:
        return False
    if value not in FLAGS:
        raise InvalidInput(errors={name: ["Use 1 (or true) or 0 (or false)."]})
    return FLAGS[value]


def uuid_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "format": "uuid"}, description=description)


def uuid_value(request, name: str, *, message: str = "Must be an id (a UUID).") -> uuid.UUID | None:
    """A UUID parameter; None when absent."""
    value = getattr(request, "query_params", request.GET).get(name)  # DRF or a plain Django request
    if value is None:
        return None
    if not UUID_RE.fullmatch(value):
        raise InvalidInput(errors={name: [message]})
    return uuid.UUID(value)


def pattern_param(name: str, pattern: str, description: str, *, required: bool = False, max_length=None):
    schema = {"type": "string", "pattern": schema_pattern(pattern)}
    if max_length is not None:
        schema["maxLength"] = max_length
    return OpenApiParameter(name, schema, required=required, description=description)


def matching(request, name: str, pattern: str, message: str, *, max_length=None, default=None) -> str | None:
    """A text parameter that must match ``pattern`` (searched, as JSON Schema does) and fit ``max_length``."""
    value = getattr(request, "query_params", request.GET).get(name)  # DRF or a plain Django request
    if value is None:
        return default
    if not re.search(pattern, value) or (max_length is not None and len(value) > max_length):
        raise InvalidInput(errors={name: [message]})
    return value
