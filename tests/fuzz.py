"""Schema fuzzing: schemathesis runs Locker's OpenAPI schema against a real server, signed in as a user with data.

``make test`` runs a bounded pass (``tests/test_schema_fuzz.py``); ``make fuzz`` a longer one with a new seed::

    python -m tests.fuzz --examples 25 [--seed N] [--workers 2]

The server is gunicorn as ``make run`` serves it, on a data dir of its own (and a PostgreSQL database of its own
under ``DATABASE_URL``), with rate limits off: every limit is shown by the brute-force tests, and here a limit
would only hide what is behind it. Every check runs (``--checks all``, stateful links included), in two passes:
the operations that end the fuzzer's own session (signing a device out, logging out, deleting the account) run
apart, with a second token, after the rest (schemathesis.toml says why). Afterwards ``vault_fsck`` and
``activity_verify`` must find the vault and the activity log whole.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.served import call, database, serve, sign_in, upload
from tests.test_server import ROOT

SESSION_ENDERS = r"^/api/v1/(auth/sessions/\{id\}/|auth/logout|me)$"
ST = str(Path(sys.executable).with_name("st"))


@dataclasses.dataclass
class Pass:
    """One schemathesis run: its exit code, the tail of its output and its JSON report's figures."""

    name: str
    returncode: int
    output: str
    operations: int = 0
    cases: int = 0
    failures: int = 0

    def line(self) -> str:
        return f"{self.name}: {self.operations} operations, {self.cases} test cases, {self.failures} failures"


@dataclasses.dataclass
class Result:
    passes: list[Pass]
    fsck: subprocess.CompletedProcess
    verify: subprocess.CompletedProcess

    @property
    def operations(self) -> int:
        return sum(p.operations for p in self.passes)

    @property
    def cases(self) -> int:
        return sum(p.cases for p in self.passes)

    def summary(self) -> str:
        return "\n".join(
            [*(p.line() for p in self.passes), f"in all: {self.operations} operations, {self.cases} cases"]
        )


def _json(port: int, auth: dict, method: str, path: str, body: dict) -> dict:
    headers = {**auth, "Content-Type": "application/json"}
    status, _, answer = call(port, method, path, json.dumps(body), headers)
    assert status in (200, 201, 202), (method, path, status, answer[:500])
    return json.loads(answer)


def seed(port: int, passwords: dict[str, str]) -> dict[str, str]:
    """Give the fuzzer's account something of everything: files in a folder, a version, a note with an older
    version, a chat with a message, a share to another account, a public link, an app password, a trashed file,
    an export job and an unfinished resumable upload. Returns their ids."""
    auth = sign_in(port, "fuzzer", passwords["fuzzer"])
    folder = _json(port, auth, "POST", "/api/v1/folders/", {"name": "Documents", "tags": ["work"]})["id"]
    text = upload(port, auth, "report.txt", b"quarterly report\n" * 20)
    photo = upload(port, auth, "photo.png", bytes.fromhex("89504e470d0a1a0a") + b"\0" * 64)
    _json(port, auth, "PATCH", f"/api/v1/files/{text}/", {"folder": folder, "tags": ["work", "q3"]})
    status, _, answer = call(port, "PUT", f"/api/v1/files/{text}/content", b"second version\n", auth)
    assert status in (200, 201), answer
    trashed = upload(port, auth, "old.txt", b"old\n")
    status, _, answer = call(port, "DELETE", f"/api/v1/files/{trashed}/", None, auth)
    assert status == 204, answer
    note = _json(port, auth, "POST", "/api/v1/notes/", {"title": "Ideas", "body": "a note", "tags": ["work"]})["id"]
    _json(port, auth, "PATCH", f"/api/v1/notes/{note}/", {"body": "a longer note"})
    chat = _json(port, auth, "POST", "/api/v1/chats/", {"title": "Plans"})["id"]
    _json(port, auth, "POST", f"/api/v1/chats/{chat}/messages/", {"role": "user", "content": "hello"})
    share = _json(port, auth, "POST", "/api/v1/shares/", {"item": folder, "username": "other", "permission": "view"})
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7)).isoformat()
    link = _json(port, auth, "POST", "/api/v1/links/", {"item": text, "expires_at": expires})
    _json(port, auth, "POST", "/api/v1/auth/app-passwords/", {"name": "laptop"})
    job = _json(port, auth, "POST", "/api/v1/me/export", {"passphrase": "a long passphrase", "background": True})
    headers = {**auth, "Tus-Resumable": "1.0.0", "Upload-Length": "100", "Upload-Metadata": "name dHVzLmJpbg=="}
    status, answered, _ = call(port, "POST", "/api/v1/uploads/", None, headers)
    assert status == 201, status
    tus = answered["Location"].rstrip("/").rsplit("/", 1)[1]
    return {
        "folder": folder,
        "file": text,
        "photo": photo,
        "note": note,
        "chat": chat,
        "share": share["id"],
        "link": link["id"],
        "trashed": trashed,
        "export": job["id"],
        "upload": tus,
    }


def config_with_data(work: Path, ids: dict[str, str]) -> Path:
    """schemathesis.toml plus the ids of the seeded account for the operations no API link leads to (each would
    otherwise see only 404s): the fuzzer's own config, written to ``work``."""
    given = [
        (r"^/api/v1/links/\{id\}/$", {"path.id": ids["link"]}),
        (r"^/api/v1/me/exports/\{id\}/", {"path.id": ids["export"]}),
        (r"^/api/v1/trash/\{id\}/", {"path.id": ids["trashed"]}),
        (r"^/api/v1/notes/\{id\}/versions/", {"path.id": ids["note"], "path.number": 1}),
        (r"^/api/v1/shares/\{id\}/$", {"path.id": ids["share"]}),
        (r"^/api/v1/uploads/\{id\}$", {"path.id": ids["upload"]}),
        (r"^/api/v1/shares/$", {"body.item": ids["photo"], "body.username": "other"}),
        (r"^/api/v1/archive$", {"body.files": [ids["file"]]}),
    ]
    blocks = []
    for regex, parameters in given:
        values = ", ".join(f"{json.dumps(key)} = {json.dumps(value)}" for key, value in parameters.items())
        blocks.append(f"[[operations]]\ninclude-path-regex = {json.dumps(regex)}\nparameters = {{ {values} }}\n")
    config = work / "schemathesis.toml"
    config.write_text((ROOT / "schemathesis.toml").read_text() + "\n" + "\n".join(blocks))
    return config


def _run(name: str, port: int, token: str, config: Path, report_dir: Path, args: list[str]) -> Pass:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    report = report_dir / f"{name}.ndjson"
    command = [
        ST,
        "--config-file",
        str(config),
        "run",
        f"http://127.0.0.1:{port}/api/schema/?format=json",
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        *args,
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    result = Pass(name, done.returncode, done.stdout + done.stderr)
    # the figures of schemathesis's own summary: "Tested: N" operations, "N generated" test cases
    tested = re.search(r"Tested: (\d+)", result.output)
    generated = re.search(r"(\d+) generated", result.output)
    failures = re.search(r"(\d+) found (\d+) unique failures", result.output)
    result.operations = int(tested.group(1)) if tested else 0
    result.cases = int(generated.group(1)) if generated else 0
    result.failures = int(failures.group(2)) if failures else 0
    return result


def fuzz(work: Path, *, examples: int, seed_value: int | None, deterministic: bool = False, workers: int = 2) -> Result:
    """Serve Locker on ``work``, seed an account, run both passes, then check the vault and the log."""
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with database() as db:
        server, passwords = serve(data_dir, "fuzzer", "other", LOCKER_STREAM_SECONDS="2", **db)
        try:
            ids = seed(server.port, passwords)
            first = sign_in(server.port, "fuzzer", passwords["fuzzer"])["Authorization"].split()[1]
            second = sign_in(server.port, "fuzzer", passwords["fuzzer"])["Authorization"].split()[1]
            config = config_with_data(work, ids)
            common = ["--max-examples", str(examples), "--workers", str(workers)]
            if seed_value is not None:
                common += ["--seed", str(seed_value)]
            if deterministic:
                common.append("--generation-deterministic")
            passes = [
                _run("main", server.port, first, config, work, [*common, "--exclude-path-regex", SESSION_ENDERS]),
                _run(
                    "session-enders",
                    server.port,
                    second,
                    config,
                    work,
                    [*common, "--include-path-regex", SESSION_ENDERS],
                ),
            ]
        finally:
            server.stop()
        env = {**server.env, "DJANGO_SETTINGS_MODULE": "locker.settings"}
        manage = [sys.executable, "manage.py"]
        fsck = subprocess.run(
            [*manage, "vault_fsck", "--dry-run", "--min-age", "0"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        verify = subprocess.run([*manage, "activity_verify"], cwd=ROOT, env=env, capture_output=True, text=True)
    return Result(passes, fsck, verify)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=25, help="test cases per operation and phase (25)")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (a new seed by default)")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="locker-fuzz-") as work:
        result = fuzz(Path(work), examples=options.examples, seed_value=options.seed, workers=options.workers)
    for one in result.passes:
        print(one.output if one.returncode else one.output[-1500:])
    print(result.summary())
    print("vault_fsck:", result.fsck.stdout.strip()[-500:] or result.fsck.stderr.strip()[-500:])
    print("activity_verify:", result.verify.stdout.strip()[-500:] or result.verify.stderr.strip()[-500:])
    clean = all(p.returncode == 0 for p in result.passes) and result.fsck.returncode == result.verify.returncode == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
