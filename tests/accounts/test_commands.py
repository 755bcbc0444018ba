"""manage.py housekeeping commands."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
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
