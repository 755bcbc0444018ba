"""Refresh-token rotation over a real HTTP server: one redemption per token, reuse ends the session family.

OAuth 2.0 Security Best Current Practice (RFC 9700, 4.14.2): with refresh-token
rotation, a refresh token that was already used and is presented again means
that two parties hold it; the server cannot tell which one is legitimate, so it
revokes the whole family (here: the unlock session all of its tokens carry).
"""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import UnlockSession
from activity import actions
from activity.models import Event
from tests.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)

PARALLEL = 8


def post(base, path, body: dict, *, token=None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        f"{base}{path}", data=json.dumps(body).encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def get(base, path, *, token) -> int:
    request = urllib.request.Request(  # noqa: S310
        f"{base}{path}", headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def login(base, account) -> dict:
    status, body = post(base, "/api/v1/auth/token", {"username": account.username, "password": account.password})
    assert status == 200, body
    return body


def refresh(base, token: str) -> tuple[int, dict]:
    return post(base, "/api/v1/auth/token/refresh", {"refresh": token})


def test_eight_parallel_refreshes_of_one_token_redeem_it_once(live_server):
    """GIVEN a refresh token WHEN 8 clients redeem it at the same instant THEN exactly one gets a new pair,
    and since the 7 others are reuses of a spent token, the family ends: the winner's new tokens stop working."""
    account = make_account("alice")
    base = live_server.url
    tokens = login(base, account)
    bystander = login(base, account)  # another device of the same user: not in this family
    start = threading.Barrier(PARALLEL)

    def redeem(_):
        start.wait(timeout=30)
        return refresh(base, tokens["refresh"])

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(redeem, range(PARALLEL)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (PARALLEL - 1), results
    assert {body["code"] for status, body in results if status == 401} <= {"token_not_valid", "session_revoked"}
    winner = next(body for status, body in results if status == 200)
    # The losers presented a spent token: that is reuse, and it ended the family.
    assert refresh(base, winner["refresh"])[0] == 401
    assert get(base, "/api/v1/me", token=winner["access"]) == 401
    assert get(base, "/api/v1/me", token=tokens["access"]) == 401
    assert UnlockSession.objects.filter(user=account.user).count() == 1
    assert get(base, "/api/v1/me", token=bystander["access"]) == 200
    assert refresh(base, bystander["refresh"])[0] == 200


def test_redeeming_a_rotated_token_ends_its_whole_family(live_server):
    """GIVEN a token rotated twice (t0 -> t1 -> t2) WHEN t0 is presented again THEN 401, and t2 (refresh and
    access) and the unlock session stop working at once; other sessions of the user keep working."""
    account = make_account("alice")
    base = live_server.url
    t0 = login(base, account)
    other = login(base, account)
    status, t1 = refresh(base, t0["refresh"])
    assert status == 200, t1
    status, t2 = refresh(base, t1["refresh"])
    assert status == 200, t2
    assert get(base, "/api/v1/me", token=t2["access"]) == 200

    status, body = refresh(base, t0["refresh"])
    assert status == 401 and body["code"] == "token_not_valid", body
    assert "already used" in body["detail"]

    assert get(base, "/api/v1/me", token=t2["access"]) == 401
    status, body = refresh(base, t2["refresh"])
    assert status == 401 and body["code"] == "session_revoked", body
    assert UnlockSession.objects.filter(user=account.user).count() == 1
    assert get(base, "/api/v1/me", token=other["access"]) == 200
    reuse = Event.objects.get(user=account.user, action=actions.REFRESH_TOKEN_REUSED)
    assert reuse.outcome == "failure" and reuse.object_type == "session"
