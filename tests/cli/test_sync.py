"""`locker sync` against the real server, as a subprocess: two computers (two local folders, one account) and the
server; changes on each side go across, renames are renames, conflicts lose nothing, deletions go over only when
the other side did not change, a killed sync finishes with no duplicate and no lost file."""

import os
import time

import pytest

from vault.models import File, FileVersion

pytestmark = pytest.mark.django_db(transaction=True)


def tree(root) -> dict:
    """{relative path: bytes} of the files below ``root`` (folders as None)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = None
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    later = time.time_ns() + 1_000_000_000  # a different time than before, whatever the clock's resolution
    os.utime(path, ns=(later, later))


@pytest.fixture
def two(signed_in_cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()

    def sync(root, *extra):
        return signed_in_cli.json("sync", str(root), "/Synced", *extra)

    return signed_in_cli, a, b, sync


def test_changes_on_each_side_go_across(two):
    cli, a, b, sync = two
    write(a / "notes.txt", b"one")
    write(a / "docs" / "deep" / "ü report.txt", b"report")
    (a / "empty").mkdir()
    first = sync(a)
    assert sorted(first["uploaded"]) == ["docs/deep/ü report.txt", "notes.txt"]
    sync(b)
    assert tree(b) == tree(a)
    write(b / "notes.txt", b"two, from b")
    write(b / "new.txt", b"new")
    sync(b)
    pulled = sync(a)
    assert sorted(pulled["downloaded"]) == ["new.txt", "notes.txt"]
    assert tree(a) == tree(b)
    again = sync(a)
    assert not any(again[key] for key in ("uploaded", "downloaded", "renamed", "deleted_local", "trashed_remote"))


def test_a_rename_is_a_rename_and_deletions_follow_only_unchanged_files(two):
    cli, a, b, sync = two
    write(a / "big.bin", os.urandom(300_000))
    write(a / "gone.txt", b"bye")
    sync(a)
    sync(b)
    uploads = FileVersion.objects.count()
    (a / "big.bin").rename(a / "moved" / "big renamed.bin") if (a / "moved").mkdir() is None else None
    (a / "gone.txt").unlink()
    result = sync(a)
    assert result["renamed"] == ["big.bin → moved/big renamed.bin"] and result["uploaded"] == []
    assert FileVersion.objects.count() == uploads  # no upload for a rename
    assert result["trashed_remote"] == ["gone.txt"]
    pulled = sync(b)
    assert pulled["renamed"] == ["big.bin → moved/big renamed.bin"]
    assert pulled["deleted_local"] == ["gone.txt"]
    assert tree(a) == tree(b)


def test_a_conflict_loses_nothing(two):
    cli, a, b, sync = two
    write(a / "plan.txt", b"base")
    sync(a)
    sync(b)
    write(a / "plan.txt", b"edited on a")
    write(b / "plan.txt", b"edited on b, longer")
    sync(a)
    done = cli.run("--json", "sync", str(b), "/Synced")
    assert done.returncode == 0, done.stderr
    assert "conflict: plan.txt changed here and on the server" in done.stderr
    sync(a)
    assert tree(a) == tree(b)
    copies = [name for name in tree(b) if name.startswith("plan (conflict copy")]
    assert len(copies) == 1 and tree(b)[copies[0]] == b"edited on b, longer"
    assert tree(b)["plan.txt"] == b"edited on b, longer"
    histories = [sorted(v.size for v in file.versions.all()) for file in File.objects.all()]
    assert [4, 11, 19] in histories  # base, a's edit (the version before) and b's: every content is reachable


def test_a_deleted_file_changed_on_the_other_side_comes_back(two):
    cli, a, b, sync = two
    write(a / "keep.txt", b"v1")
    sync(a)
    sync(b)
    (a / "keep.txt").unlink()
    write(b / "keep.txt", b"v2 from b")
    sync(b)
    result = sync(a)
    assert result["downloaded"] == ["keep.txt"] and (a / "keep.txt").read_bytes() == b"v2 from b"


def test_dry_run_changes_nothing(two):
    cli, a, b, sync = two
    write(a / "x.txt", b"x")
    planned = sync(a, "--dry-run")
    assert planned["planned"] == ["upload x.txt"]
    assert not File.objects.exists()
    assert sync(a)["uploaded"] == ["x.txt"]


def test_lockerignore_and_junk_stay_local(two):
    cli, a, b, sync = two
    write(a / ".lockerignore", b"*.tmp\nbuild\n")
    write(a / "x.tmp", b"tmp")
    write(a / "build" / "out.o", b"obj")
    write(a / ".DS_Store", b"junk")
    write(a / "real.txt", b"real")
    assert sorted(sync(a)["uploaded"]) == [".lockerignore", "real.txt"]
