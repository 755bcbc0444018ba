"""docs/examples/assistant_echo.py, the example assistant, run as a real program against a live server: it signs
in with an app password, answers the user's waiting messages (text, a file, a voice message) once, marks them
read, and leaves what it already answered alone."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.chats.test_multipart import wav
from tests.factories import make_account

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "assistant_echo.py"


@pytest.fixture
def alice(transactional_db):
    return make_account("alice")


@pytest.fixture
def api(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.login(client)['access']}")
    return client


def run_example(live_server, username, app_password, *args):
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", live_server.url, "--username", username, "--once", *args],
        env={"LOCKER_APP_PASSWORD": app_password, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_example_assistant_answers_waiting_messages_once(live_server, api, alice):
    app_password = api.post("/api/v1/auth/app-passwords/", {"name": "echo bot"}, format="json").json()["password"]
    chat = api.post("/api/v1/chats/", {"title": "Echo"}, format="json").json()
    url = f"/api/v1/chats/{chat['id']}/messages/"
    question = api.post(url, {"content": "how many words are here"}, format="json").json()
    voice = api.post(
        url,
        {"content": "", "file": [SimpleUploadedFile("plan.txt", b"x")], "audio": SimpleUploadedFile("m.wav", wav(2))},
        format="multipart",
    ).json()

    done = run_example(live_server, "alice", app_password)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("replied in “Echo”") == 2

    listed = api.get(url).json()["results"]
    assert [(m["role"], m["reply_to"]) for m in listed] == [
        ("user", None),
        ("user", None),
        ("assistant", question["id"]),
        ("assistant", voice["id"]),
    ]
    assert listed[2]["content"] == "You said: “how many words are here”\nThat is 5 words and 23 characters."
    assert listed[3]["content"] == "I got a file: plan.txt.\nI got a voice message (0:02)."
    assert [m["status"] for m in listed[:2]] == ["read", "read"]

    # a second run finds nothing waiting; a new message gets its own answer
    again = run_example(live_server, "alice", app_password)
    assert again.returncode == 0 and again.stdout == ""
    api.post(url, {"content": "one more"}, format="json")
    third = run_example(live_server, "alice", app_password, "--chat", chat["id"])
    assert third.returncode == 0, third.stderr
    last = api.get(url, {"latest": 1}).json()["results"][-1]
    assert last["role"] == "assistant" and last["content"].endswith("That is 2 words and 8 characters.")


def test_the_example_says_why_a_wrong_app_password_is_refused(live_server, alice):
    refused = run_example(live_server, "alice", "not-an-app-password")
    assert refused.returncode == 1
    assert "Locker refused: 401 invalid_credentials" in refused.stderr
