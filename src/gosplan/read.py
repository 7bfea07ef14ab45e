"""Readers, one function per publisher format, each returning an :class:`Economy`.

==================  ==========================================================
``read.source``     any source spec (path or ``default``/``ibge:2019:20``)
``read.wiod``       WIOD 2016 national IO table + Socio-Economic Accounts hours
``read.uk_io``      UK 1984 / 1995 input–output CSV tables
``read.ons``        ONS input–output analytical tables workbook (UK 2015)
``read.ons_csv``    a researcher's CSV extracts of it (domesticiot.csv, Amatrix2015.csv)
``read.scb``        Statistics Sweden supply–use workbook (made symmetric)
``read.ibge``       IBGE Brazilian supply–use tables shipped in ``iotbr``
``read.generic``    the documented generic CSV/Excel layout
``read.parquet``    a directory written by ``gosplan.write.parquet``
``read.pymrio``     a ``pymrio.IOSystem`` (``gosplan.write.pymrio`` makes one)
==================  ==========================================================

Readers are imported lazily so that ``import gosplan`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from gosplan.readers.registry import open_source as source

_LAZY = {
    "wiod": ("gosplan.readers.wiod", "read_wiod"),
    "uk_io": ("gosplan.readers.uk_io", "read_uk_io"),
    "ons": ("gosplan.readers.ons", "read_ons"),
    "ons_csv": ("gosplan.readers.ons_csv", "read_ons_csv"),
    "scb": ("gosplan.readers.scb", "read_scb"),
    "ibge": ("gosplan.readers.ibge", "read_ibge"),
    "generic": ("gosplan.readers.generic", "read_generic"),
    "parquet": ("gosplan.readers.parquet", "read_parquet"),
    "pymrio": ("gosplan.readers.iosystem", "from_pymrio"),
}

# names provided lazily by __getattr__
__all__ = [  # noqa: F822
    "generic",
    "ibge",
    "ons",
    "ons_csv",
    "parquet",
    "pymrio",
    "scb",
    "source",
    "uk_io",
    "wiod",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, func = _LAZY[name]
        return getattr(importlib.import_module(module), func)
    raise AttributeError(f"module 'gosplan.read' has no attribute {name!r}")
