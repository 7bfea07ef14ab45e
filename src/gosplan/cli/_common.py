"""Shared pieces of the command-line faces: console, source option, progress, errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gosplan.errors import GosplanError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(func: F) -> F:
    """Turn gosplan's own errors into clean ``click`` errors (exit code 1, no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GosplanError as exc:
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            # the database's own refusal (locked, unreachable, damaged): its words, no traceback
            if not type(exc).__module__.startswith("sqlalchemy"):
                raise
            from gosplan.storage.base import describe_db_error

            raise click.ClickException(
                f"the store could not be used: {describe_db_error(exc)}") from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr; yields ``advance(n=1, description=None)``."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn(
            "{task.completed}/{task.total}" if total else ""), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as prog:
        task = prog.add_task(description, total=total)

        def advance(n: float = 1, description: str | None = None) -> None:
            if description:
                prog.update(task, advance=n, description=description)
            else:
                prog.update(task, advance=n)

        yield advance
