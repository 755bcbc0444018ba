"""WebDAV keeps a client's modification time (``X-OC-Mtime`` on PUT, as Nextcloud and ownCloud do: rclone's
``owncloud`` vendor and the desktop clients send it), so sync tools that compare times (rclone bisync) work."""

from datetime import UTC, datetime

import pytest

from tests.vault.dav_helpers import Dav, dav_user
from vault.models import File

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_put_keeps_the_clients_time_and_says_so(live_server):
    dav = Dav(live_server.url, dav_user("alice"))
    created = dav.put("photo.jpg", b"jpeg bytes", headers={"X-OC-Mtime": "1600000000"})
    assert created.status_code in (201, 204) and created.headers.get("X-OC-Mtime") == "accepted"
    assert File.objects.get().modified_at == datetime.fromtimestamp(1600000000, tz=UTC)
    listed = dav.request("PROPFIND", "photo.jpg", headers={"Depth": "0"})
    assert "Sun, 13 Sep 2020 12:26:40 GMT" in listed.text
    again = dav.put("photo.jpg", b"new bytes", headers={"X-OC-Mtime": "1700000000.5"})  # a new version: its time
    assert again.headers.get("X-OC-Mtime") == "accepted"
    assert File.objects.get().modified_at == datetime.fromtimestamp(1700000000.5, tz=UTC)


@pytest.mark.parametrize("value", ["yesterday", "-5", "99999999999", ""])
def test_a_time_that_is_no_time_is_ignored(live_server, value):
    dav = Dav(live_server.url, dav_user("alice"))
    before = datetime.now(tz=UTC)
    created = dav.put("a.txt", b"x", headers={"X-OC-Mtime": value})
    assert created.status_code in (201, 204) and "X-OC-Mtime" not in created.headers
    assert File.objects.get().modified_at >= before
