"""Shared pieces of the command-line faces: console, source option, progress, errors.

The consoles are made per invocation, not at import: :data:`console` and
:data:`err_console` are stand-ins that build a :class:`rich.console.Console`
the first time a command prints and keep it for the rest of that invocation
(in the root click context's ``meta``).  So ``COLUMNS``, ``NO_COLOR`` and
whether the output is a terminal (or ``TTY_COMPATIBLE=1``/``0``, Rich's
switch, says so) are read when the command runs, and a test
that sets ``COLUMNS`` (or replaces ``sys.stdout``, as click's ``CliRunner``
does) gets what it set.

On a terminal, output is Rich's: coloured and wrapped at the terminal's
width (or ``COLUMNS``).  Piped (or under ``CliRunner``), nothing is wrapped
or cut: text goes out as written, without colour, and a table becomes plain
tab-separated lines (its title as a first line), so ``cut``/``awk`` and
tests see every cell whatever the width.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from gosplan.cli._params import INPUT_FILE
from gosplan.errors import GosplanError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

QUIET_KEY = "gosplan.quiet"


def is_quiet() -> bool:
    """Whether the running invocation was given the global ``--quiet``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(QUIET_KEY))


def make_console(*, stderr: bool = False) -> Console:
    """A Rich console for the stream as it is now (reads COLUMNS and NO_COLOR now)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    forced = os.environ.get("TTY_COMPATIBLE", "")  # Rich's own switch: 1 terminal, 0 not
    terminal = forced == "1" or (forced != "0" and _isatty(stream))
    if terminal:
        return Console(stderr=stderr, highlight=False, force_terminal=True, width=_env_width())
    # piped: no colour, no wrapping, no cropping; Rich writes to sys.stdout/err as they
    # are at print time, which is what click's CliRunner swaps in
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        no_color=True,
        color_system=None,
        width=_env_width() or 80,
    )


def _isatty(stream: IO[str] | Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _env_width() -> int | None:
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return width if width > 0 else None


def table_as_tsv(table: Any) -> str:
    """A Rich table as tab-separated lines: title, header, rows (markup removed)."""
    from rich.text import Text

    def plain(cell: Any) -> str:
        if isinstance(cell, Text):
            return cell.plain
        if isinstance(cell, str):
            try:
                return Text.from_markup(cell).plain
            except Exception:  # not valid markup: print as it is
                return cell
        return str(cell)

    lines = []
    if table.title:
        lines.append(plain(table.title))
    columns = list(table.columns)
    if table.show_header:
        lines.append("\t".join(plain(c.header) for c in columns))
    for row in zip(*(list(c.cells) for c in columns), strict=True):
        lines.append("\t".join(plain(cell).replace("\t", " ").replace("\n", " ") for cell in row))
    return "\n".join(lines)


class _LazyConsole:
    """Stands in for a Rich console made when first used in each invocation."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._key = "gosplan.err_console" if stderr else "gosplan.console"

    def get(self) -> Console:
        """The console of the running invocation (made now if this is its first use)."""
        ctx = click.get_current_context(silent=True)
        if ctx is None:
            return make_console(stderr=self._stderr)
        made: Console | None = ctx.meta.get(self._key)
        if made is None:
            made = ctx.meta[self._key] = make_console(stderr=self._stderr)
            if is_quiet() and not self._stderr:
                made.quiet = True
        return made

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """``Console.print``; piped, a table is printed as tab-separated lines."""
        con = self.get()
        if not con.is_terminal and any(_is_table(o) for o in objects):
            for o in objects:
                if _is_table(o):  # written as it is: Rich would expand the tabs
                    if not con.quiet:
                        click.echo(table_as_tsv(o), err=self._stderr)
                else:
                    con.print(o, **kwargs)
            return
        con.print(*objects, **kwargs)

    def rule(self, *args: Any, **kwargs: Any) -> None:
        """``Console.rule``; piped, a title line between blank lines."""
        con = self.get()
        if con.is_terminal:
            con.rule(*args, **kwargs)
            return
        title = args[0] if args else kwargs.get("title", "")
        con.print(f"\n{title}" if title else "", soft_wrap=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def _is_table(obj: object) -> bool:
    return type(obj).__name__ == "Table" and type(obj).__module__ == "rich.table"


#: standard output of the running command (see the module's docstring)
console = _LazyConsole(stderr=False)
#: standard error of the running command
err_console = _LazyConsole(stderr=True)


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON's types: dataclasses as objects, Decimal hours as numbers, dates as ISO."""
    import dataclasses
    import datetime as dt
    import decimal
    import enum

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, decimal.Decimal):  # exact up to 15 digits, which hours never exceed
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dt.date | dt.datetime | dt.time):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return jsonable(obj.value)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None  # JSON has no NaN
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and hasattr(obj, "columns"):  # a DataFrame: one object a row
        return jsonable(obj.reset_index().to_dict(orient="records"))
    if callable(to_dict) and hasattr(obj, "index"):  # a Series: label -> value
        return jsonable(to_dict())
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return jsonable(to_json())
    return str(obj)


def echo_json(data: Any) -> None:
    """Print ``data`` as JSON on standard output (``--json``; never silenced by --quiet)."""
    click.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON instead of text."
)

#: ``--db URL``: the store a command works on (every command that touches one)
db_option = click.option(
    "--db",
    "db",
    default=None,
    metavar="URL",
    help="Database URL (default: GOSPLAN_DATABASE_URL, else sqlite:///gosplan.db).",
)

#: ``--key``: an idempotency key for a command that posts
key_option = click.option(
    "--key",
    default=None,
    help="Idempotency key: the same key posts once (default: a new one, printed).",
)


def export_option(help: str) -> Callable[[F], F]:
    """``--export FILE``: an exported public log to work from instead of the store."""
    return click.option("--export", "export_path", default=None, type=INPUT_FILE, help=help)


def public_key_option(help: str) -> Callable[[F], F]:
    """``--public-key HEX|FILE``: the log's public key, a trust anchor (see ``log.read_key``)."""
    return click.option("--public-key", default=None, metavar="HEX|FILE", help=help)


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
                f"the store could not be used: {describe_db_error(exc)}"
            ) from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr; yields ``advance(n=1, description=None)``.

    Shown only where standard error is a terminal and ``--quiet`` was not given.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    con = err_console.get()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}" if total else ""),
        TimeElapsedColumn(),
        console=con,
        transient=True,
        disable=is_quiet() or not con.is_terminal,
    ) as prog:
        task = prog.add_task(description, total=total)

        def advance(n: float = 1, description: str | None = None) -> None:
            if description:
                prog.update(task, advance=n, description=description)
            else:
                prog.update(task, advance=n)

        yield advance


def write_frame_csv(frame: Any, path: str, **kwargs: Any) -> None:
    """Write a DataFrame as CSV to ``path``, or to standard output when ``path`` is ``-``."""
    if path == "-":
        click.echo(frame.to_csv(**kwargs), nl=False)
    else:
        frame.to_csv(path, **kwargs)
        console.print(f"wrote {path}", markup=False)


def data_on_stdout(*flags: object) -> bool:
    """Whether data goes to standard output (``--json``, or a path of ``-``).

    If so, the human report is silenced for the rest of the invocation (it would
    be mixed into the data); errors still go to standard error.
    """
    if any(f is True or f == "-" for f in flags):
        console.get().quiet = True
        return True
    return False
