"""The key that sync's content hashes are kept under is made once per computer, even when the first sync hashes
several files at once in its transfer threads, or two syncs start together: a hash is never kept under a key that
is then replaced (a moved file would no longer be recognised, and would be uploaded again)."""

import subprocess
import sys
import threading

import pytest

from locker.cli import sync_state


@pytest.fixture
def fresh_config(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCKER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(sync_state, "_keys", {})
    return tmp_path / "config"


def test_threads_hashing_first_share_one_key(fresh_config, tmp_path, monkeypatch):
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"same content")
    start = threading.Barrier(8)
    hashes = []

    def hash_it():
        start.wait()
        hashes.append(sync_state.content_hash(sample))

    threads = [threading.Thread(target=hash_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.setattr(sync_state, "_keys", {})  # as a later run reads it from disk
    assert set(hashes) == {sync_state.content_hash(sample)}
    assert [p.name for p in fresh_config.iterdir() if "sync-key" in p.name] == ["sync-key"]  # no draft left


def test_processes_starting_together_share_one_key(fresh_config, tmp_path):
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"same content")
    code = (
        "import sys; from pathlib import Path; from locker.cli import sync_state; "
        "print(sync_state.content_hash(Path(sys.argv[1])))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(sample)], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    printed = {run.communicate(timeout=60)[0].strip() for run in runs}
    assert len(printed) == 1 and printed == {sync_state.content_hash(sample)}


def test_an_unreadable_key_is_replaced(fresh_config, tmp_path):
    fresh_config.mkdir(parents=True, exist_ok=True)
    (fresh_config / "sync-key").write_text("not hex")
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"x")
    first = sync_state.content_hash(sample)
    assert len(bytes.fromhex((fresh_config / "sync-key").read_text())) == 32
    assert len(first) == 64
