"""Keeping public links' secrets out of the logs (SECURITY.md property 10: no log line holds a link's URL), and
invitation links' alike.

A link's secret is a path segment (``/s/<token>``, ``/invite/<token>``), so anything that logs a path or a
Referer would write it: gunicorn's access log (:class:`RedactingGunicornLogger`, named in ``gunicorn.conf.py``)
and Django's loggers (:class:`RedactLinkTokens`, on the console handler in ``settings.LOGGING``). Both put
``/s/[link]`` (``/invite/[link]``) instead, and ``/dav/[path]`` for a WebDAV path (it is made of names).
"""

from __future__ import annotations

import logging
import re

from gunicorn import glogging

_TOKEN = re.compile(r"(/s/|/invite/)[A-Za-z0-9_%-]{8,}")
# WebDAV paths are folder and file names (vault.transfers.dav), which are content (SECURITY.md): never logged
_DAV_PATH = re.compile(r"(/dav/)[^\s\"]+")


def redact(text: str) -> str:
    return _DAV_PATH.sub(r"\1[path]", _TOKEN.sub(r"\1[link]", text))


def _redacted(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, tuple):
        return tuple(_redacted(v) for v in value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


class RedactLinkTokens(logging.Filter):
    """Rewrite a record's message and arguments (and the request path Django attaches) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = _redacted(record.args)
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") if request is not None else ""
        if "/s/" in path or "/invite/" in path or path.startswith("/dav/"):
            record.request = None  # Django's formatters would print the path (and the Referer) from it
        return True


class RedactingGunicornLogger(glogging.Logger):
    """gunicorn's logger with every access-log field (request line, path, Referer, headers) redacted."""

    def atoms(self, resp, req, environ, request_time):
        return {key: _redacted(value) for key, value in super().atoms(resp, req, environ, request_time).items()}
