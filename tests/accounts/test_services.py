"""Account services: the key system of SECURITY.md properties 1-5 and 11."""

import pytest

from accounts import app_passwords as app_passwords
from accounts import keys as account_keys
from accounts import services
from accounts import sessions as account_sessions
from accounts.models import AppPassword, Keyring, UnlockSession, User
from activity.models import Event
from locker.crypto import DecryptionError
from locker.crypto.aead import context, open_sealed, seal
from locker.crypto.kdf import Argon2Params
from locker.crypto.keys import (
    b64d,
    parse_typable_secret,
    password_wrap_params,
    unwrap_with_key,
    unwrap_with_password,
    unwrap_with_secret,
    x25519_public_from_private,
)
from locker.errors import InvalidCredentials, InvalidInput, VaultLocked
from tests.factories import make_account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def udk_by_password(user, password) -> bytes:
    keyring = Keyring.objects.get(user=user)
    return unwrap_with_password(keyring.udk_by_password, password, aad=account_keys.aad_password(user.pk))


def udk_by_recovery(user, recovery_key) -> bytes:
    keyring = Keyring.objects.get(user=user)
    return unwrap_with_secret(
        keyring.udk_by_recovery,
        parse_typable_secret(recovery_key),
        purpose="recovery",
        aad=account_keys.aad_recovery(user.pk),
    )


def some_data(udk: bytes, user) -> bytes:
    """Stand-in for vault content: a value sealed under the user's data key."""
    return seal(udk, b"my private note", aad=context("test-data", user.pk))


def read_data(udk: bytes, user, sealed: bytes) -> bytes:
    return open_sealed(udk, sealed, aad=context("test-data", user.pk))


def test_register_creates_keyring_with_params_and_keypair(account):
    keyring = Keyring.objects.get(user=account.user)
    assert password_wrap_params(keyring.udk_by_password) == Argon2Params(1024, 1, 1)  # tests/settings.py
    udk = udk_by_password(account.user, account.password)
    assert udk == udk_by_recovery(account.user, account.recovery_key)
    private = unwrap_with_key(keyring.private_key_wrapped, udk, aad=services.aad_private_key(account.user.pk))
    assert x25519_public_from_private(private) == b64d(keyring.public_key)
    # the login password hash is separate from the KEK derivation
    assert account.user.password.startswith("argon2$") and account.user.password not in keyring.udk_by_password


def test_login_opens_session_and_records_event(account):
    result = services.auth_login(username="ALICE", password=account.password, kind="token")
    assert result.user == account.user and result.recovery_key is None
    udk = account_sessions.unlock_session_udk(
        user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
    )
    assert udk == udk_by_password(account.user, account.password)
    assert Event.objects.filter(user=account.user, action="auth.login", outcome="success").count() == 1


def test_session_secret_is_needed_to_unlock(account):
    result = services.auth_login(username="alice", password=account.password, kind="token")
    with pytest.raises(VaultLocked):
        account_sessions.unlock_session_udk(
            user_id=account.user.pk, session_id=result.session.pk, session_secret=b"x" * 32
        )
    with pytest.raises(VaultLocked):  # another user's id with the right secret
        other = make_account("bob")
        account_sessions.unlock_session_udk(
            user_id=other.user.pk, session_id=result.session.pk, session_secret=result.session_secret
        )


def test_expired_session_is_locked_and_deleted(account):
    from datetime import timedelta

    from django.utils import timezone

    result = services.auth_login(username="alice", password=account.password, kind="token")
    UnlockSession.objects.filter(pk=result.session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(VaultLocked):
        account_sessions.unlock_session_udk(
            user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
        )
    assert not UnlockSession.objects.filter(pk=result.session.pk).exists()


def test_login_upgrades_weak_kdf_parameters(account, settings):
    settings.LOCKER_KDF_PARAMS = {"memory_cost": 2048, "time_cost": 2, "parallelism": 1}
    udk_before = udk_by_password(account.user, account.password)
    services.auth_login(username="alice", password=account.password, kind="token")
    keyring = Keyring.objects.get(user=account.user)
    assert password_wrap_params(keyring.udk_by_password) == Argon2Params(2048, 2, 1)
    assert udk_by_password(account.user, account.password) == udk_before


def test_login_provisions_keys_for_a_user_without_any(db):
    """GIVEN an account made by createsuperuser (no keys) WHEN it logs in THEN it gets keys and a recovery key."""
    User.objects.create_superuser("root", "root@example.org", "root password long enough")
    result = services.auth_login(username="root", password="root password long enough", kind="browser")
    assert result.recovery_key
    assert result.user.role == User.Role.ADMIN and result.user.is_staff
    assert udk_by_recovery(result.user, result.recovery_key) == udk_by_password(
        result.user, "root password long enough"
    )


def test_inactive_user_cannot_log_in(account):
    User.objects.filter(pk=account.user.pk).update(is_active=False)
    with pytest.raises(InvalidCredentials) as info:
        services.auth_login(username="alice", password=account.password, kind="token")
    assert info.value.code == "account_inactive"


def test_password_change_rewraps_only(account):
    """Property 2: the UDK stays the same; data sealed under it stays readable with the new password only."""
    udk = udk_by_password(account.user, account.password)
    sealed = some_data(udk, account.user)
    keyring_before = Keyring.objects.get(user=account.user)
    services.password_change(user=account.user, old_password=account.password, new_password=NEW_PASSWORD)
    keyring_after = Keyring.objects.get(user=account.user)
    assert read_data(udk_by_password(account.user, NEW_PASSWORD), account.user, sealed) == b"my private note"
    with pytest.raises(DecryptionError):
        udk_by_password(account.user, account.password)
    # only the password wrap changed: recovery wrap and key pair are untouched (O(1) in the data)
    assert keyring_after.udk_by_recovery == keyring_before.udk_by_recovery
    assert keyring_after.private_key_wrapped == keyring_before.private_key_wrapped
    assert keyring_after.udk_by_password != keyring_before.udk_by_password


def test_password_change_ends_all_sessions(account):
    for _ in range(3):
        services.auth_login(username="alice", password=account.password, kind="token")
    services.password_change(user=account.user, old_password=account.password, new_password=NEW_PASSWORD)
    assert not UnlockSession.objects.filter(user=account.user).exists()


def test_recovery_keeps_data_and_rotates_key(account):
    udk = udk_by_password(account.user, account.password)
    sealed = some_data(udk, account.user)
    new_key = services.account_recover(username="alice", recovery_key=account.recovery_key, new_password=NEW_PASSWORD)
    assert new_key != account.recovery_key
    assert read_data(udk_by_password(account.user, NEW_PASSWORD), account.user, sealed) == b"my private note"
    assert read_data(udk_by_recovery(account.user, new_key), account.user, sealed) == b"my private note"
    with pytest.raises(DecryptionError):
        udk_by_recovery(account.user, account.recovery_key)
    assert Event.objects.filter(user=account.user, action="auth.recovery_used", outcome="success").exists()


def test_recovery_with_wrong_key_changes_nothing(account, other_account):
    before = Keyring.objects.get(user=account.user).udk_by_password
    for key in (other_account.recovery_key, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "not a key"):
        with pytest.raises(InvalidInput) as info:
            services.account_recover(username="alice", recovery_key=key, new_password=NEW_PASSWORD)
        assert info.value.code == "invalid_recovery"
    assert Keyring.objects.get(user=account.user).udk_by_password == before
    assert udk_by_password(account.user, account.password)


def test_admin_reset_without_recovery_key_gives_an_empty_vault(account):
    admin = make_account("root", role=User.Role.ADMIN).user
    old_udk = udk_by_password(account.user, account.password)
    sealed = some_data(old_udk, account.user)
    old_keyring = Keyring.objects.get(user=account.user)
    app_passwords.app_password_create(user=account.user, udk=old_udk, name="cli")

    services.user_admin_reset(admin=admin, user=account.user, new_password=NEW_PASSWORD)

    assert not Keyring.objects.filter(user=account.user).exists()
    assert not AppPassword.objects.filter(user=account.user).exists()
    result = services.auth_login(username="alice", password=NEW_PASSWORD, kind="browser")
    assert result.recovery_key  # a new vault, announced with a new recovery key
    new_udk = udk_by_password(account.user, NEW_PASSWORD)
    assert new_udk != old_udk
    with pytest.raises(DecryptionError):
        read_data(new_udk, account.user, sealed)
    # nothing left in the database opens the old wraps with the new secrets
    with pytest.raises(DecryptionError):
        unwrap_with_password(old_keyring.udk_by_password, NEW_PASSWORD, aad=account_keys.aad_password(account.user.pk))
    assert Event.objects.filter(user=account.user, action="account.admin_reset").exists()


def test_app_password_unlocks_and_revocation_shreds(account):
    udk = udk_by_password(account.user, account.password)
    row, password = app_passwords.app_password_create(user=account.user, udk=udk, name="  webdav   client ")
    assert row.name == "webdav client"
    user, found, unlocked = app_passwords.app_password_unlock(username="Alice", password=password.lower())
    assert user == account.user and found == row and unlocked == udk
    assert app_passwords.app_password_unlock(username="bob", password=password) is None
    app_passwords.app_password_revoke(user=account.user, app_password_id=row.pk)
    assert app_passwords.app_password_unlock(username="alice", password=password) is None


def test_account_delete_destroys_keys_first(account):
    udk = udk_by_password(account.user, account.password)
    app_passwords.app_password_create(user=account.user, udk=udk, name="cli")
    services.auth_login(username="alice", password=account.password, kind="token")
    with pytest.raises(InvalidInput):
        services.account_delete(user=account.user, password="wrong password")
    assert User.objects.filter(pk=account.user.pk).exists()
    services.account_delete(user=account.user, password=account.password)
    assert not User.objects.filter(pk=account.user.pk).exists()
    assert not Keyring.objects.exists() and not AppPassword.objects.exists() and not UnlockSession.objects.exists()


def test_admin_update_deactivation_ends_sessions(account):
    admin = make_account("root", role=User.Role.ADMIN).user
    services.auth_login(username="alice", password=account.password, kind="token")
    services.user_admin_update(admin=admin, user=account.user, changes={"is_active": False, "storage_quota": 1000})
    account.user.refresh_from_db()
    assert not account.user.is_active and account.user.storage_quota == 1000
    assert not UnlockSession.objects.filter(user=account.user).exists()
    with pytest.raises(InvalidInput):
        services.user_admin_update(admin=admin, user=admin, changes={"is_active": False})
    with pytest.raises(InvalidInput):
        services.user_admin_update(admin=admin, user=account.user, changes={"password": "x"})


def test_username_with_trailing_newline_is_refused(db):
    with pytest.raises(InvalidInput):
        services.user_register(username="carol\n", email="c@example.org", password="correct horse battery staple")
