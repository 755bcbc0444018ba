"""`locker sync` as a person sees it in a terminal (tmux): the progress bar while a large file goes up, the summary
table at the end, and the conflict message when a file changed on both sides."""

import os
import shlex
import shutil
import subprocess
import time

import pytest

from tests.cli.conftest import ENTRY

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]


class Terminal:
    """A tmux session of 100x30 running commands in a shell, read with capture-pane."""

    def __init__(self, name: str, env: dict):
        self.name = name
        self.env = env
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("LOCKER_", "PATH")))
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", f"env {exports} bash --norc"], check=True
        )

    def type(self, command: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, command, "Enter"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.03)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_progress_summary_and_conflict_as_seen_in_a_terminal(signed_in_cli, tmp_path):
    cli = signed_in_cli
    local = tmp_path / "here"
    local.mkdir()
    (local / "movie.bin").write_bytes(os.urandom(300 * 2**20))
    (local / "plan.txt").write_text("base\n")
    command = shlex.join([*ENTRY, "sync", str(local), "/Term"])
    terminal = Terminal(f"locker-test-{os.getpid()}", cli.env)
    try:
        terminal.type(command)
        during = terminal.wait_for("MB/s")  # bytes are moving
        line = next(line for line in during.splitlines() if line.startswith("Syncing"))
        assert "━" in line and "/314.6 MB" in line  # a bar, the bytes moved of the total (both files), the speed
        after = terminal.wait_for("uploaded")
        assert "Sync" in after and "folders made" not in after
        summary_line = next(line for line in after.splitlines() if "uploaded" in line)
        assert summary_line.split()[-1] == "2"
        # the same file changed on the server (another computer) and here: a conflict, said plainly
        other = tmp_path / "other"
        other.mkdir()
        (other / "plan.txt").write_text("changed elsewhere\n")
        cli.ok("upload", str(other / "plan.txt"), "--to", "/Term")
        (local / "plan.txt").write_text("changed here, too\n")
        later = time.time_ns() + 2_000_000_000
        os.utime(local / "plan.txt", ns=(later, later))
        terminal.type("clear; " + command)
        screen = terminal.wait_for("conflicts")
        joined = " ".join(screen.split())
        assert "conflict: plan.txt changed here and on the server since the last sync" in joined
        assert "a copy of yours is plan (conflict copy" in joined
    finally:
        terminal.close()
