"""Heavy work (decrypting, extracting text, making thumbnails, probing recordings) never holds the write lock.

GIVEN a derivation made slow on purpose (it waits until the test lets it go)
WHEN an action that may derive runs in one thread
THEN either it derives nothing at all, or, while it is deriving, a second writer (another user creating a
folder, with a short busy timeout) gets through: the derivation runs outside the action's transaction.
With SQLite's database-wide write lock, a derivation inside the transaction makes that second writer fail
with "database is locked".
"""

import io
import threading

import pytest
from django.db import connection
from PIL import Image

from chats import services as chat_services
from tests.vault.conftest import keys_for, make_upload
from vault.derived import derive
from vault.files import services
from vault.search.reindex import vault_reindex
from vault.trash import services as trash

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = b"a quarterly report about zebras " * 200


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "blue").save(out, "PNG")
    return out.getvalue()


def assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, action) -> bool:
    """Run ``action`` in a thread with derivation held; returns whether it derived at all."""
    entered, release = threading.Event(), threading.Event()
    original = derive._derive

    def held(**kwargs):
        entered.set()
        release.wait(15)
        return original(**kwargs)

    monkeypatch.setattr(derive, "_derive", held)
    failures = []

    def run():
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    try:
        while not entered.wait(0.05) and worker.is_alive():
            pass
        derived = entered.is_set()
        if derived:
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA busy_timeout = 1500")
            services.folder_create(user=other_user, keys=other_keys, name=f"while deriving {id(action)}")
    finally:
        release.set()
        worker.join(30)
    assert not failures, failures
    return derived


@pytest.fixture
def text_file(user, keys):
    return services.file_upload(user=user, keys=keys, upload=make_upload(keys, "report.txt", TEXT)).file


@pytest.fixture
def other_keys(other_account):
    return keys_for(other_account)


def test_rename_and_retag_derive_nothing(monkeypatch, user, keys, other_user, other_keys, text_file):
    def rename():
        services.file_update(user=user, keys=keys_for_thread(keys), file_id=text_file.pk, name="renamed.txt")

    def retag():
        services.file_update(user=user, keys=keys_for_thread(keys), file_id=text_file.pk, tags=["zebra"])

    assert not assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, rename)
    assert not assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, retag)
    # and the content words are still found under the new name and tag
    from vault.search import selectors as search_selectors

    results = list(search_selectors.search(user=user, keys=keys, query="quarterly"))
    assert [r["item"].pk for r in results] == [text_file.pk]
    assert [r["item"].pk for r in search_selectors.search(user=user, keys=keys, query="renamed zebra")] == [
        text_file.pk
    ]


def test_restoring_a_version_derives_outside_the_lock(monkeypatch, user, keys, other_user, other_keys, text_file):
    services.file_version_add(
        user=user, keys=keys, file_id=text_file.pk, upload=make_upload(keys, "report.txt", b"second text")
    )

    def restore():
        services.file_version_restore(user=user, keys=keys_for_thread(keys), file_id=text_file.pk, number=1)

    assert assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, restore)


def test_trash_restore_under_a_new_name_derives_nothing(monkeypatch, user, keys, other_user, other_keys, text_file):
    trash.item_trash(user=user, kind="file", item_id=text_file.pk)
    services.file_upload(user=user, keys=keys, upload=make_upload(keys, "report.txt", b"same name"))

    def restore():
        trash.trash_restore(user=user, keys=keys_for_thread(keys), item_id=text_file.pk)

    assert not assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, restore)


def test_chat_attachments_derive_outside_the_message_transaction(monkeypatch, user, keys, other_user, other_keys):
    chat = chat_services.chat_create(user=user, keys=keys, title="pictures")
    picture = make_upload(keys, "p.png", png())

    def post():
        chat_services.message_create(
            user=user, keys=keys_for_thread(keys), chat_id=chat.pk, role="user", content="look", files=[picture]
        )

    assert assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, post)


def test_reindex_derives_outside_each_items_transaction(monkeypatch, user, keys, other_user, other_keys, text_file):
    def reindex():
        vault_reindex(user=user, keys=keys_for_thread(keys))

    assert assert_second_writer_not_blocked(monkeypatch, other_user, other_keys, reindex)


def keys_for_thread(keys):
    """A fresh key object for the worker thread (a request's keys are not shared across threads)."""
    from vault.keys import VaultKeys

    return VaultKeys(keys.owner_id, keys.udk)
