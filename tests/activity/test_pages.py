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
