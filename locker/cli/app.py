"""The ``locker`` Typer application and what every command shares: output (a table on a terminal, one JSON
document with ``--json``), the signed-in API. Commands live in :mod:`locker.cli.commands`, one module a concern."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from locker.cli import config
from locker.cli.client import Api, CliError

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
