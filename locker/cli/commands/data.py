"""``locker export`` and ``import``: the whole vault as one zip encrypted under a passphrase (AES-256, it opens in
7-Zip), and back, into this account or another. The passphrase is read from a file or asked for, sent to the
server in the request and never written anywhere by the client."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from locker.cli.app import app, emit, out, signed_in, state
from locker.cli.client import CliError, error_of

MIN_PASSPHRASE = 8  # the server's minimum for an export
LONG = httpx.Timeout(None, connect=15)  # an export streams while it is built; an import is checked before answering
COUNTED = ("folders", "files", "versions", "notes", "chats")


# --- progress ---------------------------------------------------------------------------------------------------------


def progress_bar() -> Progress | None:
    """A rich progress bar for a person at a terminal; None under ``--json`` or when stdout is not a terminal."""
    if state.json or not out.is_terminal:
        return None
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    )


class Counting:
    """A file read through, counting the bytes read (for an upload's progress); httpx streams a multipart file part
    with ``read`` after ``seek(0)`` and sizes it with ``fileno``."""

    def __init__(self, handle, on_read):
        self.handle = handle
        self.on_read = on_read
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        self.on_read(self.done)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.handle.seek(offset, whence)
        self.done = position
        return position

    def tell(self) -> int:
        return self.handle.tell()

    def fileno(self) -> int:
        return self.handle.fileno()


# --- the passphrase ---------------------------------------------------------------------------------------------------


def passphrase_from(path: Path | None, *, confirm: bool) -> str:
    """The passphrase: the first line of ``path`` (its line ending dropped), or asked for with hidden input (twice
    when ``confirm``)."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{path}: cannot read the passphrase ({exc.__class__.__name__}).", CliError.USAGE) from exc
        lines = text.splitlines()
        passphrase = lines[0] if lines else ""
    else:
        passphrase = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    if not passphrase:
        raise CliError("The passphrase is empty.", CliError.USAGE)
    return passphrase


# --- export -----------------------------------------------------------------------------------------------------------


@app.command()
def export(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The zip to write (replaced if it is there).")],
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="Read the passphrase from this file's first line.")
    ] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions", help="Older versions of files too.")] = False,
):
    """Export everything (files in their folders, notes, chats) as one zip encrypted under a passphrase."""
    if out_file.exists() and out_file.is_dir():
        raise CliError(f"{out_file} is a folder: give the zip's file name.", CliError.USAGE)
    if not out_file.parent.is_dir():
        raise CliError(f"{out_file.parent}: no such folder here.", CliError.NOT_FOUND)
    passphrase = passphrase_from(passphrase_file, confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise CliError(f"The passphrase needs at least {MIN_PASSPHRASE} characters.", CliError.USAGE)
    _, api = signed_in()
    tmp = out_file.with_name(f".{out_file.name}.locker-part")
    body = {"passphrase": passphrase, "all_versions": all_versions}
    bar = progress_bar()
    size = 0
    try:
        with contextlib.ExitStack() as stack:
            if bar is not None:
                stack.enter_context(bar)
                task = bar.add_task("Exporting", total=None)
            try:
                response = stack.enter_context(api.http.stream("POST", "me/export", json=body, timeout=LONG))
            except httpx.ConnectError as exc:
                raise CliError(f"Cannot reach {api.server}: {exc}", CliError.OFFLINE) from exc
            except httpx.TransportError as exc:  # a timeout connecting, a connection closed before the answer
                raise CliError(f"The export broke off: {exc or exc.__class__.__name__}", CliError.OFFLINE) from exc
            if response.status_code != 200:
                response.read()
                raise error_of(response)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                try:
                    for chunk in response.iter_bytes(1024 * 1024):
                        handle.write(chunk)
                        size += len(chunk)
                        if bar is not None:
                            bar.update(task, completed=size)
                except (httpx.TransportError, httpx.StreamError) as exc:
                    raise CliError(f"The export broke off after {size:,} bytes: {exc}", CliError.OFFLINE) from exc
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    emit(
        {"path": str(out_file), "size": size, "all_versions": all_versions},
        lambda: out.print(f"Exported to {out_file} ({size:,} bytes); it opens with its passphrase."),
    )


# --- import -----------------------------------------------------------------------------------------------------------


def _counts(counts: dict) -> str:
    shown = [f"{counts.get(name, 0)} {name}" for name in COUNTED if counts.get(name)]
    return ", ".join(shown) or "nothing"


@app.command("import")
def import_(
    archive: Annotated[
        Path, typer.Argument(help="A zip made by `locker export`.", exists=True, dir_okay=False, readable=True)
    ],
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="Read the passphrase from this file's first line.")
    ] = None,
    mode: Annotated[
        str,
        typer.Option("--mode", help="new_folder: into a new top folder (the default); merge: into your own folders."),
    ] = "new_folder",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")] = False,
):
    """Bring back an export: folders, files (with their versions when it has them), notes and chats."""
    if mode not in ("new_folder", "merge"):
        raise CliError(f"--mode is new_folder or merge, not {mode!r}.", CliError.USAGE)
    passphrase = passphrase_from(passphrase_file, confirm=False)
    _, api = signed_in()
    total = archive.stat().st_size
    bar = progress_bar()
    with contextlib.ExitStack() as stack:
        on_read = lambda done: None  # noqa: E731 - replaced when a bar shows
        if bar is not None:
            stack.enter_context(bar)
            task = bar.add_task("Uploading", total=total)

            def on_read(done: int) -> None:
                bar.update(task, completed=done)
                if done >= total:
                    bar.update(task, description="Importing")

        handle = stack.enter_context(archive.open("rb"))
        data = {"passphrase": passphrase, "mode": mode, "dry_run": "true" if dry_run else "false"}
        files = {"archive": (archive.name, Counting(handle, on_read), "application/zip")}
        response = api.send("POST", "me/import", data=data, files=files, timeout=LONG)
    if response.status_code not in (200, 201):
        raise error_of(response)
    report = response.json()

    def human():
        verb = "Would create" if report.get("dry_run") else "Created"
        where = f" in /{report['folder']}" if report.get("folder") else ""
        out.print(f"{verb}{where}: {_counts(report.get('created', {}))}.", markup=False, highlight=False)
        out.print(f"Skipped (already there): {_counts(report.get('skipped', {}))}.", markup=False, highlight=False)
        for failure in report.get("failed", []):
            out.print(f"Failed: {failure.get('path')}: {failure.get('reason')}", markup=False, highlight=False)
        if report.get("dry_run"):
            out.print("A dry run: nothing was written.")

    emit(report, human)
    failed = report.get("failed") or []
    if failed:
        raise CliError(f"{len(failed)} item(s) could not be imported (listed above).")
