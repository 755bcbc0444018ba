"""``GET /api/v1/me/data`` for a user with 100,000 messages: server peak RSS while it streams, and a check that
the output parses as JSON with the right counts.

Messages are seeded with real per-chat keys and sealed contents (rows only). The server is gunicorn (1 worker,
4 threads) on the same SQLite file; the export is fetched with curl after a login, and the worker's peak RSS
(VmHWM, reset after the login's Argon2id) is read afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.processes import peak_rss_mib, reset_peak, rss_mib
from bench.transfer_servers import curl_token, start_locker

N_MESSAGES = int(os.environ.get("BENCH_MYDATA_MESSAGES", "100000"))
N_CHATS = 100


def seed(user, keys) -> None:
    from chats.models import Chat, Message
    from chats.services import chat_create, chat_key
    from locker.crypto.aead import context
    from vault.keys import seal_text

    chats = [chat_create(user=user, keys=keys, title=f"Chat {n}") for n in range(N_CHATS)]
    batch = []
    for n in range(N_MESSAGES):
        chat = chats[n % N_CHATS]
        message_id = uuid.uuid4()
        content = f"Message {n}: " + "some words of an ordinary length for a chat message " * 2
        batch.append(
            Message(
                id=message_id,
                chat=chat,
                owner=user,
                role=Message.Role.USER if n % 2 else Message.Role.ASSISTANT,
                content_sealed=seal_text(
                    chat_key(keys, chat), content, aad=context("message", user.pk, chat.pk, message_id)
                ),
            )
        )
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    assert Chat.objects.filter(owner=user).count() == N_CHATS


def run() -> str:
    from django.conf import settings

    from accounts import services as account_services
    from accounts import sessions as account_sessions
    from tests.factories import make_account
    from vault.keys import VaultKeys

    account = make_account("exporter")
    result = account_services.auth_login(username="exporter", password=account.password, kind="token")
    udk = account_sessions.unlock_session_udk(
        user_id=account.user.pk, session_id=result.session.pk, session_secret=result.session_secret
    )
    start = time.perf_counter()
    seed(account.user, VaultKeys(account.user.pk, udk))
    seeded = time.perf_counter() - start
    server, base = start_locker()
    out = Path(tempfile.mktemp(dir=str(settings.LOCKER_DATA_DIR), suffix=".json"))  # noqa: S306 - curl writes it
    try:
        token = curl_token(base, "exporter", account.password)
        worker = server.worker_pid()
        idle = rss_mib(worker)
        reset_peak(worker)
        start = time.perf_counter()
        subprocess.run(
            ["curl", "-sf", "-H", f"Authorization: Bearer {token}", "-o", str(out), f"{base}/api/v1/me/data"],
            check=True,
        )
        elapsed = time.perf_counter() - start
        peak = peak_rss_mib(worker)
    finally:
        server.stop()
    size_mib = out.stat().st_size / 2**20
    with out.open() as handle:
        data = json.load(handle)
    out.unlink()
    messages = sum(len(chat["messages"]) for chat in data["chats"])
    assert messages == N_MESSAGES and len(data["chats"]) == N_CHATS, (messages, len(data["chats"]))
    return "\n".join(
        [
            "## Exporting everything: `GET /api/v1/me/data` with 100,000 messages",
            "",
            f"{N_MESSAGES} messages in {N_CHATS} chats (seeded in {seeded:.0f} s), fetched with curl from gunicorn",
            "(1 worker, 4 threads). The output parsed as JSON with every chat and message counted.",
            "Reproduce: `make bench BENCH=mydata`.",
            "",
            "| messages | output MiB | seconds | MiB/s | worker RSS idle MiB | peak RSS while streaming MiB |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {messages} | {size_mib:.1f} | {elapsed:.1f} | {size_mib / elapsed:.1f} | {idle:.0f} | {peak:.0f} |",
        ]
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/run.py")
