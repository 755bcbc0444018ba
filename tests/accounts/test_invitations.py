"""Invitations: made by an admin (the link shown once, only a verifier stored), accepted on a sign-up page or
through the API with the normal registration, refused alike when used, expired, revoked or unknown."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import invitations
from accounts.models import Invitation, Keyring, User
from accounts.site_settings import site_settings_update
from activity.models import Event
from locker.errors import InvalidInput, NotFound
from tests.factories import DEFAULT_PASSWORD, make_account

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"([A-Z2-7]{4}(?:-[A-Z2-7]{4}){7})")
LINK_RE = re.compile(r'data-testid="invitation-link"[^>]*>(http://testserver/invite/([A-Z2-7-]+))<')


@pytest.fixture
def root(db):
    return make_account("root", role=User.Role.ADMIN)


@pytest.fixture
def admin_client(root):
    client = Client()
    assert client.post("/login", {"username": "root", "password": root.password}).status_code == 302
    return client


def signup(client, token, username="newbie", password=DEFAULT_PASSWORD, **extra):
    data = {
        "username": username,
        "email": f"{username}@example.org",
        "password": password,
        "password_confirm": password,
        **extra,
    }
    return client.post(f"/invite/{token}", data)


# --- services ---------------------------------------------------------------------------------------------------


def test_create_stores_only_a_verifier_and_records_it(root):
    invitation, token = invitations.invitation_create(
        admin=root.user, username_hint="newbie", role="admin", storage_quota="5 GB", valid_days=3
    )
    assert invitation.storage_quota == 5 * 1000**3 and invitation.role == "admin"
    assert token not in invitation.verifier and token.replace("-", "") not in str(Invitation.objects.values().get())
    assert timedelta(days=2, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=3)
    event = Event.objects.get(action="invitation.created")
    assert event.user == root.user and event.object_id == str(invitation.pk)
    assert token not in str(event.data)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username_hint": "no spaces allowed"}, "username_hint"),
        ({"username_hint": "root"}, "username_hint"),  # taken
        ({"username_hint": 5}, "username_hint"),
        ({"role": "superuser"}, "role"),
        ({"storage_quota": "-1 GB"}, "storage_quota"),
        ({"storage_quota": "2 PiB"}, "storage_quota"),
        ({"storage_quota": "plenty"}, "storage_quota"),
        ({"valid_days": 0}, "valid_days"),
        ({"valid_days": 91}, "valid_days"),
        ({"valid_days": "7"}, "valid_days"),
        ({"valid_days": True}, "valid_days"),
    ],
)
def test_create_refuses_bad_input(root, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        invitations.invitation_create(admin=root.user, **kwargs)
    assert field in caught.value.errors
    assert not Invitation.objects.exists() and not Event.objects.filter(action="invitation.created").exists()


def test_accept_makes_the_account_with_the_invitations_role_and_quota_and_uses_it(root):
    invitation, token = invitations.invitation_create(admin=root.user, role="admin", storage_quota="2 GiB")
    user, recovery_key = invitations.invitation_accept(
        token=token, username="newbie", email="n@example.org", password=DEFAULT_PASSWORD
    )
    assert KEY_RE.fullmatch(recovery_key)
    assert user.role == "admin" and user.storage_quota == 2 * 1024**3
    assert Keyring.objects.filter(user=user).exists()
    invitation.refresh_from_db()
    assert invitation.used_by == user and invitation.used_at and invitation.status() == "used"
    used = Event.objects.get(action="invitation.used")
    assert used.user == user and used.data == {"by": str(root.user.pk)}
    assert Event.objects.filter(action="account.registered", user=user).exists()


def test_a_link_works_once(root):
    _, token = invitations.invitation_create(admin=root.user)
    invitations.invitation_accept(token=token, username="first", email="f@example.org", password=DEFAULT_PASSWORD)
    with pytest.raises(invitations.InvitationInvalid):
        invitations.invitation_accept(token=token, username="second", email="s@example.org", password=DEFAULT_PASSWORD)
    assert not User.objects.filter(username="second").exists()


def test_bad_input_at_accept_leaves_the_invitation_usable(root):
    _, token = invitations.invitation_create(admin=root.user)
    with pytest.raises(InvalidInput):
        invitations.invitation_accept(token=token, username="ok-name", email="x@example.org", password="short")
    with pytest.raises(InvalidInput):
        invitations.invitation_accept(
            token=token, username="bad name", email="x@example.org", password=DEFAULT_PASSWORD
        )
    user, _ = invitations.invitation_accept(
        token=token, username="ok-name", email="x@example.org", password=DEFAULT_PASSWORD
    )
    assert user.username == "ok-name"


def test_an_invitation_used_while_its_account_was_being_made_makes_no_account(root):
    """GIVEN a link opened and checked WHEN it is used up before this registration commits THEN the whole
    registration rolls back: one link, one account."""
    invitation, token = invitations.invitation_create(admin=root.user)
    opened = invitations.invitation_open(token=token)
    Invitation.objects.filter(pk=invitation.pk).update(used_at=timezone.now())
    original = invitations.invitation_open
    try:
        invitations.invitation_open = lambda token: opened  # the check before the transaction passed
        with pytest.raises(invitations.InvitationInvalid):
            invitations.invitation_accept(
                token=token, username="late", email="l@example.org", password=DEFAULT_PASSWORD
            )
    finally:
        invitations.invitation_open = original
    assert not User.objects.filter(username="late").exists()
    assert not Event.objects.filter(action="account.registered", user__username="late").exists()


@pytest.mark.parametrize("token", ["", "nonsense", "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", None, 5, "A" * 500])
def test_unknown_or_malformed_tokens_are_invalid(root, token):
    with pytest.raises(invitations.InvitationInvalid):
        invitations.invitation_open(token=token)


def test_expired_and_revoked_are_invalid(root):
    expired, expired_token = invitations.invitation_create(admin=root.user)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_token = invitations.invitation_create(admin=root.user)
    invitations.invitation_revoke(admin=root.user, invitation_id=revoked.pk)
    for token in (expired_token, revoked_token):
        with pytest.raises(invitations.InvitationInvalid):
            invitations.invitation_open(token=token)
    assert Event.objects.filter(action="invitation.revoked", object_id=str(revoked.pk)).exists()
    with pytest.raises(InvalidInput):  # already revoked
        invitations.invitation_revoke(admin=root.user, invitation_id=revoked.pk)
    with pytest.raises(NotFound):
        invitations.invitation_revoke(admin=root.user, invitation_id="00000000-0000-0000-0000-000000000000")


def test_invitations_work_while_registration_is_closed(root):
    site_settings_update(admin=root.user, registration_open=False)
    _, token = invitations.invitation_create(admin=root.user)
    user, _ = invitations.invitation_accept(
        token=token, username="invited", email="i@example.org", password=DEFAULT_PASSWORD
    )
    assert user.pk


# --- the sign-up page ---------------------------------------------------------------------------------------------


def test_signup_page_prefills_the_hint_then_signs_in_and_shows_the_recovery_key(root, client):
    _, token = invitations.invitation_create(admin=root.user, username_hint="newbie")
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and page["Cache-Control"].count("no-store")
    assert 'value="newbie"' in page.content.decode()
    response = signup(client, token)
    assert response.status_code == 200
    html = response.content.decode()
    assert KEY_RE.search(html) and "Save your recovery key" in html and "Sign out" in html
    assert response.cookies["locker_unlock"].value
    home = client.get("/")
    assert "Vault unlocked" in home.content.decode()


def test_signup_page_form_errors_keep_the_link_usable(root, client):
    _, token = invitations.invitation_create(admin=root.user)
    response = signup(client, token, password_confirm="different")
    assert response.status_code == 400 and "The two passwords differ." in response.content.decode()
    response = signup(client, token, username="root")
    assert response.status_code == 409 and "That username is taken." in response.content.decode()
    response = signup(client, token, password="short")
    assert response.status_code == 400 and 'name="username"' in response.content.decode()
    assert signup(client, token).status_code == 200


@pytest.mark.parametrize("state", ["used", "expired", "revoked", "unknown"])
def test_invalid_links_get_one_and_the_same_page(root, client, state):
    invitation, token = invitations.invitation_create(admin=root.user, username_hint="hinted")
    if state == "used":
        invitations.invitation_accept(token=token, username="first", email="f@example.org", password=DEFAULT_PASSWORD)
        client = Client()
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif state == "revoked":
        invitations.invitation_revoke(admin=root.user, invitation_id=invitation.pk)
    else:
        token = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"
    for response in (client.get(f"/invite/{token}"), signup(client, token, username="another")):
        assert response.status_code == 404
        html = response.content.decode()
        assert "This invitation is not valid" in html
        for leak in ("used", "expired", "revoked", "hinted"):
            assert f"was {leak}" not in html and "hinted" not in html
    assert not User.objects.filter(username="another").exists()


def test_hostile_tokens_in_the_path_get_the_invalid_page(client):
    for token in ("%3Cscript%3E", "x" * 2000, "%00", "AAAA-AAAA%20OR%201=1"):
        response = client.get(f"/invite/{token}")
        assert response.status_code == 404
        assert b"This invitation is not valid" in response.content and b"<script>" not in response.content
    assert client.get("/invite/..%2F..%2Fetc").status_code == 404  # no such page at all


def test_a_signed_in_visitor_is_told_to_sign_out_first(root, admin_client):
    _, token = invitations.invitation_create(admin=root.user)
    html = admin_client.get(f"/invite/{token}").content.decode()
    assert "You are signed in as <strong>root</strong>" in html and 'name="password"' not in html
    response = signup(admin_client, token)
    assert response.status_code == 200 and not User.objects.filter(username="newbie").exists()


def test_signup_page_is_rate_limited_like_registration(root, client, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "register_ip": "1/h"}
    _, token = invitations.invitation_create(admin=root.user)
    _, token2 = invitations.invitation_create(admin=root.user)
    assert signup(client, token).status_code == 200
    response = signup(Client(), token2, username="second")
    assert response.status_code == 429 and response["Retry-After"]


# --- the API ------------------------------------------------------------------------------------------------------


def test_api_register_with_an_invitation(root, api_client):
    site_settings_update(admin=root.user, registration_open=False)
    _, token = invitations.invitation_create(admin=root.user, storage_quota="1 GiB")
    body = {"username": "cli-user", "email": "c@example.org", "password": DEFAULT_PASSWORD, "invitation": token}
    response = api_client.post("/api/v1/auth/register", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["user"]["quota"] == 1024**3 and KEY_RE.fullmatch(response.json()["recovery_key"])
    again = api_client.post("/api/v1/auth/register", {**body, "username": "other"}, format="json")
    assert again.status_code == 404 and again.json()["code"] == "invitation_not_valid"


@pytest.mark.parametrize("bad", [5, None, "", "x" * 129, ["a"], {"a": 1}])
def test_api_register_refuses_a_malformed_invitation(root, api_client, bad):
    body = {"username": "cli-user", "email": "c@example.org", "password": DEFAULT_PASSWORD, "invitation": bad}
    response = api_client.post("/api/v1/auth/register", body, format="json")
    assert response.status_code == 400 and "invitation" in response.json()["errors"]
    assert not User.objects.filter(username="cli-user").exists()


# --- the admin ----------------------------------------------------------------------------------------------------


def test_admin_creates_an_invitation_and_sees_the_link_once(admin_client, root):
    page = admin_client.get("/admin/accounts/invitation/add/")
    assert page.status_code == 200
    assert "an admin cannot create an account with its keys directly" in page.content.decode()
    response = admin_client.post(
        "/admin/accounts/invitation/add/",
        {"username_hint": "newbie", "role": "regular", "storage_quota": "5 GiB", "valid_days": "7"},
    )
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    link, token = LINK_RE.search(html).groups()
    assert "shown only this once" in html and "5 GiB" in html
    invitation = Invitation.objects.get()
    assert invitation.storage_quota == 5 * 1024**3 and invitation.created_by == root.user
    # the list and the read-only page show the invitation, never the link
    for url in ("/admin/accounts/invitation/", f"/admin/accounts/invitation/{invitation.pk}/change/"):
        listed = admin_client.get(url)
        assert listed.status_code == 200 and token not in listed.content.decode()
        assert "Pending" in listed.content.decode() and "5 GiB" in listed.content.decode()
    assert Client().get(link.replace("http://testserver", "")).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"storage_quota": "-1 GB"}, "A size cannot be negative."),
        ({"storage_quota": "huge"}, "Enter a size"),
        ({"valid_days": "0"}, "greater than or equal to 1"),
        ({"valid_days": "1000"}, "less than or equal to 90"),
        ({"valid_days": "soon"}, "Enter a whole number."),
        ({"role": "god"}, "Select a valid choice."),
        ({"username_hint": "<b>x</b>"}, "Use 3 to 64 letters"),
        ({"username_hint": "root"}, "That username is taken."),
        ({"username_hint": "a" * 65}, "at most 64 characters"),
    ],
)
def test_admin_invitation_form_errors(admin_client, data, message):
    form = {"username_hint": "", "role": "regular", "storage_quota": "5 GiB", "valid_days": "7", **data}
    response = admin_client.post("/admin/accounts/invitation/add/", form)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert "&lt;b&gt;" in response.content.decode() or "<b>x</b>" not in response.content.decode()
    assert not Invitation.objects.exists()


def test_admin_revokes_invitations_and_cannot_edit_or_delete_them(admin_client, root):
    invitation, token = invitations.invitation_create(admin=root.user)
    response = admin_client.post(
        "/admin/accounts/invitation/", {"action": "revoke", "_selected_action": [str(invitation.pk)]}
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at and Client().get(f"/invite/{token}").status_code == 404
    assert admin_client.get(f"/admin/accounts/invitation/{invitation.pk}/delete/").status_code == 403
    response = admin_client.post(f"/admin/accounts/invitation/{invitation.pk}/change/", {"role": "admin"})
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.role == "regular"


def test_regular_users_cannot_reach_invitations(client, account):
    assert client.post("/login", {"username": "alice", "password": account.password}).status_code == 302
    assert client.get("/admin/accounts/invitation/add/").status_code == 403
    response = client.post(
        "/admin/accounts/invitation/add/", {"role": "admin", "storage_quota": "1 GB", "valid_days": 7}
    )
    assert response.status_code == 403 and not Invitation.objects.exists()


def test_user_list_says_why_there_is_no_add_user_and_links_to_invite(admin_client):
    html = admin_client.get("/admin/accounts/user/").content.decode()
    assert 'data-testid="no-add-user"' in html and "must never know" in html
    assert "/admin/accounts/invitation/add/" in html
    assert admin_client.get("/admin/accounts/user/add/").status_code == 403


def test_invitation_secrets_stay_out_of_the_logs(root, client, caplog):
    """Like public links' (SECURITY.md property 10): the access log and Django's loggers redact the path."""
    import logging

    from locker.logredact import RedactLinkTokens, redact

    _, token = invitations.invitation_create(admin=root.user)
    line = f'"GET /invite/{token} HTTP/1.1" 200 - "https://locker.example/invite/{token}"'
    assert token not in redact(line) and redact(line).count("/invite/[link]") == 2
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found: %s", (f"/invite/{token}",), None)
    record.request = client.get(f"/invite/{token}").wsgi_request
    assert RedactLinkTokens().filter(record)
    assert token not in record.getMessage() and record.request is None
