"""Progress of a long command on a terminal (rich), and nothing at all when quiet or not on a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager


class _Quiet:
    def task(self, description: str, total: float | None = None, unit: str = ""):
        return lambda advance=1: None


class _Bars:
    def __init__(self, progress):
        self._progress = progress

    def task(self, description: str, total: float | None = None, unit: str = ""):
        task_id = self._progress.add_task(description, total=total, unit=unit)
        return lambda advance=1: self._progress.advance(task_id, advance)


@contextmanager
def progress_bars(*, quiet: bool, stream=None):
    """``bars.task(description, total)`` gives a function to call with each step done. Bars go to ``stream``
    (standard error by default, so that an archive written to standard output stays clean), only when it is a
    terminal and ``quiet`` is false."""
    stream = stream or sys.stderr
    if quiet or not getattr(stream, "isatty", lambda: False)():
        yield _Quiet()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} of {task.total:,.0f} {task.fields[unit]}"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(file=stream), transient=False) as progress:
        yield _Bars(progress)
