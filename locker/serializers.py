"""Serializer fields shared by the apps."""

import re

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from rest_framework import serializers

from locker.textrules import NO_NUL_PATTERN, NOT_BLANK_NO_NUL_PATTERN

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of converting them to text.

    Its rules are in the OpenAPI schema: ``pattern`` (the ``pattern`` argument, else "no NUL", which every
    CharField refuses) and ``schema_extra``, limits that a service checks with its own error code (the strength of
    a password, the size of a note in bytes) and that the schema states all the same.
    """

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, *, pattern: str | None = None, pattern_message: str = "", schema_extra=None, **kwargs):
        self.schema_extra = schema_extra or {}
        self.pattern = pattern
        if pattern is not None:
            kwargs["validators"] = [RegexValidator(pattern, pattern_message), *kwargs.get("validators", ())]
        super().__init__(**kwargs)
        if pattern is None and self.trim_whitespace and not self.allow_blank:
            # "  " is trimmed to "" and refused as blank: the schema says so (the check stays DRF's)
            self.pattern = NOT_BLANK_NO_NUL_PATTERN
        if pattern is None:  # DRF's own NUL check, as a pattern the schema states
            self.validators = [
                RegexValidator(NO_NUL_PATTERN, ProhibitNullCharactersValidator.message, code="null_characters")
                if isinstance(v, ProhibitNullCharactersValidator)
                else v
                for v in self.validators
            ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUIDField that takes what the schema's ``format: uuid`` says, and only that.

    DRF also takes a number (``uuid.UUID(int=...)``), 32 hex digits without dashes, braces and ``urn:uuid:``; and
    it reads an empty form value (``parent=`` in a form body) as null, which the schema says only JSON's null is.
    A form body spells null as JSON does (``parent=null``), as clients that send the schema's null in a form do.
    """

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if hasattr(dictionary, "getlist"):
            if value is None and dictionary.get(self.field_name) == "":
                return ""
            if value == "null" and self.allow_null:
                return None
        return value

    def to_internal_value(self, data):
        if not isinstance(data, str) or not UUID_RE.fullmatch(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes what the schema's ``type: boolean`` says: JSON's true and false, and in a form body
    their spelling ``true``/``false`` (any case). DRF also takes 0, 1, "yes", "on" and more, which the schema calls
    the wrong type."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, str) and data.lower() in ("true", "false"):
            data = data.lower() == "true"
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def validated(serializer_class, data) -> dict:
    """``data`` checked by ``serializer_class`` (a 400 with every field's errors if bad): its validated data.

    A form body (``QueryDict``) is held to what its JSON twin would be: see :func:`check_form`.
    """
    serializer = serializer_class(data=data)
    check_form(serializer, data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def check_form(serializer, form) -> None:
    """A 400 naming each field of ``serializer`` that the form body ``form`` gives more than once (a single-value
    field) or gives empty (a field that is not text allowed to be blank).

    DRF would keep the last value of ``name=a&name=b`` and drop the rest, and would read ``on_conflict=`` as
    "not given" and use the default: a client's mistake would pass unnoticed, and the schema (an enum, an integer)
    would say one thing while the server did another. JSON bodies (no ``getlist``) pass.
    """
    if not hasattr(form, "getlist"):
        return
    errors = {}
    for key, field in serializer.fields.items():
        if isinstance(field, serializers.ListField | serializers.MultipleChoiceField) or key not in form:
            continue
        values = form.getlist(key)
        if len(values) > 1:
            errors[key] = ["Give this field once: it takes one value."]
        elif values == [""] and not (isinstance(field, serializers.CharField) and field.allow_blank):
            errors[key] = ["This field may not be blank: leave it out for its default."]
    if errors:
        raise serializers.ValidationError(errors)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (for the OpenAPI schema)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
