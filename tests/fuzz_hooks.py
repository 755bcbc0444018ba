"""What schemathesis needs to know about Locker's media types (``SCHEMATHESIS_HOOKS=tests.fuzz_hooks``).

- A tus ``PATCH`` body (``application/offset+octet-stream``) is bytes, sent as ``application/octet-stream`` is.
- ``GET /api/v1/activity/?format=csv`` answers CSV text, checked against its schema (a string) as text.
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@schemathesis.deserializer("text/csv")
def csv_text(ctx, response) -> str:
    return response.content.decode("utf-8")
