"""``locker``: the command-line client (docs/cli.md). Thin: parse, call the API through :mod:`locker.cli.remote`,
print (a table on a terminal, one JSON document with ``--json``). Errors are one line and an exit status;
``--debug`` adds the stack trace."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from locker.cli import config
from locker.cli.client import Api, CliError
from locker.cli.remote import Remote, parts_of

app = typer.Typer(
    name="locker",
    help="Locker from the command line: your files, synced both ways, over the server's public API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class State:
    json = False
    debug = False


state = State()


@app.callback()
def options(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the stack trace of an error.")] = False,
):
    state.json = as_json
    state.debug = debug


def emit(data, human=None) -> None:
    """``data`` as JSON under ``--json``; otherwise ``human()`` prints it for a person."""
    if state.json:
        print(json.dumps(data, indent=1, default=str))
    elif human is not None:
        human()


def signed_in() -> tuple[config.Profile, Api]:
    found = config.load()
    if found is None:
        raise CliError("Not signed in on this computer: run `locker login URL` first.", CliError.AUTH)
    profile, password = found
    return profile, Api(profile.server, username=profile.username, password=password)


# --- account ------------------------------------------------------------------------------------------------------
@app.command()
def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. https://locker.example.org")],
    username: Annotated[str, typer.Option(prompt=True)] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
):
    """Sign in once: makes an app password for this computer and keeps only that (never your password)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
    api = Api(url)
    token = api.send("POST", "auth/token", json={"username": username, "password": password})
    if token.status_code in (400, 401):
        raise CliError("Wrong username or password.", CliError.AUTH)
    if token.status_code != 200:
        from locker.cli.client import error_of

        raise error_of(token)
    access = token.json()["access"]
    bearer = {"Authorization": f"Bearer {access}"}
    name = f"locker CLI on {socket.gethostname()}"[:100]
    created = api.json("POST", "auth/app-passwords/", json={"name": name}, headers=bearer)
    api.send("POST", "auth/logout", json={}, headers=bearer)  # only the app password stays signed in
    profile = config.save(
        config.Profile(server=api.server, username=username, app_password_id=created["id"]), created["password"]
    )
    where = "the system keyring" if profile.secret_in == "keyring" else str(config.config_dir() / "credentials")
    emit(
        {"server": api.server, "username": username, "app_password": created["id"], "stored_in": profile.secret_in},
        lambda: out.print(f"Signed in to {api.server} as {username}; the app password is kept in {where}."),
    )


@app.command()
def logout():
    """Revoke this computer's app password on the server and forget it here."""
    found = config.load()
    if found is None:
        emit({"signed_in": False}, lambda: out.print("Not signed in."))
        return
    profile, api = signed_in()
    response = api.send("DELETE", f"auth/app-passwords/{profile.app_password_id}/")
    config.forget(profile)
    revoked = response.status_code in (204, 404, 401)
    emit({"revoked": revoked}, lambda: out.print("Signed out; the app password is revoked."))


@app.command()
def whoami():
    """Who this computer is signed in as, where, and the storage used."""
    profile, api = signed_in()
    me = api.json("GET", "me")
    data = {
        "server": profile.server,
        "username": me.get("username"),
        "storage_used": me.get("storage_used"),
        "storage_quota": me.get("storage_quota"),
    }
    emit(data, lambda: out.print(f"{data['username']} on {profile.server}"))


# --- files --------------------------------------------------------------------------------------------------------
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


def main() -> None:
    try:
        app()
    except CliError as exc:
        if state.debug:
            err.print_exception()
        err.print(f"locker: {exc.message}", markup=False, highlight=False)
        sys.exit(exc.code)
    except KeyboardInterrupt:
        err.print("locker: interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
