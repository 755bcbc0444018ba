"""Quotas in human units: ``locker.units`` both ways, and the admin's user list and change form."""

import pytest
from django.test import Client

from accounts.models import User
from activity.models import Event
from locker.units import SizeError, format_bytes, format_size_exact, parse_size
from tests.factories import make_account

GIB = 1024**3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 GB", 5 * 1000**3),
        ("500 MiB", 500 * 1024**2),
        ("1.5 TiB", int(1.5 * 1024**4)),
        ("123", 123),
        ("0", 0),
        ("  2 kB ", 2000),
        ("5G", 5 * GIB),
        ("1.5gib", int(1.5 * GIB)),
        ("10 bytes", 10),
        ("1_000", 1000),
        ("1.1 KiB", 1126),  # rounded down to a whole byte
        (4096, 4096),
    ],
)
def test_parse_size_reads_human_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5 GB", "cannot be negative"),
        (-1, "cannot be negative"),
        ("abc", "Enter a size"),
        ("", "Enter a size"),
        ("   ", "Enter a size"),
        (None, "Enter a size"),
        (True, "Enter a size"),
        (1.5, "Enter a size"),
        ("1,5 GB", "Use a dot"),
        ("5 XB", "Unknown unit"),
        ("1e9", "Enter a size"),
        ("5 GB GB", "Enter a size"),
        ("9" * 40 + " TB", "far too large"),
        ("2 PiB", "At most 1 PiB"),
        ("x" * 65, "at most 64 characters"),
        ("5 GB\x00", "Enter a size"),
        ("<script>alert(1)</script>", "Enter a size"),
    ],
)
def test_parse_size_refuses_nonsense_with_a_reason(text, message):
    with pytest.raises(SizeError, match=message):
        parse_size(text, maximum=1024**5)


@pytest.mark.parametrize(
    "value", [0, 1, 999, 1000, 1024, 12345, 5 * GIB, int(1.5 * GIB), 5 * 1000**3, 10 * GIB, 1024**5, 7 * GIB + 1]
)
def test_exact_format_reads_back_to_the_same_bytes(value):
    assert parse_size(format_size_exact(value)) == value


def test_exact_format_uses_the_shortest_unit():
    assert format_size_exact(5 * GIB) == "5 GiB"
    assert format_size_exact(int(1.5 * GIB)) == "1.5 GiB"
    assert format_size_exact(5 * 1000**3) == "5 GB"
    assert format_size_exact(12345) == "12345 bytes"


def test_format_bytes_keeps_the_page_format_and_trims_for_the_admin():
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(10 * GIB) == "10.0 GiB"  # the home page's "0 B of 10.0 GiB used"
    assert format_bytes(10 * GIB, trim=True) == "10 GiB"
    assert format_bytes(0) == "0 B"
    assert format_bytes("nonsense") == "-"


@pytest.fixture
def admin_client(db):
    admin = make_account("root", role=User.Role.ADMIN)
    client = Client()
    assert client.post("/login", {"username": "root", "password": admin.password}).status_code == 302
    client.admin = admin.user
    return client


def _form(user, quota):
    return {"email": user.email, "role": user.role, "is_active": "on", "storage_quota": quota}


@pytest.mark.django_db
def test_user_list_shows_usage_of_quota_in_human_units(admin_client, account):
    User.objects.filter(pk=account.user.pk).update(storage_used=int(1.5 * GIB), storage_quota=5 * GIB)
    html = admin_client.get("/admin/accounts/user/").content.decode()
    assert "1.5 GiB of 5 GiB" in html
    assert "Storage used" in html


@pytest.mark.django_db
def test_change_form_shows_the_quota_in_units(admin_client, account):
    User.objects.filter(pk=account.user.pk).update(storage_quota=5 * GIB, storage_used=2048)
    html = admin_client.get(f"/admin/accounts/user/{account.user.pk}/change/").content.decode()
    assert 'value="5 GiB"' in html
    assert "2 KiB of 5 GiB (2,048 bytes)" in html
    assert "GiB = 1024³ bytes" in html  # the help text says what the units mean


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("5 GB", 5 * 1000**3), ("500 MiB", 500 * 1024**2), ("1.5 TiB", int(1.5 * 1024**4)), ("12345", 12345)],
)
def test_change_form_takes_a_quota_in_units(admin_client, account, typed, stored):
    url = f"/admin/accounts/user/{account.user.pk}/change/"
    response = admin_client.post(url, _form(account.user, typed))
    assert response.status_code == 302, response.content.decode()[:2000]
    account.user.refresh_from_db()
    assert account.user.storage_quota == stored
    event = Event.objects.filter(action="account.updated", user=account.user).latest("created_at")
    assert event.data["fields"] == ["storage_quota"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5 GB", "A size cannot be negative."),
        ("lots", "Enter a size such as 5 GB, 500 MiB or a number of bytes."),
        ("5 XB", "Unknown unit"),
        ("900 PB", "At most 1 PiB."),
        ("9" * 30, "At most 1 PiB."),
        ("", "This field is required."),
        ("x" * 500, "Use at most 64 characters."),
    ],
)
def test_change_form_refuses_nonsense_with_a_form_error_and_changes_nothing(admin_client, account, typed, message):
    before = account.user.storage_quota
    response = admin_client.post(f"/admin/accounts/user/{account.user.pk}/change/", _form(account.user, typed))
    assert response.status_code == 200  # the form again, with its error
    html = response.content.decode()
    assert "errornote" in html and message in html.replace("&quot;", '"').replace("&#x27;", "'")
    account.user.refresh_from_db()
    assert account.user.storage_quota == before
    assert not Event.objects.filter(action="account.updated", user=account.user).exists()


@pytest.mark.django_db
def test_saving_the_form_unchanged_changes_no_quota(admin_client, account):
    User.objects.filter(pk=account.user.pk).update(storage_quota=int(1.5 * GIB))
    account.user.refresh_from_db()
    response = admin_client.post(f"/admin/accounts/user/{account.user.pk}/change/", _form(account.user, "1.5 GiB"))
    assert response.status_code == 302
    event = Event.objects.filter(action="account.updated", user=account.user).latest("created_at")
    assert event.data["fields"] == []


@pytest.mark.django_db
def test_the_service_refuses_a_quota_out_of_range(account):
    from accounts import services
    from locker.errors import InvalidInput

    root = make_account("root2", role=User.Role.ADMIN).user
    for bad in (-1, 1024**5 + 1, "5 GB", True):
        with pytest.raises(InvalidInput):
            services.user_admin_update(admin=root, user=account.user, changes={"storage_quota": bad})
