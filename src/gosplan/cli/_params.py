"""Click parameter types of the command-line faces: one place converts and checks input.

Numbers are finite and within stated bounds (``1e400``, ``inf`` and ``nan`` are
refused), years are plausible and ranges run forwards, dates are ISO only
(``08/01/2024`` is refused, never read month-first), output paths are checked
writable when the command line is parsed (before any work is done or anything
is committed) and ``KEY=VALUE`` options are split.  The checks themselves live
in :mod:`gosplan.core.validation`; these types only turn their errors into
click's (exit code 2, the option named).

Only click is imported here, so that ``gosplan --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click

#: plausible calendar years for statistics and plans
MIN_YEAR, MAX_YEAR = 1000, 9999


class FiniteFloat(click.ParamType):
    """A finite float within optional bounds (inclusive unless ``*_open``)."""

    name = "number"

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
    ) -> None:
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        from gosplan.core.validation import check_number
        from gosplan.errors import ValidationError

        if isinstance(value, float) and not isinstance(value, bool):
            text: Any = value
        else:
            text = str(value)
        try:
            return check_number(
                text,
                name="value",
                lo=self.min,
                hi=self.max,
                lo_open=self.min_open,
                hi_open=self.max_open,
            )
        except ValidationError as exc:
            self.fail(str(exc).replace("`value` ", "", 1), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "NUMBER"

    def __repr__(self) -> str:
        return f"FiniteFloat({self.min}, {self.max})"


class DecimalText(click.ParamType):
    """A finite decimal number within bounds, kept as the text given (exact amounts such as
    hours are parsed by the service as ``Decimal``)."""

    name = "decimal"

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
    ) -> None:
        self.inner = FiniteFloat(min, max, min_open=min_open, max_open=max_open)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        self.inner.convert(value, param, ctx)
        return str(value).strip()


#: the largest whole number a store can hold (SQLite and PostgreSQL BIGINT)
MAX_INT = 2**63 - 1


class _Count(click.IntRange):
    """An ``IntRange`` whose message leaves out the store's limit (``x>=1``)."""

    def _describe_range(self) -> str:
        if self.max == MAX_INT:
            return f"x>={self.min}"
        return super()._describe_range()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            try:
                too_big = self.max == MAX_INT and int(str(value).strip()) > MAX_INT
            except ValueError:
                too_big = False
            if too_big:
                self.fail(f"{value} is larger than any a store can hold ({MAX_INT}).", param, ctx)
            raise


def count(min: int = 1, max: int | None = None) -> click.IntRange:
    """A whole number of at least ``min`` and at most ``max`` (default: what a store can
    hold); ``--top -3`` is refused, not taken literally."""
    return _Count(min=min, max=MAX_INT if max is None else max)


class YearList(click.ParamType):
    """``2000-2014``, ``2005,2010`` or ``2010`` as an ascending list of years.

    A backward range (``2014-2000``) is refused rather than read as one year.
    """

    name = "years"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[int]:
        if isinstance(value, list):
            return value
        text = str(value).strip()
        years: list[int] = []
        for part in text.split(","):
            part = part.strip()
            a, sep, b = part.partition("-")
            try:
                lo = int(a)
                hi = int(b) if sep else lo
            except ValueError:
                self.fail(
                    f"{text!r} is not a year list; use e.g. 2000-2014 or 2005,2010.", param, ctx
                )
            for y in (lo, hi):
                if not MIN_YEAR <= y <= MAX_YEAR:
                    self.fail(
                        f"{y} in {text!r} is not a plausible year ({MIN_YEAR}-{MAX_YEAR}).",
                        param,
                        ctx,
                    )
            if hi < lo:
                self.fail(f"the range {part!r} runs backwards; write {hi}-{lo}.", param, ctx)
            years.extend(range(lo, hi + 1))
        if len(set(years)) != len(years):
            self.fail(f"{text!r} names a year twice.", param, ctx)
        return sorted(years)


def parse_years(text: str | None) -> list[int] | None:
    """``"2000-2014"`` or ``"2000,2005,2010"`` or ``"2010"`` -> list of years (None if empty)."""
    if not text:
        return None
    return YearList().convert(text, None, None)


#: a year of a statistical table or plan
YEAR = click.IntRange(MIN_YEAR, MAX_YEAR)


class IsoDate(click.ParamType):
    """An ISO date ``YYYY-MM-DD`` (nothing read month-first or day-first)."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        from gosplan.core.validation import parse_iso_date
        from gosplan.errors import ValidationError

        if isinstance(value, dt.date):
            return value
        try:
            return parse_iso_date(value, name="value")
        except ValidationError as exc:
            self.fail(str(exc).replace("`value` ", "", 1), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "YYYY-MM-DD"


class IsoDateTime(click.ParamType):
    """An ISO date or date-time, as a naive UTC ``datetime``."""

    name = "datetime"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        from gosplan.core.validation import parse_iso_datetime
        from gosplan.errors import ValidationError

        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_iso_datetime(value, name="value")
        except ValidationError as exc:
            self.fail(str(exc).replace("`value` ", "", 1), param, ctx)


def check_writable(path: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be written at ``path`` (None if it can); creates nothing."""
    p = Path(path)
    if p.is_dir():
        return f"{str(p)!r} is a directory; give a file name"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        return f"the folder {str(parent)!r} does not exist; create it first"
    if not parent.is_dir():
        return f"{str(parent)!r} is not a folder"
    if p.exists():
        if not os.access(p, os.W_OK):
            return f"{str(p)!r} exists and is not writable"
    elif not os.access(parent, os.W_OK | os.X_OK):
        return f"the folder {str(parent)!r} is not writable"
    return None


def check_writable_dir(path: str | os.PathLike[str]) -> str | None:
    """Why files cannot be written into folder ``path`` (None if they can; a missing
    folder is fine if it can be created)."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            return f"{str(p)!r} is a file, not a folder"
        if not os.access(p, os.W_OK | os.X_OK):
            return f"the folder {str(p)!r} is not writable"
        return None
    for up in p.parents:
        if up.exists():
            if not up.is_dir():
                return f"{str(up)!r} is a file, not a folder"
            if not os.access(up, os.W_OK | os.X_OK):
                return f"the folder {str(up)!r} is not writable, so {str(p)!r} cannot be made"
            return None
    return None


#: a file to read: it exists and is not a folder; the value is a :class:`pathlib.Path`
INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class OutputPath(click.ParamType):
    """A file to write, checked when the command line is parsed: its folder exists and is
    writable, and it is not a folder.  ``-`` (standard output) passes through unchanged.
    With ``folder=True`` a folder to write into (created if missing)."""

    name = "path"

    def __init__(self, *, folder: bool = False, allow_dash: bool = True) -> None:
        self.folder = folder
        self.allow_dash = allow_dash

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if text == "-" and self.allow_dash and not self.folder:
            return text
        if not text.strip():
            self.fail("an empty path", param, ctx)
        why = check_writable_dir(text) if self.folder else check_writable(text)
        if why:
            self.fail(f"cannot write there: {why}.", param, ctx)
        return text

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DIR" if self.folder else "PATH"


class KeyValue(click.ParamType):
    """``KEY=VALUE`` as a ``(key, value)`` pair, both stripped."""

    name = "key=value"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, val = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"{value!r} is not KEY=VALUE.", param, ctx)
        return key.strip(), val.strip()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "KEY=VALUE"


def read_options(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> dict[str, str]:
    """``--read-option`` pairs as a dict; a key given twice is refused."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise click.BadParameter(f"{key!r} is given twice.", param_hint="--read-option")
        out[key] = value
    return out


def read_option(func: Any) -> Any:
    """The ``--read-option KEY=VALUE`` option (repeatable), checked against the reader's
    own options when the source is opened (an unknown key is refused, naming the known)."""
    return click.option(
        "--read-option",
        "read_options",
        multiple=True,
        type=KeyValue(),
        metavar="KEY=VALUE",
        help="Passed to the reader (repeatable), e.g. zero_output=drop or sheet=NAME for a "
        "generic table, capital=capitalstockmatrix2015.csv and depreciation=deprates.csv "
        "for ONS, hours=employees for WIOD; an unknown key is refused, naming the "
        "reader's options.",
    )(func)


__all__ = [
    "INPUT_FILE",
    "YEAR",
    "DecimalText",
    "FiniteFloat",
    "IsoDate",
    "IsoDateTime",
    "KeyValue",
    "OutputPath",
    "YearList",
    "check_writable",
    "check_writable_dir",
    "count",
    "parse_years",
    "read_option",
    "read_options",
]
