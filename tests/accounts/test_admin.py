"""The Django admin for the Admin role: manage accounts, never content."""

import pytest
from django.test import Client

from accounts.models import Keyring, User
from activity.models import Event
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    admin = make_account("root", role=User.Role.ADMIN)
    client = Client()
    assert client.post("/login", {"username": "root", "password": admin.password}).status_code == 302
    client.admin = admin.user
    return client


def test_regular_user_cannot_use_admin(client, account):
    """GIVEN a signed-in Regular user WHEN they open any admin page THEN a plain 'not allowed' page (403),
    not a redirect to the sign-in page (which, already signed in, sent them back: an endless loop)."""
    assert client.post("/login", {"username": "alice", "password": account.password}).status_code == 302
    for url in ("/admin/", f"/admin/accounts/user/{account.user.pk}/change/", "/admin/activity/event/"):
        response = client.get(url, follow=True)
        assert response.status_code == 403, (url, response.redirect_chain)
        assert response.redirect_chain == []
        html = response.content.decode()
        assert "Not allowed" in html and "only for administrators" in html and "alice" in html
        assert "Sign out" in html  # the site's own page, signed in
    # a POST is refused the same way, and changes nothing
    response = client.post(f"/admin/accounts/user/{account.user.pk}/change/", {"role": "admin", "email": "x@y.z"})
    assert response.status_code == 403
    account.user.refresh_from_db()
    assert account.user.role == User.Role.REGULAR
    # the admin's sign-in address does not loop either
    response = client.get("/admin/login/?next=/admin/", follow=True)
    assert response.status_code == 403 and len(response.redirect_chain) <= 2


def test_anonymous_visitor_of_admin_is_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_admin_login_page_goes_through_the_unlocking_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_admin_lists_and_edits_users_through_the_service(admin_client, account):
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    url = f"/admin/accounts/user/{account.user.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b"destroys this user" in page.content
    response = admin_client.post(url, {"email": "new@example.org", "role": "regular", "storage_quota": 12345})
    assert response.status_code == 302, response.content
    account.user.refresh_from_db()
    assert account.user.email == "new@example.org" and account.user.storage_quota == 12345
    assert not account.user.is_active  # the checkbox was left unticked
    event = Event.objects.get(action="account.updated", user=account.user)
    assert event.data["by"] == str(admin_client.admin.pk) and "is_active" in event.data["fields"]


def test_admin_deactivate_action(admin_client, account):
    response = admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [str(account.user.pk)]}
    )
    assert response.status_code == 302
    account.user.refresh_from_db()
    assert not account.user.is_active


def test_admin_cannot_delete_or_add_users(admin_client, account):
    assert admin_client.get("/admin/accounts/user/add/").status_code == 403
    assert admin_client.get(f"/admin/accounts/user/{account.user.pk}/delete/").status_code == 403


def test_admin_reset_warns_then_destroys_vault(admin_client, account):
    url = f"/admin/accounts/user/{account.user.pk}/reset-password/"
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "This destroys alice" in text and "cannot be decrypted by anyone" in text
    # without ticking the confirmation, nothing happens
    unconfirmed = admin_client.post(url, {"new_password": "a brand new passphrase"})
    assert unconfirmed.status_code == 200 and Keyring.objects.filter(user=account.user).exists()
    done = admin_client.post(url, {"new_password": "a brand new passphrase", "confirm": "on"})
    assert done.status_code == 302
    assert not Keyring.objects.filter(user=account.user).exists()
    assert Event.objects.filter(action="account.admin_reset", user=account.user).exists()


def test_admin_reset_rejects_weak_password(admin_client, account):
    url = f"/admin/accounts/user/{account.user.pk}/reset-password/"
    response = admin_client.post(url, {"new_password": "123", "confirm": "on"})
    assert response.status_code == 200 and b"too short" in response.content
    assert Keyring.objects.filter(user=account.user).exists()


def test_activity_admin_is_read_only(admin_client, account):
    event = Event.objects.filter(user=account.user).first()
    assert admin_client.get("/admin/activity/event/").status_code == 200
    assert admin_client.get(f"/admin/activity/event/{event.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/activity/event/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/activity/event/add/").status_code == 403


def test_admin_pages_show_no_key_material(admin_client, account):
    keyring = Keyring.objects.get(user=account.user)
    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{account.user.pk}/change/"):
        html = admin_client.get(url).content.decode()
        assert keyring.udk_by_password not in html and keyring.private_key_wrapped not in html


def test_createsuperuser_gives_admin_role():
    make_account  # noqa: B018 - imported for the fixture module
    User.objects.create_superuser("boss", "b@example.org", "boss password long enough")
    boss = User.objects.get(username="boss")
    assert boss.role == User.Role.ADMIN and boss.is_staff and boss.is_superuser


def test_admin_password_change_and_logout_go_through_our_pages(admin_client):
    """Django's own admin password form would change the hash without re-wrapping the data key."""
    response = admin_client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"].startswith("/settings")
    assert admin_client.post("/admin/logout/").status_code == 302
    from accounts.models import UnlockSession

    assert not UnlockSession.objects.filter(user=admin_client.admin).exists()
    assert admin_client.get("/admin/").status_code == 302
