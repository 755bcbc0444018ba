"""SECURITY.md property 1 and 4 at rest (issue acceptance 2).

GIVEN a user who registered, logged in through the API and the browser and
made an app password, WHEN every client-held secret (password, recovery key,
app password, tokens, cookies) is thrown away, THEN nothing in the database
plus the server's own secrets (SECRET_KEY, JWT signing key) unwraps the
user's data key; and WITH any one of those client secrets, it does.
"""

import base64
import binascii
import itertools

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import UntypedToken

from accounts import keys as account_keys
from accounts import services
from accounts import sessions as account_sessions
from accounts.models import AppPassword, Keyring, UnlockSession
from accounts.tokens import session_from_token
from accounts.unlock import parse_cookie
from locker.crypto import DecryptionError, FormatError
from locker.crypto.aead import open_sealed
from locker.crypto.keys import (
    b64d,
    parse_typable_secret,
    unwrap_with_password,
    unwrap_with_secret,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def _every_stored_value() -> list[str | bytes]:
    """Every non-null value of every column of every table, as the database holds it."""
    values: list[str | bytes] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                values.extend(v if isinstance(v, str | bytes) else str(v) for v in row if v is not None)
    return values


def _session_payloads() -> list[str]:
    """Django sessions decoded with SECRET_KEY: what a server-side attacker also reads."""
    return [str(value) for s in Session.objects.all() for value in s.get_decoded().values()]


def _candidates(values: list[str | bytes]) -> set[bytes]:
    """Every plausible key material an attacker could try: raw values, base64- and hex-decoded, split on separators."""
    out: set[bytes] = set()
    for value in values:
        raw = value if isinstance(value, bytes) else value.encode()
        out.add(raw)
        text = raw.decode(errors="ignore")
        for piece in itertools.chain([text], text.replace("$", ".").replace(":", ".").split(".")):
            out.add(piece.encode())
            for decode in (
                lambda p: base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)),
                lambda p: base64.b64decode(p + "=" * (-len(p) % 4)),
                bytes.fromhex,
            ):
                try:
                    out.add(decode(piece))
                except (binascii.Error, ValueError):
                    pass
    for server_secret in (settings.SECRET_KEY, settings.JWT_SIGNING_KEY):
        out.add(server_secret.encode())
    for value in values:  # any stored JWT's encrypted claim, opened with the server's key
        text = value.decode(errors="ignore") if isinstance(value, bytes) else value
        try:
            parsed = session_from_token(UntypedToken(text))
        except Exception:  # noqa: BLE001 - not a token
            parsed = None
        if parsed:
            out.add(parsed[1])
    return {c for c in out if c}


def _open_any_wrap(user, candidate: bytes) -> bytes | None:
    """Try ``candidate`` as password, recovery key, app password, session secret and raw key on every wrap."""
    keyring = Keyring.objects.get(user=user)
    attempts = []
    text = candidate.decode(errors="ignore")
    if text:
        attempts.append(
            lambda: unwrap_with_password(keyring.udk_by_password, text, aad=account_keys.aad_password(user.pk))
        )
    secrets_to_try = [candidate]
    try:
        secrets_to_try.append(parse_typable_secret(text))
    except FormatError:
        pass
    for secret in secrets_to_try:
        attempts.append(
            lambda s=secret: unwrap_with_secret(
                keyring.udk_by_recovery, s, purpose="recovery", aad=account_keys.aad_recovery(user.pk)
            )
        )
        for row in AppPassword.objects.filter(user=user):
            attempts.append(
                lambda s=secret, r=row: unwrap_with_secret(
                    r.udk_wrapped, s, purpose="app-password", aad=account_keys.aad_app_password(user.pk, r.pk)
                )
            )
        for session in UnlockSession.objects.filter(user=user):
            attempts.append(
                lambda s=secret, r=session: unwrap_with_secret(
                    r.udk_wrapped, s, purpose="session", aad=account_keys.aad_session(user.pk, r.pk)
                )
            )
    if len(candidate) == 32:  # a raw 32-byte value tried directly as the key-encryption key of every wrap
        wraps = [
            (keyring.udk_by_password, account_keys.aad_password(user.pk)),
            (keyring.udk_by_recovery, account_keys.aad_recovery(user.pk)),
            *(
                (r.udk_wrapped, account_keys.aad_app_password(user.pk, r.pk))
                for r in AppPassword.objects.filter(user=user)
            ),
            *(
                (r.udk_wrapped, account_keys.aad_session(user.pk, r.pk))
                for r in UnlockSession.objects.filter(user=user)
            ),
        ]
        for wrapped, aad in wraps:
            attempts.append(lambda w=wrapped, a=aad: open_sealed(candidate, b64d(w.rsplit("$", 1)[1]), aad=a))
    for attempt in attempts:
        try:
            return attempt()
        except (DecryptionError, FormatError, ValueError):
            continue
    return None


def test_nothing_at_rest_unwraps_the_udk_but_any_client_secret_does(client):
    api = APIClient()
    registered = api.post(
        "/api/v1/auth/register", {"username": "alice", "email": "a@example.org", "password": PASSWORD}, format="json"
    ).json()
    recovery_key = registered["recovery_key"]
    tokens = api.post("/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json").json()
    # a rotation stores a new outstanding refresh token: it must not carry the secret either
    tokens = api.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    app_password = api.post("/api/v1/auth/app-passwords/", {"name": "cli"}, format="json").json()["password"]
    assert client.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 302
    cookie = client.cookies[settings.LOCKER_UNLOCK_COOKIE].value

    from accounts.models import User

    user = User.objects.get(username="alice")
    udk = services.auth_login(username="alice", password=PASSWORD, kind="token")
    udk = account_sessions.unlock_session_udk(
        user_id=user.pk, session_id=udk.session.pk, session_secret=udk.session_secret
    )

    # --- the attacker's view: the database and the server's secrets, nothing the clients hold ---
    stored = _every_stored_value() + _session_payloads()
    for secret in (PASSWORD, recovery_key, app_password, tokens["access"], tokens["refresh"], cookie):
        assert not any(secret in (v.decode(errors="ignore") if isinstance(v, bytes) else v) for v in stored), secret
    candidates = _candidates(stored)
    assert len(candidates) > 100  # the search really covered the database
    opened = [c for c in candidates if _open_any_wrap(user, c) is not None]
    assert opened == []

    # --- with any single client secret, the data key comes back ---
    assert _open_any_wrap(user, PASSWORD.encode()) == udk
    assert _open_any_wrap(user, recovery_key.encode()) == udk
    assert _open_any_wrap(user, app_password.encode()) == udk
    for jwt in (tokens["access"], tokens["refresh"]):
        session_id, session_secret = session_from_token(UntypedToken(jwt))
        assert (
            account_sessions.unlock_session_udk(user_id=user.pk, session_id=session_id, session_secret=session_secret)
            == udk
        )
    session_id, session_secret = parse_cookie(cookie)
    assert (
        account_sessions.unlock_session_udk(user_id=user.pk, session_id=session_id, session_secret=session_secret)
        == udk
    )


def test_a_copy_of_the_session_table_names_no_browser_session(client, account):
    """Django keeps a database session under its cookie's value; Locker keeps only a hash of it
    (accounts.session_store): presenting what the table holds signs nobody in."""
    from django.conf import settings as django_settings
    from django.urls import reverse

    client.post(reverse("login"), {"username": "alice", "password": account.password})
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    [row] = Session.objects.all()
    assert row.session_key != cookie and cookie not in row.session_key
    assert client.get("/api/v1/me").status_code == 200  # the browser itself is signed in
    thief = type(client)()
    thief.cookies[django_settings.SESSION_COOKIE_NAME] = row.session_key
    assert thief.get("/api/v1/me").status_code in (401, 403)
    client.post(reverse("logout"))
    assert not Session.objects.exists() or Session.objects.get().session_key != row.session_key
