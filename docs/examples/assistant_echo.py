#!/usr/bin/env python3
"""A small assistant for Locker's chats: it answers each new message of yours with an echo and a word count.

Locker stores the conversation (encrypted); the replies come from a program like this one, which you run where you
like and which signs in as you with an app password (Settings > App passwords). See docs/assistant.md.

Usage (Python 3.9+, standard library only):

    export LOCKER_APP_PASSWORD='xxxx-xxxx-...'      # an app password of your account
    python3 assistant_echo.py --url https://locker.example.org --username alice
    python3 assistant_echo.py --url http://localhost:8000 --username alice --once   # one pass, then exit

It polls (every --interval seconds) the list of chats, newest first; a chat whose ``updated_at`` moved has news,
read with ``GET /api/v1/chats/{id}/messages/?after=<the last message it saw>``. A message of yours still
``sent`` is answered with a message ``role: assistant`` that replies to it (``reply_to``), and then marked ``read``.
On the first look at a chat it answers the messages of yours after the last assistant message (the newest page).
Replace :func:`compose` with your own model or service: it gets the message and returns the text to send.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USER_AGENT = "locker-assistant-echo/1"


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body
        super().__init__(f"{status} {body.get('code', '')}: {body.get('detail', body)}")


class Locker:
    """The few calls an assistant needs, over HTTP Basic with username + app password."""

    def __init__(self, base_url: str, username: str, app_password: str, timeout: float = 30):
        self.base = base_url.rstrip("/") + "/"
        token = base64.b64encode(f"{username}:{app_password}".encode()).decode("ascii")
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json", "User-Agent": USER_AGENT}
        self.timeout = timeout

    def call(self, method: str, path_or_url: str, body: dict | None = None) -> dict:
        url = urllib.parse.urljoin(self.base, path_or_url)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url}")
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        for _attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - checked above
                    raw = response.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as err:
                raw = err.read()
                try:
                    detail = json.loads(raw)
                except ValueError:
                    detail = {"detail": raw.decode("utf-8", "replace")[:200]}
                if err.code == 429:  # too many requests: wait as told, then try again
                    time.sleep(min(float(err.headers.get("Retry-After") or 5), 60))
                    continue
                raise ApiError(err.code, detail) from None
        raise ApiError(429, {"code": "rate_limited", "detail": "Still limited after 5 tries."})

    def chats(self) -> list[dict]:
        """Every chat, newest first (following the ``next`` links)."""
        found, url = [], "api/v1/chats/?page_size=100"
        while url:
            page = self.call("GET", url)
            found += page["results"]
            url = page.get("next")
        return found

    def messages(self, chat_id: str, *, after: str | None) -> list[dict]:
        """The messages after ``after`` (oldest first), or the newest page when ``after`` is None."""
        base = f"api/v1/chats/{chat_id}/messages/?page_size=200"
        if after is None:
            return self.call("GET", base + "&latest=1")["results"]
        found, url = [], f"{base}&after={urllib.parse.quote(after)}"
        while url:
            page = self.call("GET", url)
            found += page["results"]
            url = page.get("next")
        return found

    def reply(self, chat_id: str, to: dict, text: str) -> dict:
        return self.call(
            "POST", f"api/v1/chats/{chat_id}/messages/", {"role": "assistant", "content": text, "reply_to": to["id"]}
        )

    def mark(self, message_id: str, status: str) -> dict:
        return self.call("PATCH", f"api/v1/messages/{message_id}/", {"status": status})


def duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "unknown length"
    whole = max(1, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def compose(message: dict) -> str:
    """The reply to one message of the user. Replace this with your own assistant."""
    text = message.get("content") or ""
    words = len(text.split())
    lines = []
    if text.strip():
        shown = text if len(text) <= 280 else text[:279] + "…"
        lines.append(f"You said: “{shown}”")
        lines.append(f"That is {words} word{'s' * (words != 1)} and {len(text)} character{'s' * (len(text) != 1)}.")
    for attachment in message.get("attachments") or []:
        if attachment.get("kind") == "audio":
            lines.append(f"I got a voice message ({duration(attachment.get('duration'))}).")
        else:
            lines.append(f"I got a file: {attachment.get('name') or 'a file no longer there'}.")
    return "\n".join(lines) or "I got an empty message."


def pending(messages: list[dict], *, first_look: bool) -> list[dict]:
    """The user's messages still to answer: still ``sent`` (on a first look, only after the last reply)."""
    if first_look:
        last_reply = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
        messages = messages[last_reply + 1 :]
    return [m for m in messages if m["role"] == "user" and m["status"] == "sent"]


class Assistant:
    def __init__(self, locker: Locker, *, only_chat: str | None = None, log=print):
        self.locker, self.only_chat, self.log = locker, only_chat, log
        self.seen: dict[str, tuple[str | None, str | None]] = {}  # chat id -> (updated_at, last message id)

    def step(self) -> int:
        """One look at every chat that changed; returns how many replies were sent."""
        sent = 0
        for chat in self.locker.chats():
            if self.only_chat and chat["id"] != self.only_chat:
                continue
            updated, last = self.seen.get(chat["id"], (None, None))
            if updated == chat["updated_at"]:
                continue  # nothing new in this chat
            first_look = chat["id"] not in self.seen
            try:
                messages = self.locker.messages(chat["id"], after=last)
            except ApiError as err:
                if err.status == 400 and last is not None:  # the last message we saw was deleted: look again
                    self.seen.pop(chat["id"], None)
                    continue
                raise
            for message in pending(messages, first_look=first_look):
                answer = self.locker.reply(chat["id"], message, compose(message))
                self.locker.mark(message["id"], "read")
                self.log(f"replied in “{chat.get('title') or 'Untitled chat'}” to {message['id']}")
                messages.append(answer)
                sent += 1
            if messages:
                last = messages[-1]["id"]
            # our own replies moved updated_at: read the chat again next time, from `last` (cheap: nothing new)
            self.seen[chat["id"]] = (chat["updated_at"] if not sent else None, last)
        return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Locker's address, e.g. https://locker.example.org")
    parser.add_argument("--username", required=True)
    parser.add_argument("--chat", help="answer in this chat only (its id); default: every chat")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between looks (default 3)")
    parser.add_argument("--once", action="store_true", help="look once, answer, and exit")
    args = parser.parse_args(argv)
    app_password = os.environ.get("LOCKER_APP_PASSWORD") or (
        getpass.getpass("App password: ") if sys.stdin.isatty() else ""
    )
    if not app_password:
        parser.error("set LOCKER_APP_PASSWORD to an app password of the account (Settings > App passwords)")
    assistant = Assistant(Locker(args.url, args.username, app_password), only_chat=args.chat)
    try:
        while True:
            assistant.step()
            if args.once:
                return 0
            time.sleep(args.interval)
    except ApiError as err:
        print(f"Locker refused: {err}", file=sys.stderr)
        return 1
    except urllib.error.URLError as err:
        print(f"Cannot reach {args.url}: {err.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
