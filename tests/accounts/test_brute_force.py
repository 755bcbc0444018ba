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


def test_an_app_password_cannot_change_the_account(auth_client, account):
    """A stolen app password reads and writes files (that is its job) but cannot make more app passwords, revoke
    the others, sign devices out, or change the password, the second factor or the account."""
    mine = auth_client.post("/api/v1/auth/app-passwords/", {"name": "cli"}, format="json").json()
    other = auth_client.post("/api/v1/auth/app-passwords/", {"name": "dav"}, format="json").json()
    session = auth_client.get("/api/v1/auth/sessions/").json()["results"][0]["id"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"alice:{mine['password']}".encode()).decode())
    assert client.get("/api/v1/folders/").status_code == 200
    refused = [
        client.post("/api/v1/auth/app-passwords/", {"name": "more"}, format="json"),
        client.delete(f"/api/v1/auth/app-passwords/{other['id']}/"),
        client.delete(f"/api/v1/auth/sessions/{session}/"),
        client.patch(f"/api/v1/auth/sessions/{session}/", {"name": "x"}, format="json"),
        client.post(
            "/api/v1/auth/password", {"old_password": account.password, "new_password": "n" * 20}, format="json"
        ),
        client.post("/api/v1/auth/two-factor/enrol", {"password": account.password}, format="json"),
        client.post("/api/v1/auth/two-factor/confirm", {"code": "123456"}, format="json"),
        client.post("/api/v1/auth/two-factor/disable", {"password": account.password, "code": "1"}, format="json"),
        client.post("/api/v1/auth/two-factor/backup-codes", {"password": account.password, "code": "1"}, format="json"),
        client.delete("/api/v1/me", {"password": account.password}, format="json"),
    ]
    for answer in refused:
        assert answer.status_code == 403 and answer.json()["code"] == "app_password_not_allowed", answer.content
    assert auth_client.get("/api/v1/auth/two-factor").json()["enabled"] is False
    assert len(auth_client.get("/api/v1/auth/app-passwords/").json()["results"]) == 2
    assert client.delete(f"/api/v1/auth/app-passwords/{mine['id']}/").status_code == 204  # signing itself out
