"""Techniques: the ways of producing a plan chooses between, as sparse columns.

A :class:`Technique` turns inputs (products or natural resources) and labour into
outputs at a chosen intensity.  :func:`technique_arrays` puts a list of them into the
product × technique and resource × technique matrices the solvers use;
:func:`economy_techniques` builds one technique per product of an economy, plus
alternatives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.validation import closest
from gosplan.errors import ValidationError

if TYPE_CHECKING:
    from gosplan.core.economy import Economy

#: labour as a limit is named by this key in ``resources``
LABOUR = "labour"


@dataclass(frozen=True)
class Technique:
    """One way of producing: ``outputs`` from ``inputs`` and ``labour`` per unit of intensity.

    ``inputs`` may name products (made by some technique) or resources
    (given in :class:`PlanProblem` ``resources``).  ``upper`` caps the
    intensity (e.g. the capacity of the plant that uses this technique).
    """

    name: str
    outputs: Mapping[str, float]
    inputs: Mapping[str, float] = field(default_factory=dict)
    labour: float = 0.0
    upper: float | None = None

    def __post_init__(self) -> None:
        where = f"technique {self.name!r}"
        if not self.outputs:
            raise ValidationError(f"{where} has no outputs; a technique must make something.")
        for kind, d in (("outputs", self.outputs), ("inputs", self.inputs)):
            for k, q in d.items():
                if not np.isfinite(q) or q < 0:
                    raise ValidationError(
                        f"{where}: {kind}[{k!r}] must be a finite non-negative number; got {q!r}."
                    )
        if not np.isfinite(self.labour) or self.labour < 0:
            raise ValidationError(f"{where}: labour must be finite and >= 0; got {self.labour!r}.")
        if self.upper is not None and not (self.upper >= 0):
            raise ValidationError(f"{where}: upper must be >= 0; got {self.upper!r}.")


def technique_arrays(
    techniques: Sequence[Technique], products: list[str], resources: list[str]
) -> tuple[sp.csc_array, sp.csc_array, sp.csc_array]:
    """Net output ``N`` and gross output ``O`` (products × techniques) and resource use
    ``R`` (resources × techniques) per unit intensity; inputs that are not products are
    resources."""
    pidx = {p: i for i, p in enumerate(products)}
    ridx = {r: i for i, r in enumerate(resources)}
    n_rows: list[int] = []
    n_cols: list[int] = []
    n_vals: list[float] = []
    o_rows: list[int] = []
    o_cols: list[int] = []
    o_vals: list[float] = []
    r_rows: list[int] = []
    r_cols: list[int] = []
    r_vals: list[float] = []
    for j, t in enumerate(techniques):
        for p, q in t.outputs.items():
            n_rows.append(pidx[p])
            n_cols.append(j)
            n_vals.append(float(q))
            o_rows.append(pidx[p])
            o_cols.append(j)
            o_vals.append(float(q))
        for k, q in t.inputs.items():
            if k in pidx:
                n_rows.append(pidx[k])
                n_cols.append(j)
                n_vals.append(-float(q))
            else:
                r_rows.append(ridx[k])
                r_cols.append(j)
                r_vals.append(float(q))
    n_p, n_t = len(products), len(techniques)
    return (
        sp.csc_array((n_vals, (n_rows, n_cols)), shape=(n_p, n_t)),
        sp.csc_array((o_vals, (o_rows, o_cols)), shape=(n_p, n_t)),
        sp.csc_array((r_vals, (r_rows, r_cols)), shape=(len(resources), n_t)),
    )


def economy_techniques(
    economy: Economy,
    rnames: list[str],
    resource_use: Mapping[str, Mapping[str, float]] | None,
    alternatives: Sequence[Technique],
    capacity: Mapping[str, float] | pd.Series | None,
) -> tuple[Any, Any, sp.csc_array, np.ndarray, np.ndarray, list[str]]:
    """``N``, ``O``, ``R``, labour, upper bounds and names of the techniques of
    :meth:`PlanProblem.from_economy`: one per product from ``A`` and labour (using
    ``resource_use[resource][product]`` per unit, capped by ``capacity``), then the
    ``alternatives``."""
    A = sp.csc_array(economy.A)
    n = economy.n
    products = economy.products
    N = sp.csc_array(sp.identity(n, format="csc") - A)
    O = sp.identity(n, format="csc")  # noqa: E741
    lab = economy.labour.copy()
    R = sp.lil_array((len(rnames), n))
    for r, per in (resource_use or {}).items():
        if r not in rnames:
            raise ValidationError(
                f"PlanProblem.from_economy: `resource_use` names {r!r}, which is not in "
                f"`resources`: the resource does not exist.{closest(r, rnames)}"
            )
        for p, q in per.items():
            if p not in products:
                raise ValidationError(
                    f"PlanProblem.from_economy: resource_use[{r!r}] names product {p!r}, "
                    f"which the economy does not have.{closest(p, products)}"
                )
            R[rnames.index(r), products.get_loc(p)] = float(q)
    upper = np.full(n, np.inf)
    if capacity is not None:
        for p, q in dict(capacity).items():
            if p not in products:
                raise ValidationError(
                    f"PlanProblem.from_economy: capacity for unknown product {p!r}."
                    f"{closest(p, products)}"
                )
            upper[products.get_loc(p)] = float(q)
    tech_names = list(products)
    if alternatives:
        cols_n, cols_o, cols_r, labs, ups = [], [], [], [], []
        for t in alternatives:
            vn, vo, vr = _alternative(t, products, rnames)
            cols_n.append(vn)
            cols_o.append(vo)
            cols_r.append(vr)
            labs.append(t.labour)
            ups.append(np.inf if t.upper is None else t.upper)
            tech_names.append(t.name)
        N = sp.hstack([N, sp.csc_array(np.column_stack(cols_n))], format="csc")
        O = sp.hstack([O, sp.csc_array(np.column_stack(cols_o))], format="csc")  # noqa: E741
        R = sp.hstack([sp.csc_array(R), sp.csc_array(np.column_stack(cols_r))], format="csc")
        lab = np.concatenate([lab, labs])
        upper = np.concatenate([upper, ups])
    return N, O, sp.csc_array(R), lab, upper, tech_names


def _alternative(
    t: Technique, products: pd.Index, rnames: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The net output, gross output and resource-use columns of an alternative technique
    over the economy's products and the given resources."""
    n = len(products)
    vn = np.zeros(n)
    vo = np.zeros(n)
    vr = np.zeros(len(rnames))
    for p, q in t.outputs.items():
        if p not in products:
            raise ValidationError(
                f"alternative technique {t.name!r} makes {p!r}, which the economy "
                f"does not have.{closest(p, products)}"
            )
        vn[products.get_loc(p)] += q
        vo[products.get_loc(p)] += q
    for k, q in t.inputs.items():
        if k in products:
            vn[products.get_loc(k)] -= q
        elif k in rnames:
            vr[rnames.index(k)] += q
        else:
            raise ValidationError(
                f"alternative technique {t.name!r} uses {k!r}, which is neither a "
                f"product nor a resource: the resource does not exist."
                f"{closest(k, [*products, *rnames])}"
            )
    return vn, vo, vr
