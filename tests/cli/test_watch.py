"""`locker watch` against the real server: a file written locally reaches the server, and a file another computer
uploads reaches the local folder, without running anything by hand; Ctrl-C stops it cleanly."""

import signal
import subprocess
import time

import pytest

from tests.cli.conftest import ENTRY

pytestmark = pytest.mark.django_db(transaction=True)


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_watch_syncs_local_and_remote_changes_as_they_happen(signed_in_cli, tmp_path, live_streams):
    # live_streams: the test server ends a stream after 3 s (the client reconnects), and the test waits for the
    # last one to end before the database is emptied
    cli = signed_in_cli
    local = tmp_path / "watched"
    other = tmp_path / "other"
    other.mkdir()
    process = subprocess.Popen(
        [*ENTRY, "watch", str(local), "/Watched"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _until(lambda: local.exists())
        time.sleep(1.0)  # the first sync has run
        (local / "from watch.txt").write_text("written here\n")
        names = lambda: {i["name"] for i in cli.json("ls", "/Watched")}  # noqa: E731
        assert _until(lambda: "from watch.txt" in names()), "the local file never reached the server"
        (other / "from elsewhere.txt").write_text("another computer\n")
        cli.ok("upload", str(other / "from elsewhere.txt"), "--to", "/Watched")
        assert _until(lambda: (local / "from elsewhere.txt").exists()), "the server's file never came down"
        assert (local / "from elsewhere.txt").read_text() == "another computer\n"
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "Watching" in stdout and "Stopped." in stdout and "Traceback" not in stderr
