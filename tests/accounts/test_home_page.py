"""The home page through Django's test client: the header card (lock state, quota, quick actions), the sections the
page's script fills (recent files, starred, storage by kind), the activity table, and nothing inline (CSP)."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def login(client, account):
    assert client.post("/login", {"username": account.username, "password": account.password}).status_code == 302


def home_html(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_home_renders_the_new_sections_for_a_signed_in_user(client, account):
    login(client, account)
    html = home_html(client)
    assert 'data-testid="vault-state">' in html and "Vault unlocked" in html
    assert 'data-unlocked="1"' in html
    # the header card: quota and quick actions
    assert 'data-testid="home-quota"' in html and "<progress" in html
    assert f'href="{reverse("files")}" data-testid="open-files"' in html
    assert f'href="{reverse("note-new")}" data-testid="new-note"' in html
    assert f'href="{reverse("trash")}" data-testid="open-trash"' in html
    # the sections the script fills, each titled
    for section, title in (
        ("recent-files", "Recent files"),
        ("starred-list", "Starred"),
        ("storage-chart", "Storage by kind"),
        ("storage-legend", None),
    ):
        assert f'data-testid="{section}"' in html, section
        if title:
            assert f">{title}</h2>" in html
    assert f'href="{reverse("files-recent")}"' in html and f'href="{reverse("files-starred")}"' in html
    # recent activity in words (the shared table) is still there
    assert '<h2 id="activity-title">Recent activity</h2>' in html
    assert 'data-testid="event-table"' in html  # signing in is an event
    # the page's script is a module file; nothing inline
    assert re.search(r'<script type="module" src="/static/js/home\.js[^"]*"></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


def test_home_when_the_vault_is_locked_says_so_and_asks_no_sealed_data(client, account):
    """GIVEN a browser whose unlock cookie cannot unlock WHEN it opens home THEN the page says locked, offers to sign
    in again, and has no recent or starred lists for the script to fill (their API would answer 423)."""
    login(client, account)
    session_id = client.session["locker_unlock_session"]
    client.cookies[settings.LOCKER_UNLOCK_COOKIE] = f"{session_id}.{'A' * 43}"
    html = home_html(client)
    assert "Vault locked" in html and 'data-unlocked="0"' in html
    assert 'data-testid="recent-locked"' in html and 'data-testid="starred-locked"' in html
    assert 'id="recent-files"' not in html and 'id="starred-list"' not in html
    assert 'data-testid="storage-chart"' in html  # sizes and types are not secret: the chart still loads


def test_home_needs_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
