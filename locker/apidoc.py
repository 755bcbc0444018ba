"""The project's API reference (``docs/api.md``), generated from the OpenAPI schema so that the two never drift.

Regenerate after changing an endpoint: ``.venv/bin/python -m locker.apidoc > docs/api.md``
(``tests/test_project.py`` fails while the file differs from what this prints).
"""

from __future__ import annotations

import os
import sys

HEADER = """# Locker HTTP API reference

Generated from the OpenAPI schema (`/api/schema/`, browsable in `/api/docs/` and `/api/redoc/`) by
`.venv/bin/python -m locker.apidoc > docs/api.md`; `make test` checks that it is current. Every error is JSON
`{"code": "<stable_snake_case>", "detail": "<a sentence>", "errors"?: {field: [messages]}}`; another user's
object is always 404. Authentication: `Authorization: Bearer <access JWT>` (from `POST /api/v1/auth/token`),
HTTP Basic with username and app password, or the browser session (cookie and CSRF token).
"""

METHODS = ("get", "post", "put", "patch", "delete")


def _first_sentence(text: str) -> str:
    text = " ".join((text or "").split())
    for end in (". ", "; "):
        if end in text:
            return text.split(end, 1)[0] + "."
    return text


def _humanized(operation_id: str) -> str:
    """``v1_auth_app_passwords_create`` -> ``Auth app passwords: create.``"""
    words = operation_id.removeprefix("v1_").split("_")
    if len(words) < 2:
        return ""
    return f"{' '.join(words[:-1]).capitalize()}: {words[-1]}."


def _body_fields(operation: dict, schemas: dict) -> str:
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in ("application/json", "multipart/form-data", "application/octet-stream"):
        if media not in content:
            continue
        schema = content[media].get("schema") or {}
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        properties = schema.get("properties")
        if not properties:
            return "raw body" if media == "application/octet-stream" else ""
        required = set(schema.get("required", []))
        names = [f"`{name}`" + ("" if name in required else "?") for name in properties]
        prefix = "multipart: " if media == "multipart/form-data" else ""
        return prefix + ", ".join(names)
    return ""


def render(schema: dict) -> str:
    schemas = schema.get("components", {}).get("schemas", {})
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((path, method, operation))
    out = [HEADER]
    for tag in sorted(by_tag):
        out.append(f"\n## {tag}\n")
        out.append("| method | path | what | body | answers |")
        out.append("|---|---|---|---|---|")
        for path, method, operation in sorted(by_tag[tag], key=lambda row: (row[0], METHODS.index(row[1]))):
            what = _first_sentence(operation.get("description") or operation.get("summary") or "") or _humanized(
                operation.get("operationId", "")
            )
            statuses = ", ".join(sorted(operation.get("responses", {})))
            body = _body_fields(operation, schemas)
            out.append(f"| {method.upper()} | `{path}` | {what.replace('|', '/')} | {body} | {statuses} |")
    return "\n".join(out) + "\n"


def generate() -> str:
    from drf_spectacular.generators import SchemaGenerator

    return render(SchemaGenerator().get_schema(request=None, public=True))


if __name__ == "__main__":  # pragma: no cover - a command for people
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "locker.settings")
    import django

    django.setup()
    sys.stdout.write(generate())
