"""The `locker` CLI's account and file commands against the real server: login keeps only an app password,
logout revokes it, ls/mkdir/upload/download/mv/rm, one-line errors with documented exit statuses."""

import hashlib
import json
import os

import pytest

from accounts.models import AppPassword
from tests.factories import make_account
from vault.models import File

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_keeps_an_app_password_only_and_logout_revokes_it(cli):
    account = make_account("carol")
    done = cli.run(
        "--json", "login", cli.base, "--username", "carol", "--password-stdin", input=account.password + "\n"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["stored_in"] == "file" and AppPassword.objects.filter(user=account.user).count() == 1
    stored = (cli.home / "config").rglob("*")
    texts = "".join(p.read_text() for p in stored if p.is_file())
    assert account.password not in texts  # never the account password
    assert oct((cli.home / "config" / "credentials").stat().st_mode & 0o777) == "0o600"
    assert cli.json("whoami")["username"] == "carol"
    cli.ok("logout")
    assert not AppPassword.objects.filter(user=account.user).exists()
    refused = cli.run("whoami")
    assert refused.returncode == 4 and "locker login" in refused.stderr and "Traceback" not in refused.stderr


def test_login_with_two_factor_asks_for_the_code(cli):
    import time

    import pyotp

    from accounts import twofactor

    account = make_account("carol")
    secret = twofactor.enrol_begin(user=account.user, password=account.password).secret
    twofactor.enrol_confirm(user=account.user, code=pyotp.TOTP(secret).now())
    login = ["login", cli.base, "--username", "carol", "--password-stdin"]
    missing = cli.run(*login, input=account.password + "\n")
    assert missing.returncode == 4 and "two-factor code" in missing.stderr and "--otp" in missing.stderr
    wrong = cli.run(*login, "--otp", "000000", input=account.password + "\n")
    assert wrong.returncode == 4 and wrong.stderr.strip() == "locker: Wrong two-factor code."
    code = pyotp.TOTP(secret).at(time.time() + 30)
    done = cli.run(*login, input=f"{account.password}\n{code}\n")  # the code on the line after the password
    assert done.returncode == 0, done.stderr
    assert cli.json("whoami")["username"] == "carol"


def test_wrong_password_and_unreachable_server_are_one_line_errors(cli, transactional_db):
    make_account("carol")
    wrong = cli.run("login", cli.base, "--username", "carol", "--password-stdin", input="nope\n")
    assert wrong.returncode == 4 and wrong.stderr.strip() == "locker: Wrong username or password."
    offline = cli.run("login", "http://127.0.0.1:9", "--username", "carol", "--password-stdin", input="x\n")
    assert (
        offline.returncode == 3
        and offline.stderr.startswith("locker: Cannot reach")
        and "Traceback" not in offline.stderr
    )
    debug = cli.run("--debug", "login", "http://127.0.0.1:9", "--username", "carol", "--password-stdin", input="x\n")
    assert debug.returncode == 3 and "Traceback" in debug.stderr


def test_a_revoked_app_password_is_said_plainly(signed_in_cli):
    AppPassword.objects.all().delete()
    refused = signed_in_cli.run("ls")
    assert refused.returncode == 4 and "app password" in refused.stderr


def test_files_round_trip_through_the_commands(signed_in_cli, tmp_path):
    cli = signed_in_cli
    small = tmp_path / "notes ü.txt"
    small.write_bytes(b"hello\n")
    big = tmp_path / "big.bin"
    data = os.urandom(9 * 1024 * 1024 + 7)  # above the resumable threshold: goes over tus
    big.write_bytes(data)
    cli.ok("mkdir", "/Docs/2026")
    uploaded = cli.json("upload", str(small), str(big), "--to", "/Docs/2026")
    assert [f["name"] for f in uploaded] == ["notes ü.txt", "big.bin"]
    listing = cli.json("ls", "/Docs/2026")
    assert sorted(item["name"] for item in listing) == ["big.bin", "notes ü.txt"]
    assert [(i["kind"], i["name"]) for i in cli.json("ls", "/Docs")] == [("folder", "2026")]
    out = tmp_path / "out"
    cli.ok("download", "/Docs/2026/big.bin", "--to", str(out))
    assert hashlib.sha256((out / "big.bin").read_bytes()).digest() == hashlib.sha256(data).digest()
    again = cli.json("upload", str(small), "--to", "/Docs/2026")  # the same name: a new version
    assert again[0]["version"] == 2
    cli.ok("mv", "/Docs/2026/notes ü.txt", "/Docs/renamed.txt")
    assert {i["name"] for i in cli.json("ls", "/Docs")} == {"2026", "renamed.txt"}
    cli.ok("rm", "/Docs/renamed.txt")
    assert File.objects.get(pk=again[0]["id"]).trashed_at is not None
    missing = cli.run("download", "/Docs/nothing.txt")
    assert missing.returncode == 7 and "no such file" in missing.stderr
    dots = cli.run("ls", "/Docs/../etc")
    assert dots.returncode == 2


def test_quota_exceeded_is_one_line_with_its_status(signed_in_cli, tmp_path):
    from accounts.models import User

    User.objects.filter(pk=signed_in_cli.account.user.pk).update(storage_quota=1000)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(50_000))
    refused = signed_in_cli.run("upload", str(big))
    assert refused.returncode == 5, refused.stderr
    assert refused.stderr.startswith("locker: Not enough storage") and refused.stderr.count("\n") == 1
