"""The client address behind trusted proxies (locker.http.client_ip) and the per-IP limits that key on it."""

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from locker.http import client_ip


@pytest.fixture
def behind_one_proxy(settings):
    """What LOCKER_BEHIND_PROXY=1 sets."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.LOCKER_PROXY_HOPS = 1


def request_with(forwarded: str | None, remote: str = "10.9.9.9"):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.9.9.9"),  # not behind a proxy: the header is the client's own words
        (1, None, "10.9.9.9"),  # no header: not through the proxy
        (1, "203.0.113.7", "203.0.113.7"),  # what nginx sends for a client that sent nothing
        (1, "spoofed, 203.0.113.7", "203.0.113.7"),  # nginx's $proxy_add_x_forwarded_for after a forged header
        (1, "1.1.1.1, 2.2.2.2, 203.0.113.7", "203.0.113.7"),
        (2, "spoofed, 203.0.113.7, 10.0.0.2", "203.0.113.7"),  # CDN then nginx
        (2, "203.0.113.7", "10.9.9.9"),  # fewer entries than hops: did not come through both
        (1, "not-an-address", "10.9.9.9"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, " 203.0.113.7 ,", "203.0.113.7"),
    ],
)
def test_client_ip_trusts_exactly_the_configured_hops(settings, hops, forwarded, expected):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.LOCKER_PROXY_HOPS = hops
    assert client_ip(request_with(forwarded)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("forged", ["spoofed-{n}", "198.51.100.{n}"])
def test_forged_forwarded_for_does_not_escape_the_per_ip_login_limit(behind_one_proxy, forged):
    """GIVEN the server behind one proxy (LOCKER_BEHIND_PROXY=1, the image's default)
    WHEN 60 logins for 60 usernames each forge another leftmost X-Forwarded-For entry, as nginx passes it on
    THEN the per-IP limit (30/m) still refuses the ones past it."""
    client = APIClient()
    statuses = []
    for n in range(60):
        response = client.post(
            "/api/v1/auth/token",
            {"username": f"user{n}", "password": "wrong password!"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"{forged.format(n=n)}, 203.0.113.7",
        )
        statuses.append(response.status_code)
    assert statuses[:30] == [401] * 30
    assert statuses[30:] == [429] * 30


@pytest.mark.django_db
def test_forged_forwarded_for_does_not_escape_the_register_and_recover_limits(behind_one_proxy):
    client = APIClient()
    register = [
        client.post(
            "/api/v1/auth/register",
            {"username": f"u{n}", "email": f"u{n}@example.org", "password": "short"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.{n}.1, 203.0.113.8",
        ).status_code
        for n in range(12)
    ]
    assert register[:10] == [400] * 10 and register[10:] == [429, 429]
    recover = [
        client.post(
            "/api/v1/auth/recover",
            {"username": "nobody", "recovery_key": "AAAA", "new_password": "another long password"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.1.{n}.1, 203.0.113.9",
        ).status_code
        for n in range(12)
    ]
    assert 429 not in recover[:10] and recover[10:] == [429, 429]


@pytest.mark.django_db
def test_clients_behind_the_proxy_keep_separate_buckets(behind_one_proxy):
    """Two real clients seen by the proxy count apart: the limit is per client, not per proxy."""
    client = APIClient()
    for address in ("203.0.113.10", "203.0.113.11"):
        statuses = [
            client.post(
                "/api/v1/auth/token",
                {"username": f"x{n}", "password": "wrong password!"},
                format="json",
                HTTP_X_FORWARDED_FOR=address,
            ).status_code
            for n in range(30)
        ]
        assert statuses == [401] * 30
