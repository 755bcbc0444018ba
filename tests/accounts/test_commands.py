"""manage.py housekeeping commands."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import UnlockSession

pytestmark = pytest.mark.django_db


def test_locker_cleanup_removes_only_expired(account, api_client):
    account.login(api_client)
    live = services.auth_login(username="alice", password=account.password, kind="token").session
    expired = services.auth_login(username="alice", password=account.password, kind="token").session
    UnlockSession.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    OutstandingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("locker_cleanup", stdout=out)
    assert "Deleted 1 expired unlock session(s) and 1 expired token record(s)." in out.getvalue()
    assert UnlockSession.objects.filter(pk=live.pk).exists()
    assert not UnlockSession.objects.filter(pk=expired.pk).exists()


def _answers(monkeypatch, *answers):
    replies = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(replies))


@pytest.mark.django_db
def test_changepassword_keeps_the_data_readable_and_ends_the_sessions(account, monkeypatch):
    """Django's own command changed only the hash: the data key stayed wrapped by the old password."""
    udk = services.keyring_unlock(user=account.user, password=account.password)
    account.login(APIClient())
    new = "a brand new long passphrase"
    _answers(monkeypatch, account.password, new, new)
    call_command("changepassword", account.user.username)
    account.user.refresh_from_db()
    assert account.user.check_password(new)
    assert services.keyring_unlock(user=account.user, password=new) == udk  # the same data key, under the new password
    assert not UnlockSession.objects.filter(user=account.user).exists()


@pytest.mark.django_db
def test_changepassword_without_the_current_password_changes_nothing_and_says_what_to_do(account, monkeypatch):
    new = "a brand new long passphrase"
    _answers(monkeypatch, *(["not it", new, new] * 3))
    with pytest.raises(CommandError, match="recovery key"):
        call_command("changepassword", account.user.username)
    account.user.refresh_from_db()
    assert account.user.check_password(account.password)
    _answers(monkeypatch, account.password, "short", "short", account.password, new, "different", *(["x"] * 3))
    with pytest.raises(CommandError):
        call_command("changepassword", account.user.username)
    account.user.refresh_from_db()
    assert account.user.check_password(account.password)
    with pytest.raises(CommandError, match="No user"):
        call_command("changepassword", "nobody")
