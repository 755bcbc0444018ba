"""Two-way sync, property-based (hypothesis stateful testing): two computers and the server, random creates,
edits, deletions, renames and moves on either computer with syncs in between, some of them interrupted at a random
request. After a final sync of both, the three trees are identical, and every content a completed sync saw is still
reachable on the server (a current file, a version, a conflict copy, or in the trash): its keyed MAC is among the
server's versions.

The client runs in this process (its sync engine and HTTP client, as `locker sync` does) against ``live_server``.
"""

import hashlib
import hmac
import itertools
import os
import time

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from accounts.app_passwords import app_password_create
from locker.cli.client import Api, CliError
from locker.cli.remote import Remote
from locker.cli.sync import Sync
from locker.cli.sync_state import State
from tests.cli.test_sync import tree
from tests.factories import make_account
from tests.vault.conftest import keys_for
from vault.models import File, FileVersion

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["a.txt", "b.txt", "c ü.txt"]
FOLDERS = ["", "docs", "docs/old"]
PATHS = [f"{folder}/{name}" if folder else name for folder in FOLDERS for name in NAMES]
counter = itertools.count()


class Interrupted(BaseException):
    """The process stopping in the middle of a request (a kill, a crash)."""


class Faulty(httpx.HTTPTransport):
    """A transport that stops the client after ``budget`` requests."""

    def __init__(self, budget: int | None):
        super().__init__()
        self.budget = budget

    def handle_request(self, request):
        if self.budget is not None:
            if self.budget <= 0:
                raise Interrupted()
            self.budget -= 1
        return super().handle_request(request)


def _write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    later = time.time_ns() + next(counter) * 1_000_000_000  # never the time a file had before
    os.utime(path, ns=(later, later))


@pytest.fixture
def world(live_server, tmp_path_factory, monkeypatch):
    account = make_account(f"prop{next(counter)}")
    keys = keys_for(account)
    _row, password = app_password_create(user=account.user, udk=keys.udk, name="property test")
    return live_server.url, account, password, keys.content_mac_key(), tmp_path_factory, monkeypatch


def test_two_way_sync_converges_and_loses_nothing(world):
    base, account, password, mac_key, tmp_path_factory, monkeypatch = world

    class TwoComputers(RuleBasedStateMachine):
        @initialize()
        def start(self):
            number = next(counter)
            work = tmp_path_factory.mktemp(f"sync{number}")
            self.remote_path = f"/P{number}"
            self.sides = {}
            for side in ("a", "b"):
                root = work / side
                root.mkdir()
                self.sides[side] = (root, work / f"config-{side}")
            self.seen: set[bytes] = set()  # contents some completed sync saw: they must stay reachable
            self.version = itertools.count()

        def _sync(self, side: str, budget: int | None = None):
            root, config_dir = self.sides[side]
            monkeypatch.setenv("LOCKER_CONFIG_DIR", str(config_dir))
            api = Api(base, username=account.user.username, password=password, transport=Faulty(budget))
            state = State(base, account.user.username, root, self.remote_path)
            before = {data for data in tree(root).values() if data is not None}
            try:
                summary = Sync(Remote(api), state, root, self.remote_path).run()
            except (Interrupted, CliError):
                return None
            finally:
                state.close()
                api.close()
            assert not summary.errors, summary.errors
            self.seen |= before
            return summary

        def _content(self, side: str, path: str) -> bytes:
            return f"{side} {path} {next(self.version)} {os.urandom(4).hex()}".encode() * 3

        @rule(side=st.sampled_from("ab"), path=st.sampled_from(PATHS))
        def write(self, side, path):
            _write(self.sides[side][0] / path, self._content(side, path))

        @rule(side=st.sampled_from("ab"), path=st.sampled_from(PATHS))
        def delete(self, side, path):
            (self.sides[side][0] / path).unlink(missing_ok=True)

        @rule(side=st.sampled_from("ab"), path=st.sampled_from(PATHS), to=st.sampled_from(PATHS))
        def rename(self, side, path, to):
            root = self.sides[side][0]
            if (root / path).is_file() and not (root / to).exists() and path != to:
                (root / to).parent.mkdir(parents=True, exist_ok=True)
                os.rename(root / path, root / to)

        @rule(side=st.sampled_from("ab"))
        def sync(self, side):
            self._sync(side)

        @rule(side=st.sampled_from("ab"), budget=st.integers(min_value=0, max_value=12))
        def interrupted_sync(self, side, budget):
            self._sync(side, budget)

        @precondition(lambda self: hasattr(self, "sides"))
        @invariant()
        def nothing_half_written_is_left(self):
            for root, _ in self.sides.values():
                assert not [p for p in tree(root) if p.endswith(".locker-part")]

        def teardown(self):
            if not hasattr(self, "sides"):
                return
            for side in ("a", "b", "a", "b"):
                assert self._sync(side) is not None
            a, b = (tree(self.sides[side][0]) for side in "ab")
            assert a == b
            server = {version.content_mac for version in FileVersion.objects.filter(file__owner=account.user)}
            for data in self.seen | {data for data in a.values() if data is not None}:
                mac = hmac.new(mac_key, data, hashlib.sha256).hexdigest()[:32]
                assert mac in server, f"lost: {data[:40]!r}"
            # the server's tree below the synced folder is the same: paths, and each file's current content
            root, config_dir = self.sides["a"]
            monkeypatch.setenv("LOCKER_CONFIG_DIR", str(config_dir))
            api = Api(base, username=account.user.username, password=password)
            state = State(base, account.user.username, root, self.remote_path)
            engine = Sync(Remote(api), state, root, self.remote_path, dry_run=True)
            engine.refresh_remote()
            remote = engine.remote_paths()
            state.close()
            api.close()
            assert {p for p, item in remote.items() if item.kind == "file"} == {
                p for p, d in a.items() if d is not None
            }
            for path, item in remote.items():
                if item.kind == "file":
                    current = File.objects.get(pk=item.id).current_version.content_mac
                    assert current == hmac.new(mac_key, a[path], hashlib.sha256).hexdigest()[:32], path
            second_check = self._sync("a")
            assert not (second_check.uploaded or second_check.downloaded or second_check.conflicts)

    TwoComputers.TestCase.settings = settings(
        max_examples=int(os.environ.get("LOCKER_SYNC_EXAMPLES", "12")),
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    TwoComputers.TestCase("runTest").runTest()
