"""Resolve a SOURCE given on the command line (or in a config) to an :class:`Economy`.

A source is either a named embedded dataset or a path to a publisher's file:

============================  ==============================================
``default``                   Brazil (IBGE), 68 activities (128 products), latest year
``ibge[:YEAR[:LEVEL]]``       IBGE supply–use tables shipped in ``iotbr``
``brazil[:YEAR[:LEVEL]]``     same as ``ibge``
``*_NIOT_nov16.xlsx``         WIOD 2016 national table (+ ``sea.csv`` beside it)
``UK-1984.csv``/``UK-1995.csv``  UK input–output tables (CSO/ONS, cleaned)
``*ioat*.xls[x]``             ONS input–output analytical tables
``scb-*sut*.xlsx``            Statistics Sweden supply–use tables
``domesticiot*.csv``          ONS 2015 extract: domestic flows (+ ``importuse.csv``)
``amatrix*.csv``              ONS 2015 extract: coefficients (output from ``domesticiot.csv``)
auxiliary files (``aux``)     ``sea.csv``, ``capitalstockmatrix*.csv``, ``deprates*.csv``,
                              ``dep.csv``, ``importuse*.csv``: read only with a table;
                              given alone, an error says which table and how
a directory with economy.json  Parquet written by ``gosplan.write.parquet``
any other ``.csv``/``.xlsx``  the documented generic layout (docs/readers.md)
============================  ==============================================
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from gosplan.core.economy import Economy
from gosplan.errors import ReaderError

NAMED = ("default", "ibge", "brazil")


def describe_sources() -> str:
    return __doc__ or ""


class Auxiliary(NamedTuple):
    """A file that accompanies a table but is not one."""

    what: str  # what the file is
    accompanies: str  # the table it goes with, in a few words
    how: str  # how to use it


#: name pattern -> what the file is, what it accompanies, how to use it
#: (``{dir}`` is the file's folder, ``{path}`` the file, ``{niot}`` a WIOD table beside it)
AUXILIARY: tuple[tuple[str, Auxiliary], ...] = (
    (
        r"(.*[-_])?sea([-_].*)?\.csv",
        Auxiliary(
            "WIOD's Socio-Economic Accounts (hours, persons, compensation, capital by country, "
            "industry and year)",
            "accompanies the WIOD *_NIOT_nov16.xlsx tables",
            "it is read together with a *_NIOT_nov16.xlsx table (from the same folder): run "
            "`gosplan values {niot} --year 2010`",
        ),
    ),
    (
        r"capitalstockmatrix.*\.csv",
        Auxiliary(
            "the researcher's capital-stock matrix of the ONS 2015 release (net capital stock, "
            "GBP million, by asset and industry)",
            "accompanies ons-detailed-ioats-2015-bb18.xls or domesticiot.csv",
            "it is read together with the ONS table: run `gosplan analyse "
            "{dir}/ons-detailed-ioats-2015-bb18.xls --read-option capital={path} "
            "--read-option depreciation={dir}/deprates.csv --depreciation`",
        ),
    ),
    (
        r"deprates.*\.csv",
        Auxiliary(
            "the researcher's depreciation rates per product of the ONS 2015 release",
            "accompanies ons-detailed-ioats-2015-bb18.xls or domesticiot.csv",
            "it is read together with the ONS table and the capital-stock matrix: run `gosplan "
            "analyse {dir}/ons-detailed-ioats-2015-bb18.xls --read-option "
            "capital={dir}/capitalstockmatrix2015.csv --read-option depreciation={path} "
            "--depreciation`",
        ),
    ),
    (
        r"importuse.*\.csv",
        Auxiliary(
            "the researcher's imported-use table of the ONS 2015 release (GBP million, by product "
            "code)",
            "accompanies domesticiot.csv, read with it",
            "it is read together with the domestic flows: `gosplan values {dir}/domesticiot.csv` "
            "takes the importuse.csv beside it",
        ),
    ),
    (
        r"dep\.csv",
        Auxiliary(
            "a derived file of the ONS 2015 extracts whose layout could not be identified: a grid "
            "with domesticiot.csv's rows and columns holding 1 in most cells and, in some "
            "capital-good rows, deprates.csv's rate of the row's product (mostly where "
            "domesticiot.csv has a flow); what the 1s and the choice of cells mean is not "
            "documented, so gosplan does not read it",
            "layout not identified; not read (use deprates.csv)",
            "for depreciation use deprates.csv: run `gosplan analyse "
            "{dir}/ons-detailed-ioats-2015-bb18.xls --read-option "
            "capital={dir}/capitalstockmatrix2015.csv --read-option "
            "depreciation={dir}/deprates.csv --depreciation`",
        ),
    ),
)


def auxiliary(spec: str) -> Auxiliary | None:
    """What an auxiliary file is and how to use it, or None if ``spec`` is not one."""
    p = Path(spec)
    for pattern, aux in AUXILIARY:
        if re.fullmatch(pattern, p.name.lower()):
            found = sorted(p.parent.glob("*_NIOT_*.xlsx"))
            niot = next(
                (f for f in found if f.name.upper().startswith("GBR")),
                found[0] if found else p.parent / "GBR_NIOT_nov16.xlsx",
            )
            return aux._replace(how=aux.how.format(dir=p.parent, path=p, niot=niot))
    return None


def source_kind(spec: str) -> str:
    """The reader a source spec goes to: wiod, uk_io, ons, ons_csv, scb, ibge, parquet,
    generic, or aux (a file that only accompanies a table)."""
    head = spec.split(":", 1)[0].lower()
    if head in NAMED:
        return "ibge"
    p = Path(spec)
    name = p.name.lower()
    if p.is_dir():
        if (p / "economy.json").exists():
            return "parquet"
        raise ReaderError(
            p,
            "a directory is only understood if it holds economy.json "
            "(written by gosplan.write.parquet)",
        )
    if re.search(r"_niot_", name):
        return "wiod"
    if re.fullmatch(r"uk-\d{4}\.csv", name):
        return "uk_io"
    if "ioat" in name and name.endswith((".xls", ".xlsx")):
        return "ons"
    if "sut" in name and name.startswith("scb") and name.endswith((".xls", ".xlsx")):
        return "scb"
    if re.fullmatch(r"(domesticiot|amatrix).*\.csv", name):
        return "ons_csv"
    if auxiliary(spec) is not None:
        return "aux"
    if name.endswith((".csv", ".xlsx", ".xls")):
        return "generic"
    raise ReaderError(p, "unknown kind of source; see `gosplan sources` for what is understood")


#: kind -> (module, function) of its reader
READERS: dict[str, tuple[str, str]] = {
    "ibge": ("gosplan.readers.ibge", "read_ibge"),
    "wiod": ("gosplan.readers.wiod", "read_wiod"),
    "uk_io": ("gosplan.readers.uk_io", "read_uk_io"),
    "ons": ("gosplan.readers.ons", "read_ons"),
    "scb": ("gosplan.readers.scb", "read_scb"),
    "ons_csv": ("gosplan.readers.ons_csv", "read_ons_csv"),
    "generic": ("gosplan.readers.generic", "read_generic"),
}
#: readers that hold several years (the others hold one table)
MULTI_YEAR = ("ibge", "wiod", "scb")


def _reader(kind: str) -> Any:
    import importlib

    module, name = READERS[kind]
    return getattr(importlib.import_module(module), name)


def reader_options(kind: str) -> dict[str, Any]:
    """The options (``--read-option KEY=VALUE``) the reader of ``kind`` takes, with defaults."""
    import inspect

    if kind not in READERS:
        return {}
    params = inspect.signature(_reader(kind)).parameters
    return {
        n: p.default
        for n, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "year"
    }


def check_options(spec: str, kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` for the reader of ``kind``: unknown keys are refused naming the known ones;
    text given for a whole-number option (``level=68``) is converted."""
    known = reader_options(kind)
    unknown = sorted(set(options) - set(known))
    if unknown:
        what = (
            f"the {kind} reader takes {sorted(known)}"
            if known
            else f"the {kind} reader takes no options"
        )
        raise ReaderError(spec, f"unknown reader option(s) {unknown}; {what}")
    out = dict(options)
    for key, value in options.items():
        default = known[key]
        if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, str):
            try:
                out[key] = int(value)
            except ValueError:
                raise ReaderError(
                    spec, f"reader option {key}={value!r} must be a whole number"
                ) from None
    return out


def open_source(spec: str, *, year: int | None = None, **options: Any) -> Economy:
    """Read the economy named by ``spec`` (see module docstring).

    ``year`` selects the year for multi-year sources (WIOD, SCB, IBGE); on a
    single-year source it must be the table's own year (else an error says
    which year the file holds).  Other ``options`` go to the reader; unknown
    ones are refused, naming the reader's options.
    """
    kind = source_kind(spec)
    if kind != "ibge" and not Path(spec).exists():
        raise ReaderError(spec, "no such file or directory")
    if kind == "aux":
        aux = auxiliary(spec)
        assert aux is not None
        raise ReaderError(
            spec,
            f"not an input–output table: this is {aux.what}. {aux.how[:1].upper()}{aux.how[1:]}",
        )
    if kind == "parquet":
        if options:
            raise ReaderError(
                spec,
                f"unknown reader option(s) {sorted(options)}; a Parquet "
                f"economy directory takes no options",
            )
        from gosplan.readers.parquet import read_parquet

        economy = read_parquet(spec)
        _check_year(spec, economy, year)
        return economy
    options = check_options(spec, kind, options)
    if kind == "ibge":
        parts = spec.split(":")
        try:
            if len(parts) > 1 and parts[1]:
                year = int(parts[1])
            if len(parts) > 2 and parts[2]:
                options.setdefault("level", int(parts[2]))
        except ValueError:
            raise ReaderError(
                spec, "an IBGE source is ibge[:YEAR[:LEVEL]] with whole numbers, e.g. ibge:2019:68"
            ) from None
    if kind in MULTI_YEAR:
        if kind == "ibge":
            return _reader(kind)(year=year, **options)
        return _reader(kind)(spec, year=year, **options)
    economy = _reader(kind)(spec, **options)
    _check_year(spec, economy, year)
    return economy


def _check_year(spec: str, economy: Economy, year: int | None) -> None:
    """On a single-year source a year asked for must be the table's own."""
    if year is None or economy.year == year:
        return
    if economy.year is None:
        raise ReaderError(
            spec,
            f"holds one table whose year is not stated, so year {year} "
            f"cannot be checked; leave out the year (or state it in the "
            f"file)",
        )
    raise ReaderError(spec, f"holds one table, of year {economy.year}; it has no year {year}")


def available_years(spec: str) -> list[int] | None:
    """Years a multi-year source holds (None for single-year sources)."""
    kind = source_kind(spec)
    if kind == "wiod":
        return list(range(2000, 2015))
    if kind == "scb":
        return list(range(2008, 2017))
    if kind == "ibge":
        from gosplan.readers.ibge import available_years as ibge_years

        return ibge_years()
    return None
