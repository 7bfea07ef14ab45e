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
a directory with economy.json  Parquet written by ``Economy.to_parquet``
any other ``.csv``/``.xlsx``  the documented generic layout (docs/readers.md)
============================  ==============================================
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gosplan.core.economy import Economy
from gosplan.errors import ReaderError

NAMED = ("default", "ibge", "brazil")


def describe_sources() -> str:
    return __doc__ or ""


def source_kind(spec: str) -> str:
    """The reader a source spec goes to: wiod, uk_io, ons, scb, ibge, parquet or generic."""
    head = spec.split(":", 1)[0].lower()
    if head in NAMED:
        return "ibge"
    p = Path(spec)
    name = p.name.lower()
    if p.is_dir():
        if (p / "economy.json").exists():
            return "parquet"
        raise ReaderError(p, "a directory is only understood if it holds economy.json "
                          "(written by Economy.to_parquet)")
    if re.search(r"_niot_", name):
        return "wiod"
    if re.fullmatch(r"uk-\d{4}\.csv", name):
        return "uk_io"
    if "ioat" in name and name.endswith((".xls", ".xlsx")):
        return "ons"
    if "sut" in name and name.startswith("scb") and name.endswith((".xls", ".xlsx")):
        return "scb"
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
        return Economy.read_parquet(spec)
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
