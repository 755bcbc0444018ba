"""A `locker sync` killed in the middle of its transfers and run again finishes with no duplicate and no lost file;
a 200 MiB file goes on from the bytes the server has instead of starting again (tus, remembered by the sync)."""

import hashlib
import os
import signal
import subprocess
import time

import pytest

from tests.cli.conftest import ENTRY
from vault.models import File, Upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_killed_sync_resumes_its_200_mib_upload_and_duplicates_nothing(signed_in_cli, tmp_path):
    cli = signed_in_cli
    local = tmp_path / "local"
    (local / "small").mkdir(parents=True)
    for i in range(20):
        (local / "small" / f"{i:02}.txt").write_bytes(f"small file {i}\n".encode())
    big = os.urandom(200 * 2**20)
    (local / "video.bin").write_bytes(big)

    process = subprocess.Popen(
        [*ENTRY, "sync", str(local), "/Resumed"], env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        upload = Upload.objects.first()
        if upload is not None and upload.offset >= 40 * 2**20:
            break
        time.sleep(0.05)
    else:
        process.kill()
        raise AssertionError("the upload never got going")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    time.sleep(0.5)  # the server saves what arrived of the PATCH that was cut
    stored = Upload.objects.get().offset
    assert 40 * 2**20 <= stored < len(big)

    done = cli.json("sync", str(local), "/Resumed")
    assert "video.bin" in done["uploaded"]
    upload = Upload.objects.get()  # the same upload, finished: it went on from where the server was
    assert upload.finished
    assert Upload.objects.count() == 1
    names = cli.json("ls", "/Resumed")
    assert sorted(item["name"] for item in names) == ["small", "video.bin"]
    assert len(cli.json("ls", "/Resumed/small")) == 20  # every small file once
    assert File.objects.filter(trashed_at__isnull=True).count() == 21
    out = tmp_path / "out"
    cli.ok("download", "/Resumed/video.bin", "--to", str(out))
    assert hashlib.sha256((out / "video.bin").read_bytes()).digest() == hashlib.sha256(big).digest()
    again = cli.json("sync", str(local), "/Resumed")
    assert not (again["uploaded"] or again["downloaded"] or again["conflicts"])
