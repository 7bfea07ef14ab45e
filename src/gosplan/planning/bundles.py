"""Target bundles: what society wants delivered, by purpose, checked against the economy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gosplan.core.validation import closest
from gosplan.errors import ValidationError

if TYPE_CHECKING:
    from gosplan.core.economy import Economy


def targets_mapping(v: Any, name: str, caller: str) -> dict[str, float]:
    """``{name: quantity}`` from a mapping or Series (refused otherwise, naming ``name``)."""
    if v is None:
        return {}
    if isinstance(v, pd.Series):
        return {str(k): float(q) for k, q in v.items()}
    if isinstance(v, Mapping):
        out: dict[str, float] = {}
        for k, q in v.items():
            try:
                out[str(k)] = float(q)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"`{name}` of {caller}: the value for {k!r} must be a number; got {q!r}."
                ) from None
        return out
    raise ValidationError(f"`{name}` of {caller} must be a mapping {{name: quantity}}.")


def bundles_frame(
    economy: Economy, targets_by_purpose: Mapping[str, Any] | pd.DataFrame | pd.Series
) -> pd.DataFrame:
    """Target bundles as a DataFrame (products × purposes), validated against the economy."""
    products = economy.products
    notes = list(getattr(targets_by_purpose, "attrs", {}).get("notes", []))
    if isinstance(targets_by_purpose, pd.Series):
        targets_by_purpose = {str(targets_by_purpose.name or "target"): targets_by_purpose}
    if isinstance(targets_by_purpose, pd.DataFrame):
        items = {str(c): targets_by_purpose[c] for c in targets_by_purpose.columns}
    else:
        items = dict(targets_by_purpose)
    cols: dict[str, np.ndarray] = {}
    for purpose, b in items.items():
        where = f"target bundle {purpose!r}"
        if isinstance(b, pd.Series | Mapping):
            keys = list(b.index if isinstance(b, pd.Series) else b.keys())
            unknown = [k for k in keys if k not in products]
            if unknown:
                raise ValidationError(
                    f"{where} names unknown product(s) {unknown[:5]}."
                    f"{closest(unknown[0], products)}"
                )
            s = pd.Series(dict(b) if isinstance(b, Mapping) else b, dtype=float)
            vec = s.groupby(level=0).sum().reindex(products, fill_value=0.0).to_numpy()
        else:
            vec = np.asarray(b, dtype=float).ravel()
            if vec.shape != (economy.n,):
                raise ValidationError(
                    f"{where} must have {economy.n} entries (one per product); got {vec.shape}."
                )
        bad = ~np.isfinite(vec)
        if bad.any():
            raise ValidationError(
                f"{where} has a NaN or infinite quantity for product "
                f"{products[int(np.flatnonzero(bad)[0])]!r}."
            )
        neg = vec < 0
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise ValidationError(
                f"{where} has a negative target {vec[i]:g} for product {products[i]!r}; targets "
                "are what society wants delivered and must be >= 0 (net out stock changes "
                "or imports elsewhere)."
            )
        cols[str(purpose)] = vec
    frame = pd.DataFrame(cols, index=products)
    frame.columns.name = "purpose"
    if notes:
        frame.attrs["notes"] = notes
    return frame
