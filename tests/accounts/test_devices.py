"""Signed-in devices: a readable name from the User-Agent at sign-in, and a name of the user's own (sealed at
rest), on the settings page and through ``PATCH /api/v1/auth/sessions/{id}/``."""

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.devices import device_name
from accounts.models import UnlockSession
from accounts.sessions import unlock_session_rename
from activity.models import Event
from locker.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
            "Chrome on iPad",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
            "Safari/537.36 OPR/111.0.0.0",
            "Opera on Linux",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
            "Safari/537.36",
            "Chrome on ChromeOS",
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) FxiOS/127.0 Mobile/15E148", "Firefox on iPhone"),
        ("locker-cli/0.3 (linux; x86_64)", "locker CLI"),
        ("locker/1.2", "locker CLI"),
        ("curl/8.5.0", "curl"),
        ("Wget/1.21.4", "Wget"),
        ("python-requests/2.32.3", "Python requests"),
        ("rclone/v1.67.0", "rclone"),
        ("Microsoft-WebDAV-MiniRedir/10.0.19045", "Windows WebDAV"),
        ("SomeSyncTool/3.1 (+https://example.org)", "SomeSyncTool"),
        ("Mozilla/5.0 (X11; Linux x86_64) Gecko", "Browser on Linux"),
        ("Mozilla/5.0", "Unknown browser"),
        ("", "Unknown device"),
        (None, "Unknown device"),
        ("<script>alert(1)</script>", "Unknown device"),
        ("\x00\x01", "Unknown device"),
    ],
)
def test_device_names_from_user_agents(user_agent, name):
    assert device_name(user_agent) == name


def test_device_names_are_short_even_for_long_user_agents():
    assert len(device_name("A" * 200 + "/1.0")) <= 64


def _browser(account, user_agent=FIREFOX_LINUX):
    client = Client(HTTP_USER_AGENT=user_agent)
    assert client.post("/login", {"username": account.username, "password": account.password}).status_code == 302
    return client


def _api(account, user_agent="curl/8.5.0"):
    client = APIClient(HTTP_USER_AGENT=user_agent)
    tokens = account.login(client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def test_sign_in_names_the_session_from_its_user_agent(account):
    _browser(account)
    _api(account)
    names = dict(UnlockSession.objects.filter(user=account.user).values_list("kind", "device"))
    assert names == {"browser": "Firefox on Linux", "token": "curl"}


def test_settings_page_lists_devices_by_name(account):
    browser = _browser(account)
    _api(account)
    html = browser.get("/settings").content.decode()
    assert "Firefox on Linux" in html and "curl" in html and "(this browser)" in html
    assert html.count('data-testid="device-name"') == 2


def test_rename_on_the_settings_page_seals_the_name(account):
    browser = _browser(account)
    _api(account)
    token_session = UnlockSession.objects.get(user=account.user, kind="token")
    response = browser.post(f"/settings/sessions/{token_session.pk}/rename", {"name": "  Work   laptop  "})
    assert response.status_code == 302
    html = browser.get("/settings").content.decode()
    assert "Work laptop" in html and "Device renamed." in html
    assert "curl" in html  # still shown under the name, as what it is
    row = UnlockSession.objects.get(pk=token_session.pk)
    assert (
        row.name_sealed
        and "Work laptop" not in row.name_sealed
        and "Work" not in str(UnlockSession.objects.filter(pk=row.pk).values().get())
    )
    with connection.cursor() as cursor:  # nothing readable in the table itself
        cursor.execute("SELECT * FROM accounts_unlocksession")
        assert "Work laptop" not in repr(cursor.fetchall())
    event = Event.objects.get(action="auth.session_renamed")
    assert event.object_id == str(row.pk) and "Work" not in str(event.data)
    # an empty name goes back to the one read from the User-Agent
    browser.post(f"/settings/sessions/{token_session.pk}/rename", {"name": ""})
    row.refresh_from_db()
    assert row.name_sealed == "" and row.name_key_wrapped == ""


def test_rename_page_errors(account, other_account):
    browser = _browser(account)
    mine = UnlockSession.objects.get(user=account.user)
    response = browser.post(f"/settings/sessions/{mine.pk}/rename", {"name": "x" * 65})
    assert response.status_code == 400
    assert "Ensure this value has at most 64 characters" in response.content.decode()
    theirs = UnlockSession.objects.get(pk=_browser(other_account).session["locker_unlock_session"])
    response = browser.post(f"/settings/sessions/{theirs.pk}/rename", {"name": "mine now"}, follow=True)
    assert "No such session." in response.content.decode()
    assert UnlockSession.objects.get(pk=theirs.pk).name_sealed == ""
    assert browser.get(f"/settings/sessions/{mine.pk}/rename").status_code == 405


def test_hostile_names_are_shown_as_text(account):
    browser = _browser(account)
    mine = UnlockSession.objects.get(user=account.user)
    browser.post(f"/settings/sessions/{mine.pk}/rename", {"name": '<img src=x onerror="alert(1)">'})
    html = browser.get("/settings").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_api_lists_and_renames_devices(account):
    api = _api(account)
    listed = api.get("/api/v1/auth/sessions/").json()["results"]
    assert [(s["name"], s["device"], s["renamed"], s["current"]) for s in listed] == [("curl", "curl", False, True)]
    session_id = listed[0]["id"]
    response = api.patch(f"/api/v1/auth/sessions/{session_id}/", {"name": "backup job"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "backup job" and response.json()["device"] == "curl"
    assert response.json()["renamed"] is True
    listed = api.get("/api/v1/auth/sessions/").json()["results"]
    assert listed[0]["name"] == "backup job" and listed[0]["renamed"] is True
    cleared = api.patch(f"/api/v1/auth/sessions/{session_id}/", {"name": ""}, format="json").json()
    assert cleared["name"] == "curl" and cleared["renamed"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_api_rename_refuses_bad_input(account, body, field):
    api = _api(account)
    session = UnlockSession.objects.get(user=account.user)
    response = api.patch(f"/api/v1/auth/sessions/{session.pk}/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    session.refresh_from_db()
    assert session.name_sealed == ""


def test_api_rename_of_another_users_or_no_session_is_404(account, other_account):
    api = _api(account)
    theirs = _api(other_account)
    their_session = UnlockSession.objects.get(user=other_account.user)
    for target in (their_session.pk, "00000000-0000-0000-0000-000000000000"):
        response = api.patch(f"/api/v1/auth/sessions/{target}/", {"name": "mine"}, format="json")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert "other" not in response.json()["detail"]
    assert api.patch("/api/v1/auth/sessions/not-a-uuid/", {"name": "x"}, format="json").status_code == 404
    their_session.refresh_from_db()
    assert their_session.name_sealed == ""
    assert theirs.get("/api/v1/auth/sessions/").json()["results"][0]["renamed"] is False


def test_api_rename_needs_an_unlocked_vault(account):
    browser = _browser(account)
    session = UnlockSession.objects.get(user=account.user)
    browser.cookies.pop("locker_unlock")
    response = browser.patch(f"/api/v1/auth/sessions/{session.pk}/", {"name": "x"}, content_type="application/json")
    assert response.status_code in (401, 423)
    session.refresh_from_db()
    assert session.name_sealed == ""


def test_names_are_per_row_sealed(account):
    """A sealed name copied onto another session does not open there (its associated data names the row)."""
    from accounts.keys import AccountKeys
    from accounts.services import keyring_unlock
    from locker.crypto import DecryptionError

    a = _api(account)
    _api(account, "Wget/1.0")
    first, second = UnlockSession.objects.filter(user=account.user).order_by("created_at")
    udk = keyring_unlock(user=account.user, password=account.password)
    unlock_session_rename(user=account.user, session_id=first.pk, udk=udk, name="one")
    first.refresh_from_db()
    UnlockSession.objects.filter(pk=second.pk).update(
        name_key_wrapped=first.name_key_wrapped, name_sealed=first.name_sealed
    )
    second.refresh_from_db()
    keys = AccountKeys(account.user.pk, udk)
    assert keys.session_name(first) == "one"
    with pytest.raises(DecryptionError):
        keys.session_name(second)
    assert a  # the API client stays signed in


def test_rename_service_checks(account, other_account):
    from accounts.services import keyring_unlock

    _api(account)
    session = UnlockSession.objects.get(user=account.user)
    udk = keyring_unlock(user=account.user, password=account.password)
    with pytest.raises(InvalidInput):
        unlock_session_rename(user=account.user, session_id=session.pk, udk=udk, name=5)
    with pytest.raises(InvalidInput):
        unlock_session_rename(user=account.user, session_id=session.pk, udk=udk, name="x" * 65)
    with pytest.raises(NotFound):
        unlock_session_rename(user=other_account.user, session_id=session.pk, udk=udk, name="x")
    renamed = unlock_session_rename(user=account.user, session_id=session.pk, udk=udk, name=" a  b ")
    assert renamed.name == "a b"


def test_listing_renamed_devices_takes_a_bounded_number_of_queries(account, django_assert_max_num_queries):
    from accounts.services import keyring_unlock

    api = _api(account)
    udk = keyring_unlock(user=account.user, password=account.password)
    for number in range(6):
        _api(account, f"Wget/1.{number}")
    for session in UnlockSession.objects.filter(user=account.user):
        unlock_session_rename(user=account.user, session_id=session.pk, udk=udk, name=f"device {session.pk}")
    with django_assert_max_num_queries(8):
        results = api.get("/api/v1/auth/sessions/").json()["results"]
    assert len(results) == 7 and all(row["renamed"] and row["name"].startswith("device ") for row in results)
