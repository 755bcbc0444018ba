"""``locker versions``, ``restore``, ``search``, ``share``, ``link``: a file's history, finding things, and giving
others access (an account by username, or anyone with a public link)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from locker.cli.app import app, emit, out, signed_in
from locker.cli.client import Api, CliError, error_of
from locker.cli.remote import Item, Remote

PERMISSIONS = ("view", "edit", "delete")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION = re.compile(r"(\d+)\s*([mhdw])")


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` (or a sum such as ``1d12h``) as a :class:`timedelta`; a usage error else."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or not re.fullmatch(rf"(?:{DURATION.pattern})+", compact):
        raise CliError(f"{text!r} is not a duration: use 30m, 12h, 7d or 2w.", CliError.USAGE)
    delta = timedelta()
    for amount, unit in DURATION.findall(compact):
        delta += timedelta(**{UNITS[unit]: int(amount)})
    if delta <= timedelta(0):
        raise CliError(f"{text!r}: a link must last some time.", CliError.USAGE)
    return delta


def _file(remote: Remote, path: str) -> Item:
    item = remote.resolve(path)
    if item.kind != "file":
        raise CliError(f"{path} is a folder: versions are kept for files.", CliError.USAGE)
    return item


def _shared_item(remote: Remote, path: str) -> Item:
    item = remote.resolve(path)
    if item.id is None:
        raise CliError("The top level cannot be shared: give a folder or a file.", CliError.USAGE)
    return item


def _when(value) -> str:
    """An API date and time, shortened for a table (``2026-12-04 13:20``, in UTC as the server gives it)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _size(value) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(value)


# --- versions ---------------------------------------------------------------------------------------------------------


@app.command()
def versions(path: Annotated[str, typer.Argument(help="A remote file.")]):
    """List a file's versions: number, size, date and who wrote each."""
    _, api = signed_in()
    item = _file(Remote(api), path)
    rows = api.json("GET", f"files/{item.id}/versions/")["results"]

    def table():
        grid = Table(show_header=True, header_style="bold", box=None)
        for column in ("version", "size", "date", "author", ""):
            grid.add_column(column, justify="right" if column in ("version", "size") else "left")
        for row in rows:
            grid.add_row(
                str(row["number"]),
                _size(row.get("size")),
                _when(row.get("created_at")),
                row.get("author") or "",
                "current" if row.get("current") else "",
            )
        out.print(grid)

    emit(rows, table)


@app.command()
def restore(
    path: Annotated[str, typer.Argument(help="A remote file.")],
    version: Annotated[int, typer.Option("--version", "-v", help="The version to make current again.")],
):
    """Make an old version of a file current again (as a new version: the history stays)."""
    _, api = signed_in()
    item = _file(Remote(api), path)
    if version < 1:
        raise CliError("Versions are numbered from 1.", CliError.USAGE)
    made = api.json("POST", f"files/{item.id}/versions/{version}/restore")
    emit(
        {"path": path, "restored": version, **made},
        lambda: out.print(f"{path}: version {version} is current again, as version {made['number']}."),
    )


# --- search -----------------------------------------------------------------------------------------------------------


class FolderPaths:
    """Full paths of folders by id, climbing parents (each folder asked for once)."""

    def __init__(self, api: Api):
        self.api = api
        self.known: dict[str, str | None] = {}

    def path(self, folder_id: str | None) -> str | None:
        if folder_id is None:
            return "/"
        if folder_id not in self.known:
            response = self.api.send("GET", f"folders/{folder_id}/")
            if response.status_code != 200:  # not reachable from here (shared with you on its own)
                self.known[folder_id] = None
            else:
                folder = response.json()
                above = self.path(folder.get("parent")) if folder.get("owned", True) else None
                self.known[folder_id] = None if above is None else f"{above.rstrip('/')}/{folder['name']}"
        return self.known[folder_id]


def _results(api: Api, params: dict, limit: int) -> list[dict]:
    """The first ``limit`` results, over as many pages as that takes."""
    results: list[dict] = []
    page = 1
    while len(results) < limit:
        body = api.json("GET", "search", params={**params, "page": page, "page_size": min(limit, 200)})
        results.extend(body["results"])
        if not body.get("next"):
            break
        page += 1
    return results[:limit]


def _with_paths(api: Api, results: list[dict]) -> None:
    """Each result's full remote path in ``path`` (None for a message, or where its folder is not reachable)."""
    paths = FolderPaths(api)
    for result in results:
        above = None if result["kind"] == "message" else paths.path(result.get("parent"))
        result["path"] = f"{above.rstrip('/')}/{result['name']}" if above is not None else None


def _where(result: dict) -> str:
    if result["kind"] == "message":
        return "chat"
    return result["path"] or f"{result.get('parent_name') or 'Files'}/{result['name']}"


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to find (all must match; 3+ letters match prefixes).")],
    within: Annotated[str | None, typer.Option("--in", help="Only in this remote folder (and its subfolders).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many results.")] = 20,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Comma-separated: file, folder, note, message (default all).")
    ] = None,
):
    """Search names, notes, chats and the text of files."""
    if not query.strip():
        raise CliError("Give something to search for.", CliError.USAGE)
    if limit < 1:
        raise CliError("--limit must be 1 or more.", CliError.USAGE)
    _, api = signed_in()
    params: dict = {"q": query}
    if kind:
        params["kind"] = kind
    if within is not None:
        folder = Remote(api).resolve(within)
        if folder.kind != "folder":
            raise CliError(f"{within} is a file: --in takes a folder.", CliError.USAGE)
        if folder.id is not None:  # the top level: the whole vault
            params.update(folder=folder.id, recursive=1)
    results = _results(api, params, limit)
    _with_paths(api, results)

    def table():
        if not results:
            out.print("Nothing found.")
            return
        grid = Table(show_header=True, header_style="bold", box=None)
        for column in ("kind", "name", "where", "snippet"):
            grid.add_column(column, overflow="fold")
        for result in results:
            snippet = " ".join((result.get("snippet") or "").split())
            grid.add_row(result["kind"], result["name"], _where(result), snippet[:120])
        out.print(grid)

    emit(results, table)


# --- sharing ----------------------------------------------------------------------------------------------------------


@app.command()
def share(
    path: Annotated[str, typer.Argument(help="A remote folder or file.")],
    user: Annotated[str, typer.Argument(help="The exact username of the account to share with.")],
    permission: Annotated[
        str, typer.Option("--permission", "-p", help="view; edit (also change and add); delete (also trash).")
    ] = "view",
):
    """Share a folder (everything in it, now and later) or a file with another account."""
    if permission not in PERMISSIONS:
        raise CliError(f"--permission is one of {', '.join(PERMISSIONS)}, not {permission!r}.", CliError.USAGE)
    _, api = signed_in()
    item = _shared_item(Remote(api), path)
    response = api.send("POST", "shares/", json={"item": item.id, "username": user, "permission": permission})
    if response.status_code == 400 and _code(response) == "unknown_user":
        raise CliError(f"No account is called {user!r}.", CliError.NOT_FOUND)
    if response.status_code == 409:
        raise CliError(f"{path} is shared with {user} already.", CliError.CONFLICT)
    if response.status_code != 201:
        raise error_of(response)
    made = response.json()
    emit(made, lambda: out.print(f"{path} is shared with {made.get('recipient', user)} ({permission})."))


def _code(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@app.command()
def link(
    path: Annotated[str, typer.Argument(help="A remote folder or file.")],
    expires: Annotated[str, typer.Option("--expires", "-e", help="How long it works: 30m, 12h, 7d, 2w.")] = "7d",
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password the link's visitors must give.")
    ] = False,
    max_downloads: Annotated[int | None, typer.Option("--max-downloads", help="Stop after this many.")] = None,
):
    """Make a public link to a folder or file; its URL is shown this once."""
    lasts = parse_duration(expires)
    if max_downloads is not None and max_downloads < 1:
        raise CliError("--max-downloads must be 1 or more.", CliError.USAGE)
    _, api = signed_in()
    item = _shared_item(Remote(api), path)
    body: dict = {"item": item.id, "expires_at": (datetime.now(UTC) + lasts).isoformat()}
    if password:
        body["password"] = typer.prompt("Link password", hide_input=True, confirmation_prompt=True)
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    made = api.json("POST", "links/", json=body)
    emit(made, lambda: print(made["url"]))
