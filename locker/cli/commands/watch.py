"""``locker watch``: keep a local folder and a remote one in sync, as local files change (watchdog) and as the
server's live notification stream says something changed (with a sync every minute besides, in case a
notification was missed while the connection was down)."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from locker.cli.app import app, err, out, signed_in, state
from locker.cli.client import CliError
from locker.cli.remote import Remote
from locker.cli.sync import TEMP_SUFFIX, Sync
from locker.cli.sync_state import State

QUIET_SECONDS = 0.7  # a burst of local changes is one sync, this long after its last event
EVERY_SECONDS = 60.0


class _Local(FileSystemEventHandler):
    def __init__(self, wake: threading.Event):
        self.wake = wake

    def on_any_event(self, event):
        if not str(getattr(event, "src_path", "")).endswith(TEMP_SUFFIX):
            self.wake.set()


def _listen(api, wake: threading.Event, stop: threading.Event) -> None:
    """Read the notification stream; every notification wakes the sync. Reconnects after a drop."""
    delay = 1.0
    while not stop.is_set():
        try:
            with api.http.stream(
                "GET",
                "notifications/stream",
                headers={"Accept": "text/event-stream"},
                timeout=httpx.Timeout(None, connect=15),
            ) as response:
                if response.status_code != 200:
                    raise httpx.HTTPError(f"HTTP {response.status_code}")
                delay = 1.0
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event: notification"):
                        wake.set()
        except httpx.HTTPError:
            pass
        stop.wait(delay)
        delay = min(delay * 2, 30.0)


@app.command()
def watch(
    local: Annotated[Path, typer.Argument(help="The local folder.", file_okay=False)],
    remote_path: Annotated[str, typer.Argument(help="The remote folder (made if missing).")],
):
    """Sync now, then whenever something changes here or on the server, until interrupted (Ctrl-C)."""
    local.mkdir(parents=True, exist_ok=True)
    profile, api = signed_in()
    wake, stop = threading.Event(), threading.Event()
    observer = Observer()
    observer.schedule(_Local(wake), str(local), recursive=True)
    observer.start()
    listener = threading.Thread(target=_listen, args=(api, wake, stop), name="locker-notifications", daemon=True)
    listener.start()

    def stop_soon(signum, frame):
        # the sync under way finishes (its changes recorded), then the loop ends; a second Ctrl-C stops at once
        stop.set()
        wake.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop_soon)
    signal.signal(signal.SIGTERM, stop_soon)
    out.print(f"Watching {local} ⇄ {remote_path} (Ctrl-C stops).", markup=False, highlight=False)
    try:
        while not stop.is_set():
            _once(api, profile, local, remote_path)
            wake.wait(EVERY_SECONDS)
            while wake.is_set() and not stop.is_set():  # wait for the burst to end
                wake.clear()
                stop.wait(QUIET_SECONDS)
        out.print("Stopped.")
    except KeyboardInterrupt:
        out.print("Stopped.")
    finally:
        stop.set()
        observer.stop()
        observer.join(5)


def _once(api, profile, local: Path, remote_path: str) -> None:
    sync_state = State(profile.server, profile.username, local, remote_path)
    try:
        summary = Sync(
            Remote(api),
            sync_state,
            local,
            remote_path,
            on_note=lambda text: err.print(text, markup=False, highlight=False, soft_wrap=True),
        ).run()
    except CliError as exc:
        err.print(f"locker: {exc.message} (trying again at the next change)", markup=False, soft_wrap=True)
        return
    finally:
        sync_state.close()
    moved = {
        "up": len(summary.uploaded),
        "down": len(summary.downloaded),
        "renamed": len(summary.renamed),
        "deleted": len(summary.deleted_local) + len(summary.trashed_remote),
        "conflicts": len(summary.conflicts),
    }
    if any(moved.values()) or summary.errors:
        stamp = time.strftime("%H:%M:%S")
        text = ", ".join(f"{count} {label}" for label, count in moved.items() if count)
        if state.json:
            print(json.dumps({"at": stamp, **moved, "errors": summary.errors}), flush=True)
        else:
            out.print(f"{stamp} synced: {text or 'nothing'}", markup=False, highlight=False)
        for error in summary.errors:
            err.print(f"locker: {error}", markup=False, soft_wrap=True)
