"""WebDAV compliance: Debian's litmus against the live server (docs/webdav.md lists its warnings and why)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.vault.dav_helpers import dav_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("litmus") is None, reason="litmus is not installed (apt-get install litmus)"),
]

SUITES = "basic copymove props locks http"
_SUMMARY = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")
_WARNING = re.compile(r"WARNING: (.+)")


def run_litmus(url: str, username: str, password: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TESTS": SUITES, "HOME": str(tmp_path)}
    return subprocess.run(  # noqa: S603 - the system's litmus
        ["litmus", url, username, password],  # noqa: S607
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )


def test_litmus_suites_pass(live_server, tmp_path):
    """GIVEN a user with an app password WHEN litmus runs basic, copymove, props, locks and http against /dav/
    THEN every suite runs every test and none fails; the warnings are the ones docs/webdav.md explains."""
    who = dav_user()
    done = run_litmus(f"{live_server.url}/dav/", who.username, who.password, tmp_path)
    out = done.stdout
    summaries = {suite: (int(run), int(passed), int(failed)) for suite, run, passed, failed in _SUMMARY.findall(out)}
    assert set(summaries) == set(SUITES.split()), out[-4000:]
    failures = {suite: counts for suite, counts in summaries.items() if counts[2]}
    assert not failures, out[-6000:]
    assert all(run == passed for run, passed, _ in summaries.values()), out[-6000:]
    warnings = _WARNING.findall(out)
    documented = Path("docs/webdav.md").read_text(encoding="utf-8")
    assert all(w.strip()[:40] in documented for w in warnings), warnings
