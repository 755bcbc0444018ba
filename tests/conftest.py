"""Shared fixtures: a real SQLite file (or PostgreSQL via DATABASE_URL), real services.

Settings come from ``tests/settings.py`` (production code paths, cheaper Argon2).
"""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import make_account


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()  # rate-limit counters start from zero in every test
    yield
    cache.clear()


@pytest.fixture
def account(db):
    return make_account("alice")


@pytest.fixture
def other_account(db):
    return make_account("bob")


@pytest.fixture
def user(account):
    return account.user


@pytest.fixture
def other_user(other_account):
    return other_account.user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def auth_client(account):
    """An API client logged in as ``account`` with a Bearer token (vault unlocked)."""
    client = APIClient()
    tokens = account.login(client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    """Encrypted blobs of every test go to its own directory (the vault storage is a settings entry)."""
    path = tmp_path / "blobs"
    settings.LOCKER_BACKUP_HOLDS_DIR = tmp_path / "backup-holds"
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(path)}},
    }
    return path
