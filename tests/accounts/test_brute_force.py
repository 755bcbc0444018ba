"""Guessing is limited per account and per address through every door that takes a secret: HTTP Basic with an app
password on the API (counted with WebDAV's), recovery keys (per account besides per address). Sign-in passwords and
two-factor codes: tests/accounts/test_api.py and test_two_factor.py; across two servers: tests/test_cluster.py."""

import base64

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_app_password_guesses_are_limited_on_the_api_as_on_webdav(auth_client, account, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "app_password_user": "3/m"}
    created = auth_client.post("/api/v1/auth/app-passwords/", {"name": "cli"}, format="json").json()["password"]

    def basic(secret):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"alice:{secret}".encode()).decode())
        return client.get("/api/v1/folders/")

    assert basic(created).status_code == 200  # a right one is not counted
    wrong = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
    assert [basic(wrong).status_code for _ in range(3)] == [401, 401, 401]
    refused = basic(created)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "app password" in refused.json()["detail"]


def test_recovery_keys_are_limited_per_account(account, other_account, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "recover_user": "2/h", "recover_ip": "100/h"}
    body = {"username": "alice", "recovery_key": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "new_password": "x" * 12}
    answers = [APIClient().post("/api/v1/auth/recover", body, format="json").status_code for _ in range(3)]
    assert answers == [400, 400, 429]
    right = {**body, "recovery_key": account.recovery_key, "new_password": "a new passphrase 77"}
    assert APIClient().post("/api/v1/auth/recover", right, format="json").status_code == 429
    bob = {**body, "username": "bob"}
    assert APIClient().post("/api/v1/auth/recover", bob, format="json").status_code == 400  # not bob's counter
