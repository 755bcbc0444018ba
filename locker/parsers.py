"""A JSON parser that refuses oversize bodies with 413 before reading them whole, and too-deep ones or ones that
are not an object with 400."""

import io

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser

from .errors import BodyTooLarge
from .http import whole_number
from .middleware import is_utf8_form


class LimitedJSONParser(JSONParser):
    @property
    def limit(self) -> int:
        return settings.LOCKER_MAX_JSON_BODY

    def parse(self, stream, media_type=None, parser_context=None):
        limit = self.limit
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if (whole_number(declared) or 0) > limit:
            raise BodyTooLarge(f"JSON bodies are limited to {limit} bytes.")
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise BodyTooLarge(f"JSON bodies are limited to {limit} bytes.")
        try:
            parsed = super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:  # e.g. 30,000 nested "[": small enough, but too deep for the decoder
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        if not isinstance(parsed, dict):  # every endpoint takes an object (views may rely on it): as serializers say
            raise ValidationError(
                {"non_field_errors": [f"Invalid data. Expected a JSON object, but got {_json_kind(parsed)}."]}
            )
        return parsed


def _json_kind(value) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


class StrictFormParser(FormParser):
    """A form body is ``key=value`` pairs: a bare token (``true``, a number, JSON sent as a form) is a 400,
    not a form with one empty field named after it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        pieces = [piece for piece in data.split(b"&") if piece]
        if any(b"=" not in piece for piece in pieces):
            raise ParseError("A form body is key=value pairs separated by &.")
        if not is_utf8_form(data):
            raise ParseError("The form body is not UTF-8.")
        return super().parse(io.BytesIO(data), media_type, parser_context)
