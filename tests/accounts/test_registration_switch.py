"""The switch closing open registration (``SiteSettings``, edited in the admin), and the admin index without
internal tables."""

import pytest
from django.test import Client

from accounts.models import SiteSettings, User
from accounts.selectors import registration_open
from accounts.services import RegistrationClosed, user_register
from accounts.site_settings import site_settings_update
from activity.models import Event
from locker.errors import InvalidInput
from tests.factories import DEFAULT_PASSWORD, make_account

pytestmark = pytest.mark.django_db

REGISTER = {"username": "carol", "email": "carol@example.org", "password": DEFAULT_PASSWORD}


@pytest.fixture
def root(db):
    return make_account("root", role=User.Role.ADMIN)


@pytest.fixture
def admin_client(root):
    client = Client()
    assert client.post("/login", {"username": "root", "password": root.password}).status_code == 302
    return client


def close(root):
    site_settings_update(admin=root.user, registration_open=False)


def test_open_by_default_as_before(client, api_client):
    assert not SiteSettings.objects.exists() and registration_open()
    assert b"Create your locker" in client.get("/register").content
    login_page = client.get("/login").content.decode()
    assert "Create an account" in login_page and 'href="/register">Create account</a>' in login_page
    assert api_client.post("/api/v1/auth/register", REGISTER, format="json").status_code == 201


def test_the_service_refuses_while_closed_and_records_the_switch(root):
    close(root)
    event = Event.objects.get(action="site.settings_changed")
    assert event.user == root.user and event.data == {"registration_open": False}
    with pytest.raises(RegistrationClosed):
        user_register(**REGISTER)
    assert not User.objects.filter(username="carol").exists()
    site_settings_update(admin=root.user, registration_open=True)
    assert user_register(**REGISTER)[0].username == "carol"


@pytest.mark.parametrize("bad", [None, "false", 0, 1, "yes"])
def test_the_switch_takes_only_a_boolean(root, bad):
    with pytest.raises(InvalidInput):
        site_settings_update(admin=root.user, registration_open=bad)
    assert registration_open()


def test_api_register_while_closed_is_403_registration_closed(root, api_client):
    close(root)
    response = api_client.post("/api/v1/auth/register", REGISTER, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "registration_closed" and "invitation" in response.json()["detail"]
    # the same answer whatever the body: nothing is validated, nothing is made
    for body in ({}, {"username": 5}, {**REGISTER, "username": "root"}):
        response = api_client.post("/api/v1/auth/register", body, format="json")
        assert response.status_code == 403 and response.json()["code"] == "registration_closed"
    assert not User.objects.filter(username="carol").exists()


def test_register_page_while_closed_says_so(root, client):
    close(root)
    page = client.get("/register")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Registration is closed on this server." in html and 'name="password"' not in html
    response = client.post("/register", {**REGISTER, "password_confirm": DEFAULT_PASSWORD})
    assert response.status_code == 403 and not User.objects.filter(username="carol").exists()
    login_page = client.get("/login").content.decode()
    assert "Create an account" not in login_page and 'href="/register"' not in login_page  # nor in the header


def test_admin_closes_and_reopens_registration(admin_client, root, client):
    assert admin_client.get("/admin/accounts/sitesettings/").url == "/admin/accounts/sitesettings/1/change/"
    page = admin_client.get("/admin/accounts/sitesettings/1/change/")
    assert page.status_code == 200 and b"Registration open" in page.content and b"checked" in page.content
    response = admin_client.post("/admin/accounts/sitesettings/1/change/", {})  # the box unticked
    assert response.status_code == 302
    assert not registration_open()
    assert client.get("/register").status_code == 403
    assert Event.objects.filter(action="site.settings_changed", user=root.user).count() == 1
    admin_client.post("/admin/accounts/sitesettings/1/change/", {"registration_open": "on"})
    assert registration_open() and client.get("/register").status_code == 200
    # one row, never added or deleted; other ids are not found
    assert admin_client.get("/admin/accounts/sitesettings/add/").status_code == 403
    assert admin_client.get("/admin/accounts/sitesettings/1/delete/").status_code == 403
    assert admin_client.get("/admin/accounts/sitesettings/2/change/").status_code == 302  # "does not exist"
    assert SiteSettings.objects.count() == 1


def test_regular_users_cannot_change_the_switch(client, account):
    assert client.post("/login", {"username": "alice", "password": account.password}).status_code == 302
    assert client.post("/admin/accounts/sitesettings/1/change/", {}).status_code == 403
    assert registration_open()


def test_admin_index_lists_what_an_admin_needs_and_no_internal_tables(admin_client):
    html = admin_client.get("/admin/").content.decode()
    for wanted in ("Users", "Invitations", "Site settings", "Events"):
        assert wanted in html, wanted
    for internal in ("Outstanding tokens", "Blacklisted tokens", "Groups", "token_blacklist", "Unlock sessions"):
        assert internal not in html, internal
    assert admin_client.get("/admin/token_blacklist/outstandingtoken/").status_code == 404


def test_the_header_renders_without_create_account_when_the_switch_cannot_be_read(monkeypatch):
    """An error page (a refused form on a server whose database does not answer) still renders its header."""
    from django.db import DatabaseError

    from accounts.templatetags import site_switches

    def broken():
        raise DatabaseError("no such table: accounts_sitesettings")

    monkeypatch.setattr(site_switches, "registration_open", broken)
    assert site_switches.registration_is_open() is False
