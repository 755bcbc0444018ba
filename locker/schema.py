"""OpenAPI schema generation: what whole kinds of operation share.

Only GET lists are paginated (:class:`AutoSchema`). The answers shared by kinds of operation are added to each
(:func:`document_shared_errors`): declaring them on every view would be repeated and easy to forget.

- 401 on every operation that needs credentials (none given, expired, or their session ended);
- 404 ``not_found`` on a paginated list, for a page that does not exist (``?page=0``, ``?page=99``, a stale cursor);
- 400 on anything that takes a body or query parameters, when they are bad;
- 413 on anything that takes a body (the body limits); 415 when a parsed body's Content-Type is not one the
  operation reads.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import inline_serializer

from locker.textrules import schema_pattern

PARSED = {"application/json", "multipart/form-data", "application/x-www-form-urlencoded"}  # what DRF's parsers read
ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


class AutoSchema(openapi.AutoSchema):
    """Only reads are paginated: a list that a POST answers (the upload outcomes) is a plain array,
    though its view pages what its GET lists. Only reads are filtered, too."""

    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None

    def _get_filter_parameters(self):
        return super()._get_filter_parameters() if self.method == "GET" else []

    def _get_request_body(self, direction="request"):
        """Also a DELETE's body, where the view declares one (deleting the account takes the password); and a
        body is required when its schema requires something (a multipart upload's ``file``)."""
        if self.method == "DELETE" and self._declares_request():
            self.method = "POST"
            try:
                body = super()._get_request_body(direction)
            finally:
                self.method = "DELETE"
        else:
            body = super()._get_request_body(direction)
        content = (body or {}).get("content", {}).values()
        if body and not body.get("required") and any(_requires(self._resolved(m.get("schema", {}))) for m in content):
            body["required"] = True
        multipart = (body or {}).get("content", {}).get("multipart/form-data")
        if multipart and "schema" in multipart:
            multipart["schema"] = _as_multipart(self._resolved(multipart["schema"]), multipart["schema"])
        return body

    def _resolved(self, schema: dict) -> dict:
        """``schema``, or the component its ``$ref`` names (registered by now)."""
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            component = self.registry._components.get((ref.rsplit("/", 1)[1], "schemas"))
            if component is not None and isinstance(component.schema, dict):
                return component.schema
        return schema

    def get_request_serializer(self):
        if getattr(self, "_probing", False):
            return None
        return super().get_request_serializer()

    def _declares_request(self) -> bool:
        """Whether ``extend_schema(request=...)`` names this operation's body (else there is none to guess)."""
        self._probing = True
        try:
            return self.get_request_serializer() is not None
        finally:
            self._probing = False


def _as_multipart(resolved: dict, schema: dict) -> dict:
    """A body's schema as a multipart form states it. A multipart body holds at least one part (an empty one is a
    400 ``parse_error``): where the JSON twin may be ``{}``, the form may not, since it could not be told apart from a
    body whose fields were all left out. And a list is one part per item, so an empty list has no part at all: in a
    form a list holds at least one item (clearing one takes the JSON body). A form spells ``null`` as JSON does, so
    nullable fields stay nullable."""
    properties = resolved.get("properties", {})
    lists = [name for name, prop in properties.items() if prop.get("type") == "array" and not prop.get("minItems")]
    if _requires(resolved) and not lists:
        return schema
    form = {**resolved, "properties": {**properties}}
    for name in lists:
        form["properties"][name] = {**properties[name], "minItems": 1}
    if not _requires(resolved):
        form["minProperties"] = 1
    return form


def _requires(schema: dict) -> bool:
    """Whether a body's (inline) schema requires a property, in all its ``anyOf`` branches too."""
    branches = schema.get("anyOf")
    return bool(schema.get("required")) or bool(branches) and all(_requires(b) for b in branches)


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """A :class:`locker.serializers.StrictCharField`'s ``schema_extra`` (limits its service checks) in its schema."""

    target_class = "locker.serializers.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.pattern is not None:  # drf-spectacular writes characters beyond U+FFFF as \U escapes
            schema["pattern"] = schema_pattern(self.target.pattern)
        return {**schema, **self.target.schema_extra}


class OneOfListsRequiredExtension(OpenApiSerializerExtension):
    """A serializer with ``lists_one_required = ("files", "folders")`` needs at least one item in one of those
    lists: its schema says so with ``anyOf`` (one branch per list, each requiring it with ``minItems: 1``)."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True

    @classmethod
    def _matches(cls, target) -> bool:
        return super()._matches(target) and bool(getattr(target, "lists_one_required", ()))

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["anyOf"] = [
            {"required": [name], "properties": {name: {"minItems": 1}}} for name in self.target.lists_one_required
        ]
        return schema


BLANK = {"type": "string", "maxLength": 0}


def blank_as_any_of(result, generator, request, public):
    """drf-spectacular states a blank-allowed text field as ``oneOf: [its rules, empty]``; when its rules accept ""
    too (a pattern such as "no NUL"), "" matches both and ``oneOf`` calls it invalid, though the server takes it
    (schemathesis ST201 on POST /chats/ with a blank title). Either branch will do: ``anyOf``."""

    def walk(node):
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if isinstance(branches, list) and BLANK in branches:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def document_shared_errors(result, generator, request, public):
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            shared = {}
            if any(requirement for requirement in operation.get("security", [])):
                shared["401"] = "No credentials, or expired ones, or their session ended (`code` says which)."
            if query & {"page", "cursor"}:
                shared["404"] = "No such page."
            if query or "requestBody" in operation:
                shared["400"] = "Bad input: `code` says what kind, `errors` which fields."
            if "requestBody" in operation:
                shared["413"] = "The body is larger than this operation takes."
                if set(operation["requestBody"]["content"]) & PARSED:
                    shared["415"] = "The body's Content-Type is not one this operation reads."
            for status, description in shared.items():
                operation["responses"].setdefault(status, {**ERROR, "description": description})
            if query:  # answered by the HTTP server itself, before Django
                operation["responses"].setdefault("414", {"description": "The URL is longer than the server takes."})
    return result


def results_of(name: str, serializer_class):
    """The schema of ``{"results": [...]}``, the shape of the lists that are not paginated."""
    return inline_serializer(name, {"results": serializer_class(many=True)})
