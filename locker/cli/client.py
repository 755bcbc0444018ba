"""The HTTP side of the client: one ``httpx`` client per server, HTTP Basic with the app password on every request.

Idempotent requests are sent once more when the server had closed a kept-alive connection; 429 and 503 are
waited out as ``Retry-After`` says (a few times); errors become :class:`CliError` with one line for a person and
an exit code (docs/cli.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

VERSION = "0.1.0"
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
MAX_WAITS = 5  # 429/503 answers waited out before giving up
MAX_WAIT_SECONDS = 60


class CliError(Exception):
    """A failure to report in one line; ``code`` is the process's exit status."""

    # exit statuses (docs/cli.md)
    ERROR, USAGE, OFFLINE, AUTH, QUOTA, LOCKED, NOT_FOUND, CONFLICT = 1, 2, 3, 4, 5, 6, 7, 8

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("code") or ""
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            field, problems = next(iter(errors.items()))
            detail = f"{detail} ({field}: {problems[0] if isinstance(problems, list) and problems else problems})"
        return str(detail) or f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}"


def error_of(response: httpx.Response) -> CliError:
    status = response.status_code
    if status == 401:
        return CliError(
            "The server refused this computer's app password (revoked, or signed out): run `locker login URL`.",
            CliError.AUTH,
        )
    if status == 423:
        return CliError(f"Your vault is locked: {_detail(response)}", CliError.LOCKED)
    if status in (413, 507) and "quota" in response.text:
        return CliError(f"Not enough storage: {_detail(response)}", CliError.QUOTA)
    if status == 404:
        return CliError(_detail(response), CliError.NOT_FOUND)
    if status in (409, 412):
        return CliError(_detail(response), CliError.CONFLICT)
    return CliError(f"{_detail(response)} (HTTP {status})")


class Api:
    """The server's API under ``/api/v1/``."""

    def __init__(self, server: str, *, username: str | None = None, password: str | None = None, transport=None):
        self.server = server.rstrip("/")
        auth = httpx.BasicAuth(username, password) if username and password else None
        self.http = httpx.Client(
            base_url=f"{self.server}/api/v1/",
            auth=auth,
            timeout=httpx.Timeout(120, connect=15),
            headers={"User-Agent": f"locker-cli/{VERSION}", "Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, ok=(200, 201, 204, 206, 207), **kwargs) -> httpx.Response:
        """Send, retrying as the module says; a status outside ``ok`` raises :class:`CliError`."""
        response = self.send(method, path, **kwargs)
        if response.status_code not in ok:
            raise error_of(response)
        return response

    def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Send, retrying as the module says, whatever the status."""
        retried = False
        waits = 0
        while True:
            try:
                response = self.http.request(method, path, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # a kept-alive connection the server had closed: once more, for what is safe to repeat
                if retried or method not in IDEMPOTENT or _has_stream(kwargs):
                    raise CliError(f"The connection to {self.server} broke: {exc}", CliError.OFFLINE) from exc
                retried = True
                continue
            except httpx.ConnectError as exc:
                raise CliError(f"Cannot reach {self.server}: {exc}", CliError.OFFLINE) from exc
            except httpx.TimeoutException as exc:
                raise CliError(f"{self.server} did not answer in time.", CliError.OFFLINE) from exc
            if response.status_code in (429, 503) and waits < MAX_WAITS and not _has_stream(kwargs):
                waits += 1
                time.sleep(_retry_after(response))
                continue
            return response

    def json(self, method: str, path: str, **kwargs):
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every result of a paginated listing."""
        params = {**(params or {}), "page_size": 200}
        page = 1
        while True:
            body = self.json("GET", path, params={**params, "page": page})
            yield from body["results"]
            if not body.get("next"):
                return
            page += 1


def _has_stream(kwargs) -> bool:
    content = kwargs.get("content")
    return content is not None and not isinstance(content, bytes | str)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    seconds = float(value) if value.replace(".", "", 1).isdigit() else 2.0
    return max(0.2, min(seconds, MAX_WAIT_SECONDS))
