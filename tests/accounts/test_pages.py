"""Account pages through Django's test client: forms, cookies, CSRF, shown-once secrets."""

import re

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import AppPassword, UnlockSession, User
from activity.models import Event
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"([A-Z2-7]{4}(?:-[A-Z2-7]{4}){7})")


def register(client, username="carol", password=DEFAULT_PASSWORD):
    return client.post(
        "/register",
        {"username": username, "email": f"{username}@example.org", "password": password, "password_confirm": password},
    )


def test_register_shows_recovery_key_once_and_sets_unlock_cookie(client):
    response = register(client)
    assert response.status_code == 200
    html = response.content.decode()
    key = KEY_RE.search(html).group(1)
    assert "no-store" in response["Cache-Control"]
    cookie = response.cookies[settings.LOCKER_UNLOCK_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert key not in str(client.session.items())  # the key is not kept server-side
    home = client.get("/")
    assert "Vault unlocked" in home.content.decode()
    assert KEY_RE.search(home.content.decode()) is None


def test_register_errors_are_shown(client, account):
    response = register(client, username="ALICE")
    assert response.status_code == 409
    assert "That username is taken." in response.content.decode()
    weak = register(client, username="dave", password="password")
    assert weak.status_code == 400
    assert "too common" in weak.content.decode() or "too short" in weak.content.decode()
    mismatch = client.post(
        "/register",
        {"username": "erin", "email": "e@example.org", "password": DEFAULT_PASSWORD, "password_confirm": "x"},
    )
    assert mismatch.status_code == 400 and "The two passwords differ." in mismatch.content.decode()
    assert not User.objects.filter(username__in=["dave", "erin"]).exists()


def test_login_logout_cycle(client, account):
    bad = client.post("/login", {"username": "alice", "password": "wrong password"})
    assert bad.status_code == 400 and "Wrong username or password." in bad.content.decode()
    ok = client.post("/login", {"username": "alice", "password": account.password, "next": "/settings"})
    assert ok.status_code == 302 and ok["Location"] == "/settings"
    assert UnlockSession.objects.filter(user=account.user, kind="browser").count() == 1
    out = client.post("/logout")
    assert out.status_code == 302
    assert not UnlockSession.objects.filter(user=account.user).exists()
    assert client.get("/settings").status_code == 302


def test_login_refuses_offsite_next(client, account):
    response = client.post(
        "/login", {"username": "alice", "password": account.password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_login_is_rate_limited(client, account, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "login_user": "2/m"}
    for _ in range(2):
        client.post("/login", {"username": "alice", "password": "wrong password"})
    response = client.post("/login", {"username": "alice", "password": account.password})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many sign-in attempts for this account" in html
    assert "even the correct password is refused" in html
    assert f"try again in {response['Retry-After']} seconds" in html


def test_csrf_is_enforced_on_pages_and_session_api(account):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login", {"username": "alice", "password": account.password}).status_code == 403
    client.force_login(account.user)
    response = client.post("/api/v1/auth/app-passwords/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def login(client, account):
    assert client.post("/login", {"username": account.username, "password": account.password}).status_code == 302


def test_app_password_page_shows_it_once_then_revokes(client, account):
    login(client, account)
    response = client.post("/settings/app-passwords", {"name": "webdav"})
    assert response.status_code == 201
    password = KEY_RE.search(response.content.decode()).group(1)
    row = AppPassword.objects.get(user=account.user)
    listing = client.get("/settings").content.decode()
    assert "webdav" in listing and password not in listing
    assert client.post(f"/settings/app-passwords/{row.pk}/revoke").status_code == 302
    assert not AppPassword.objects.exists()


def test_app_password_page_when_vault_locked_asks_to_sign_in(client, account):
    client.force_login(account.user)  # a session without the unlock cookie
    response = client.post("/settings/app-passwords", {"name": "webdav"})
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert not AppPassword.objects.exists()


def test_password_change_page_keeps_this_browser_unlocked(client, account):
    login(client, account)
    other = Client()
    login(other, account)
    response = client.post(
        "/settings/password",
        {
            "old_password": account.password,
            "new_password": "a brand new passphrase",
            "new_password_confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert "Vault unlocked" in client.get("/").content.decode()
    assert client.post("/settings/app-passwords", {"name": "after"}).status_code == 201
    assert other.get("/").status_code == 302  # the other browser was signed out


def test_password_change_page_errors(client, account):
    login(client, account)
    response = client.post(
        "/settings/password", {"old_password": "nope nope", "new_password": "x", "new_password_confirm": "x"}
    )
    assert response.status_code == 400 and "The password is wrong." in response.content.decode()


def test_recover_page_shows_new_key(client, account):
    response = client.post(
        "/recover",
        {"username": "alice", "recovery_key": account.recovery_key, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 200
    new_key = KEY_RE.search(response.content.decode()).group(1)
    assert new_key != account.recovery_key
    bad = client.post(
        "/recover", {"username": "alice", "recovery_key": account.recovery_key, "new_password": "another one!!"}
    )
    assert bad.status_code == 400 and "do not match" in bad.content.decode()


def test_delete_account_page_needs_password_and_confirmation(client, account):
    login(client, account)
    unconfirmed = client.post("/settings/delete", {"password": account.password})
    assert unconfirmed.status_code == 400 and User.objects.filter(pk=account.user.pk).exists()
    wrong = client.post("/settings/delete", {"password": "wrong password", "confirm": "on"})
    assert wrong.status_code == 400 and User.objects.filter(pk=account.user.pk).exists()
    done = client.post("/settings/delete", {"password": account.password, "confirm": "on"})
    assert done.status_code == 302 and not User.objects.filter(pk=account.user.pk).exists()


def test_first_login_of_createsuperuser_admin_shows_recovery_key(client):
    User.objects.create_superuser("root", "root@example.org", "root password long enough")
    response = client.post("/login", {"username": "root", "password": "root password long enough"})
    assert response.status_code == 200
    assert KEY_RE.search(response.content.decode())
    assert client.get("/admin/").status_code == 200


def test_browsable_api_works_for_logged_in_browser(client, account):
    login(client, account)
    response = client.get("/api/v1/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"alice" in response.content
    assert client.get("/api/v1/activity/", HTTP_ACCEPT="text/html").status_code == 200
    assert client.get("/api-auth/login/").status_code in (200, 302)


def test_activity_recorded_for_page_actions(client, account):
    login(client, account)
    client.post("/logout")
    actions = set(Event.objects.filter(user=account.user).values_list("action", flat=True))
    assert {"account.registered", "auth.login", "auth.logout"} <= actions


def test_first_login_with_next_shows_recovery_key_then_continues_there(client):
    """GIVEN a keyless admin WHEN it signs in via /admin/ (next=/admin/?q=1) THEN the key page continues there."""
    User.objects.create_superuser("root", "root@example.org", "root password long enough")
    response = client.post(
        "/login", {"username": "root", "password": "root password long enough", "next": "/admin/?q=1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert KEY_RE.search(html)
    assert 'action="/admin/"' in html and 'name="q" value="1"' in html
    assert "Sign out" in html  # the page is rendered signed in


def test_register_key_page_is_rendered_signed_in(client):
    html = register(client).content.decode()
    assert "Sign out" in html and 'action="/"' in html


def test_settings_lists_devices_and_signs_one_out(client, account, api_client):
    login(client, account)
    tokens = account.login(api_client)
    page = client.get("/settings").content.decode()
    assert page.count('data-testid="session-row"') == 2 and "(this browser)" in page
    token_session = UnlockSession.objects.get(user=account.user, kind="token")
    assert client.post(f"/settings/sessions/{token_session.pk}/revoke").status_code == 302
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get("/api/v1/me").status_code == 401
    mine = UnlockSession.objects.get(user=account.user, kind="browser")
    response = client.post(f"/settings/sessions/{mine.pk}/revoke")
    assert response.status_code == 302 and response["Location"] == "/login"
    assert client.get("/settings").status_code == 302


def test_a_browser_signed_out_from_another_device_gets_a_working_sign_in(account):
    """GIVEN browsers A and B of one user WHEN B signs A out THEN A's next request ends A's sign-in (no loop
    between a locked page and a sign-in page that sends it back), and A's home never says "Vault unlocked"."""
    a, b = Client(), Client()
    login(a, account)
    login(b, account)
    assert "Vault unlocked" in a.get("/").content.decode()
    a_session = UnlockSession.objects.get(pk=a.session["locker_unlock_session"])
    assert b.post(f"/settings/sessions/{a_session.pk}/revoke").status_code == 302

    response = a.get("/files/")
    assert response.status_code == 302 and response["Location"] == "/login?next=/files/"
    assert a.cookies[settings.LOCKER_UNLOCK_COOKIE].value == ""  # cleared
    sign_in_page = a.get("/login?next=/files/")
    assert sign_in_page.status_code == 200  # the form, not a redirect back to the locked page
    assert "signed out" in sign_in_page.content.decode()
    assert a.get("/").status_code == 302
    api = a.get("/api/v1/folders/", HTTP_ACCEPT="application/json")
    assert api.status_code == 401
    login(a, account)
    assert "Vault unlocked" in a.get("/").content.decode()
    assert "Vault unlocked" in b.get("/").content.decode()  # B was never touched


def test_home_does_not_say_unlocked_when_the_cookie_cannot_unlock(client, account):
    """A cookie naming the right session with a wrong secret cannot unlock: home says locked, sign-in shows its form."""
    login(client, account)
    session_id = client.session["locker_unlock_session"]
    client.cookies[settings.LOCKER_UNLOCK_COOKIE] = f"{session_id}.{'A' * 43}"
    assert "Vault locked" in client.get("/").content.decode()
    assert client.get("/login").status_code == 200
