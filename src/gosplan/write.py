"""Writers, the counterparts of :mod:`gosplan.read`.

==================  ==========================================================
``write.parquet``   an :class:`Economy` as a folder of Parquet tables (``read.parquet``)
``write.pymrio``    an :class:`Economy` as a ``pymrio.IOSystem`` (``read.pymrio``)
==================  ==========================================================
"""

from __future__ import annotations

from gosplan.readers.iosystem import to_pymrio as pymrio
from gosplan.readers.parquet import write_parquet as parquet

__all__ = ["parquet", "pymrio"]
