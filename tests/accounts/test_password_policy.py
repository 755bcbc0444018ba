"""One password policy for every way an account gets a password.

At least 10 characters, not a common password, not all digits, not like the
username or email, at most 1024 characters: for ``createsuperuser`` (interactive,
even when asked to bypass validation, and ``--noinput`` with
``DJANGO_SUPERUSER_PASSWORD``), the user manager, registration (API and page),
password change, recovery and the admin's reset. The API paths are also
covered one by one in ``test_bad_input.py``.
"""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Keyring, User
from tests.factories import DEFAULT_PASSWORD, make_account

pytestmark = pytest.mark.django_db

STRONG = "a long enough passphrase 42"
WEAK = [
    pytest.param("Xq7!p", id="five-characters"),
    pytest.param("Xq7!pz#", id="too-short"),
    pytest.param("password123", id="common"),
    pytest.param("80451296734", id="all-numeric"),
    pytest.param("{username}1", id="like-the-username"),
    pytest.param("x" * 1025 + "Q7!", id="too-long"),
]
USERNAME = "rosalinda"


class TTY(io.StringIO):
    """What createsuperuser needs of stdin to prompt: a terminal."""

    def isatty(self):
        return True


@pytest.mark.parametrize("weak", WEAK)
def test_createsuperuser_noinput_refuses_a_weak_password(monkeypatch, weak):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", weak.format(username=USERNAME))
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser", interactive=False, username=USERNAME, email="r@example.org", stdout=io.StringIO()
        )
    assert not User.objects.filter(username=USERNAME).exists()


def test_createsuperuser_noinput_accepts_a_strong_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", interactive=False, username=USERNAME, email="r@example.org", stdout=io.StringIO())
    user = User.objects.get(username=USERNAME)
    assert user.is_admin and user.check_password(STRONG)


@pytest.mark.parametrize("weak", WEAK)
def test_createsuperuser_interactive_refuses_a_weak_password_even_when_told_to_bypass(monkeypatch, weak):
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": weak.format(username=USERNAME))
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")  # "Bypass password validation ... anyway? [y/N]"
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser",
            interactive=True,
            username=USERNAME,
            email="r@example.org",
            stdin=TTY(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not User.objects.filter(username=USERNAME).exists()


def test_createsuperuser_interactive_accepts_a_strong_password(monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": STRONG)
    call_command(
        "createsuperuser",
        interactive=True,
        username=USERNAME,
        email="r@example.org",
        stdin=TTY(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert User.objects.get(username=USERNAME).check_password(STRONG)


@pytest.mark.parametrize("weak", WEAK)
def test_the_user_manager_refuses_a_weak_password(weak):
    for create in (User.objects.create_user, User.objects.create_superuser):
        with pytest.raises(ValidationError):
            create(USERNAME, "r@example.org", weak.format(username=USERNAME))
    assert not User.objects.filter(username=USERNAME).exists()


def test_the_user_manager_without_a_password_makes_an_account_that_cannot_sign_in():
    """``createsuperuser --noinput`` without DJANGO_SUPERUSER_PASSWORD: no password at all, so none to guess."""
    user = User.objects.create_superuser(USERNAME, "r@example.org")
    assert not user.has_usable_password()


@pytest.mark.parametrize("weak", WEAK)
def test_register_page_refuses_a_weak_password(client, weak):
    password = weak.format(username=USERNAME)
    response = client.post(
        "/register",
        {"username": USERNAME, "email": "r@example.org", "password": password, "password_confirm": password},
    )
    assert response.status_code == 400
    assert not User.objects.filter(username=USERNAME).exists()


@pytest.mark.parametrize("weak", WEAK)
def test_password_change_and_recovery_pages_refuse_a_weak_password(weak):
    account = make_account(USERNAME)
    password = weak.format(username=USERNAME)
    client = Client()
    assert client.post("/login", {"username": USERNAME, "password": DEFAULT_PASSWORD}).status_code == 302
    changed = client.post(
        "/settings/password",
        {"old_password": DEFAULT_PASSWORD, "new_password": password, "new_password_confirm": password},
    )
    assert changed.status_code == 400
    recovered = Client().post(
        "/recover", {"username": USERNAME, "recovery_key": account.recovery_key, "new_password": password}
    )
    assert recovered.status_code == 400
    assert User.objects.get(username=USERNAME).check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("weak", WEAK)
def test_admin_reset_refuses_a_weak_password(weak):
    root = make_account("root", role=User.Role.ADMIN)
    account = make_account(USERNAME)
    client = Client()
    assert client.post("/login", {"username": "root", "password": root.password}).status_code == 302
    url = f"/admin/accounts/user/{account.user.pk}/reset-password/"
    response = client.post(url, {"new_password": weak.format(username=USERNAME), "confirm": "on"})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert Keyring.objects.filter(user=account.user).exists()
    assert User.objects.get(username=USERNAME).check_password(DEFAULT_PASSWORD)
