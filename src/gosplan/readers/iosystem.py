"""pymrio's ``IOSystem``: the de-facto Python container of input–output data.

``from_pymrio`` (``gosplan.read.pymrio``) builds an :class:`Economy` from an
``IOSystem`` (one region, or the whole MRIO flattened); ``to_pymrio``
(``gosplan.write.pymrio``) makes one with ``Z``, ``Y``, ``x`` and a ``labour``
extension, for pymrio's own tools and file formats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy, ZeroOutput
from gosplan.errors import ValidationError

__all__ = ["from_pymrio", "to_pymrio"]


def from_pymrio(
    io: Any,
    *,
    labour: str | tuple[str, str] = ("labour", "labour"),
    region: str | None = None,
    labour_unit: str | None = None,
    zero_output: ZeroOutput = "error",
) -> Economy:
    """Build from a ``pymrio.IOSystem`` (one region, or the whole MRIO flattened).

    ``labour`` names the extension and row (``(extension, stressor)``) that
    holds total labour per sector.  Missing ``Z``/``x`` are computed by pymrio.
    """
    if io.Z is None or io.x is None:
        io.calc_system()
    ext_name, row = (labour, labour) if isinstance(labour, str) else labour
    ext = getattr(io, ext_name, None)
    if ext is None or getattr(ext, "F", None) is None:
        raise ValidationError(
            f"The IOSystem has no extension {ext_name!r} with an F table holding labour."
        )
    if row not in ext.F.index:
        raise ValidationError(
            f"Extension {ext_name!r} has no row {row!r}; rows are {list(ext.F.index)[:10]}."
        )
    Z, x, F, Y = io.Z, io.x.iloc[:, 0], ext.F.loc[row], io.Y
    if region is not None:
        Z = Z.loc[region, region]
        x, F = x.loc[region], F.loc[region]
        Y = Y.loc[region] if Y is not None else None
        if Y is not None:
            Y = Y.T.groupby(level=-1).sum().T
        labels = list(Z.columns)
    elif isinstance(Z.columns, pd.MultiIndex) and Z.columns.get_level_values(0).nunique() == 1:
        labels = [str(c) for c in Z.columns.get_level_values(-1)]
    else:
        labels = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in Z.columns]
        if Y is not None:
            Y = Y.T.groupby(level=-1).sum().T
    unit = labour_unit
    if unit is None and getattr(ext, "unit", None) is not None:
        try:
            unit = str(ext.unit.loc[row].iloc[0])
        except (KeyError, IndexError):
            unit = None
    if Y is not None:
        Y = pd.DataFrame(Y.to_numpy(), columns=[str(c) for c in Y.columns])
    return Economy.from_flows(
        Z.to_numpy(),
        x.to_numpy(),
        np.asarray(F, dtype=float),
        products=labels,
        final_demand=Y,
        zero_output=zero_output,
        labour_unit=unit or "hours",
        name=str(getattr(io, "name", "") or ""),
    )


def to_pymrio(economy: Economy) -> Any:
    """A ``pymrio.IOSystem`` with ``Z``, ``Y``, ``x``, ``A`` and a ``labour`` extension.

    pymrio indexes by (region, sector); the region is the economy's name.
    Needs ``output`` (pymrio works in flows).
    """
    import pymrio

    if economy.output is None:
        raise ValidationError(
            f"This economy ({economy.name or 'unnamed'}) has no `output`; "
            "build it with `output=` or from flows (pymrio works in flows)."
        )
    x = np.asarray(economy.output)
    region = economy.name or "region"
    mi = pd.MultiIndex.from_product([[region], list(economy.products)], names=["region", "sector"])
    Z = pd.DataFrame((economy.A @ sp.diags_array(x)).toarray(), index=mi, columns=mi)
    if economy.final_demand is not None:
        cats = list(economy.final_demand.columns)
        ycols = pd.MultiIndex.from_product([[region], cats], names=["region", "category"])
        Y = pd.DataFrame(economy.final_demand.to_numpy(), index=mi, columns=ycols)
    else:
        ycols = pd.MultiIndex.from_product(
            [[region], ["final demand"]], names=["region", "category"]
        )
        Y = pd.DataFrame(economy.net_output()[:, None], index=mi, columns=ycols)
    io = pymrio.IOSystem(
        Z=Z,
        Y=Y,
        x=pd.DataFrame({"indout": x}, index=mi),
        unit=pd.DataFrame({"unit": [economy.money_unit or "money"] * economy.n}, index=mi),
        name=economy.name or "gosplan economy",
    )
    F = pd.DataFrame([economy.labour * x], index=pd.Index(["labour"], name="stressor"), columns=mi)
    io.labour = pymrio.Extension(
        name="labour", F=F, unit=pd.DataFrame({"unit": [economy.labour_unit]}, index=F.index)
    )
    return io
