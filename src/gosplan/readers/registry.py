"""Resolve a SOURCE given on the command line (or in a config) to an :class:`Economy`.

A source is either a named embedded dataset or a path to a publisher's file:

============================  ==============================================
``default``                   Brazil (IBGE), 20 activities, latest year
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
    (r"(.*[-_])?sea([-_].*)?\.csv", Auxiliary(
     "WIOD's Socio-Economic Accounts (hours, persons, compensation, capital by country, "
     "industry and year)", "accompanies the WIOD *_NIOT_nov16.xlsx tables",
     "it is read together with a *_NIOT_nov16.xlsx table (from the same folder): run "
     "`gosplan values {niot} --year 2010`")),
    (r"capitalstockmatrix.*\.csv", Auxiliary(
     "the researcher's capital-stock matrix of the ONS 2015 release (net capital stock, "
     "GBP million, by asset and industry)",
     "accompanies ons-detailed-ioats-2015-bb18.xls or domesticiot.csv",
     "it is read together with the ONS table: run `gosplan analyse "
     "{dir}/ons-detailed-ioats-2015-bb18.xls --read-option capital={path} "
     "--read-option depreciation={dir}/deprates.csv --depreciation`")),
    (r"deprates.*\.csv", Auxiliary(
     "the researcher's depreciation rates per product of the ONS 2015 release",
     "accompanies ons-detailed-ioats-2015-bb18.xls or domesticiot.csv",
     "it is read together with the ONS table and the capital-stock matrix: run `gosplan "
     "analyse {dir}/ons-detailed-ioats-2015-bb18.xls --read-option "
     "capital={dir}/capitalstockmatrix2015.csv --read-option depreciation={path} "
     "--depreciation`")),
    (r"importuse.*\.csv", Auxiliary(
     "the researcher's imported-use table of the ONS 2015 release (GBP million, by product "
     "code)", "accompanies domesticiot.csv, read with it",
     "it is read together with the domestic flows: `gosplan values {dir}/domesticiot.csv` "
     "takes the importuse.csv beside it")),
    (r"dep\.csv", Auxiliary(
     "a derived file of the ONS 2015 extracts whose layout could not be identified: a grid "
     "with domesticiot.csv's rows and columns holding 1 in most cells and, in some "
     "capital-good rows, deprates.csv's rate of the row's product (mostly where "
     "domesticiot.csv has a flow); what the 1s and the choice of cells mean is not "
     "documented, so gosplan does not read it",
     "layout not identified; not read (use deprates.csv)",
     "for depreciation use deprates.csv: run `gosplan analyse "
     "{dir}/ons-detailed-ioats-2015-bb18.xls --read-option "
     "capital={dir}/capitalstockmatrix2015.csv --read-option "
     "depreciation={dir}/deprates.csv --depreciation`")),
)


def auxiliary(spec: str) -> Auxiliary | None:
    """What an auxiliary file is and how to use it, or None if ``spec`` is not one."""
    p = Path(spec)
    for pattern, aux in AUXILIARY:
        if re.fullmatch(pattern, p.name.lower()):
            found = sorted(p.parent.glob("*_NIOT_*.xlsx"))
            niot = next((f for f in found if f.name.upper().startswith("GBR")),
                        found[0] if found else p.parent / "GBR_NIOT_nov16.xlsx")
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
        raise ReaderError(p, "a directory is only understood if it holds economy.json "
                          "(written by gosplan.write.parquet)")
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


def open_source(spec: str, *, year: int | None = None, **options: Any) -> Economy:
    """Read the economy named by ``spec`` (see module docstring).

    ``year`` selects the year for multi-year sources (WIOD, SCB, IBGE);
    other ``options`` go to the reader.
    """
    kind = source_kind(spec)
    if kind != "ibge" and not Path(spec).exists():
        raise ReaderError(spec, "no such file or directory")
    if kind == "ibge":
        from gosplan.readers.ibge import read_ibge

        parts = spec.split(":")
        if len(parts) > 1 and parts[1]:
            year = int(parts[1])
        if len(parts) > 2 and parts[2]:
            options.setdefault("level", int(parts[2]))
        return read_ibge(year=year, **options)
    if kind == "parquet":
        from gosplan.readers.parquet import read_parquet

        return read_parquet(spec)
    if kind == "wiod":
        from gosplan.readers.wiod import read_wiod

        return read_wiod(spec, year=year, **options)
    if kind == "uk_io":
        from gosplan.readers.uk_io import read_uk_io

        return read_uk_io(spec, **options)
    if kind == "ons":
        from gosplan.readers.ons import read_ons

        return read_ons(spec, **options)
    if kind == "scb":
        from gosplan.readers.scb import read_scb

        return read_scb(spec, year=year, **options)
    if kind == "ons_csv":
        from gosplan.readers.ons_csv import read_ons_csv

        return read_ons_csv(spec, **options)
    if kind == "aux":
        aux = auxiliary(spec)
        assert aux is not None
        raise ReaderError(spec, f"not an input–output table: this is {aux.what}. "
                                f"{aux.how[:1].upper()}{aux.how[1:]}")
    from gosplan.readers.generic import read_generic

    return read_generic(spec, **options)


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
