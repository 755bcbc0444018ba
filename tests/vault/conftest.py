"""Vault fixtures: blobs in a per-test directory, the user's unlocked keys, uploads from bytes."""

import pytest
from rest_framework.test import APIClient

from accounts import keys as account_keys
from accounts.models import Keyring
from locker.crypto.keys import unwrap_with_password
from vault.keys import VaultKeys
from vault.transfers.uploads import upload_from_iterable


def bearer(account) -> APIClient:
    """An API client signed in as ``account`` with a Bearer token (its vault unlocked)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def content(response) -> bytes:
    """A response's body, streamed or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def keys_for(account) -> VaultKeys:
    keyring = Keyring.objects.get(user=account.user)
    udk = unwrap_with_password(
        keyring.udk_by_password, account.password, aad=account_keys.aad_password(account.user.pk)
    )
    return VaultKeys(account.user.pk, udk)


@pytest.fixture
def keys(account):
    return keys_for(account)


@pytest.fixture
def other_keys(other_account):
    return keys_for(other_account)


def make_upload(keys: VaultKeys, name: str, data: bytes, *, piece: int = 10_000, max_size=None):
    pieces = [data[i : i + piece] for i in range(0, len(data), piece)] or [b""]
    return upload_from_iterable(
        owner_id=keys.owner_id, mac_key=keys.content_mac_key(), name=name, pieces=pieces, max_size=max_size
    )


def blob_files(path) -> list:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
