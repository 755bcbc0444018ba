"""``locker ls``, ``mkdir``, ``upload``, ``download``, ``mv``, ``rm``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from locker.cli.app import app, emit, out, signed_in, state
from locker.cli.client import CliError
from locker.cli.remote import Remote, parts_of


@app.command("ls")
def ls(path: Annotated[str, typer.Argument(help="A remote folder (default: the top level).")] = "/"):
    """List a remote folder."""
    _, api = signed_in()
    remote = Remote(api)
    item = remote.resolve(path)
    if item.kind == "file":
        rows = [("file", item.data)]
    else:
        rows = [("folder", f) for f in remote.folders(item.id)] + [("file", f) for f in remote.files(item.id)]

    def table():
        grid = Table(show_header=True, header_style="bold", box=None)
        for column in ("name", "size", "version", "modified"):
            grid.add_column(column, justify="right" if column in ("size", "version") else "left")
        for kind, data in rows:
            name = data["name"] + ("/" if kind == "folder" else "")
            grid.add_row(
                name, str(data.get("size", "")), str(data.get("version", "")), str(data.get("modified_at", ""))
            )
        out.print(grid)

    emit([{"kind": kind, **data} for kind, data in rows], table)


@app.command()
def mkdir(path: Annotated[str, typer.Argument(help="The remote folder to make (with its parents).")]):
    """Make a remote folder, and its parents if needed."""
    _, api = signed_in()
    folder_id = Remote(api).folder_id(path, create=True)
    emit({"id": folder_id, "path": path}, lambda: out.print(f"Folder {path} is there."))


@app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(help="Local files.", exists=True, dir_okay=False, readable=True)],
    to: Annotated[str, typer.Option("--to", help="The remote folder (made if missing).")] = "/",
):
    """Upload files (a same-name file gets a new version; large files resume over tus)."""
    _, api = signed_in()
    remote = Remote(api)
    folder_id = remote.folder_id(to, create=True)
    done = []
    for local in files:
        stored = remote.upload(local, folder_id=folder_id)
        done.append(stored)
        if not state.json:
            out.print(f"{local} → {to.rstrip('/')}/{stored['name']} (version {stored.get('version')})")
    emit(done)


@app.command()
def download(
    path: Annotated[str, typer.Argument(help="A remote file.")],
    to: Annotated[Path, typer.Option("--to", help="A local folder (default: here).")] = Path("."),
):
    """Download a remote file."""
    _, api = signed_in()
    remote = Remote(api)
    item = remote.resolve(path)
    if item.kind != "file":
        raise CliError(f"{path} is a folder: use `locker sync` for folders.", CliError.USAGE)
    to.mkdir(parents=True, exist_ok=True)
    target = remote.download(item.data, to / item.name)
    emit({"path": str(target), "size": item.data["size"]}, lambda: out.print(f"{path} → {target}"))


@app.command()
def mv(
    source: Annotated[str, typer.Argument(help="A remote file or folder.")],
    target: Annotated[str, typer.Argument(help="Its new path (an existing folder: moved into it).")],
):
    """Move or rename a remote file or folder."""
    _, api = signed_in()
    remote = Remote(api)
    item = remote.resolve(source)
    if item.id is None:
        raise CliError("The top level cannot move.", CliError.USAGE)
    try:
        into = remote.resolve(target)
    except CliError:
        into = None
    if into is not None and into.kind == "folder":
        parent, name = into.id, item.name
    else:
        parts = parts_of(target)
        if not parts:
            raise CliError("Give the new path.", CliError.USAGE)
        parent, name = remote.folder_id("/".join(parts[:-1])), parts[-1]
    field = "parent" if item.kind == "folder" else "folder"
    endpoint = "folders" if item.kind == "folder" else "files"
    moved = api.json("PATCH", f"{endpoint}/{item.id}/", json={"name": name, field: parent})
    emit(moved, lambda: out.print(f"{source} → {target}"))


@app.command()
def rm(path: Annotated[str, typer.Argument(help="A remote file or folder: it goes to the trash.")]):
    """Move a remote file or folder to the trash (restore it from there)."""
    _, api = signed_in()
    item = Remote(api).resolve(path)
    if item.id is None:
        raise CliError("The top level cannot go to the trash.", CliError.USAGE)
    endpoint = "folders" if item.kind == "folder" else "files"
    api.request("DELETE", f"{endpoint}/{item.id}/")
    emit({"trashed": path}, lambda: out.print(f"{path} is in the trash."))
