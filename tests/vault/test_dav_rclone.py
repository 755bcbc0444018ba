"""A real WebDAV client: Debian's rclone copies a tree of 300 files with awkward names up to Locker and back,
``rclone check`` finds no difference, a second sync transfers nothing, and the JSON API shows the same tree."""

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from tests.vault.dav_helpers import dav_user
from tests.vault.test_live import call, login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed (apt-get install rclone)"),
]

NFC = unicodedata.normalize("NFC", "Zürich café")
NFD = unicodedata.normalize("NFD", "Ñandú señor")
# Names in one folder must differ once case, accents and repeated spaces are set aside (the vault keeps one of
# names alike in a folder), as on a case-insensitive file system; NFC and NFD forms sit in different folders.
STEMS = [
    "plain",
    "with space",
    "per%cent",
    "hash#tag",
    "what?",
    "plus+sign",
    NFC,
    "日本語 ファイル",
    "emoji 🎉",
    "a&b=c",
]
FOLDERS = [
    "",
    "Docs",
    "Docs/Sub dir",
    "Docs/Sub dir/deeper 100%",
    f"{NFC} folder",
    f"{NFD} folder",
    "q?mark #1 + more",
    "Photos 2024/Trip",
    "Photos 2024/Trip/Day 1",
    "Photos 2024/Trip/Day 2",
]


def _tree(root: Path) -> dict[str, bytes]:
    files = {}
    n = 0
    while len(files) < 300:
        folder = FOLDERS[n % len(FOLDERS)]
        stem = STEMS[(n // len(FOLDERS)) % len(STEMS)]
        if folder.startswith(NFD):
            stem = NFD if stem == NFC else stem  # NFD names in the NFD folder
        relative = f"{folder}/{stem} {n:03d}.bin".lstrip("/")
        files[relative] = os.urandom(n * 37 % 5000) + relative.encode()
        n += 1
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _rclone(env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - the system's rclone
        ["rclone", *args],  # noqa: S607
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _transfers(done: subprocess.CompletedProcess) -> int:
    """The number of files a run transferred, from its final JSON stats line."""
    counts = [
        json.loads(line)["stats"]["transfers"]
        for line in done.stderr.splitlines()
        if line.startswith("{") and '"stats"' in line
    ]
    assert counts, done.stderr[-3000:]
    return counts[-1]


def _api_tree(base: str, token: str) -> dict[str, bytes]:
    """Every file of the vault by path, through the JSON API (/api/v1/folders, /api/v1/files, content)."""
    found: dict[str, bytes] = {}

    def pages(path):
        url = path
        while url:
            status, raw = call(base, "GET", url, token=token)
            assert status == 200, raw
            body = json.loads(raw)
            yield from body["results"]
            url = body["next"] and body["next"].removeprefix(base)

    def walk(folder_id, prefix):
        query = f"?parent={folder_id}&page_size=200" if folder_id else "?page_size=200"
        for folder in pages(f"/api/v1/folders/{query}"):
            walk(folder["id"], f"{prefix}{folder['name']}/")
        query = f"?folder={folder_id}&page_size=200" if folder_id else "?page_size=200"
        for file in pages(f"/api/v1/files/{query}"):
            status, data = call(base, "GET", f"/api/v1/files/{file['id']}/content", token=token)
            assert status == 200
            found[prefix + file["name"]] = data

    walk(None, "")
    return found


def test_rclone_round_trip_of_300_files(live_server, tmp_path):
    """GIVEN 300 files in nested folders with unicode (NFC and NFD), spaces, %, #, ?, + in their names
    WHEN rclone copies them to /dav/tree and back into an empty folder
    THEN rclone check (downloading) finds no difference, a second sync transfers nothing, and the API lists the
    same names with the same bytes."""
    who = dav_user()
    source, back = tmp_path / "source", tmp_path / "back"
    back.mkdir()
    files = _tree(source)
    obscured = subprocess.run(  # noqa: S603
        ["rclone", "obscure", who.password],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
        "RCLONE_CONFIG_LOCKER_TYPE": "webdav",
        "RCLONE_CONFIG_LOCKER_URL": f"{live_server.url}/dav/",
        "RCLONE_CONFIG_LOCKER_VENDOR": "other",
        "RCLONE_CONFIG_LOCKER_USER": who.username,
        "RCLONE_CONFIG_LOCKER_PASS": obscured,
    }
    common = ["--use-json-log", "-v", "--stats", "1h", "--transfers", "4", "--checkers", "4"]

    up = _rclone(env, "copy", str(source), "locker:tree", *common)
    assert up.returncode == 0, up.stderr[-3000:]
    assert _transfers(up) == 300

    down = _rclone(env, "copy", "locker:tree", str(back), *common)
    assert down.returncode == 0, down.stderr[-3000:]
    assert _transfers(down) == 300
    returned = {
        unicodedata.normalize("NFC", str(p.relative_to(back))): p.read_bytes() for p in back.rglob("*") if p.is_file()
    }
    assert returned == {unicodedata.normalize("NFC", k): v for k, v in files.items()}

    check = _rclone(env, "check", str(source), "locker:tree", "--download", *common)
    assert check.returncode == 0, check.stderr[-3000:]
    assert "0 differences found" in check.stderr, check.stderr[-3000:]

    again = _rclone(env, "sync", str(source), "locker:tree", *common)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _transfers(again) == 0

    token = login(live_server.url, who.account)
    listed = _api_tree(live_server.url, token)
    expected = {f"tree/{unicodedata.normalize('NFC', k)}": v for k, v in files.items()}
    assert listed == expected
