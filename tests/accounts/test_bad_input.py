"""Bad input to the accounts API: every case gets a clear 4xx JSON error and changes nothing.

API.md: every error is ``{"code": "<stable_snake_case>", "detail": "<sentence>", "errors"?: {field: [messages]}}``
with 400 validation, 401 credentials, 404 not found or not yours, 409 conflict, 413 too large, 415 unsupported
type, 423 vault locked, 429 rate limited (with ``Retry-After``); never a 500, never an HTML error page under /api/.

The tables below drive the tests. Each bad request is followed by a check that the database's account state
(users, password hashes, keyrings, app passwords, unlock sessions, JWT bookkeeping) is exactly what it was.
Activity events are left out of that check on purpose: failed logins and the like are *meant* to be recorded.
"""

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings
from django.test.client import FakePayload
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import AppPassword, Keyring, UnlockSession, User
from activity.models import Event
from tests.factories import DEFAULT_PASSWORD, Account, make_account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"
CODE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# --- helpers -------------------------------------------------------------------------------------------------------


def assert_error(response, status: int, code: str | set[str] | None = None, *, fields=()) -> dict:
    """The response is ``status`` with an API.md error body; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].split(";")[0].strip() == "application/json", response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"code", "detail", "errors"}, body
    assert isinstance(body.get("code"), str) and CODE_RE.match(body["code"]), body
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    if "errors" in body:
        assert isinstance(body["errors"], dict) and body["errors"], body
        for messages in body["errors"].values():
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(message, str) and message.strip() for message in messages), body
    if code is not None:
        assert body["code"] in ({code} if isinstance(code, str) else code), body
    for name in fields:
        assert name in body.get("errors", {}), body
    return body


def snapshot() -> dict:
    """Everything a bad request must not touch."""
    return {
        "users": set(
            User.objects.values_list("id", "username", "email", "password", "role", "is_active", "storage_quota")
        ),
        "keyrings": set(
            Keyring.objects.values_list("user_id", "udk_by_password", "udk_by_recovery", "private_key_wrapped")
        ),
        "app_passwords": set(
            AppPassword.objects.values_list("id", "user_id", "key_wrapped", "name_sealed", "verifier")
        ),
        "sessions": set(UnlockSession.objects.values_list("id", "user_id", "expires_at")),
        "outstanding_tokens": OutstandingToken.objects.count(),
        "blacklisted_tokens": BlacklistedToken.objects.count(),
    }


def can_log_in(username: str, password: str) -> bool:
    response = APIClient().post("/api/v1/auth/token", {"username": username, "password": password}, format="json")
    return response.status_code == 200


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def logged_in(account: Account) -> APIClient:
    client = APIClient()
    client.tokens = account.login(client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.tokens['access']}")
    return client


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def raw_json(data) -> bytes:
    """JSON with ``\\u`` escapes, so that lone surrogates can travel (the test client would choke on them)."""
    return json.dumps(data, ensure_ascii=True).encode("ascii")


# --- the endpoints that take a body ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    fields: tuple[str, ...]
    success: int  # status of the valid body, checked by test_the_valid_body_is_accepted

    def __str__(self):
        return self.name


REGISTER = Endpoint("register", "post", "/api/v1/auth/register", ("username", "email", "password"), 201)
TOKEN = Endpoint("token", "post", "/api/v1/auth/token", ("username", "password"), 200)
REFRESH = Endpoint("refresh", "post", "/api/v1/auth/token/refresh", ("refresh",), 200)
LOGOUT = Endpoint("logout", "post", "/api/v1/auth/logout", ("refresh",), 204)
PASSWORD = Endpoint("password", "post", "/api/v1/auth/password", ("old_password", "new_password"), 204)
RECOVER = Endpoint("recover", "post", "/api/v1/auth/recover", ("username", "recovery_key", "new_password"), 200)
APP_PASSWORD = Endpoint("app_password", "post", "/api/v1/auth/app-passwords/", ("name",), 201)
DELETE_ME = Endpoint("delete_me", "delete", "/api/v1/me", ("password",), 204)

BODY_ENDPOINTS = [REGISTER, TOKEN, REFRESH, LOGOUT, PASSWORD, RECOVER, APP_PASSWORD, DELETE_ME]
ENDPOINT_PARAMS = [pytest.param(endpoint, id=endpoint.name) for endpoint in BODY_ENDPOINTS]
FIELD_PARAMS = [
    pytest.param(endpoint, field, id=f"{endpoint.name}.{field}")
    for endpoint in BODY_ENDPOINTS
    for field in endpoint.fields
]
TRIMMED_FIELD_PARAMS = [param for param in FIELD_PARAMS if "password" not in param.values[1]]

MAX_LENGTH = {
    "username": 64,
    "email": 254,
    "password": 1024,
    "old_password": 1024,
    "new_password": 1024,
    "refresh": 4096,
    "recovery_key": 128,
    "name": 100,
}


@dataclass
class Env:
    account: Account
    client: APIClient  # alice, Bearer, vault unlocked

    @property
    def tokens(self) -> dict:
        return self.client.tokens

    def valid_body(self, endpoint: Endpoint) -> dict:
        return {
            "register": {"username": "carol", "email": "carol@example.org", "password": NEW_PASSWORD},
            "token": {"username": "alice", "password": DEFAULT_PASSWORD},
            "refresh": {"refresh": self.tokens["refresh"]},
            "logout": {"refresh": self.tokens["refresh"]},
            "password": {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
            "recover": {"username": "alice", "recovery_key": self.account.recovery_key, "new_password": NEW_PASSWORD},
            "app_password": {"name": "laptop sync"},
            "delete_me": {"password": DEFAULT_PASSWORD},
        }[endpoint.name]

    def send(self, endpoint: Endpoint, body, **extra):
        return getattr(self.client, endpoint.method)(endpoint.path, body, format="json", **extra)

    def send_raw(self, endpoint: Endpoint, data: bytes, content_type: str = "application/json", **extra):
        return self.client.generic(endpoint.method.upper(), endpoint.path, data, content_type=content_type, **extra)


@pytest.fixture
def env(account, auth_client) -> Env:
    return Env(account=account, client=auth_client)


# --- the table is right: its valid bodies work -----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
def test_the_valid_body_is_accepted(env, endpoint):
    """GIVEN the table's valid body WHEN sent THEN it succeeds, so each bad case below differs in one thing only.

    And the snapshot sees its effect, so "the snapshot is unchanged" below really means "nothing happened".
    """
    before = snapshot()
    response = env.send(endpoint, env.valid_body(endpoint))
    assert response.status_code == endpoint.success, response.content
    assert snapshot() != before


# --- missing fields, empty bodies, nulls, blanks ---------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_a_missing_field_is_400(env, endpoint, field):
    body = env.valid_body(endpoint)
    del body[field]
    before = snapshot()
    response = env.send(endpoint, body)
    errors = assert_error(response, 400, "validation_error", fields=[field])["errors"]
    assert errors == {field: ["This field is required."]}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize("body", [pytest.param({}, id="empty-object"), pytest.param(None, id="no-body")])
def test_an_empty_body_names_every_required_field(env, endpoint, body):
    before = snapshot()
    response = env.send(endpoint, body)
    errors = assert_error(response, 400, "validation_error", fields=endpoint.fields)["errors"]
    assert set(errors) == set(endpoint.fields)
    assert snapshot() == before


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_a_null_field_is_400(env, endpoint, field):
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: None})
    errors = assert_error(response, 400, "validation_error", fields=[field])["errors"]
    assert errors[field] == ["This field may not be null."]
    assert snapshot() == before


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_an_empty_string_is_400(env, endpoint, field):
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: ""})
    assert_error(response, 400, "validation_error", fields=[field])
    assert snapshot() == before


@pytest.mark.parametrize(("endpoint", "field"), TRIMMED_FIELD_PARAMS)
def test_a_whitespace_only_value_is_400(env, endpoint, field):
    """Names, e-mails, tokens and keys are trimmed, so blanks are blank (passwords are kept as typed)."""
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: " \t\n "})
    assert_error(response, 400, "validation_error", fields=[field])
    assert snapshot() == before


# --- wrong types: refused, never coerced into text ----------------------------------------------------------------

NON_STRINGS = [
    pytest.param(0, id="zero"),
    pytest.param(42, id="int"),
    pytest.param(10**30, id="bigint"),
    pytest.param(-1.5, id="float"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param([], id="empty-list"),
    pytest.param(["alice"], id="list"),
    pytest.param({}, id="empty-object"),
    pytest.param({"value": "alice"}, id="object"),
]


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
@pytest.mark.parametrize("value", NON_STRINGS)
def test_a_non_string_is_refused_not_coerced(env, endpoint, field, value):
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: value})
    errors = assert_error(response, 400, "validation_error", fields=[field])["errors"]
    assert errors[field] == ["Must be a string."]
    assert snapshot() == before


def test_numeric_looking_valid_values_are_not_accepted_as_numbers(env):
    """A username of digits is fine as text ("12345") and refused as a number (12345)."""
    body = {"username": 12345, "email": "digits@example.org", "password": NEW_PASSWORD}
    assert_error(env.send(REGISTER, body), 400, "validation_error", fields=["username"])
    assert not User.objects.filter(username="12345").exists()
    assert env.send(REGISTER, {**body, "username": "12345"}).status_code == 201


# --- values that are strings, but bad ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_a_value_over_the_max_length_is_400(env, endpoint, field):
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: "a" * (MAX_LENGTH[field] + 1)})
    assert_error(response, 400, "validation_error", fields=[field])
    assert snapshot() == before


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_a_nul_byte_is_400(env, endpoint, field):
    value = env.valid_body(endpoint)[field]
    before = snapshot()
    response = env.send(endpoint, {**env.valid_body(endpoint), field: value[:3] + "\x00" + value[3:]})
    assert_error(response, 400, "validation_error", fields=[field])
    assert snapshot() == before


@pytest.mark.parametrize(("endpoint", "field"), FIELD_PARAMS)
def test_a_lone_surrogate_is_400(env, endpoint, field):
    """JSON may carry ``"\\ud800"``, which is no Unicode text: it cannot be stored, hashed or compared."""
    value = env.valid_body(endpoint)[field]
    before = snapshot()
    response = env.send_raw(endpoint, raw_json({**env.valid_body(endpoint), field: value + "\ud800"}))
    assert_error(response, 400, "validation_error", fields=[field])
    assert snapshot() == before


# --- weak passwords ---------------------------------------------------------------------------------------------------

WEAK_PASSWORDS = [
    pytest.param("Xq7!pz#", id="too-short"),
    pytest.param("password123", id="common"),
    pytest.param("80451296734", id="all-numeric"),
    pytest.param("{username}1", id="like-the-username"),
]


@pytest.fixture
def margaretta(db) -> Account:
    """A user with a long username, so that a password can be too similar to it."""
    return make_account("margaretta")


@pytest.mark.parametrize("weak", WEAK_PASSWORDS)
def test_register_refuses_a_weak_password(api_client, account, weak):
    before = snapshot()
    body = {"username": "rosalinda", "email": "rosa@example.org", "password": weak.format(username="rosalinda")}
    response = api_client.post(REGISTER.path, body, format="json")
    assert_error(response, 400, "weak_password", fields=["password"])
    assert snapshot() == before
    assert not User.objects.filter(username__iexact="rosalinda").exists()


@pytest.mark.parametrize("weak", WEAK_PASSWORDS)
def test_password_change_refuses_a_weak_password(margaretta, weak):
    client = logged_in(margaretta)
    before = snapshot()
    body = {"old_password": DEFAULT_PASSWORD, "new_password": weak.format(username="margaretta")}
    response = client.post(PASSWORD.path, body, format="json")
    assert_error(response, 400, "weak_password", fields=["new_password"])
    assert snapshot() == before
    assert client.get("/api/v1/me").status_code == 200  # no session was ended
    assert can_log_in("margaretta", DEFAULT_PASSWORD)


@pytest.mark.parametrize("weak", WEAK_PASSWORDS)
def test_recover_refuses_a_weak_password(api_client, margaretta, weak):
    before = snapshot()
    body = {
        "username": "margaretta",
        "recovery_key": margaretta.recovery_key,
        "new_password": weak.format(username="margaretta"),
    }
    response = api_client.post(RECOVER.path, body, format="json")
    assert_error(response, 400, "weak_password", fields=["new_password"])
    assert snapshot() == before  # the keyring is untouched: the recovery key still works
    assert can_log_in("margaretta", DEFAULT_PASSWORD)
    again = api_client.post(RECOVER.path, {**body, "new_password": NEW_PASSWORD}, format="json")
    assert again.status_code == 200, again.content


# --- usernames: taken, hostile ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice", "aLiCe", "  alice  "])
def test_a_taken_username_is_409_whatever_its_case(api_client, account, username):
    before = snapshot()
    body = {"username": username, "email": "impostor@example.org", "password": NEW_PASSWORD}
    response = api_client.post(REGISTER.path, body, format="json")
    assert_error(response, 409, "username_taken", fields=["username"])
    assert snapshot() == before
    assert can_log_in("alice", DEFAULT_PASSWORD)
    assert not can_log_in("alice", NEW_PASSWORD)


HOSTILE_USERNAMES = [
    pytest.param("../etc", id="path-traversal"),
    pytest.param("..", id="dot-dot"),
    pytest.param("../../etc/passwd", id="deep-traversal"),
    pytest.param("..\\..\\windows", id="backslash-traversal"),
    pytest.param("alice/../bob", id="slash"),
    pytest.param("%2e%2e%2fetc", id="percent-encoded"),
    pytest.param("<script>alert(1)</script>", id="script-tag"),
    pytest.param('bob"><img src=x onerror=alert(1)>', id="html-attribute"),
    pytest.param("bob'; DROP TABLE accounts_user;--", id="sql"),
    pytest.param("\u0430lice", id="cyrillic-a-lookalike"),
    pytest.param("ali\u0441e", id="cyrillic-es-lookalike"),
    pytest.param("\uff41\uff4c\uff49\uff43\uff45", id="fullwidth-lookalike"),
    pytest.param("alice\u200b", id="zero-width-space"),
    pytest.param("ali\u0301ce", id="combining-accent"),
    pytest.param("\u212aelvin", id="kelvin-sign"),
    pytest.param("al\u0130ce", id="dotted-capital-i"),
    pytest.param("ali\u202ece", id="right-to-left-override"),
    pytest.param("\U0001f642\U0001f642\U0001f642", id="emoji"),
    pytest.param("ali ce", id="inner-space"),
    pytest.param("ali\tce", id="inner-tab"),
    pytest.param("ali\nce", id="inner-newline"),
    pytest.param("a" * 65, id="65-chars"),
    pytest.param("b" * 5000, id="5000-chars"),
    pytest.param("ali\x00ce", id="nul-byte"),
    pytest.param("\x00\x00\x00", id="only-nul-bytes"),
    pytest.param("ab", id="too-short"),
    pytest.param("-alice", id="leading-dash"),
    pytest.param(".alice", id="leading-dot"),
    pytest.param("bob@example.org", id="email-shaped"),
]


@pytest.mark.parametrize("username", HOSTILE_USERNAMES)
def test_register_refuses_a_hostile_username(api_client, account, username):
    before = snapshot()
    body = {"username": username, "email": "hostile@example.org", "password": NEW_PASSWORD}
    response = api_client.post(REGISTER.path, body, format="json")
    assert_error(response, 400, "validation_error", fields=["username"])
    assert snapshot() == before


@pytest.mark.parametrize("username", HOSTILE_USERNAMES)
def test_a_hostile_username_cannot_log_in_or_recover(api_client, account, username):
    before = snapshot()
    login = api_client.post(TOKEN.path, {"username": username, "password": DEFAULT_PASSWORD}, format="json")
    assert_error(login, 400 if login.status_code == 400 else 401, {"validation_error", "invalid_credentials"})
    body = {"username": username, "recovery_key": account.recovery_key, "new_password": NEW_PASSWORD}
    recover = api_client.post(RECOVER.path, body, format="json")
    assert_error(recover, 400, {"validation_error", "invalid_recovery"})
    assert snapshot() == before


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("not-an-email", id="no-at"),
        pytest.param("a@b", id="no-tld"),
        pytest.param("@example.org", id="no-local-part"),
        pytest.param("carol@", id="no-domain"),
        pytest.param("carol@example.org\r\nBcc: victim@example.org", id="header-injection"),
        pytest.param("carol@exa mple.org", id="space"),
        pytest.param("<script>@example.org", id="script"),
        pytest.param("carol@" + "a" * 250 + ".org", id="255-chars"),
    ],
)
def test_register_refuses_a_bad_email(api_client, db, email):
    before = snapshot()
    response = api_client.post(
        REGISTER.path, {"username": "carol", "email": email, "password": NEW_PASSWORD}, format="json"
    )
    assert_error(response, 400, "validation_error", fields=["email"])
    assert snapshot() == before


def test_register_ignores_fields_it_does_not_take(api_client, db):
    """Mass assignment: role, quota, activity and id come from the server, never from the body."""
    body = {
        "username": "carol",
        "email": "carol@example.org",
        "password": NEW_PASSWORD,
        "role": "admin",
        "is_active": False,
        "storage_quota": 10**15,
        "quota": 10**15,
        "id": str(uuid.uuid4()),
    }
    response = api_client.post(REGISTER.path, body, format="json")
    assert response.status_code == 201, response.content
    carol = User.objects.get(username="carol")
    assert carol.role == User.Role.REGULAR and carol.is_active
    assert carol.storage_quota == settings.LOCKER_DEFAULT_QUOTA and str(carol.pk) != body["id"]


# --- other bad values per endpoint ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"old_password": "not my password", "new_password": NEW_PASSWORD}, "wrong_password", id="wrong"),
        pytest.param(
            {"old_password": DEFAULT_PASSWORD.upper(), "new_password": NEW_PASSWORD}, "wrong_password", id="case"
        ),
        pytest.param(
            {"old_password": f" {DEFAULT_PASSWORD}", "new_password": NEW_PASSWORD}, "wrong_password", id="pad"
        ),
        pytest.param({"old_password": "not my password", "new_password": "short"}, "wrong_password", id="both-bad"),
    ],
)
def test_password_change_with_a_wrong_old_password_changes_nothing(env, body, code):
    before = snapshot()
    assert_error(env.send(PASSWORD, body), 400, code, fields=["old_password"])
    assert snapshot() == before
    assert env.client.get("/api/v1/me").status_code == 200
    assert can_log_in("alice", DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("username", "recovery_key"),
    [
        pytest.param("alice", "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", id="wrong-key"),
        pytest.param("alice", "not a key", id="not-a-key"),
        pytest.param("alice", "0" * 128, id="long-junk"),
        pytest.param("alice", "\u00c4" * 32, id="non-ascii"),
        pytest.param("bob", None, id="someone-elses-key"),
        pytest.param("nobody", None, id="unknown-user"),
    ],
)
def test_recover_with_a_wrong_key_changes_nothing(api_client, account, other_account, username, recovery_key):
    before = snapshot()
    body = {"username": username, "recovery_key": recovery_key or account.recovery_key, "new_password": NEW_PASSWORD}
    response = api_client.post(RECOVER.path, body, format="json")
    assert_error(response, 400, "invalid_recovery")
    assert snapshot() == before
    assert can_log_in(username if username != "nobody" else "alice", DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("not my password", id="wrong"),
        pytest.param(DEFAULT_PASSWORD.upper(), id="wrong-case"),
        pytest.param(DEFAULT_PASSWORD + " ", id="trailing-space"),
    ],
)
def test_delete_me_with_a_wrong_password_changes_nothing(env, password):
    before = snapshot()
    assert_error(env.send(DELETE_ME, {"password": password}), 400, "wrong_password", fields=["password"])
    assert snapshot() == before
    assert env.client.get("/api/v1/me").status_code == 200


# --- refresh tokens that are no good ----------------------------------------------------------------------------------


def _expired(token):
    token.set_exp(from_time=aware_utcnow() - timedelta(days=30))
    return str(token)


def _resigned(raw: str, key: str) -> str:
    claims = jwt.decode(raw, options={"verify_signature": False})
    return jwt.encode(claims, key, algorithm="HS256")


def _tampered(raw: str) -> str:
    header, payload, signature = raw.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


def _spent_refresh(env: Env) -> str:
    """A refresh token that was already rotated (and so blacklisted)."""
    old = env.tokens["refresh"]
    rotated = env.client.post(REFRESH.path, {"refresh": old}, format="json")
    assert rotated.status_code == 200
    return old


BAD_REFRESH = {
    "garbage": lambda env: "garbage",
    "three-dots": lambda env: "a.b.c",
    "long-junk": lambda env: "x" * 4096,
    "access-token": lambda env: env.tokens["access"],
    "tampered": lambda env: _tampered(env.tokens["refresh"]),
    "other-key": lambda env: _resigned(env.tokens["refresh"], "not the signing key, but long enough for HS256"),
    "alg-none": lambda env: jwt.encode(
        jwt.decode(env.tokens["refresh"], options={"verify_signature": False}), None, algorithm="none"
    ),
    "expired": lambda env: _expired(RefreshToken(env.tokens["refresh"])),
    "no-session-claim": lambda env: str(RefreshToken.for_user(env.account.user)),
    "spent": _spent_refresh,
}


@pytest.mark.parametrize("endpoint", [pytest.param(REFRESH, id="refresh"), pytest.param(LOGOUT, id="logout")])
@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in BAD_REFRESH.items()])
def test_a_bad_refresh_token_is_401(env, endpoint, make):
    token = make(env)
    before = snapshot()
    response = env.send(endpoint, {"refresh": token})
    assert_error(response, 401, {"token_not_valid", "session_revoked"})
    if make is _spent_refresh and endpoint is REFRESH:
        # Reuse of a rotated token ends its session (test_refresh_rotation.py); nothing else changes.
        after = snapshot()
        assert not after.pop("sessions") and before.pop("sessions")
        assert after == before
        return
    assert snapshot() == before


# --- bodies that are too big -----------------------------------------------------------------------------------------


def _padded(body: dict, size: int) -> bytes:
    """``body`` plus an ignored ``padding`` field, exactly ``size`` bytes of JSON."""
    base = json.dumps({**body, "padding": ""}).encode()
    assert size >= len(base)
    return json.dumps({**body, "padding": "x" * (size - len(base))}).encode()


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize(
    "size",
    [
        pytest.param(lambda: settings.LOCKER_MAX_JSON_BODY + 1, id="limit+1"),
        pytest.param(lambda: settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1, id="past-django-limit"),
        pytest.param(lambda: 2 * 1024 * 1024, id="2MiB"),
    ],
)
def test_an_oversize_json_body_is_413(env, endpoint, size):
    data = _padded(env.valid_body(endpoint), size())
    before = snapshot()
    assert_error(env.send_raw(endpoint, data), 413, "request_too_large")
    assert snapshot() == before


def test_a_body_of_exactly_the_limit_is_accepted(env):
    data = _padded(env.valid_body(REGISTER), settings.LOCKER_MAX_JSON_BODY)
    assert len(data) == settings.LOCKER_MAX_JSON_BODY
    assert env.send_raw(REGISTER, data).status_code == 201


def _form_body(body: dict, content_type: str, padding: int) -> bytes:
    body = {**body, "padding": "x" * padding}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return urlencode(body).encode()
    parts = [
        f'--BoUnDaRy\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in body.items()
    ]
    return ("".join(parts) + "--BoUnDaRy--\r\n").encode()


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/x-www-form-urlencoded", id="urlencoded"),
        pytest.param("multipart/form-data; boundary=BoUnDaRy", id="multipart"),
    ],
)
def test_an_oversize_form_body_is_413(env, endpoint, content_type):
    """The form parsers are enabled too; Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds their fields."""
    data = _form_body(env.valid_body(endpoint), content_type, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    before = snapshot()
    assert_error(env.send_raw(endpoint, data, content_type=content_type), 413, "request_too_large")
    assert snapshot() == before


def _environ_without_content_length(endpoint: Endpoint, data: bytes) -> dict:
    return {
        "PATH_INFO": endpoint.path,
        "REQUEST_METHOD": endpoint.method.upper(),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": FakePayload(data),
    }


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize(
    ("content_length", "status", "code"),
    [
        pytest.param("1000000000", 413, "request_too_large", id="declares-1GB"),
        pytest.param("16", 400, "parse_error", id="declares-less-than-sent"),
        pytest.param("", 400, "validation_error", id="empty"),
        pytest.param("not-a-number", 400, "bad_request", id="not-a-number"),  # "Content-Length is not a whole number."
        pytest.param("-1", 400, "bad_request", id="negative"),
        pytest.param(None, 400, "validation_error", id="absent"),
    ],
)
def test_a_lying_or_absent_content_length_is_refused(env, endpoint, content_length, status, code):
    """The server reads at most what Content-Length declares (none without it), and never more than the limit."""
    data = _padded(env.valid_body(endpoint), 2 * settings.LOCKER_MAX_JSON_BODY)
    before = snapshot()
    if content_length is None:
        response = env.client.request(**_environ_without_content_length(endpoint, data))
    elif content_length == "1000000000":
        response = env.send_raw(endpoint, b"{}", CONTENT_LENGTH=content_length)
    else:
        response = env.send_raw(endpoint, data, CONTENT_LENGTH=content_length)
    assert_error(response, status, code)
    assert snapshot() == before


# --- bodies that are not a JSON object --------------------------------------------------------------------------------

NOT_JSON = [
    pytest.param(b'{"username":', id="truncated"),
    pytest.param(b"{", id="open-brace"),
    pytest.param(b"{'username': 'alice'}", id="single-quotes"),
    pytest.param(b'{"username": "alice",}', id="trailing-comma"),
    pytest.param(b'{"username": NaN}', id="nan"),
    pytest.param(b'{"username": Infinity}', id="infinity"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b'\xef\xbb\xbf{"username": "alice"}', id="utf8-bom"),
    pytest.param(b"\x00", id="nul"),
    pytest.param(b"undefined", id="undefined"),
    pytest.param(b"[" * 30000 + b"]" * 30000, id="deeply-nested-array"),
    pytest.param(b'{"a":' * 8000 + b"1" + b"}" * 8000, id="deeply-nested-object"),
]
NOT_AN_OBJECT = [
    pytest.param(b"[]", id="empty-array"),
    pytest.param(b'[{"username": "alice"}]', id="array-of-object"),
    pytest.param(b'"alice"', id="string"),
    pytest.param(b"42", id="number"),
    pytest.param(b"true", id="boolean"),
    pytest.param(b"null", id="null"),
]


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize("data", NOT_JSON)
def test_malformed_json_is_400(env, endpoint, data):
    before = snapshot()
    assert_error(env.send_raw(endpoint, data), 400, "parse_error")
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize("data", NOT_AN_OBJECT)
def test_json_that_is_not_an_object_is_400(env, endpoint, data):
    before = snapshot()
    assert_error(env.send_raw(endpoint, data), 400, "validation_error", fields=["non_field_errors"])
    assert snapshot() == before


CONTENT_TYPES = [
    pytest.param("text/plain", 415, "unsupported_media_type", id="text-plain"),
    pytest.param("application/xml", 415, "unsupported_media_type", id="application-xml"),
    pytest.param("text/xml", 415, "unsupported_media_type", id="text-xml"),
    pytest.param("text/html", 415, "unsupported_media_type", id="text-html"),
    pytest.param("application/octet-stream", 415, "unsupported_media_type", id="octet-stream"),
    pytest.param("application/x-yaml", 415, "unsupported_media_type", id="yaml"),
    pytest.param("application/json-patch+json", 415, "unsupported_media_type", id="json-patch"),
    pytest.param("", 415, "unsupported_media_type", id="empty"),
    pytest.param("multipart/form-data", 400, "parse_error", id="multipart-without-boundary"),
    pytest.param("application/json; charset=utf-16", 400, "parse_error", id="wrong-charset"),
    pytest.param("application/json; charset=rot13", 400, "parse_error", id="rot13-charset"),
    pytest.param("application/json; charset=zlib", 400, "parse_error", id="zlib-charset"),
    pytest.param("application/json; charset=base64", 400, "parse_error", id="base64-charset"),
]


@pytest.mark.parametrize("endpoint", ENDPOINT_PARAMS)
@pytest.mark.parametrize(("content_type", "status", "code"), CONTENT_TYPES)
def test_a_wrong_content_type_is_refused(env, endpoint, content_type, status, code):
    data = json.dumps(env.valid_body(endpoint)).encode()
    before = snapshot()
    assert_error(env.send_raw(endpoint, data, content_type=content_type), status, code)
    assert snapshot() == before


# --- other users' ids and ids that are not ids -----------------------------------------------------------------------


@pytest.fixture
def bobs_app_password(other_account) -> str:
    client = logged_in(other_account)
    response = client.post(APP_PASSWORD.path, {"name": "bob's phone"}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def test_alice_cannot_delete_bobs_app_password(env, bobs_app_password):
    before = snapshot()
    response = env.client.delete(f"/api/v1/auth/app-passwords/{bobs_app_password}/")
    assert_error(response, 404, "not_found")
    assert AppPassword.objects.filter(pk=bobs_app_password, user__username="bob").exists()
    assert snapshot() == before


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param("not-a-uuid", id="word"),
        pytest.param("123", id="number"),
        pytest.param("00000000-0000-0000-0000-00000000000g", id="bad-hex"),
        pytest.param("00000000-0000-0000-0000-0000000000000", id="too-long"),
        pytest.param("%00", id="nul"),
        pytest.param("..%2F..%2Fme", id="encoded-traversal"),
        pytest.param("' OR 1=1 --", id="sql"),
        pytest.param(None, id="unknown-uuid"),
        pytest.param("upper", id="uppercase-own-uuid"),
    ],
)
def test_an_invalid_or_unknown_app_password_id_is_404(env, segment):
    own = env.client.post(APP_PASSWORD.path, {"name": "mine"}, format="json").json()["id"]
    if segment is None:
        segment = str(uuid.uuid4())
    elif segment == "upper":
        segment = own.upper()
    before = snapshot()
    assert_error(env.client.delete(f"/api/v1/auth/app-passwords/{segment}/"), 404, "not_found")
    assert snapshot() == before


@pytest.fixture
def root(db) -> Account:
    return make_account("root", role=User.Role.ADMIN)


def test_a_regular_user_cannot_read_someone_elses_activity(env, other_account):
    response = env.client.get("/api/v1/activity/", {"user": str(other_account.user.pk)})
    assert_error(response, 404, "not_found")
    own = env.client.get("/api/v1/activity/", {"user": str(env.account.user.pk)})
    assert own.status_code == 200
    assert {row["user"] for row in own.json()["results"]} == {str(env.account.user.pk)}


def test_an_admin_may_read_someone_elses_activity(root, other_account):
    response = logged_in(root).get("/api/v1/activity/", {"user": str(other_account.user.pk)})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert rows and {row["user"] for row in rows} == {str(other_account.user.pk)}


# --- no credentials, bad credentials ----------------------------------------------------------------------------------

AUTH_REQUIRED = [
    pytest.param("get", "/api/v1/me", None, id="get-me"),
    pytest.param("delete", "/api/v1/me", {"password": DEFAULT_PASSWORD}, id="delete-me"),
    pytest.param("post", PASSWORD.path, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, id="pw"),
    pytest.param("get", APP_PASSWORD.path, None, id="list-app-passwords"),
    pytest.param("post", APP_PASSWORD.path, {"name": "sneaky"}, id="create-app-password"),
    pytest.param("delete", "/api/v1/auth/app-passwords/{app_password}/", None, id="delete-app-password"),
    pytest.param("get", "/api/v1/activity/", None, id="activity"),
]


@pytest.fixture
def alices_app_password(env) -> dict:
    response = env.client.post(APP_PASSWORD.path, {"name": "alice's laptop"}, format="json")
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize(("method", "path", "body"), AUTH_REQUIRED)
def test_no_credentials_is_401(api_client, alices_app_password, method, path, body):
    before = snapshot()
    response = getattr(api_client, method)(path.format(app_password=alices_app_password["id"]), body, format="json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def _access_without_session(env: Env) -> str:
    return str(AccessToken.for_user(env.account.user))


def _logged_out_access(env: Env) -> str:
    tokens = env.account.login(APIClient())
    assert APIClient().post(LOGOUT.path, {"refresh": tokens["refresh"]}, format="json").status_code == 204
    return tokens["access"]


BAD_CREDENTIALS = {
    "bearer-garbage": (lambda env: "Bearer garbage", "token_not_valid"),
    "bearer-tampered": (lambda env: "Bearer " + _tampered(env.tokens["access"]), "token_not_valid"),
    "bearer-expired": (lambda env: "Bearer " + _expired(AccessToken(env.tokens["access"])), "token_not_valid"),
    "bearer-other-key": (
        lambda env: "Bearer " + _resigned(env.tokens["access"], "not the signing key, but long enough for HS256"),
        "token_not_valid",
    ),
    "bearer-alg-none": (
        lambda env: (
            "Bearer "
            + jwt.encode(jwt.decode(env.tokens["access"], options={"verify_signature": False}), None, algorithm="none")
        ),
        "token_not_valid",
    ),
    "bearer-refresh-token": (lambda env: "Bearer " + env.tokens["refresh"], "token_not_valid"),
    "bearer-no-session-claim": (lambda env: "Bearer " + _access_without_session(env), "token_not_valid"),
    "bearer-logged-out": (lambda env: "Bearer " + _logged_out_access(env), "session_revoked"),
    "bearer-without-token": (lambda env: "Bearer", "bad_authorization_header"),
    "bearer-two-tokens": (
        lambda env: f"Bearer {env.tokens['access']} {env.tokens['access']}",
        "bad_authorization_header",
    ),
    "unknown-scheme": (lambda env: f"Token {env.tokens['access']}", "not_authenticated"),
    "basic-not-base64": (lambda env: "Basic !!!not-base64!!!", "authentication_failed"),
    "basic-no-colon": (lambda env: "Basic " + base64.b64encode(b"alice").decode(), "authentication_failed"),
    "basic-account-password": (lambda env: basic("alice", DEFAULT_PASSWORD), "invalid_credentials"),
    "basic-empty": (lambda env: basic("", ""), "invalid_credentials"),
}


@pytest.mark.parametrize(("method", "path", "body"), AUTH_REQUIRED)
@pytest.mark.parametrize(("make", "code"), [pytest.param(*case, id=name) for name, case in BAD_CREDENTIALS.items()])
def test_bad_credentials_are_401(env, alices_app_password, method, path, body, make, code):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=make(env))
    before = snapshot()
    response = getattr(client, method)(path.format(app_password=alices_app_password["id"]), body, format="json")
    assert_error(response, 401, code)
    assert snapshot() == before


def test_an_app_password_does_not_work_under_another_username(env, other_account, alices_app_password):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic("bob", alices_app_password["password"]))
    assert_error(client.get("/api/v1/me"), 401, "invalid_credentials")


# --- rate limits ------------------------------------------------------------------------------------------------------
# "3/h" rather than "3/m": django-ratelimit counts in fixed windows, and an hour makes it (practically) impossible
# for a window to roll over between the requests of one test.


@pytest.fixture
def low_limits(settings):
    limits = {"login_user": "3/h", "login_ip": "3/h", "register_ip": "3/h", "recover_ip": "3/h"}
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, **limits}


def assert_rate_limited(response) -> None:
    assert_error(response, 429, "rate_limited")
    retry_after = response["Retry-After"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= 3600, retry_after


def test_login_is_rate_limited_per_username_whatever_the_case_or_address(api_client, account, other_account, settings):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "login_user": "3/h"}
    for number, username in enumerate(["alice", "ALICE", "Alice"]):
        response = api_client.post(
            TOKEN.path,
            {"username": username, "password": "wrong guess"},
            format="json",
            REMOTE_ADDR=f"192.0.2.{number}",
        )
        assert_error(response, 401, "invalid_credentials")
    before = snapshot()
    # even the right password, from a new address, is refused now, and opens no session
    response = api_client.post(
        TOKEN.path, {"username": "aLiCe", "password": DEFAULT_PASSWORD}, format="json", REMOTE_ADDR="192.0.2.99"
    )
    assert_rate_limited(response)
    # the refusal says so: a person who now types the right password must not think it is wrong
    detail = response.json()["detail"]
    assert "even the correct password is refused" in detail, detail
    assert f"{response['Retry-After']} seconds" in detail, detail
    assert snapshot() == before
    assert can_log_in("bob", DEFAULT_PASSWORD)  # other usernames are not affected


def test_login_is_rate_limited_per_address(api_client, account, low_limits):
    for username in ["nobody1", "nobody2", "nobody3"]:
        response = api_client.post(TOKEN.path, {"username": username, "password": "x" * 12}, format="json")
        assert_error(response, 401, "invalid_credentials")
    before = snapshot()
    response = api_client.post(TOKEN.path, {"username": "alice", "password": DEFAULT_PASSWORD}, format="json")
    assert_rate_limited(response)
    assert "even a correct password is refused" in response.json()["detail"]
    assert snapshot() == before


def test_registration_is_rate_limited_per_address(api_client, db, low_limits):
    for _ in range(3):  # bad requests count too
        assert_error(api_client.post(REGISTER.path, {}, format="json"), 400, "validation_error")
    before = snapshot()
    body = {"username": "carol", "email": "carol@example.org", "password": NEW_PASSWORD}
    assert_rate_limited(api_client.post(REGISTER.path, body, format="json"))
    assert snapshot() == before
    elsewhere = api_client.post(REGISTER.path, body, format="json", REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 201, elsewhere.content


def test_recovery_is_rate_limited_per_address(api_client, account, low_limits):
    body = {
        "username": "alice",
        "recovery_key": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
        "new_password": NEW_PASSWORD,
    }
    for _ in range(3):
        assert_error(api_client.post(RECOVER.path, body, format="json"), 400, "invalid_recovery")
    before = snapshot()
    # the right key is refused too: guessing cannot go on
    response = api_client.post(RECOVER.path, {**body, "recovery_key": account.recovery_key}, format="json")
    assert_rate_limited(response)
    assert "even a correct recovery key is refused" in response.json()["detail"]
    assert snapshot() == before
    assert can_log_in("alice", DEFAULT_PASSWORD)
    elsewhere = api_client.post(RECOVER.path, body, format="json", REMOTE_ADDR="198.51.100.7")
    assert_error(elsewhere, 400, "invalid_recovery")


# --- activity filters -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        pytest.param({"after": "not-a-date"}, 400, "validation_error", "after", id="after-not-a-date"),
        pytest.param({"before": "2024-13-45T00:00:00Z"}, 400, "validation_error", "before", id="before-month-13"),
        pytest.param({"after": "2024-02-30"}, 400, "validation_error", "after", id="after-feb-30"),
        pytest.param({"after": "yesterday"}, 400, "validation_error", "after", id="after-yesterday"),
        pytest.param({"after": "1700000000"}, 400, "validation_error", "after", id="after-epoch"),
        pytest.param({"after": "0001-01-01T00:00:00+14:00"}, 400, "validation_error", "after", id="after-year-0-utc"),
        pytest.param(
            {"before": "9999-12-31T23:59:59-14:00"}, 400, "validation_error", "before", id="before-year-10000"
        ),
        pytest.param({"outcome": "bogus"}, 400, "validation_error", "outcome", id="outcome-bogus"),
        pytest.param({"outcome": "SUCCESS"}, 400, "validation_error", "outcome", id="outcome-upper-case"),
        pytest.param({"outcome": "success\x00"}, 400, "validation_error", "outcome", id="outcome-nul"),
        pytest.param({"type": "auth.login\x00"}, 400, "validation_error", "type", id="type-nul"),
        pytest.param({"user": "not-a-uuid"}, 400, "validation_error", "user", id="user-not-a-uuid"),
        pytest.param({"user": ""}, 400, "validation_error", "user", id="user-empty"),
        pytest.param({"page": "abc"}, 404, "not_found", None, id="page-abc"),
        pytest.param({"page": "0"}, 404, "not_found", None, id="page-0"),
        pytest.param({"page": "99999999999999999999"}, 404, "not_found", None, id="page-huge"),
    ],
)
def test_an_invalid_activity_filter_is_refused(env, query, status, code, field):
    before = Event.objects.count()
    response = env.client.get("/api/v1/activity/", query)
    assert_error(response, status, code, fields=[field] if field else [])
    assert Event.objects.count() == before


def test_valid_activity_filters_still_work(env):
    response = env.client.get(
        "/api/v1/activity/",
        {"type": "auth.login", "outcome": "success", "after": "2000-01-01T00:00:00Z", "before": "9999-01-01"},
    )
    assert response.status_code == 200, response.content
    assert [row["action"] for row in response.json()["results"]] == ["auth.login"]


# --- whatever the client asks for, errors are JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    "negotiate",
    [
        pytest.param({"HTTP_ACCEPT": "text/html"}, id="accept-html"),
        pytest.param({"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}, id="browser-accept"),
        pytest.param({"QUERY_STRING": "format=api"}, id="format-api"),
    ],
)
@pytest.mark.parametrize(
    ("authenticated", "method", "path", "body", "status"),
    [
        pytest.param(False, "post", REGISTER.path, {}, 400, id="validation"),
        pytest.param(False, "post", TOKEN.path, {"username": "alice", "password": "wrong!"}, 401, id="bad-login"),
        pytest.param(False, "get", "/api/v1/me", None, 401, id="no-credentials"),
        pytest.param(True, "delete", f"/api/v1/auth/app-passwords/{uuid.uuid4()}/", None, 404, id="not-found"),
        pytest.param(True, "get", "/api/v1/activity/?outcome=bogus", None, 400, id="bad-filter"),
        pytest.param(True, "put", "/api/v1/me", {}, 405, id="method"),
    ],
)
def test_errors_are_json_even_when_html_is_asked_for(env, negotiate, authenticated, method, path, body, status):
    client = env.client if authenticated else APIClient()
    if "QUERY_STRING" in negotiate:
        path = path + ("&" if "?" in path else "?") + negotiate["QUERY_STRING"]
        negotiate = {}
    response = getattr(client, method)(path, body, format="json", **negotiate)
    assert_error(response, status)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        pytest.param("get", REGISTER.path, 405, "method_not_allowed", id="get-register"),
        pytest.param("get", TOKEN.path, 405, "method_not_allowed", id="get-token"),
        pytest.param("get", PASSWORD.path, 405, "method_not_allowed", id="get-password"),
        pytest.param("put", "/api/v1/me", 405, "method_not_allowed", id="put-me"),
        pytest.param("put", "/api/v1/me", 405, "method_not_allowed", id="put-me"),
        pytest.param("delete", APP_PASSWORD.path, 405, "method_not_allowed", id="delete-app-password-list"),
        pytest.param("post", "/api/v1/activity/", 405, "method_not_allowed", id="post-activity"),
        pytest.param("get", "/api/v1/nothing-here", 404, "not_found", id="unknown-path"),
        pytest.param("get", "/api/v1/auth/../../etc/passwd", 404, "not_found", id="traversal-path"),
    ],
)
def test_wrong_methods_and_paths_are_json(env, method, path, status, code):
    before = snapshot()
    assert_error(getattr(env.client, method)(path, {}, format="json"), status, code)
    assert snapshot() == before


def test_a_disallowed_host_is_a_json_400(api_client, db):
    response = api_client.post(REGISTER.path, {}, format="json", HTTP_HOST="evil.example")
    assert_error(response, 400, "bad_request")


def test_the_browsable_api_still_renders_successes_as_html(env):
    """Only errors are forced to JSON: a browser asking for HTML still gets the browsable API on success."""
    response = env.client.get("/api/v1/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
