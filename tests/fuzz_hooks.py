"""What schemathesis needs to know about Locker's media types (``SCHEMATHESIS_HOOKS=tests.fuzz_hooks``).

- A tus ``PATCH`` body (``application/offset+octet-stream``) is bytes, sent as ``application/octet-stream`` is.
- ``GET /api/v1/activity/?format=csv`` answers CSV text, checked against its schema (a string) as text.
- Schema-violating form bodies are not sent (:func:`filter_case` says why).
- hypothesis describes its strategies one thread at a time (see below).
"""

import threading

import schemathesis
from hypothesis.internal import lambda_sources
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode

# Python 3.11.7's ast.parse is not safe across threads (it fails now and then with "SystemError: AST constructor
# recursion depth mismatch"): hypothesis parses a lambda's source to name a filtered strategy, and schemathesis's
# workers do so at once. One at a time, then.
_describing = threading.Lock()
_describe = lambda_sources.lambda_description


def _one_at_a_time(f):
    with _describing:
        return _describe(f)


lambda_sources.lambda_description = _one_at_a_time

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@schemathesis.deserializer("text/csv")
def csv_text(ctx, response) -> str:
    return response.content.decode("utf-8")


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


@schemathesis.hook
def filter_case(ctx, case) -> bool:
    """No schema-violating form bodies: a form carries only text and repeated names, so most of what makes a body
    violate the schema (a number or an object where text belongs, a one-item list for one value) reads back as a
    valid form. The refusals a form can show (a name given twice, an empty value, a part that is not UTF-8, a body
    cut short) are tested by tests/test_schema_conformance.py and tests/test_hostile_input.py; JSON bodies, query
    strings, headers and paths keep their schema-violating cases."""
    body = case.meta.components.get(ParameterLocation.BODY) if case.meta is not None else None
    form = (case.media_type or "").split(";")[0].strip() in FORMS
    return not (form and body is not None and body.mode == GenerationMode.NEGATIVE)
