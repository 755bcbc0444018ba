"""OpenAPI schema generation: what whole kinds of operation share.

Only GET lists are paginated (:class:`AutoSchema`). The errors shared by kinds of operation are
added to each (:func:`document_shared_errors`): declaring them on every view would be repeated
and easy to forget. A paginated list answers 404 ``not_found`` for a page that does not exist
(``?page=0``, ``?page=99``, a stale cursor); anything that takes a body or query parameters
answers 400 when they are bad.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import inline_serializer

ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


class AutoSchema(openapi.AutoSchema):
    """Only reads are paginated: a list that a POST answers (the upload outcomes) is a plain array,
    though its view pages what its GET lists."""

    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None


def document_shared_errors(result, generator, request, public):
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            shared = {}
            if query & {"page", "cursor"}:
                shared["404"] = "No such page."
            if query or "requestBody" in operation:
                shared["400"] = "Bad input: `code` says what kind, `errors` which fields."
            for status, description in shared.items():
                operation["responses"].setdefault(status, {**ERROR, "description": description})
    return result


def results_of(name: str, serializer_class):
    """The schema of ``{"results": [...]}``, the shape of the lists that are not paginated."""
    return inline_serializer(name, {"results": serializer_class(many=True)})
