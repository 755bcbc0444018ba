"""The accounts API (API.md, Accounts) end to end through Django's test client."""

import pytest
from rest_framework.test import APIClient

from accounts.models import AppPassword, UnlockSession
from activity.models import Event
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_register_returns_user_and_recovery_key_once(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "carol", "email": "carol@example.org", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["username"] == "carol"
    assert body["user"]["role"] == "regular"
    assert len(body["recovery_key"].replace("-", "")) == 32
    assert Event.objects.filter(action="account.registered", user__username="carol").count() == 1


def test_token_login_unlocks_and_me_works(account, api_client):
    tokens = account.login(api_client)
    assert set(tokens) == {"access", "refresh"}
    response = bearer(tokens["access"]).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["quota"] > 0 and response.json()["usage"] == 0
    assert UnlockSession.objects.filter(user=account.user, kind="token").count() == 1


def test_token_claims_do_not_show_the_session_secret(account, api_client):
    import jwt

    tokens = account.login(api_client)
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert "sid" in claims and "ksx" in claims
    session = UnlockSession.objects.get(pk=claims["sid"])
    # ksx is ciphertext (60 bytes of version, nonce, 32-byte secret, tag), not the secret itself
    assert len(claims["ksx"]) > 43 and claims["ksx"] not in session.udk_wrapped


def test_wrong_password_is_401_and_logged(account, api_client):
    response = api_client.post("/api/v1/auth/token", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert Event.objects.filter(action="auth.login", outcome="failure", user=account.user).exists()


def test_unknown_user_gets_same_error(api_client, db):
    response = api_client.post("/api/v1/auth/token", {"username": "nobody", "password": "x" * 12}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_refresh_rotates_and_blacklists(account, api_client):
    tokens = account.login(api_client)
    response = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    rotated = response.json()
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(rotated["access"]).get("/api/v1/me").status_code == 200
    # the old refresh token is spent
    again = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"


def test_logout_kills_access_token_at_once(account, api_client):
    tokens = account.login(api_client)
    client = bearer(tokens["access"])
    assert client.get("/api/v1/me").status_code == 200
    assert api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "session_revoked"
    refresh = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401
    assert not UnlockSession.objects.filter(user=account.user).exists()


def test_password_change_kills_every_token_and_rewraps(account, api_client):
    first = account.login(api_client)
    second = account.login(api_client)
    response = bearer(first["access"]).post(
        "/api/v1/auth/password", {"old_password": account.password, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204, response.content
    for tokens in (first, second):
        assert bearer(tokens["access"]).get("/api/v1/me").status_code == 401
        assert (
            api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json").status_code
            == 401
        )
    old = api_client.post("/api/v1/auth/token", {"username": "alice", "password": account.password}, format="json")
    assert old.status_code == 401
    new = api_client.post("/api/v1/auth/token", {"username": "alice", "password": NEW_PASSWORD}, format="json")
    assert new.status_code == 200


def test_password_change_with_wrong_old_password(auth_client):
    response = auth_client.post(
        "/api/v1/auth/password", {"old_password": "wrong one!", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_password"
    assert "old_password" in response.json()["errors"]
    assert auth_client.get("/api/v1/me").status_code == 200  # nothing was revoked


def test_recover_sets_password_and_rotates_recovery_key(account, api_client):
    response = api_client.post(
        "/api/v1/auth/recover",
        {"username": "alice", "recovery_key": account.recovery_key.lower(), "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    new_key = response.json()["recovery_key"]
    assert new_key != account.recovery_key
    reuse = api_client.post(
        "/api/v1/auth/recover",
        {"username": "alice", "recovery_key": account.recovery_key, "new_password": "yet another passphrase"},
        format="json",
    )
    assert reuse.status_code == 400 and reuse.json()["code"] == "invalid_recovery"
    assert (
        api_client.post(
            "/api/v1/auth/token", {"username": "alice", "password": NEW_PASSWORD}, format="json"
        ).status_code
        == 200
    )


def test_app_passwords_create_list_use_revoke(auth_client, account):
    created = auth_client.post("/api/v1/auth/app-passwords/", {"name": "laptop sync"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "laptop sync" and len(body["password"].replace("-", "")) == 32
    listing = auth_client.get("/api/v1/auth/app-passwords/")
    assert listing.status_code == 200
    assert [row["name"] for row in listing.json()["results"]] == ["laptop sync"]
    assert "password" not in listing.json()["results"][0]

    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION=_basic("alice", body["password"]))
    assert basic.get("/api/v1/me").status_code == 200
    # the account password is not accepted over Basic
    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=_basic("alice", account.password))
    assert plain.get("/api/v1/me").status_code == 401

    assert auth_client.delete(f"/api/v1/auth/app-passwords/{body['id']}/").status_code == 204
    assert basic.get("/api/v1/me").status_code == 401
    assert not AppPassword.objects.exists()


def test_app_password_of_other_user_is_404(auth_client, other_account):
    client = APIClient()
    other_account.login(client)
    tokens = other_account.login(client)
    other = bearer(tokens["access"])
    row = other.post("/api/v1/auth/app-passwords/", {"name": "bob's"}, format="json").json()
    response = auth_client.delete(f"/api/v1/auth/app-passwords/{row['id']}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert AppPassword.objects.filter(pk=row["id"]).exists()
    # and Basic auth with bob's password under alice's name fails
    impostor = APIClient()
    impostor.credentials(HTTP_AUTHORIZATION=_basic("alice", row["password"]))
    assert impostor.get("/api/v1/me").status_code == 401


def test_session_auth_without_unlock_cookie_is_423(account, client):
    """GIVEN a browser session whose unlock cookie is gone WHEN it asks for a key THEN 423 vault_locked."""
    client.force_login(account.user)
    response = client.post("/api/v1/auth/app-passwords/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 423
    assert response.json()["code"] == "vault_locked"


def test_account_delete_needs_password_and_shreds(auth_client, account):
    wrong = auth_client.delete("/api/v1/me", {"password": "not it at all"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    assert auth_client.delete("/api/v1/me", {"password": account.password}, format="json").status_code == 204
    from accounts.models import Keyring, User

    assert not User.objects.filter(username="alice").exists()
    assert not Keyring.objects.exists() and not UnlockSession.objects.exists()
    assert Event.objects.filter(action="account.deleted", object_id=str(account.user.pk)).exists()


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_sessions_list_and_revoke_another_device(account, api_client):
    laptop = account.login(api_client)
    phone = account.login(api_client)
    client = bearer(laptop["access"])
    listing = client.get("/api/v1/auth/sessions/").json()["results"]
    assert len(listing) == 2 and sum(row["current"] for row in listing) == 1
    other = next(row for row in listing if not row["current"])
    assert client.delete(f"/api/v1/auth/sessions/{other['id']}/").status_code == 204
    assert bearer(phone["access"]).get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200
    assert client.delete(f"/api/v1/auth/sessions/{other['id']}/").status_code == 404
    assert Event.objects.filter(user=account.user, action="auth.session_revoked").count() == 1


def test_cannot_revoke_another_users_session(auth_client, other_account):
    client = APIClient()
    other_account.login(client)
    session = UnlockSession.objects.get(user=other_account.user)
    response = auth_client.delete(f"/api/v1/auth/sessions/{session.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert UnlockSession.objects.filter(pk=session.pk).exists()


def test_me_settings_keep_versions(auth_client):
    response = auth_client.patch("/api/v1/me", {"keep_versions": 3}, format="json")
    assert response.status_code == 200 and response.json()["keep_versions"] == 3
    for bad in (-1, "three", 10_001, True, None):
        bad_response = auth_client.patch("/api/v1/me", {"keep_versions": bad}, format="json")
        assert bad_response.status_code == 400 and bad_response.json()["code"] == "validation_error"
    assert auth_client.get("/api/v1/me").json()["keep_versions"] == 3
