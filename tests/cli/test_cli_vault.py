"""The `locker` CLI's versions, restore, search, share and link commands against the real server, with their bad
input: one-line errors and the documented exit statuses."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.factories import make_account
from vault.models import Link, Share

pytestmark = pytest.mark.django_db(transaction=True)


def said(done) -> str:
    """The error as one sentence: the message, with the console's wrapping at 80 columns undone."""
    assert done.stderr.startswith("locker: ") and "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())


def one_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("locker: ") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_versions_lists_the_history_and_restore_makes_an_old_one_current(signed_in_cli, tmp_path):
    cli = signed_in_cli
    local = tmp_path / "plan.txt"
    local.write_bytes(b"first\n")
    cli.ok("upload", str(local), "--to", "/Docs")
    local.write_bytes(b"second, longer\n")
    cli.ok("upload", str(local), "--to", "/Docs")
    rows = cli.json("versions", "/Docs/plan.txt")
    assert sorted(row["number"] for row in rows) == [1, 2]
    by_number = {row["number"]: row for row in rows}
    assert by_number[1]["size"] == 6 and by_number[2]["size"] == 15
    assert {row["author"] for row in rows} == {"carol"} and by_number[2]["current"] and not by_number[1]["current"]
    table = cli.ok("versions", "/Docs/plan.txt").stdout
    assert "version" in table and "author" in table and "carol" in table and "current" in table

    restored = cli.json("restore", "/Docs/plan.txt", "--version", "1")
    assert restored["restored"] == 1 and restored["number"] == 3
    cli.ok("download", "/Docs/plan.txt", "--to", str(tmp_path / "back"))
    assert (tmp_path / "back" / "plan.txt").read_bytes() == b"first\n"
    assert [row["number"] for row in cli.json("versions", "/Docs/plan.txt") if row["current"]] == [3]
    said = cli.ok("restore", "/Docs/plan.txt", "--version", "2").stdout
    assert "version 2 is current again, as version 4" in said

    missing = cli.run("versions", "/Docs/nothing.txt")
    assert missing.returncode == 7 and "no such file" in one_line(missing)
    no_version = cli.run("restore", "/Docs/plan.txt", "--version", "9")
    assert no_version.returncode == 7 and "No such version" in one_line(no_version)
    folder = cli.run("versions", "/Docs")
    assert folder.returncode == 2 and "is a folder" in one_line(folder)
    assert cli.run("restore", "/Docs/gone.txt", "--version", "1").returncode == 7


def test_search_finds_names_within_a_folder_and_up_to_a_limit(signed_in_cli, tmp_path):
    cli = signed_in_cli
    for folder, name in (("/Work/2026", "quarterly-report.txt"), ("/Home", "quarterly-plan.txt")):
        local = tmp_path / name
        local.write_bytes(b"numbers\n")
        cli.ok("upload", str(local), "--to", folder)
    found = cli.json("search", "quarterly")
    assert sorted(r["path"] for r in found) == ["/Home/quarterly-plan.txt", "/Work/2026/quarterly-report.txt"]
    assert {r["kind"] for r in found} == {"file"}
    within = cli.json("search", "quarterly", "--in", "/Work")
    assert [r["path"] for r in within] == ["/Work/2026/quarterly-report.txt"]
    assert len(cli.json("search", "quarterly", "--limit", "1")) == 1
    table = cli.ok("search", "quarterly", "--in", "/Work").stdout
    assert "kind" in table and "quarterly-report.txt" in table and "/Work/2026/" in table
    assert "Nothing found" in cli.ok("search", "zebra").stdout

    missing = cli.run("search", "quarterly", "--in", "/Nowhere")
    assert missing.returncode == 7 and "no such file or folder" in one_line(missing)
    not_folder = cli.run("search", "quarterly", "--in", "/Home/quarterly-plan.txt")
    assert not_folder.returncode == 2 and "--in takes a folder" in one_line(not_folder)
    assert cli.run("search", "quarterly", "--limit", "0").returncode == 2
    blank = cli.run("search", "  ")
    assert blank.returncode == 2 and one_line(blank)


def test_share_with_another_account_and_its_refusals(signed_in_cli, tmp_path):
    cli = signed_in_cli
    make_account("dave")
    cli.ok("mkdir", "/Shared out")
    made = cli.json("share", "/Shared out", "dave", "--permission", "edit")
    assert made["recipient"] == "dave" and made["permission"] == "edit"
    share = Share.objects.get()
    assert share.recipient.username == "dave" and share.permission == "edit"

    unknown = cli.run("share", "/Shared out", "nobody")
    assert unknown.returncode == 7 and one_line(unknown) == "locker: No account is called 'nobody'."
    again = cli.run("share", "/Shared out", "dave", "--permission", "view")
    assert again.returncode == 8 and "shared with dave already" in one_line(again)
    bad = cli.run("share", "/Shared out", "dave", "--permission", "own")
    assert bad.returncode == 2 and "--permission" in one_line(bad)
    missing = cli.run("share", "/Not here", "dave")
    assert missing.returncode == 7 and one_line(missing)
    yourself = cli.run("share", "/Shared out", "carol")
    assert yourself.returncode == 1 and "cannot share with yourself" in said(yourself)
    top = cli.run("share", "/", "dave")
    assert top.returncode == 2 and one_line(top)
    assert Share.objects.count() == 1


def test_link_makes_a_public_url_that_works_until_it_expires(signed_in_cli, tmp_path):
    cli = signed_in_cli
    local = tmp_path / "poster.txt"
    local.write_bytes(b"come along\n")
    cli.ok("upload", str(local), "--to", "/Public")
    url = cli.ok("link", "/Public/poster.txt", "--expires", "12h").stdout.strip()
    assert url.startswith(f"{cli.base}/s/")
    link = Link.objects.get()
    expected = datetime.now(UTC) + timedelta(hours=12)
    assert abs((link.expires_at - expected).total_seconds()) < 120
    assert httpx.get(url, follow_redirects=True).status_code == 200

    made = cli.json("link", "/Public", "--expires", "1d12h", "--max-downloads", "3")
    assert made["url"].startswith(f"{cli.base}/s/") and made["max_downloads"] == 3
    assert abs((Link.objects.get(pk=made["id"]).expires_at - datetime.now(UTC)).total_seconds() - 36 * 3600) < 120
    assert Link.objects.get(pk=cli.json("link", "/Public", "--expires", "2w")["id"]).expires_at > datetime.now(
        UTC
    ) + timedelta(days=13)

    for bad in ("7x", "soon", "0d", "-3d", "7"):
        refused = cli.run("link", "/Public/poster.txt", "--expires", bad)
        refusal = one_line(refused)
        assert refused.returncode == 2 and ("not a duration" in refusal or "some time" in refusal), bad
    too_long = cli.run("link", "/Public/poster.txt", "--expires", "40d")
    assert too_long.returncode == 1 and "at most 30 days" in said(too_long)
    missing = cli.run("link", "/Public/none.txt")
    assert missing.returncode == 7 and one_line(missing)
    assert Link.objects.count() == 3
