"""An :class:`Economy` as a folder of Parquet tables, and back.

The folder holds ``A.parquet``, ``imports.parquet`` and ``capital.parquet``
(sparse matrices in coordinate form: ``row``, ``col``, ``value``),
``sectors.parquet`` (the per-product vectors), ``final_demand.parquet`` and
``economy.json`` (units, name, year, provenance).  ``gosplan.write.parquet``
writes it, ``gosplan.read.parquet`` (and any source spec naming such a
folder) reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy, EconomyMeta

__all__ = ["read_parquet", "write_parquet"]


def write_parquet(economy: Economy, directory: str | Path) -> Path:
    """Write every table of ``economy`` as Parquet plus ``economy.json``; returns the folder."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for key in ("A", "imports", "capital"):
        M = getattr(economy, key)
        if M is None:
            continue
        coo = sp.coo_array(M)
        pd.DataFrame({"row": coo.row, "col": coo.col, "value": coo.data}).to_parquet(
            d / f"{key}.parquet", index=False
        )
    economy.to_sectors_frame().to_parquet(d / "sectors.parquet")
    if economy.final_demand is not None:
        economy.final_demand.to_parquet(d / "final_demand.parquet")
    info = {
        "name": economy.name,
        "year": economy.year,
        "kind": economy.kind,
        "labour_unit": economy.labour_unit,
        "labour_kind": economy.labour_kind,
        "money_unit": economy.money_unit,
        "output_unit": economy.output_unit,
        "purposes": economy.purposes,
        "source": economy.meta.source,
        "history": economy.meta.history,
    }
    (d / "economy.json").write_text(json.dumps(info, indent=2))
    return d


def read_parquet(directory: str | Path) -> Economy:
    """Read what :func:`write_parquet` wrote."""
    d = Path(directory)
    info = json.loads((d / "economy.json").read_text())
    sectors = pd.read_parquet(d / "sectors.parquet")
    n = len(sectors)

    def mat(key: str) -> sp.csr_array | None:
        f = d / f"{key}.parquet"
        if not f.exists():
            return None
        t = pd.read_parquet(f)
        return sp.csr_array(
            (t["value"].to_numpy(), (t["row"].to_numpy(), t["col"].to_numpy())), shape=(n, n)
        )

    fd_path = d / "final_demand.parquet"
    fd = pd.read_parquet(fd_path) if fd_path.exists() else None

    def col(key: str) -> np.ndarray | None:
        return sectors[key].to_numpy() if key in sectors else None

    meta = EconomyMeta(source=info.get("source", ""), history=list(info.get("history", [])))
    meta.note(f"read from Parquet {d}")
    return Economy(
        mat("A"),
        sectors["labour"].to_numpy(),
        products=list(sectors.index),
        labour_unit=info["labour_unit"],
        labour_kind=info["labour_kind"],
        money_unit=info["money_unit"],
        output_unit=info.get("output_unit"),
        output=col("output"),
        final_demand=fd,
        purposes=info.get("purposes"),
        imports=mat("imports"),
        capital=mat("capital"),
        depreciation=col("depreciation"),
        compensation=col("compensation"),
        surplus=col("surplus"),
        prices=col("prices"),
        persons=col("persons"),
        capital_stock=col("capital_stock"),
        name=info.get("name", ""),
        year=info.get("year"),
        kind=info.get("kind", "product"),
        meta=meta,
    )
