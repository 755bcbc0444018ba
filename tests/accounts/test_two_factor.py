"""Two-factor sign-in (accounts.twofactor, docs/two-factor.md): enrolment, sign-in with a TOTP code or a backup code
(each taken once), turning it off, rate limits on codes, the secret sealed outside the database's reach, and what
stays single-factor (app passwords)."""

import base64
import time

import pyotp
import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import twofactor
from accounts.models import BackupCode, TwoFactor
from activity.models import Event

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client, account) -> tuple[str, list[str]]:
    begun = client.post("/api/v1/auth/two-factor/enrol", {"password": account.password}, format="json")
    assert begun.status_code == 200, begun.content
    secret = begun.json()["secret"]
    confirmed = client.post("/api/v1/auth/two-factor/confirm", {"code": code_at(secret)}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    return secret, confirmed.json()["backup_codes"]


def sign_in(account, **extra):
    body = {"username": account.user.username, "password": account.password, **extra}
    return APIClient().post(TOKEN, body, format="json")


def test_enrolment_shows_the_secret_as_text_uri_and_a_qr_code_drawn_here(auth_client, account):
    assert auth_client.get("/api/v1/auth/two-factor").json()["enabled"] is False
    begun = auth_client.post("/api/v1/auth/two-factor/enrol", {"password": account.password}, format="json").json()
    assert len(base64.b32decode(begun["secret"])) == 20  # 160 bits
    assert begun["uri"].startswith("otpauth://totp/Locker:alice?") and f"secret={begun['secret']}" in begun["uri"]
    assert begun["qr_svg"].startswith("<svg") and "<script" not in begun["qr_svg"]
    assert auth_client.get("/api/v1/auth/two-factor").json() == {
        "enabled": False,
        "enabled_at": None,
        "pending": True,
        "backup_codes_left": 0,
    }
    assert sign_in(account).status_code == 200  # not on until a first code is confirmed


def test_enrolment_needs_the_password_and_then_the_current_code(auth_client, account):
    wrong = auth_client.post("/api/v1/auth/two-factor/enrol", {"password": "not it at all"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    nothing = auth_client.post("/api/v1/auth/two-factor/confirm", {"code": "123456"}, format="json")
    assert nothing.status_code == 404 and nothing.json()["code"] == "no_enrolment"
    secret = auth_client.post("/api/v1/auth/two-factor/enrol", {"password": account.password}, format="json").json()[
        "secret"
    ]
    stale = auth_client.post("/api/v1/auth/two-factor/confirm", {"code": code_at(secret, -5)}, format="json")
    assert stale.status_code == 400 and stale.json()["code"] == "otp_invalid"
    done = auth_client.post("/api/v1/auth/two-factor/confirm", {"code": code_at(secret)}, format="json")
    assert done.status_code == 200 and len(set(done.json()["backup_codes"])) == 10
    status = auth_client.get("/api/v1/auth/two-factor").json()
    assert status["enabled"] and status["backup_codes_left"] == 10 and not status["pending"]
    again = auth_client.post("/api/v1/auth/two-factor/enrol", {"password": account.password}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "two_factor_on"
    assert Event.objects.filter(user=account.user, action="auth.two_factor_enabled").count() == 1


def test_sign_in_asks_for_the_code_after_the_password(auth_client, account):
    secret, _ = enrol(auth_client, account)
    asked = sign_in(account)
    assert asked.status_code == 401 and asked.json()["code"] == "otp_required"
    wrong_password = sign_in(account, password="wrong password here", otp=code_at(secret, 1))
    assert wrong_password.status_code == 401 and wrong_password.json()["code"] == "invalid_credentials"
    wrong = sign_in(account, otp="000000" if code_at(secret, 1) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid"
    good = sign_in(account, otp=code_at(secret, 1))
    assert good.status_code == 200 and good.json()["access"]
    reasons = list(
        Event.objects.filter(user=account.user, action="auth.login", outcome="failure").values_list(
            "data__reason", flat=True
        )
    )
    assert sorted(reasons) == ["bad_otp", "bad_password", "otp_required"]


def test_a_code_is_taken_once(auth_client, account):
    secret, _ = enrol(auth_client, account)  # the confirmation took the current step
    assert sign_in(account, otp=code_at(secret)).json()["code"] == "otp_invalid"  # same step as the confirmation
    later = code_at(secret, 1)
    assert sign_in(account, otp=later).status_code == 200
    assert sign_in(account, otp=later).json()["code"] == "otp_invalid"


def test_a_backup_code_signs_in_once_in_any_spelling(auth_client, account):
    _, codes = enrol(auth_client, account)
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert sign_in(account, otp=codes[0].lower().replace("-", " ")).status_code == 200
    spent = sign_in(account, otp=codes[0])
    assert spent.status_code == 401 and spent.json()["code"] == "otp_invalid"
    assert auth_client.get("/api/v1/auth/two-factor").json()["backup_codes_left"] == 9


def test_new_backup_codes_replace_the_old_ones(auth_client, account):
    secret, old = enrol(auth_client, account)
    renewed = auth_client.post(
        "/api/v1/auth/two-factor/backup-codes", {"password": account.password, "code": old[1]}, format="json"
    )
    assert renewed.status_code == 200
    new = renewed.json()["backup_codes"]
    assert not set(new) & set(old)
    assert sign_in(account, otp=old[2]).status_code == 401
    assert sign_in(account, otp=new[0]).status_code == 200


def test_turning_it_off_takes_the_password_and_a_code(auth_client, account):
    secret, codes = enrol(auth_client, account)
    url = "/api/v1/auth/two-factor/disable"
    bad_password = auth_client.post(url, {"password": "wrong password", "code": code_at(secret, 1)}, format="json")
    assert bad_password.status_code == 400 and bad_password.json()["code"] == "wrong_password"
    bad_code = auth_client.post(url, {"password": account.password, "code": "12345"}, format="json")
    assert bad_code.status_code == 400 and bad_code.json()["code"] == "otp_invalid"
    assert TwoFactor.objects.filter(user=account.user).exists()
    off = auth_client.post(url, {"password": account.password, "code": codes[3]}, format="json")
    assert off.status_code == 204
    assert not TwoFactor.objects.filter(user=account.user).exists()
    assert not BackupCode.objects.filter(user=account.user).exists()
    assert sign_in(account).status_code == 200
    assert auth_client.post(url, {"password": account.password, "code": "123456"}, format="json").status_code == 404


def test_failed_codes_are_limited_per_account(auth_client, account, other_account):
    secret, _ = enrol(auth_client, account)
    wrong = "999999" if code_at(secret, 1) != "999999" else "888888"
    answers = [sign_in(account, otp=wrong).status_code for _ in range(6)]
    assert answers[:5] == [401] * 5 and answers[5] == 429
    limited = sign_in(account, otp=code_at(secret, 1))
    assert limited.status_code == 429 and "two-factor codes" in limited.json()["detail"]
    assert sign_in(other_account).status_code == 200  # another account is not slowed down


def test_the_hourly_limit_stops_a_slow_guesser(auth_client, account, settings):
    settings.LOCKER_RATELIMITS = {
        **settings.LOCKER_RATELIMITS,
        "otp_user": "100/m",
        "login_user": "100/m",
        "login_ip": "100/m",
    }
    secret, _ = enrol(auth_client, account)  # the confirmation counted once
    answers = [sign_in(account, otp="12345") for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [401] * 30
    assert answers[30].status_code == 429 and "in the last hour" in answers[30].json()["detail"]


def test_the_database_alone_cannot_produce_codes(auth_client, account, settings):
    secret, codes = enrol(auth_client, account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_sealed FROM accounts_twofactor")
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT digest FROM accounts_backupcode")
        digests = [row[0] for row in cursor.fetchall()]
    assert secret not in stored and secret.lower() not in stored
    assert not any(code.replace("-", "") in digest for code in codes for digest in digests)
    settings.LOCKER_TOTP_KEY = "another server's key"  # the dump taken to another server: nothing opens
    row = TwoFactor.objects.get(user=account.user)
    assert twofactor._open(row) is None
    assert sign_in(account, otp=code_at(secret, 1)).json()["code"] == "otp_invalid"
    assert sign_in(account, otp=codes[0]).json()["code"] == "otp_invalid"


def test_app_passwords_stay_single_factor(auth_client, account):
    enrol(auth_client, account)
    created = auth_client.post("/api/v1/auth/app-passwords/", {"name": "laptop sync"}, format="json")
    assert created.status_code == 201
    basic = base64.b64encode(f"{account.user.username}:{created.json()['password']}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {basic}")
    assert client.get("/api/v1/folders/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"otp": 123456},
        {"otp": True},
        {"otp": ["123456"]},
        {"otp": "1" * 65},
        {"otp": ""},
        {"otp": "12\x003456"},
    ],
)
def test_sign_in_refuses_a_malformed_code(auth_client, account, body):
    enrol(auth_client, account)
    answer = sign_in(account, **body)
    assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
    assert "otp" in answer.json()["errors"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/auth/two-factor/enrol", {}, "password"),
        ("/api/v1/auth/two-factor/enrol", {"password": 12}, "password"),
        ("/api/v1/auth/two-factor/confirm", {}, "code"),
        ("/api/v1/auth/two-factor/confirm", {"code": 123456}, "code"),
        ("/api/v1/auth/two-factor/confirm", {"code": "9" * 65}, "code"),
        ("/api/v1/auth/two-factor/disable", {"password": "x"}, "code"),
        ("/api/v1/auth/two-factor/disable", {"code": "123456"}, "password"),
        ("/api/v1/auth/two-factor/backup-codes", {"password": ["x"], "code": "1"}, "password"),
    ],
)
def test_the_two_factor_endpoints_refuse_bad_input(auth_client, url, body, field):
    answer = auth_client.post(url, body, format="json")
    assert answer.status_code == 400 and field in answer.json()["errors"]
    assert not TwoFactor.objects.exists()


def test_the_two_factor_endpoints_need_a_signed_in_user(client):
    for url in ("enrol", "confirm", "disable", "backup-codes"):
        assert APIClient().post(f"/api/v1/auth/two-factor/{url}", {}, format="json").status_code == 401
    assert APIClient().get("/api/v1/auth/two-factor").status_code == 401


def test_the_browser_sign_in_asks_for_the_code_on_a_second_step(client, auth_client, account):
    secret, codes = enrol(auth_client, account)
    login = reverse("login")
    first = client.post(login, {"username": "alice", "password": account.password})
    assert first.status_code == 200 and b'name="otp"' in first.content and b"authenticator app" in first.content
    assert b'value="alice"' in first.content and account.password.encode() not in first.content
    assert "_auth_user_id" not in client.session
    wrong = client.post(login, {"username": "alice", "password": account.password, "otp": "000001"})
    assert wrong.status_code == 400 and b"Wrong two-factor code" in wrong.content
    done = client.post(login, {"username": "alice", "password": account.password, "otp": codes[0]})
    assert done.status_code == 302 and client.session["_auth_user_id"] == str(account.user.pk)


def test_the_recovery_key_is_the_way_back_and_turns_the_factor_off(auth_client, account):
    enrol(auth_client, account)
    new_password = "a brand new passphrase 42"
    recovered = APIClient().post(
        "/api/v1/auth/recover",
        {"username": "alice", "recovery_key": account.recovery_key, "new_password": new_password},
        format="json",
    )
    assert recovered.status_code == 200
    assert not TwoFactor.objects.filter(user=account.user).exists()
    assert not BackupCode.objects.filter(user=account.user).exists()
    assert sign_in(account, password=new_password).status_code == 200
    used = Event.objects.get(user=account.user, action="auth.recovery_used", outcome="success")
    assert used.data["two_factor_off"] is True


def test_the_settings_page_enrols_and_turns_it_off(client, account):
    client.post(reverse("login"), {"username": "alice", "password": account.password})
    page = client.get(reverse("settings"))
    assert b'data-testid="two-factor"' in page.content and b"Set up two-factor sign-in" in page.content
    wrong = client.post(reverse("settings-two-factor-enrol"), {"tf-password": "not my password"})
    assert wrong.status_code == 400 and b"The password is wrong." in wrong.content
    begun = client.post(reverse("settings-two-factor-enrol"), {"tf-password": account.password})
    assert begun.status_code == 200 and b"<svg" in begun.content
    secret = begun.content.decode().split('data-testid="two-factor-secret">')[1].split("<")[0]
    bad = client.post(reverse("settings-two-factor-confirm"), {"tf-code": "12"})
    assert bad.status_code == 400 and b"not the authenticator" in bad.content
    on = client.post(reverse("settings-two-factor-confirm"), {"tf-code": code_at(secret)})
    assert on.status_code == 200 and on.content.count(b"<li><code>") == 10
    assert b"<strong>On</strong>" in client.get(reverse("settings")).content
    codes = reverse("settings-two-factor-codes")
    refused = client.post(codes, {"tf-codes-password": account.password, "tf-codes-code": "1"})
    assert refused.status_code == 400 and b"That code is not valid." in refused.content
    renewed = client.post(codes, {"tf-codes-password": account.password, "tf-codes-code": code_at(secret, 1)})
    assert renewed.status_code == 200 and renewed.content.count(b"<li><code>") == 10
    backup = renewed.content.decode().split("<li><code>")[1].split("<")[0]
    off_form = {"tf-off-password": account.password, "tf-off-code": backup}
    off = client.post(reverse("settings-two-factor-disable"), off_form)
    assert off.status_code == 302 and not TwoFactor.objects.exists()


def test_a_site_can_ask_admins_for_a_second_factor(client, account):
    from accounts import site_settings
    from tests.factories import make_account

    admin = make_account("root", role="admin")
    site_settings.site_settings_update(admin=admin.user, registration_open=True, admins_need_two_factor=True)
    client.post(reverse("login"), {"username": "root", "password": admin.password})
    refused = client.get("/admin/")
    assert refused.status_code == 403 and b"Two-factor sign-in needed" in refused.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(admin).json()['access']}")
    secret, _ = enrol(api, admin)
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/accounts/user/")
    assert listing.status_code == 200 and b"column-two_factor" in listing.content
    site_settings.site_settings_update(admin=admin.user, registration_open=True, admins_need_two_factor=False)
    TwoFactor.objects.all().delete()
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("url", ["enrol", "confirm", "disable", "backup-codes"])
def test_a_file_part_where_none_is_expected_is_refused_and_nothing_kept(auth_client, account, url, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("../../etc/passwd\x00.txt", b"not a field", content_type="text/plain")
    body = {"password": account.password, "code": "123456", "file": upload}
    answer = auth_client.post(f"/api/v1/auth/two-factor/{url}", body, format="multipart")
    assert answer.status_code in (400, 404, 415), answer.content
    assert answer.status_code != 200 and not BackupCode.objects.exists()
    assert not TwoFactor.objects.filter(enabled_at__isnull=False).exists()
    assert not any(tmp_path.rglob("*passwd*"))
