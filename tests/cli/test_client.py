"""The CLI's HTTP client: one retry of a request that is safe to repeat when the server had closed a kept-alive
connection (never of one that is not), waiting as Retry-After says on 429 and 503, and one-line errors with their
exit statuses for the failures a person meets (offline, credentials revoked, quota, vault locked)."""

import time

import httpx
import pytest

from locker.cli.client import Api, CliError


def api_with(handler) -> Api:
    return Api("http://locker.test", username="u", password="p", transport=httpx.MockTransport(handler))


def test_a_closed_keep_alive_connection_is_retried_once_for_safe_requests_only():
    calls = []

    def handler(request):
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(200, json={"ok": True})

    assert api_with(handler).json("GET", "me") == {"ok": True}
    assert calls == ["GET", "GET"]
    calls.clear()
    with pytest.raises(CliError) as refused:
        api_with(handler).json("POST", "folders/", json={"name": "x"})
    assert calls == ["POST"] and refused.value.code == CliError.OFFLINE  # never sent twice

    def always_broken(request):
        calls.append(request.method)
        raise httpx.RemoteProtocolError("gone", request=request)

    calls.clear()
    with pytest.raises(CliError):
        api_with(always_broken).json("GET", "me")
    assert calls == ["GET", "GET"]  # once more, not forever


@pytest.mark.parametrize("status", [429, 503])
def test_busy_answers_are_waited_out_as_retry_after_says(status):
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) < 3:
            return httpx.Response(status, headers={"Retry-After": "0.3"}, json={"code": "busy"})
        return httpx.Response(200, json={"ok": True})

    assert api_with(handler).json("GET", "me") == {"ok": True}
    assert len(calls) == 3 and calls[1] - calls[0] >= 0.25 and calls[2] - calls[1] >= 0.25


def test_a_server_that_stays_busy_is_an_error_in_the_end(monkeypatch):
    monkeypatch.setattr("locker.cli.client.time.sleep", lambda seconds: None)
    with pytest.raises(CliError) as busy:
        api_with(lambda request: httpx.Response(429, json={"detail": "Too many requests."})).json("GET", "me")
    assert "Too many requests." in busy.value.message


@pytest.mark.parametrize(
    ("status", "body", "code", "words"),
    [
        (401, {"code": "not_authenticated"}, CliError.AUTH, "locker login"),
        (423, {"code": "vault_locked", "detail": "Sign in again."}, CliError.LOCKED, "vault is locked"),
        (413, {"code": "quota_exceeded", "detail": "This upload needs 2 GB."}, CliError.QUOTA, "Not enough storage"),
        (507, {"code": "quota_exceeded", "detail": "No room."}, CliError.QUOTA, "Not enough storage"),
        (404, {"code": "not_found", "detail": "No such file."}, CliError.NOT_FOUND, "No such file."),
        (409, {"code": "name_conflict", "detail": "Taken."}, CliError.CONFLICT, "Taken."),
    ],
)
def test_failures_become_one_line_with_their_exit_status(status, body, code, words):
    with pytest.raises(CliError) as failed:
        api_with(lambda request: httpx.Response(status, json=body)).json("GET", "x")
    assert failed.value.code == code and words in failed.value.message and "\n" not in failed.value.message


def test_an_unreachable_server_is_offline():
    def handler(request):
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(CliError) as offline:
        api_with(handler).json("GET", "me")
    assert offline.value.code == CliError.OFFLINE and offline.value.message.startswith(
        "Cannot reach http://locker.test"
    )
