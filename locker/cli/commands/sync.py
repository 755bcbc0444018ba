"""``locker sync`` (and, later, ``watch``): two-way sync of a local folder with a remote one (locker.cli.sync)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from locker.cli.app import app, emit, err, out, signed_in, state
from locker.cli.client import CliError
from locker.cli.remote import Remote
from locker.cli.sync import Sync
from locker.cli.sync_state import State


class _Bytes:
    """One bar for the bytes moved, summed over the files being transferred."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.task = progress.add_task("Syncing", total=None) if progress else None
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()

    def total(self, size: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, total=size)

    def __call__(self, path: str, done: int) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.done[path] = done
            self.progress.update(self.task, completed=sum(self.done.values()))


@app.command()
def sync(
    local: Annotated[Path, typer.Argument(help="The local folder.", file_okay=False)],
    remote_path: Annotated[str, typer.Argument(help="The remote folder (made if missing).")],
    push: Annotated[bool, typer.Option("--push", help="Local to remote only.")] = False,
    pull: Annotated[bool, typer.Option("--pull", help="Remote to local only.")] = False,
    both: Annotated[bool, typer.Option("--both", help="Both ways (the default).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="With --push or --pull: delete what the source no longer has.")
    ] = False,
):
    """Sync a local folder with a remote one, both ways by default; nothing is lost on a conflict."""
    if push + pull + both > 1:
        raise CliError("Choose one of --push, --pull, --both.", CliError.USAGE)
    mode = "push" if push else "pull" if pull else "both"
    local.mkdir(parents=True, exist_ok=True)
    profile, api = signed_in()
    sync_state = State(profile.server, profile.username, local, remote_path)
    shown = sys.stdout.isatty() and not state.json
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=out)
    progress = _Bytes(bar if shown else None)
    try:
        with bar if shown else _nothing():
            engine = Sync(
                Remote(api),
                sync_state,
                local,
                remote_path,
                mode=mode,
                dry_run=dry_run,
                delete=delete,
                on_progress=progress,
                on_note=lambda text: err.print(text, markup=False, highlight=False, soft_wrap=True),
            )
            engine.on_total = progress.total
            summary = engine.run()
    finally:
        sync_state.close()
    emit(summary.as_dict(), lambda: _show(summary, dry_run))
    if summary.errors:
        raise CliError(f"{len(summary.errors)} change(s) could not be made: {summary.errors[0]}")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _show(summary, dry_run: bool) -> None:
    if dry_run:
        for line in summary.planned or ["Nothing to do."]:
            out.print(line, markup=False, highlight=False)
        return
    table = Table(title="Sync", box=None, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("uploaded", summary.uploaded),
        ("downloaded", summary.downloaded),
        ("renamed or moved", summary.renamed),
        ("folders made", summary.folders),
        ("deleted here", summary.deleted_local),
        ("moved to the server's trash", summary.trashed_remote),
        ("conflicts (nothing lost)", summary.conflicts),
        ("failed", summary.errors),
    ]
    for label, items in rows:
        if items:
            table.add_row(label, str(len(items)))
    if table.row_count:
        out.print(table)
    else:
        out.print("Everything is in sync.")
