"""App-password names are user-chosen text: sealed at rest like every other name (SECURITY.md property 6).

Each app password has its own random key, wrapped by the user's data key; the
name is sealed under it with associated data binding it to owner, row and
field. Rows made before names were sealed are converted by a migration, which
has no data key: it wraps each row's key to the user's X25519 public key.
"""

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.test import APIClient

from accounts import app_passwords as app_passwords
from accounts import keys as account_keys
from accounts import services
from accounts.keys import AccountKeys
from accounts.models import AppPassword, Keyring
from locker.crypto import DecryptionError
from locker.crypto.keys import (
    b64e,
    generate_typable_secret,
    generate_x25519_keypair,
    new_key,
    parse_typable_secret,
    secret_verifier,
    wrap_format,
    wrap_with_key,
    wrap_with_password,
    wrap_with_secret,
)
from tests.accounts.test_at_rest import _every_stored_value
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "QUOKKA-laptop-sync-7f3a"


def _stored_anywhere(text: str) -> bool:
    return any(text in (v.decode(errors="ignore") if isinstance(v, bytes) else v) for v in _every_stored_value())


def test_name_is_sealed_at_rest_and_shown_to_its_owner(auth_client, account):
    created = auth_client.post("/api/v1/auth/app-passwords/", {"name": MARKER}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == MARKER
    assert not _stored_anywhere(MARKER)
    assert not _stored_anywhere("QUOKKA")

    row = AppPassword.objects.get(pk=created.json()["id"])
    assert wrap_format(row.key_wrapped) == "key"
    listing = auth_client.get("/api/v1/auth/app-passwords/")
    assert listing.status_code == 200
    assert [item["name"] for item in listing.json()["results"]] == [MARKER]

    # over HTTP Basic with the app password itself, the list is readable too
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION=_basic(account.username, created.json()["password"]))
    assert [item["name"] for item in basic.get("/api/v1/auth/app-passwords/").json()["results"]] == [MARKER]


def test_a_sealed_name_moved_to_another_row_does_not_open(account):
    udk = services.keyring_unlock(user=account.user, password=account.password)
    first, _ = app_passwords.app_password_create(user=account.user, udk=udk, name="first")
    second, _ = app_passwords.app_password_create(user=account.user, udk=udk, name="second")
    AppPassword.objects.filter(pk=second.pk).update(key_wrapped=first.key_wrapped, name_sealed=first.name_sealed)
    keys = AccountKeys(account.user.pk, udk)
    assert keys.app_password_name(AppPassword.objects.get(pk=first.pk)) == "first"
    with pytest.raises(DecryptionError):
        keys.app_password_name(AppPassword.objects.get(pk=second.pk))


def test_settings_page_shows_names_when_unlocked_and_hides_them_when_locked(account):
    browser = Client()
    assert browser.post("/login", {"username": account.username, "password": account.password}).status_code == 302
    assert browser.post("/settings/app-passwords", {"name": MARKER}).status_code == 201
    assert MARKER in browser.get("/settings").content.decode()
    assert not _stored_anywhere(MARKER)

    locked = Client()
    locked.force_login(account.user)  # signed in, but without the unlock cookie
    page = locked.get("/settings")
    html = page.content.decode()
    assert page.status_code == 200
    assert MARKER not in html and 'data-testid="app-password-row"' in html
    assert "hidden while your vault is locked" in html
    row = AppPassword.objects.get(user=account.user)
    assert locked.post(f"/settings/app-passwords/{row.pk}/revoke").status_code == 302  # revoking needs no key
    assert not AppPassword.objects.exists()


def test_list_api_with_a_locked_browser_session_is_423(account):
    udk = services.keyring_unlock(user=account.user, password=account.password)
    app_passwords.app_password_create(user=account.user, udk=udk, name=MARKER)
    client = Client()
    client.force_login(account.user)
    response = client.get("/api/v1/auth/app-passwords/")
    assert response.status_code == 423 and response.json()["code"] == "vault_locked"


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- the migration that seals names stored before ---------------------------------------------------------------------

BEFORE = [("accounts", "0002_user_vault_keep_versions")]


def _latest_accounts_migration() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] == "accounts"]


def test_migration_seals_existing_plaintext_names_and_they_survive():
    """GIVEN rows stored with plaintext names (schema 0002) WHEN the migration runs THEN no plaintext is left,
    each name opens with the owner's data key, and the app password still signs in and unlocks."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    User = old_apps.get_model("accounts", "User")
    OldKeyring = old_apps.get_model("accounts", "Keyring")
    OldAppPassword = old_apps.get_model("accounts", "AppPassword")

    user = User.objects.create(username="olga", email="olga@example.org", password="!")
    udk = new_key()
    private_raw, public_raw = generate_x25519_keypair()
    OldKeyring.objects.create(
        user=user,
        udk_by_password=wrap_with_password(
            udk, DEFAULT_PASSWORD, services.current_kdf_params(), aad=account_keys.aad_password(user.pk)
        ),
        udk_by_recovery="unused",
        public_key=b64e(public_raw),
        private_key_wrapped=wrap_with_key(private_raw, udk, aad=services.aad_private_key(user.pk)),
    )
    names = ["laptop " + MARKER, "phone ☎ sync", "x"]
    passwords = {}
    for name in names:
        password = generate_typable_secret()
        secret = parse_typable_secret(password)
        row = OldAppPassword(user=user, name=name, verifier=secret_verifier(secret, purpose="app-password"))
        row.udk_wrapped = wrap_with_secret(
            udk, secret, purpose="app-password", aad=account_keys.aad_app_password(user.pk, row.pk)
        )
        row.save()
        passwords[row.pk] = (name, password)
    if connection.vendor == "sqlite":  # a long-lived database: the plaintext is in the file itself, not only the log
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert MARKER.encode() in Path(connection.settings_dict["NAME"]).read_bytes()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(_latest_accounts_migration())

    assert not _stored_anywhere(MARKER)
    assert not _stored_anywhere("phone ☎ sync")
    if connection.vendor == "sqlite":  # nor in the file's free pages or its write-ahead log
        path = Path(connection.settings_dict["NAME"])
        for part in (path, path.with_name(path.name + "-wal")):
            assert not part.exists() or MARKER.encode() not in part.read_bytes(), part
    keys = AccountKeys(user.pk, udk)
    for row in AppPassword.objects.filter(user_id=user.pk):
        assert wrap_format(row.key_wrapped) == "x25519"
        name, password = passwords[row.pk]
        assert keys.app_password_name(row) == name
        found = app_passwords.app_password_unlock(username="olga", password=password)
        assert found is not None and found[2] == udk
    assert Keyring.objects.filter(user_id=user.pk).exists()
