"""``locker``, the entry point (docs/cli.md): the commands of :mod:`locker.cli.commands` on one Typer app; an error
is one line and an exit status, ``--debug`` adds the stack trace."""

from __future__ import annotations

import sys

from locker.cli.app import app, err, state
from locker.cli.client import CliError
from locker.cli.commands import account, data, files, sync, vault, watch  # noqa: F401 - they register their commands


def main() -> None:
    try:
        app()
    except CliError as exc:
        if state.debug:
            err.print_exception()
        err.print(f"locker: {exc.message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.code)
    except KeyboardInterrupt:
        err.print("locker: interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
