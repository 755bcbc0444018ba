"""The notifications and activity pages through Django's test client: shells for their scripts, signed in only."""

import pytest

pytestmark = pytest.mark.django_db


def sign_in(client, account):
    response = client.post("/login", {"username": account.username, "password": account.password})
    assert response.status_code == 302, response.content


@pytest.mark.parametrize(
    ("path", "root", "script"),
    [
        ("/notifications", 'id="notifications-page"', "js/notifications.js"),
        ("/activity", 'id="activity-page"', "js/activity.js"),
    ],
)
def test_a_signed_in_user_gets_the_page_with_its_script_and_csrf_token(client, account, path, root, script):
    sign_in(client, account)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert root in html and f'src="/static/{script}"' in html
    assert 'data-csrf="' in html and 'data-csrf=""' not in html
    assert "no-cache" in response["Cache-Control"]
    assert 'aria-current="page"' in html  # the header marks where we are


@pytest.mark.parametrize("path", ["/notifications", "/activity"])
def test_signed_out_the_pages_lead_to_the_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/notifications", "/activity"])
def test_the_pages_only_show(client, account, path):
    sign_in(client, account)
    assert client.post(path).status_code == 405


def test_every_signed_in_page_has_the_bell_toasts_and_live_stream_and_signed_out_pages_do_not(client, account):
    signed_out = client.get("/login").content.decode()
    assert 'id="bell"' not in signed_out and "js/live.js" not in signed_out and 'id="toasts"' not in signed_out
    sign_in(client, account)
    for path in ("/", "/files/", "/settings", "/notifications", "/activity"):
        html = client.get(path).content.decode()
        assert 'href="/notifications"' in html and 'id="bell"' in html, path
        assert 'src="/static/js/live.js"' in html and 'id="toasts"' in html, path
        assert 'href="/activity"' in html, path


# --- the recent-activity tables of the home and settings pages: in words, with names, the code on hover ----------

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _upload_into_documents(account, name="invoice-acme.pdf"):
    from tests.vault.conftest import keys_for, make_upload
    from vault.files.services import file_upload, folder_create

    keys = keys_for(account)
    documents = folder_create(user=account.user, keys=keys, name="Documents")
    file_upload(user=account.user, keys=keys, upload=make_upload(keys, name, b"pdf"), folder_id=documents.pk)


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-testid="event-row".*?</tr>', html, re.S)


@pytest.mark.parametrize("path", ["/", "/settings"])
def test_home_and_settings_show_recent_activity_in_words_with_names(client, account, path):
    response = client.post(
        "/login", {"username": account.username, "password": account.password}, HTTP_USER_AGENT=FIREFOX
    )
    assert response.status_code == 302
    _upload_into_documents(account)
    html = client.get(path).content.decode()
    rows = _rows(html)
    assert rows
    uploaded = next(row for row in rows if 'data-action="file.uploaded"' in row)
    assert '<span class="event-summary" title="file.uploaded">You uploaded invoice-acme.pdf to Documents</span>' in (
        uploaded
    )
    assert '<span class="sr-only"> (code file.uploaded)</span>' in uploaded  # the code, for screen readers too
    assert any("You signed in from Firefox on Linux" in row for row in rows)
    assert any("You created the folder Documents" in row for row in rows)
    assert ">just now</time>" in uploaded and "Succeeded" in uploaded
    for code in ("auth.login", "file.uploaded", "folder.created"):
        assert f">{code}<" not in html  # codes only in titles and after the sentence, never as the text shown
    assert 'src="/static/js/event-times.js"' in html


def test_with_the_vault_locked_the_table_uses_neutral_words(client, account):
    sign_in(client, account)
    _upload_into_documents(account)
    client.cookies.pop("locker_unlock")  # this browser lost its key: nothing can be opened
    html = client.get("/").content.decode()
    assert "You uploaded a file to a folder" in html
    assert "invoice-acme.pdf" not in html and "Documents" not in html


def test_a_hostile_name_is_shown_as_text(client, account):
    sign_in(client, account)
    _upload_into_documents(account, name='<img src=x onerror="alert(1)">.pdf')
    html = client.get("/").content.decode()
    assert "You uploaded &lt;img src=x onerror=&quot;alert(1)&quot;&gt;.pdf to Documents" in html
    assert "<img src=x" not in html


def test_the_relative_time_filter():
    from datetime import UTC, datetime, timedelta

    from activity.templatetags.activity_words import ago

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=5, seconds=3), now) == "5\xa0minutes ago"
    assert ago(now - timedelta(days=3, hours=2), now) == "3\xa0days ago"
    assert ago(now - timedelta(days=30), now) == "2026-11-04"
    assert ago(None) == ""
