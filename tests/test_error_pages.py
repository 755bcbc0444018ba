"""The 403, 404 and 500 pages: the site header, words for a person and a way back; JSON under /api/.

The 500 page renders with no user, no session and no database (``locker.errors.server_error``): whatever broke
may be any of them. This module is also the URL configuration of its tests (``pytest.mark.urls``), which adds
views that fail on purpose to the site's own URLs.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import path

from locker import errors
from locker.urls import urlpatterns as site_urlpatterns
from tests.factories import make_account


def _boom(request):
    raise RuntimeError("broken on purpose")


def _forbidden(request):
    raise PermissionDenied("not for you")


urlpatterns = [path("boom", _boom), path("api/v1/boom", _boom), path("forbidden", _forbidden), *site_urlpatterns]
handler400 = "locker.errors.bad_request"
handler403 = "locker.errors.permission_denied"
handler404 = "locker.errors.page_not_found"
handler500 = "locker.errors.server_error"


def page(response) -> str:
    return response.content.decode()


def assert_site_page(html: str) -> None:
    assert 'class="topbar' in html and "Skip to content" in html  # the header of every page
    assert '<a href="/">Go to your home page</a>' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


@pytest.mark.django_db
def test_404_page_has_the_header_and_ways_back():
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    html = page(response)
    assert_site_page(html)
    assert 'data-testid="not-found"' in html and "Page not found" in html and "/login" in html


@pytest.mark.django_db
def test_404_page_signed_in_links_to_files():
    client = Client()
    account = make_account("alice")
    client.force_login(account.user)
    response = client.get("/files/no/such/thing/at/all")
    assert response.status_code == 404
    html = page(response)
    assert_site_page(html)
    assert '<a href="/files/">Open your files</a>' in html and 'data-testid="logout"' in html


@pytest.mark.django_db
def test_api_404_stays_json():
    response = Client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response.json() == {"code": "not_found", "detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.urls("tests.test_error_pages")
def test_403_page_has_the_header_and_ways_back():
    response = Client().get("/forbidden")
    assert response.status_code == 403
    html = page(response)
    assert_site_page(html)
    assert 'data-testid="forbidden"' in html and "not for you" not in html  # no details of why


@pytest.mark.django_db
@pytest.mark.urls("tests.test_error_pages")
def test_500_page_signed_in_has_the_header_and_no_sign_in_state():
    client = Client(raise_request_exception=False)
    client.force_login(make_account("alice").user)
    response = client.get("/boom")
    assert response.status_code == 500
    html = page(response)
    assert_site_page(html)
    assert 'data-testid="server-error"' in html and '<a href="/files/">Open your files</a>' in html
    assert "Sign in" not in html and "broken on purpose" not in html and "Traceback" not in html
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.json()["code"] == "server_error"


def test_500_page_renders_without_the_database(django_db_blocker):
    """GIVEN no database at all (pytest-django blocks it: any query raises) WHEN the 500 handler answers
    THEN it still draws the site's page, header and links included."""
    with django_db_blocker.block():
        response = errors.server_error(RequestFactory().get("/anything"))
    assert response.status_code == 500
    html = page(response)
    assert_site_page(html)
    assert 'data-testid="server-error"' in html and connection.queries == []


def test_500_falls_back_to_a_bare_page_when_its_template_fails(monkeypatch):
    from django.views import defaults

    def broken(request, template_name="500.html"):
        raise ValueError("template broke")

    monkeypatch.setattr(defaults, "server_error", broken)
    response = errors.server_error(RequestFactory().get("/anything"))
    assert response.status_code == 500 and b"Something went wrong" in response.content


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_sites_page():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_account("alice").user)
    response = client.post("/logout")
    assert response.status_code == 403
    html = page(response)
    assert_site_page(html)
    assert 'data-testid="csrf-failed"' in html and "This form has expired" in html
    assert client.get("/files/").status_code == 200  # still signed in: nothing was changed
