"""The `locker` CLI's export and import against the real server: an export of one account imported into another
gives back the same bytes (and versions), a dry run writes nothing, a wrong passphrase is refused in one line, the
passphrase is read from a file or asked for and kept nowhere."""

import json
import os
import subprocess

import pytest

from tests.cli.conftest import ENTRY, Cli
from tests.factories import make_account
from vault.models import File, Folder

pytestmark = pytest.mark.django_db(transaction=True)

PASSPHRASE = "a long export passphrase"


def one_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("locker: ") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def said(done) -> str:
    """The error as one sentence: the message, with the console's wrapping at 80 columns undone."""
    assert done.stderr.startswith("locker: ") and "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())


@pytest.fixture
def exported(signed_in_cli, tmp_path):
    """carol's vault (two folders, a file with two versions, a binary file) exported with every version."""
    cli = signed_in_cli
    (tmp_path / "a.txt").write_bytes(b"first\n")
    cli.ok("upload", str(tmp_path / "a.txt"), "--to", "/Docs")
    (tmp_path / "a.txt").write_bytes(b"second\n")
    cli.ok("upload", str(tmp_path / "a.txt"), "--to", "/Docs")
    (tmp_path / "photo ü.bin").write_bytes(os.urandom(300_000))
    cli.ok("upload", str(tmp_path / "photo ü.bin"), "--to", "/Docs/2026")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "carol.zip"
    done = cli.json("export", "--out", str(archive), "--passphrase-file", str(secret), "--all-versions")
    assert done["size"] == archive.stat().st_size > 300_000 and done["all_versions"] is True
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.locker-part"))
    assert PASSPHRASE.encode() not in archive.read_bytes()
    return archive, secret


@pytest.fixture
def dave_cli(live_server, tmp_path) -> Cli:
    other = Cli(live_server.url, tmp_path / "dave")
    account = make_account("dave")
    other.login(account)
    other.account = account
    return other


def test_export_then_import_into_another_account_gives_back_the_files(exported, dave_cli, tmp_path):
    archive, secret = exported
    report = dave_cli.json("import", str(archive), "--passphrase-file", str(secret))
    assert report["dry_run"] is False and report["failed"] == []
    assert report["created"]["files"] == 2 and report["created"]["versions"] == 1  # the older version of a.txt
    top = report["folder"]
    assert [(i["kind"], i["name"]) for i in dave_cli.json("ls", f"/{top}")] == [("folder", "Docs")]
    back = tmp_path / "back"
    dave_cli.ok("download", f"/{top}/Docs/a.txt", "--to", str(back))
    dave_cli.ok("download", f"/{top}/Docs/2026/photo ü.bin", "--to", str(back))
    assert (back / "a.txt").read_bytes() == b"second\n"
    assert (back / "photo ü.bin").read_bytes() == (tmp_path / "photo ü.bin").read_bytes()
    assert sorted(v["number"] for v in dave_cli.json("versions", f"/{top}/Docs/a.txt")) == [1, 2]
    dave_cli.ok("restore", f"/{top}/Docs/a.txt", "--version", "1")
    dave_cli.ok("download", f"/{top}/Docs/a.txt", "--to", str(tmp_path / "older"))
    assert (tmp_path / "older" / "a.txt").read_bytes() == b"first\n"

    # merge into dave's own folders, then once more: the second import creates nothing
    merged = dave_cli.json("import", str(archive), "--passphrase-file", str(secret), "--mode", "merge")
    assert merged["created"]["files"] == 2 and merged["folder"] is None
    again = dave_cli.ok("import", str(archive), "--passphrase-file", str(secret), "--mode", "merge").stdout
    assert "Created: nothing." in again and "Skipped (already there): " in again and "2 files" in again


def test_dry_run_writes_nothing_and_a_wrong_passphrase_is_refused(exported, dave_cli, tmp_path):
    archive, secret = exported
    owner = dave_cli.account.user
    before = (File.objects.filter(owner=owner).count(), Folder.objects.filter(owner=owner).count())
    dry = dave_cli.json("import", str(archive), "--passphrase-file", str(secret), "--dry-run")
    assert dry["dry_run"] is True and dry["created"]["files"] == 2
    human = dave_cli.ok("import", str(archive), "--passphrase-file", str(secret), "--dry-run").stdout
    assert "Would create" in human and "nothing was written" in human
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    refused = dave_cli.run("import", str(archive), "--passphrase-file", str(wrong))
    assert refused.returncode == 1 and "passphrase does not open this archive" in said(refused)
    assert (File.objects.filter(owner=owner).count(), Folder.objects.filter(owner=owner).count()) == before

    bad_mode = dave_cli.run("import", str(archive), "--passphrase-file", str(secret), "--mode", "replace")
    assert bad_mode.returncode == 2 and "--mode" in one_line(bad_mode)
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello\n")
    junk = dave_cli.run("import", str(not_zip), "--passphrase-file", str(secret))
    assert junk.returncode == 1 and "Traceback" not in junk.stderr
    assert dave_cli.run("import", str(tmp_path / "none.zip"), "--passphrase-file", str(secret)).returncode == 2
    assert (File.objects.filter(owner=owner).count(), Folder.objects.filter(owner=owner).count()) == before


def test_export_asks_for_the_passphrase_twice_and_refuses_a_short_one(signed_in_cli, tmp_path):
    cli = signed_in_cli
    (tmp_path / "a.txt").write_bytes(b"hello\n")
    cli.ok("upload", str(tmp_path / "a.txt"))
    archive = tmp_path / "asked.zip"
    # no terminal (a new session): the hidden prompt reads stdin
    done = subprocess.run(
        [*ENTRY, "export", "--out", str(archive)],
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
        capture_output=True,
        text=True,
        env=cli.env,
        start_new_session=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Exported to" in done.stdout and archive.stat().st_size > 0
    stored = "".join(p.read_text() for p in (cli.home / "config").rglob("*") if p.is_file())
    assert PASSPHRASE not in stored

    short = tmp_path / "short"
    short.write_text("abc\n")
    refused = cli.run("export", "--out", str(tmp_path / "x.zip"), "--passphrase-file", str(short))
    assert refused.returncode == 2 and "at least 8 characters" in one_line(refused)
    assert not (tmp_path / "x.zip").exists()
    nowhere = cli.run("export", "--out", str(tmp_path / "no" / "x.zip"), "--passphrase-file", str(short))
    assert nowhere.returncode == 7 and "no such folder here" in said(nowhere)
    missing = cli.run("export", "--out", str(tmp_path / "x.zip"), "--passphrase-file", str(tmp_path / "none"))
    assert missing.returncode == 2 and "cannot read the passphrase" in said(missing)


def on_a_terminal(cli, *args) -> tuple[int, str]:
    """Run the CLI with its stdout on a pseudo-terminal (where progress bars show); its exit status and output."""
    import pty
    import threading

    leader, follower = pty.openpty()
    env = {**cli.env, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen([*ENTRY, *args], stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    seen = bytearray()

    def drain():
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                return
            if not data:
                return
            seen.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    status = process.wait(timeout=120)
    reader.join(timeout=10)
    os.close(leader)
    return status, seen.decode(errors="replace")


def test_progress_shows_on_a_terminal_and_the_commands_still_finish(exported, dave_cli, tmp_path):
    archive, secret = exported
    status, shown = on_a_terminal(dave_cli, "import", str(archive), "--passphrase-file", str(secret), "--dry-run")
    assert status == 0 and "Would create" in shown and "Uploading" in shown
    copy = tmp_path / "again.zip"
    status, shown = on_a_terminal(dave_cli, "export", "--out", str(copy), "--passphrase-file", str(secret))
    assert status == 0 and "Exporting" in shown and "Exported to" in shown and copy.stat().st_size > 0
    status, shown = on_a_terminal(dave_cli, "--json", "export", "--out", str(copy), "--passphrase-file", str(secret))
    assert status == 0 and "Exporting" not in shown and json.loads(shown)["size"] > 0


def test_an_unreachable_server_is_one_line_and_exit_3(tmp_path):
    cli = Cli("http://127.0.0.1:9", tmp_path)
    home = tmp_path / "config"
    home.mkdir()
    profile = {"server": cli.base, "username": "carol", "app_password_id": "x", "secret_in": "file"}
    (home / "config.json").write_text(json.dumps(profile))
    (home / "credentials").write_text(json.dumps({"password": "an app password"}))
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "some.zip"
    archive.write_bytes(b"PK not really")
    for args in (("export", "--out", str(tmp_path / "x.zip")), ("import", str(archive))):
        done = cli.run(*args, "--passphrase-file", str(secret))
        assert done.returncode == 3 and "Cannot reach" in said(done), args
    assert not (tmp_path / "x.zip").exists() and not list(tmp_path.glob(".*.locker-part"))
