"""Labour values: ``v = v A + l``, solved sparsely to a stated tolerance.

``v[j]`` is the total labour — direct, and indirect through every input and
the inputs of those inputs — needed to make one unit of product ``j``.

Variants (keyword arguments of :func:`labour_values`):

``depreciation=True``
    Add the wear of fixed capital: ``v = v (A + D) + l`` with
    ``D = diag(depreciation) @ capital`` (the capital goods used up per unit).
``imports="exports"``
    Imported inputs are valued at the labour of the exports that pay for
    them: one money unit of imports costs ``(v·e)/(p·e)`` hours, where ``e`` is
    the export vector and ``p`` prices.  The system is then
    ``v = v A + l + ((v·e)/(p·e)) m`` with ``m`` imports per unit; it is solved
    exactly with two sparse solves (Sherman–Morrison), and refused if exports
    cannot pay for the imports they embody.
``imports="ignore"`` (default)
    Only domestic labour counts; imported inputs cost nothing in hours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy
from gosplan.core.linsolve import solve_leontief, transposed_for
from gosplan.core.methods import METHODS
from gosplan.core.result import STATUS_MESSAGES, Result, SolveResult, Status
from gosplan.errors import NotConverged, ValidationError

ImportsMode = Literal["ignore", "exports"]


@dataclass(frozen=True)
class LabourValues(Result):
    """Labour values of every product, with how they were obtained.

    ``values`` is a Series indexed by product, in ``unit`` (labour per unit of
    output).  ``residual`` is ``||v - vA' - l'|| / ||l'||`` for the system
    actually solved (``A'``, ``l'`` include the chosen variants); ``success``
    needs ``status`` OPTIMAL *and* ``residual <= tol``.  :func:`labour_values`
    raises rather than return a failure, so what it returns succeeded.
    ``layout_path`` says how ``Aᵀ`` reached the solver: ``"transposed-view"``,
    ``"csr-kernel"`` or ``"converted"`` (:func:`gosplan.core.linsolve.transposed_for`).
    """

    values: pd.Series
    unit: str
    method: str
    nit: int
    residual: float
    tol: float
    conventions: dict[str, str] = field(default_factory=dict)
    import_cost: float | None = None  # hours per money unit of imports, when priced
    status: Status = Status.OPTIMAL
    message: str = ""
    layout_path: str = ""

    @property
    def iterations(self) -> int:
        """Iterations (mat-vecs) spent: ``nit``, under its older name."""
        return self.nit

    def __repr__(self) -> str:
        return (
            f"<LabourValues {len(self.values)} products in {self.unit}; method={self.method}, "
            f"iterations={self.iterations}, residual={self.residual:.2e}, "
            f"layout={self.layout_path}>"
        )

    def summary(self, k: int = 5) -> str:
        v = self.values.sort_values()
        lines = [
            f"Labour values of {len(v)} products ({self.unit}); method {self.method}, "
            f"{self.iterations} iteration(s), relative residual {self.residual:.2e} "
            f"(tolerance {self.tol:.0e}); layout path {self.layout_path}.",
            "Conventions: " + "; ".join(f"{k_}: {v_}" for k_, v_ in self.conventions.items()),
            f"Highest {k}:",
            *[f"  {name:<50} {val:12.6g}" for name, val in v.iloc[::-1].iloc[:k].items()],
            f"Lowest {k}:",
            *[f"  {name:<50} {val:12.6g}" for name, val in v.iloc[:k].items()],
        ]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return self.values.to_frame(name=f"labour value ({self.unit})")


def _value_unit(economy: Economy) -> str:
    per = economy.output_unit
    return f"{economy.labour_unit} per {per}" if per else economy.labour_unit


def labour_values(
    economy: Economy,
    *,
    tol: float = 1e-10,
    method: str = "auto",
    depreciation: bool = False,
    imports: ImportsMode = "ignore",
    maxiter: int | None = None,
    callback: Callable[[int, float], Any] | None = None,
) -> LabourValues:
    """Solve ``v = v A + l`` for the labour value of every product.

    Parameters
    ----------
    economy
        The economy.
    tol
        Relative residual ``||v - vA - l|| / ||l||`` that must be reached.
    method
        One of ``"auto"``, ``"direct"``, ``"jacobi"``, ``"gmres"``, ``"bicgstab"``
        (see :mod:`gosplan.core.linsolve`).
    depreciation
        Include the wear of fixed capital (needs ``capital`` and ``depreciation``).
    imports
        ``"ignore"`` or ``"exports"`` (value imports at the labour of exports).

    Raises
    ------
    NotConverged
        If the solver stops short of ``tol``: an error, never a number.
    ValidationError
        If a variant needs data the economy lacks, or a parameter is invalid.
    """
    _check_parameters(tol, method, imports)
    A = economy.A
    conventions = {
        "labour": f"{economy.labour_kind} ({economy.labour_unit})",
        "depreciation": "excluded",
        "imports": "not counted (domestic labour only)",
    }
    if depreciation:
        A = _with_depreciation(economy)
        conventions["depreciation"] = "included: v = v(A + diag(delta) K) + l"
    # A.T: a free view for either layout; a copy only where no kernel reads the view
    M, layout_path = transposed_for(A, method)
    l = economy.labour  # noqa: E741
    res = solve_leontief(M, l, method=method, tol=tol, maxiter=maxiter, callback=callback)
    _refuse(res, tol, "labour values")
    v = res.x
    nit = res.nit
    import_cost = None
    l_eff = l
    if imports == "exports":
        v, import_cost, extra_nit, l_eff = _value_imports_at_exports(
            economy, M, v, tol=tol, method=method, maxiter=maxiter
        )
        nit += extra_nit
        conventions["imports"] = (
            f"valued at the labour of the exports that pay for them ({import_cost:.4g} "
            f"{economy.labour_unit} per {economy.money_unit or 'money unit'} of imports)"
        )
    # every solver's residual is recomputed in float64 for the system it solved (M = Aᵀ,
    # b = l): not a second time here; the import correction changes v and l, so it is
    resid = _residual(A, v, l_eff) if imports == "exports" else float(res.residual)
    if resid > tol:
        raise NotConverged(
            f"labour values: final relative residual {resid:.3g} exceeds tol={tol:g}.",
            residual=resid,
            nit=nit,
        )
    return LabourValues(
        values=pd.Series(v, index=economy.products, name="labour value"),
        unit=_value_unit(economy),
        method=res.method,
        nit=nit,
        residual=resid,
        tol=float(tol),
        conventions=conventions,
        import_cost=import_cost,
        status=Status.OPTIMAL,
        message=f"{STATUS_MESSAGES[Status.OPTIMAL]} Relative residual {resid:.2e} <= tol {tol:g}.",
        layout_path=layout_path,
    )


def _check_parameters(tol: float, method: str, imports: str) -> None:
    if not (isinstance(tol, float | int) and 0 < tol < 1):
        raise ValidationError(
            f"The 'tol' parameter of labour_values must be in (0, 1); got {tol!r}."
        )
    if method not in METHODS["solve_leontief"]:
        raise ValidationError(
            "The 'method' parameter of labour_values must be one of "
            f"{METHODS['solve_leontief']}; got {method!r}."
        )
    if imports not in ("ignore", "exports"):
        raise ValidationError(
            f"The 'imports' parameter of labour_values must be 'ignore' or 'exports'; "
            f"got {imports!r}."
        )


def _with_depreciation(economy: Economy) -> sp.csr_array:
    """``A + D``, ``D = diag(depreciation) @ capital``, refused if not productive."""
    D = economy.depreciation_coefficients
    if D is None:
        raise ValidationError(
            "labour_values(depreciation=True) needs the economy's `capital` coefficients "
            "and `depreciation` rates; this economy has "
            f"capital={'yes' if economy.capital is not None else 'no'}, "
            f"depreciation={'yes' if economy.depreciation is not None else 'no'}."
        )
    A = sp.csr_array(economy.A + D)
    colsum = np.asarray(A.sum(axis=0)).ravel()
    if colsum.max() >= 1.0:
        probe = Economy(A, economy.labour, products=economy.products, check_productive=False)
        probe.check_productive()
    return A


def _value_imports_at_exports(
    economy: Economy,
    M: Any,
    v: np.ndarray,
    *,
    tol: float,
    method: str,
    maxiter: int | None,
) -> tuple[np.ndarray, float, int, np.ndarray]:
    """Imported inputs valued at the labour of the exports that pay for them.

    With ``w`` the labour embodied in imports (``w = w A + m``) and ``c`` hours per
    money unit of imports, ``v' = v + c w`` with ``c = (v·e) / (p·e - w·e)``
    (Sherman–Morrison).  Returns ``v'``, ``c``, the iterations spent and the
    effective direct labour ``l + c m``.
    """
    if economy.final_demand is None or not any(p == "exports" for p in economy.purposes.values()):
        raise ValidationError(
            "labour_values(imports='exports') needs an export column in the economy's "
            "final demand; none is marked with purpose 'exports'."
        )
    m = economy.imports_per_unit
    if not m.any():
        raise ValidationError(
            "labour_values(imports='exports') needs imported inputs (`imports`); "
            "this economy has none."
        )
    e = economy.final_demand_by_purpose()["exports"].to_numpy()
    pe = float(economy.prices @ e)
    if pe <= 0:
        raise ValidationError("Exports are zero: imports cannot be valued at export labour.")
    res_w = solve_leontief(M, m, method=method, tol=tol, maxiter=maxiter)
    _refuse(res_w, tol, "labour embodied in imports")
    w = res_w.x
    denom = pe - float(w @ e)
    if denom <= 0:
        raise ValidationError(
            "Exports cannot pay for the imports they themselves need "
            f"(p·e = {pe:g} <= imports embodied in exports = {float(w @ e):g}): "
            "imports cannot be valued at the labour of exports."
        )
    c = float(v @ e) / denom
    return v + c * w, c, res_w.nit, economy.labour + c * m


def _refuse(res: SolveResult, tol: float, what: str) -> None:
    if not res.success or not np.isfinite(res.residual) or res.residual > tol:
        raise NotConverged(
            f"{what}: the {res.method} solver stopped short of the tolerance {tol:g} "
            f"(relative residual {res.residual:.3g} after {res.nit} iteration(s)). "
            f"{res.message}",
            residual=res.residual,
            nit=res.nit,
        )


def _residual(A: sp.csr_array, v: np.ndarray, l: np.ndarray) -> float:  # noqa: E741
    """``||v - vA - l|| / ||l||`` in float64."""
    r = v - A.T @ v - l
    ln = float(np.linalg.norm(l))
    return float(np.linalg.norm(r) / ln) if ln > 0 else float(np.linalg.norm(r))


def embodied_labour(
    economy: Economy,
    bundle: Mapping[str, float] | pd.Series | np.ndarray,
    *,
    values: LabourValues | None = None,
    **kwargs: Any,
) -> pd.Series:
    """Labour embodied in a bundle of final products, broken down by product.

    ``bundle`` maps products to quantities (or is a vector over all products).
    The total is ``.sum()``; the unit is ``economy.labour_unit``.
    """
    if values is None:
        values = labour_values(economy, **kwargs)
    if isinstance(bundle, Mapping):
        unknown = [k for k in bundle if k not in economy.products]
        if unknown:
            raise ValidationError(
                f"embodied_labour: unknown products in the bundle: {unknown[:10]}."
            )
        y = pd.Series(0.0, index=economy.products)
        for k, q in bundle.items():
            y[k] = float(q)
    elif isinstance(bundle, pd.Series):
        unknown = [k for k in bundle.index if k not in economy.products]
        if unknown:
            raise ValidationError(
                f"embodied_labour: unknown products in the bundle: {unknown[:10]}."
            )
        y = bundle.reindex(economy.products, fill_value=0.0).astype(float)
    else:
        arr = np.asarray(bundle, dtype=float)
        if arr.shape != (economy.n,):
            raise ValidationError(
                f"embodied_labour: a bundle vector must have {economy.n} entries; got {arr.shape}."
            )
        y = pd.Series(arr, index=economy.products)
    if not np.isfinite(y.to_numpy()).all():
        raise ValidationError("embodied_labour: the bundle contains NaN or infinite quantities.")
    out = values.values * y
    out.name = f"embodied labour ({economy.labour_unit})"
    return out


def gross_output(
    economy: Economy,
    final_demand: np.ndarray | pd.Series,
    *,
    tol: float = 1e-10,
    method: str = "auto",
) -> SolveResult:
    """Gross outputs ``x`` with ``x = A x + y``: what must be made to deliver ``y`` net."""
    y = np.asarray(
        final_demand.reindex(economy.products, fill_value=0.0)
        if isinstance(final_demand, pd.Series)
        else final_demand,
        dtype=float,
    )
    if y.shape != (economy.n,):
        raise ValidationError(
            f"gross_output: `final_demand` must have {economy.n} entries; got {y.shape}."
        )
    res = solve_leontief(economy.A, y, method=method, tol=tol)
    _refuse(res, tol, "gross output")
    return res
