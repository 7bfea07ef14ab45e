"""Multi-year plans with investment in capacity, solved as one sparse LP (HiGHS).

The model (years ``t = 0 … T-1``, products ``j``)
-------------------------------------------------
Each sector produces on **old capacity** (what exists at the start) and on
**modern capacity** (built during the plan):

* output ``xo_t + xn_t``; old output is capped by the initial capacity
  ``C0 = output / utilisation`` worn down by depreciation:
  ``xo_t <= C0 (1 - δ)^t``;
* modern capacity ``K`` starts at zero and grows by new capacity ``g_t``
  built in year ``t`` and usable from ``t + 1``:
  ``K_{t+1} = (1 - δ) K_t + g_t``, ``xn_t <= K_t``;
* building a unit of capacity in sector ``j`` takes capital goods
  ``B[:, j]`` — the economy's capital coefficients (``Economy.capital``), or,
  when the table has none, a stated capital–output ratio ``κ_j`` times the
  composition ``s`` of the table's investment column, ``B = s κᵀ``, entered
  as one aggregate investment variable per year so that no column is dense;
* balance: ``(I - A)(xo_t + xn_t) - B g_t >= y_t``, where ``y_t`` is the sum
  of the target bundles of year ``t`` (each purpose grows at its own rate);
  investment is endogenous, so an ``investment`` purpose is not a target;
* **productivity growth is embodied**: modern capacity uses the best-practice
  technique, whose direct labour per unit is ``(1 - π)`` times today's
  (``π = modern_labour_saving``).  As old capacity wears out and is replaced,
  and as growth is met by new capacity, average labour per unit falls — so
  the working week falls where, and as fast as, investment renews the stock;
* labour ``l·xo_t + (1-π) l·xn_t`` (optionally capped per year by a maximum
  working week);
* optionally balanced trade: imports ``m·(xo_t + xn_t) <=`` exports ``e_t``;
* terminal condition: the capacity left at the end lets the economy go on
  growing at ``g``: ``C0 (1-δ)^T + K_T >= (1 + g) x_ss``, where ``x_ss``
  delivers the last year's targets while adding capacity at ``δ + g``
  (``x = A x + B diag(δ + g) x + y``), so the plan does not stop investing
  because its horizon ends (and receding windows do not run the stock down).

The objective minimises the sum over years of hours per able-bodied person
(total labour when no population is given).  Receding-horizon mode re-plans
every year with the next ``horizon`` years in view and carries out only the
first year (Hagberg & Zachariah's scheme).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy
from gosplan.core.linsolve import solve_leontief
from gosplan.core.methods import DIRECT_LIMIT, METHODS
from gosplan.core.result import STATUS_MESSAGES, Result, Status
from gosplan.errors import Infeasible, NotConverged, Unbounded, ValidationError
from gosplan.planning.highs import INF, solve_lp
from gosplan.planning.leontief import deduction_shares as _deduction_shares
from gosplan.planning.problem import bundles_frame, closest
from gosplan.planning.targets import PLAN_PURPOSES
from gosplan.planning.targets import hours_per_labour_unit as _hours_per_unit

# method names: the one table gosplan.core.methods.METHODS; DIRECT_LIMIT from there too
LP_METHODS = METHODS["receding_horizon_plan"]
FORWARD_METHODS = ("forward", "forward-plain")


@dataclass(frozen=True)
class MultiYearPlanResult(Result):
    """A plan over several years.  Tables are indexed by product (rows) and year (columns).

    ``working_week`` (Series by year) is hours per able-bodied person per
    week; ``labour_by_purpose_table`` (purposes × years) is in hours per year
    and ``labour_by_purpose`` is its first year (what the labour-time
    accounts deduct for social funds).
    """

    status: Status
    message: str
    method: str
    mode: str
    years: list[int]
    gross_output: pd.DataFrame
    output_old: pd.DataFrame
    output_modern: pd.DataFrame
    new_capacity: pd.DataFrame
    modern_capacity: pd.DataFrame
    targets: pd.DataFrame  # purposes × years (totals)
    target_bundles: dict[int, pd.DataFrame]
    net_output: pd.DataFrame
    labour: pd.Series  # economy labour unit, by year
    labour_hours: pd.Series
    working_week: pd.Series | None
    able_bodied: pd.Series | None
    labour_by_purpose_table: pd.DataFrame
    shadow_prices: pd.DataFrame  # labour (economy unit) per unit of product, by year
    objective: float
    nit: int
    seconds: float
    labour_unit: str
    assumptions: dict[str, Any] = field(default_factory=dict)
    backend_status: int | None = None
    backend_message: str = ""

    @property
    def success(self) -> bool:
        return self.status == Status.OPTIMAL

    @property
    def labour_by_purpose(self) -> pd.Series:
        """Hours a year by purpose in the first plan year."""
        s = self.labour_by_purpose_table.iloc[:, 0].copy()
        s.name = "labour (hours per year)"
        return s

    def deduction_shares(self, year: int | None = None) -> tuple[float, pd.Series]:
        """``(rate, shares)`` of the deduction for social funds in ``year`` (default first)."""
        col = self.years[0] if year is None else year
        if col not in self.labour_by_purpose_table.columns:
            raise ValidationError(f"deduction_shares: no year {col}; the plan has {self.years}.")
        return _deduction_shares(self.labour_by_purpose_table[col])

    def raise_for_status(self) -> MultiYearPlanResult:
        if self.success:
            return self
        text = self.message or STATUS_MESSAGES[self.status]
        if self.status == Status.INFEASIBLE:
            raise Infeasible(text)
        if self.status == Status.UNBOUNDED:
            raise Unbounded(text)
        raise NotConverged(text, nit=self.nit)

    def by_year(self) -> pd.DataFrame:
        """One row per year: labour, working week, investment, modern share."""
        df = pd.DataFrame({
            "labour": self.labour,
            "labour_hours": self.labour_hours,
            "new_capacity": self.new_capacity.sum(axis=0),
            "modern_share": self.output_modern.sum(axis=0) / self.gross_output.sum(axis=0),
        })
        if self.working_week is not None:
            df["working_week"] = self.working_week
        df.index.name = "year"
        return df

    def summary(self) -> str:
        lines = [f"{self.mode} plan over {len(self.years)} years ({self.method}): "
                 f"{self.message}"]
        if self.success and self.working_week is not None:
            ww = ", ".join(f"{y}: {w:.2f} h" for y, w in self.working_week.items())
            lines.append(f"working week per able-bodied person: {ww}")
        if self.success:
            rate, _ = self.deduction_shares()
            lines.append(f"deduction for social funds (first year): {rate:.1%} of all labour")
        return "\n".join(lines)


@dataclass
class _Model:
    A: Any
    labour: np.ndarray
    products: pd.Index
    C0: np.ndarray
    delta: np.ndarray
    B: Any | None  # capital goods per unit of new capacity (n × n), or None
    kappa: np.ndarray | None  # capital-output ratio per sector (aggregate form)
    s: np.ndarray | None  # composition of investment
    pi: float
    bundles: pd.DataFrame
    growth: dict[str, float]
    imports: np.ndarray | None
    able: np.ndarray | None  # able-bodied people for year offsets 0..
    max_labour: np.ndarray | None
    terminal_growth: float
    hpu: float
    weeks: float

    def targets(self, t: int) -> pd.DataFrame:
        g = np.array([(1.0 + self.growth.get(str(p), 0.0)) ** t for p in self.bundles.columns])
        return self.bundles * g


def _build_model(
    economy: Economy,
    targets: Any,
    *,
    years: int,
    growth: float | Mapping[str, float],
    population: float | None,
    population_growth: float,
    participation: float,
    weeks_per_year: float,
    hours_per_labour_unit: float | None,
    hours_per_job: float,
    capital_output_ratio: float | None,
    depreciation: float | None,
    utilisation: float,
    modern_labour_saving: float,
    terminal_growth: float | None,
    max_week: float | None,
    balanced_trade: bool,
) -> tuple[_Model, dict[str, Any]]:
    caller = "multi_year_plan"
    if years < 1:
        raise ValidationError(f"{caller}: years must be >= 1; got {years}.")
    if not 0 < utilisation <= 1:
        raise ValidationError(f"{caller}: utilisation must be in (0, 1]; got {utilisation}.")
    if not 0 <= modern_labour_saving < 1:
        raise ValidationError(
            f"{caller}: modern_labour_saving must be in [0, 1); got {modern_labour_saving}."
        )
    bundles = bundles_frame(economy, targets)
    notes: list[str] = list(bundles.attrs.get("notes", []))
    if "investment" in bundles.columns:
        bundles = bundles.drop(columns="investment")
        notes.append("the 'investment' purpose is endogenous (capacity built by the plan), not "
                     "a target")
    if isinstance(growth, Mapping):
        gr = {str(k): float(v) for k, v in growth.items()}
        for k in gr:
            if k not in bundles.columns and k not in PLAN_PURPOSES:
                raise ValidationError(
                    f"{caller}: growth given for purpose {k!r}, which has no target bundle; "
                    f"purposes are {list(bundles.columns)}.{closest(k, bundles.columns)}"
                )
    else:
        gr = {str(p): float(growth) for p in bundles.columns}
    n = economy.n
    assumptions: dict[str, Any] = {"utilisation": utilisation,
                                   "modern_labour_saving": modern_labour_saving}
    # capital
    B = None
    kappa = None
    s = None
    if economy.capital is not None:
        B = sp.csc_array(economy.capital)
        assumptions["capital"] = "capital coefficients of the table (Economy.capital)"
    else:
        if economy.capital_stock is not None and economy.output is not None and \
                capital_output_ratio is None:
            kappa = economy.capital_stock / np.maximum(economy.output, 1e-300)
            assumptions["capital"] = ("capital-output ratio per sector from the table's capital "
                                      "stock (Economy.capital_stock / output)")
        else:
            ratio = 1.5 if capital_output_ratio is None else float(capital_output_ratio)
            if not ratio > 0:
                raise ValidationError(
                    f"{caller}: capital_output_ratio must be > 0; got {ratio}."
                )
            kappa = np.full(n, ratio)
            assumptions["capital"] = (f"stated capital-output ratio {ratio:g} per unit of gross "
                                      "output (the table has none)")
        inv = None
        if economy.final_demand is not None:
            inv = economy.final_demand_by_purpose()["investment"].clip(lower=0).to_numpy()
        if inv is None or inv.sum() <= 0:
            raise ValidationError(
                f"{caller}: the economy has no capital coefficients and no investment column "
                "whose composition could stand for the capital goods; give Economy.capital."
            )
        s = inv / inv.sum()
    if depreciation is not None:
        if not 0 <= depreciation < 1:
            raise ValidationError(f"{caller}: depreciation must be in [0, 1); got {depreciation}.")
        delta = np.full(n, float(depreciation))
        assumptions["depreciation"] = f"stated {depreciation:g} a year"
    elif B is not None and economy.depreciation is not None:
        tot = np.asarray(B.sum(axis=0)).ravel()
        delta = np.where(tot > 0, (economy.depreciation @ B) / np.maximum(tot, 1e-300), 0.045)
        assumptions["depreciation"] = "capital-weighted depreciation rates of the table"
    else:
        delta = np.full(n, 0.045)
        assumptions["depreciation"] = "0.045 a year (assumed; the table has no rates)"
    x0 = economy.output
    if x0 is None:
        if economy.final_demand is None:
            raise ValidationError(
                f"{caller}: the economy has neither gross output nor final demand, so its "
                "initial capacity is unknown."
            )
        # a stationary base: final demand (without investment) plus the replacement of
        # the capital it wears out, x = A x + B diag(δ) x + y
        y0 = bundles.sum(axis=1).to_numpy()
        x0 = _stationary(economy.A, B, s, kappa, delta, y0)
        notes.append("initial output: the stationary output of the targets plus capital "
                     "replacement, (I - A - B diag(δ))⁻¹ y (the table has no gross output)")
    C0 = np.asarray(x0, dtype=float) / utilisation
    hpu = (hours_per_labour_unit if hours_per_labour_unit is not None
           else _hours_per_unit(economy, hours_per_job=hours_per_job))
    able = None
    max_labour = None
    if population is not None:
        if not population > 0:
            raise ValidationError(f"{caller}: population must be > 0; got {population}.")
        if not 0 < participation <= 1:
            raise ValidationError(
                f"{caller}: participation must be in (0, 1]; got {participation}."
            )
        horizon = years + 64  # room for receding windows
        able = population * participation * (1 + population_growth) ** np.arange(horizon)
        if max_week is not None:
            max_labour = able * weeks_per_year * max_week / hpu
    elif max_week is not None:
        raise ValidationError(f"{caller}: max_week needs a population.")
    imports = None
    if balanced_trade:
        if economy.imports is None:
            raise ValidationError(
                f"{caller}: balanced_trade needs the economy's imported inputs (imports)."
            )
        if "exports" not in bundles.columns:
            raise ValidationError(f"{caller}: balanced_trade needs an 'exports' target bundle.")
        imports = economy.imports_per_unit
    tg = terminal_growth if terminal_growth is not None else float(np.mean(list(gr.values()))) \
        if gr else 0.0
    assumptions.update({"growth": gr, "terminal_growth": tg, "notes": notes,
                        "hours_per_labour_unit": hpu, "weeks_per_year": weeks_per_year})
    return _Model(
        A=sp.csc_array(economy.A), labour=economy.labour.copy(), products=economy.products,
        C0=C0, delta=delta, B=B, kappa=kappa, s=s, pi=float(modern_labour_saving),
        bundles=bundles, growth=gr, imports=imports, able=able, max_labour=max_labour,
        terminal_growth=float(tg), hpu=float(hpu), weeks=float(weeks_per_year),
    ), assumptions


def _solve(M: Any, b: np.ndarray, *, rtol: float, x0: np.ndarray | None = None) -> Any:
    """``(I - M) x = b``: sparse LU for small tables, else BiCGSTAB on the threaded
    mat-vec of :mod:`gosplan.scale.kernels` (no fill-in), falling back to GMRES."""
    if M.shape[0] <= DIRECT_LIMIT:
        return solve_leontief(M, b, method="direct", tol=rtol)
    res = solve_leontief(M, b, method="bicgstab-parallel", tol=rtol, x0=x0)
    return res if res.success else solve_leontief(M, b, method="gmres", tol=rtol, x0=res.x)


def _stationary(A: Any, B: Any | None, s: np.ndarray | None, kappa: np.ndarray | None,
                rate: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Output that delivers ``y`` and adds capacity at ``rate`` per year (replacement and
    growth): ``x = A x + B diag(rate) x + y``.  With the aggregate form ``B = s κᵀ`` the
    rank-one term is handled by Sherman–Morrison (no dense matrix)."""
    if B is not None:
        M = sp.csr_array(A + sp.csr_array(B) @ sp.diags_array(rate))
        res = _solve(M, y, rtol=1e-11)
        if not res.success:
            raise ValidationError(
                "multi_year_plan: the technology with capital formation at the stated rates "
                f"is not productive ({res.message})."
            )
        return np.asarray(res.x)
    z = np.asarray(_solve(A, y, rtol=1e-11).x)
    if s is None or kappa is None:
        return z
    u = np.asarray(_solve(A, s, rtol=1e-11).x)
    w = kappa * rate
    denom = 1.0 - float(w @ u)
    if denom <= 0:
        raise ValidationError(
            "multi_year_plan: capital formation at the stated rates needs more than the whole "
            "net product (capital_output_ratio × (depreciation + growth) too high)."
        )
    return z + (float(w @ z) / denom) * u


@dataclass
class _Window:
    xo: np.ndarray  # years × n
    xn: np.ndarray
    g: np.ndarray
    K: np.ndarray  # capacity at the start of each year (years × n)
    duals: np.ndarray  # balance-row duals (years × n)
    status: Status
    message: str
    objective: float
    nit: int
    backend_status: int
    backend_message: str


def _solve_window(m: _Model, t0: int, T: int, K0: np.ndarray, method: str,
                  time_limit: float | None) -> _Window:
    """The LP for years ``t0 … t0+T-1`` starting with modern capacity ``K0``."""
    n = m.A.shape[0]
    agg = m.B is None
    s_vec = np.zeros(0) if m.s is None else m.s
    kap = np.zeros(0) if m.kappa is None else m.kappa
    per = 4 * n + (1 if agg else 0)  # xo, xn, g, K_{t+1}, [I]
    ncol = per * T
    I_n = sp.identity(n, format="csc")
    ImA = sp.csc_array(I_n - m.A)
    cols_lo = np.zeros(ncol)
    cols_hi = np.full(ncol, INF)
    cost = np.zeros(ncol)
    rows: list[Any] = []
    rlo: list[np.ndarray] = []
    rhi: list[np.ndarray] = []

    def off(t: int, k: int) -> int:
        return per * t + k * n

    def row_block(entries: list[tuple[int, Any]], nrows: int) -> Any:
        """Sparse rows with blocks placed at column offsets."""
        mats = []
        for start, M in entries:
            M = sp.coo_array(M)
            mats.append((M.row, M.col + start, M.data))
        r = np.concatenate([a for a, _, _ in mats])
        c = np.concatenate([b for _, b, _ in mats])
        v = np.concatenate([d for _, _, d in mats])
        return sp.csr_array((v, (r, c)), shape=(nrows, ncol))

    lab_new = (1.0 - m.pi) * m.labour
    for t in range(T):
        yr = t0 + t
        w = 1.0 / m.able[yr] if m.able is not None else 1.0
        cost[off(t, 0): off(t, 0) + n] = w * m.labour
        cost[off(t, 1): off(t, 1) + n] = w * lab_new
        cols_hi[off(t, 0): off(t, 0) + n] = m.C0 * (1.0 - m.delta) ** yr
        if t == 0:
            cols_hi[off(t, 1): off(t, 1) + n] = K0
        y = m.targets(yr).sum(axis=1).to_numpy()
        # a margin of 1e-7 of each row's scale, so that the solver's feasibility
        # tolerance can never leave a target short
        y = y + 1e-7 * np.maximum(y, m.C0)
        # balance: (I-A)(xo+xn) - B g [- s I] >= y
        ent: list[tuple[int, Any]] = [(off(t, 0), ImA), (off(t, 1), ImA)]
        if agg:
            ent.append((per * t + 4 * n, sp.csc_array(-s_vec[:, None])))
        else:
            ent.append((off(t, 2), -sp.csc_array(m.B)))
        rows.append(row_block(ent, n))
        rlo.append(y)
        rhi.append(np.full(n, INF))
        if agg:
            # I_t - kappa . g_t = 0
            rows.append(row_block([(per * t + 4 * n, sp.csc_array(np.ones((1, 1)))),
                                   (off(t, 2), sp.csc_array(-kap[None, :]))], 1))
            rlo.append(np.zeros(1))
            rhi.append(np.zeros(1))
        # K_{t+1} - (1-δ) K_t - g_t = 0  (K_t constant K0 when t == 0)
        ent = [(off(t, 3), I_n), (off(t, 2), -I_n)]
        if t > 0:
            ent.append((off(t - 1, 3), sp.diags_array(-(1.0 - m.delta))))
            rhs = np.zeros(n)
        else:
            rhs = (1.0 - m.delta) * K0
        rows.append(row_block(ent, n))
        rlo.append(rhs)
        rhi.append(rhs)
        # xn_t <= K_t  (t > 0)
        if t > 0:
            rows.append(row_block([(off(t, 1), I_n), (off(t - 1, 3), -I_n)], n))
            rlo.append(np.full(n, -INF))
            rhi.append(np.zeros(n))
        if m.max_labour is not None:
            rows.append(row_block([(off(t, 0), sp.csc_array(m.labour[None, :])),
                                   (off(t, 1), sp.csc_array(lab_new[None, :]))], 1))
            rlo.append(np.array([-INF]))
            rhi.append(np.array([m.max_labour[yr]]))
        if m.imports is not None:
            e = float(m.targets(yr)["exports"].sum())
            rows.append(row_block([(off(t, 0), sp.csc_array(m.imports[None, :])),
                                   (off(t, 1), sp.csc_array(m.imports[None, :]))], 1))
            rlo.append(np.array([-INF]))
            rhi.append(np.array([e]))
    # terminal: the capacity left must let the economy go on growing at g:
    # K_T + C0 (1-δ)^{t0+T} >= (1+g) x_ss, with x_ss the output that delivers the last
    # year's targets while adding capacity at δ + g (a bound on K_T, no coupling row)
    last = T - 1
    y_last = m.targets(t0 + last).sum(axis=1).to_numpy()
    y_last = y_last + 2e-7 * np.maximum(y_last, m.C0)  # the margin above, and some
    x_ss = _stationary(m.A, m.B, m.s, m.kappa, m.delta + m.terminal_growth, y_last)
    need = (1 + m.terminal_growth) * x_ss - m.C0 * (1.0 - m.delta) ** (t0 + T)
    cols_lo[off(last, 3): off(last, 3) + n] = np.maximum(need, 0.0)
    A = sp.vstack(rows, format="csc")
    # tight primal tolerance: every year's balance must hold to ~1e-9 of the flows
    sol = solve_lp(cost, A, np.concatenate(rlo), np.concatenate(rhi), cols_lo, cols_hi,
                   method=method, time_limit=time_limit,
                   tol=1e-8 if method == "pdlp" else None,
                   options=None if method == "pdlp" else {"primal_feasibility_tolerance": 1e-10})
    x = np.maximum(sol.x, 0.0) if sol.status == Status.OPTIMAL else sol.x
    xo = np.stack([x[off(t, 0): off(t, 0) + n] for t in range(T)])
    xn = np.stack([x[off(t, 1): off(t, 1) + n] for t in range(T)])
    g = np.stack([x[off(t, 2): off(t, 2) + n] for t in range(T)])
    Kend = np.stack([x[off(t, 3): off(t, 3) + n] for t in range(T)])
    K = np.vstack([K0[None, :], Kend[:-1]])
    if method == "pdlp" and sol.status == Status.OPTIMAL:
        # PDLP meets the rows to a relative tolerance: top up each year's small deficits
        # exactly (extra output on old capacity, through one sparse Leontief solve)
        for t in range(T):
            y = m.targets(t0 + t).sum(axis=1).to_numpy()
            goods = m.B @ g[t] if m.B is not None else s_vec * float(kap @ g[t])
            net = (xo[t] + xn[t]) - m.A @ (xo[t] + xn[t]) - goods
            d = np.maximum(y - net, 0.0)
            if d.any():
                xo[t] = xo[t] + np.maximum(np.asarray(_solve(m.A, d, rtol=1e-12).x), 0.0)
    # balance rows are the first n rows of each year's group; find their positions
    duals = np.full((T, n), np.nan)
    if sol.dual_valid:
        pos = 0
        for t in range(T):
            # the objective weighs year t by 1 / able-bodied: back to labour units
            duals[t] = sol.row_dual[pos:pos + n] * (m.able[t0 + t] if m.able is not None else 1.0)
            pos += n + (1 if agg else 0) + n + (n if t > 0 else 0)
            pos += (1 if m.max_labour is not None else 0) + (1 if m.imports is not None else 0)
    return _Window(xo=xo, xn=xn, g=g, K=K, duals=duals, status=sol.status, message=sol.message,
                   objective=sol.objective, nit=sol.nit, backend_status=sol.backend_status,
                   backend_message=sol.backend_message)


def _forward_window(m: _Model, t0: int, T: int, K0: np.ndarray) -> _Window:
    """Capacity-following forward balancing: a fast heuristic for very large plans.

    Year by year: build just the new capacity that next year's output needs
    (the stationary output of next year's targets, growing at ``g``, less the
    capacity that will still stand), balance this year's output exactly by a
    sparse Leontief solve of targets plus those investment goods, and run
    modern capacity first (it needs less labour).  Each year costs a few
    sparse solves — O(nonzeros) per mat-vec — instead of an LP.  It does
    not bring investment forward to save labour later, so its labour is an
    upper bound on the LP optimum (about 1 % above it): ``method="forward-plain"``.
    ``method="forward"`` follows it with :func:`_retime_window`.
    """
    n = m.A.shape[0]
    K = np.asarray(K0, dtype=float).copy()
    xo_l, xn_l, g_l, K_l = [], [], [], []
    status, message = Status.OPTIMAL, "Forward balancing: every year balanced exactly."
    x_prev: np.ndarray | None = None
    for t in range(T):
        yr = t0 + t
        y = m.targets(yr).sum(axis=1).to_numpy()
        y = y + 1e-7 * np.maximum(y, m.C0)
        if t < T - 1:
            y_next = m.targets(yr + 1).sum(axis=1).to_numpy()
            y_next = y_next + 2e-7 * np.maximum(y_next, m.C0)
            need = _stationary(m.A, m.B, m.s, m.kappa, m.delta + m.terminal_growth, y_next)
        else:
            y_last = y + 1e-7 * np.maximum(y, m.C0)
            need = (1 + m.terminal_growth) * _stationary(
                m.A, m.B, m.s, m.kappa, m.delta + m.terminal_growth, y_last)
        standing = m.C0 * (1.0 - m.delta) ** (yr + 1) + (1.0 - m.delta) * K
        g = np.maximum(need - standing, 0.0)
        goods = m.B @ g if m.B is not None else (
            (m.s if m.s is not None else np.zeros(n))
            * float((m.kappa if m.kappa is not None else np.zeros(n)) @ g))
        res = _solve(m.A, y + goods, rtol=1e-12, x0=x_prev)
        if not res.success:
            status, message = Status.BREAKDOWN, f"Forward balancing failed: {res.message}"
            break
        x = np.maximum(np.asarray(res.x), 0.0)
        x_prev = x
        xn = np.minimum(x, K)
        xo = x - xn
        cap_old = m.C0 * (1.0 - m.delta) ** yr
        over = np.flatnonzero(xo > cap_old * (1 + 1e-9))
        xo_l.append(xo)
        xn_l.append(xn)
        g_l.append(g)
        K_l.append(K.copy())
        if len(over):
            worst = over[np.argsort(-(xo[over] / np.maximum(cap_old[over], 1e-300)))][:5]
            status = Status.INFEASIBLE
            message = (f"Forward balancing: in year {yr} the output needed exceeds the "
                       "capacity of " + ", ".join(repr(m.products[i]) for i in worst)
                       + "; an LP method may bring investment forward.")
            break
        K = (1.0 - m.delta) * K + g
    T_done = len(xo_l)
    z = np.zeros((max(T_done, 1), n))
    stack = (lambda a: np.stack(a) if a else z)  # noqa: E731
    labour = sum(float(m.labour @ xo + (1 - m.pi) * (m.labour @ xn))
                 for xo, xn in zip(xo_l, xn_l, strict=True))
    return _Window(xo=stack(xo_l), xn=stack(xn_l), g=stack(g_l), K=stack(K_l),
                   duals=np.full((max(T_done, 1), n), np.nan), status=status,
                   message=message, objective=labour, nit=T_done, backend_status=0,
                   backend_message="")


def _support_min(S: sp.csc_array, f: np.ndarray) -> np.ndarray:
    """Smallest ``f[i]`` over the rows ``i`` of each column's pattern (1 where empty)."""
    out = np.ones(S.shape[1])
    nz = np.diff(S.indptr) > 0
    if S.nnz:
        out[nz] = np.minimum.reduceat(f[S.indices], S.indptr[:-1][nz])
    return out


def _pack(u: np.ndarray, w: np.ndarray, room: np.ndarray, use: Any, support_min: Any,
          iters: int = 8) -> np.ndarray:
    """Approximately ``max w·a`` subject to ``use(a) <= room``, ``0 <= a <= u``.

    ``use(a, rtol, x0)`` is a non-negative linear map applied through sparse
    solves (the output a year's extra investment draws from every sector:
    rounds solve to ``rtol`` 1e-8 from the last round's answer, the final
    check to 1e-12), so the matrix is
    never formed.  Each round scales every candidate by the tightest ratio
    ``room / use`` among the sectors it draws from directly or through one
    round of inputs (``support_min``), raising it where there is room and
    cutting it where there is none, and the more valuable candidates (by
    ``w``) move faster; a last uniform scaling makes the result feasible
    exactly.  O(nonzeros) per round."""
    a = np.where(w > 0, u, 0.0)
    if not a.any():
        return np.zeros_like(u)
    room = np.maximum(room, 0.0) * (1.0 - 1e-7)
    ex = np.clip(np.sqrt(np.maximum(w, 1e-300) / float(np.median(w[a > 0]))), 0.1, 10.0)
    z = None
    for _ in range(iters):
        z = use(a, 1e-8, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(z > 1e-300, room / z, 1e3)
        fj = np.clip(support_min(np.minimum(f, 1e3)), 0.0, 1e3)
        a = np.minimum(u, a * np.where(fj > 1.0, fj ** ex, fj ** (1.0 / ex)))
    z = use(a, 1e-12, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(z > 1e-300, room / z, np.inf)
    alpha = float(min(1.0, r.min())) if r.size else 1.0
    return a * max(alpha, 0.0)


def _leontief(A: Any, *, transpose: bool = False) -> Any:
    """``(b, rtol, x0) -> (I - A)⁻¹ b`` (or ``(I - Aᵀ)⁻¹ b``): one sparse LU for small
    tables, else the threaded BiCGSTAB of :func:`_solve` per call, from ``x0``."""
    n = A.shape[0]
    if n <= DIRECT_LIMIT:
        from scipy.sparse.linalg import splu

        lu = splu(sp.csc_matrix(sp.identity(n, format="csc") - (A.T if transpose else A)))
        return lambda b, rtol=1e-12, x0=None: lu.solve(np.asarray(b, dtype=float))
    M = sp.csr_array(A.T) if transpose else sp.csr_array(A)

    def solve(b: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> np.ndarray:
        # BiCGSTAB on the threaded mat-vec, warm-started from the last round's answer
        res = _solve(M, np.asarray(b, dtype=float), rtol=rtol, x0=x0)
        if not res.success:
            raise ValidationError(f"multi_year_plan: Leontief solve failed ({res.message}).")
        return np.asarray(res.x)

    return solve


def _retime_window(m: _Model, t0: int, base: _Window, K0: np.ndarray,
                   sweeps: int = 1) -> _Window:
    """Improve a forward-balanced plan by re-timing investment (``method="forward"``).

    In the LP's terms a unit of modern capacity in sector ``j`` saves
    ``π l_j`` of labour for every year it stands, and holding it a year
    longer costs the depreciation ``δ_j`` of its capital goods, valued at
    ``c_j = v·B[:, j]`` (labour values ``v``).  Where ``π l_j > δ_j c_j``
    capacity is worth building early, elsewhere as late as possible.  From
    the forward plan, for each year ``s`` in turn (``sweeps`` times):

    * **delay**: move building of the sectors where early capacity does not
      pay from year ``s`` to ``s + 1`` (``g_{s+1}`` grows by ``(1-δ)`` of it,
      so the capacity from ``s + 2`` on is unchanged), as far as next year's
      spare capacity allows — this frees the capital goods of year ``s``;
    * **advance**: build the capacity of the sectors where it pays in year
      ``s`` instead of later, taking it from their latest builds (discounted
      by depreciation, so the terminal capacity is unchanged), as far as
      year ``s``'s spare old capacity allows.

    Neither move can make another year infeasible (an advance only adds
    capacity and removes investment goods later; a delay only frees year
    ``s``), and each year's spare capacity is shared by :func:`_pack`.  The
    result is balanced exactly and checked; if it is not feasible or needs
    more labour, the forward plan is kept.  Each sweep costs a few dozen
    sparse solves.
    """
    T = base.g.shape[0]
    n = m.A.shape[0]
    if T < 2 or base.status != Status.OPTIMAL or m.pi <= 0:
        return base
    d = m.delta
    keep = 1.0 - d
    L = _leontief(m.A)
    Lt = _leontief(m.A, transpose=True)
    v = np.asarray(Lt(m.labour))
    if m.B is not None:
        Bc = sp.csc_array(m.B)
        c = np.asarray(Bc.T @ v)
        S = sp.csc_array(Bc + sp.csc_array(m.A @ Bc))
        S.data[:] = 1.0
        S2 = sp.csc_array(S + sp.identity(n, format="csc"))

        def goods(a: np.ndarray) -> np.ndarray:
            return np.asarray(Bc @ a)

        def smin(f: np.ndarray) -> np.ndarray:
            return _support_min(S, f)

        def smin2(f: np.ndarray) -> np.ndarray:
            return _support_min(S2, f)
    else:
        s_vec = m.s if m.s is not None else np.zeros(n)
        kap = m.kappa if m.kappa is not None else np.zeros(n)
        c = kap * float(v @ s_vec)
        rows = np.flatnonzero((s_vec + m.A @ s_vec) > 0)

        def goods(a: np.ndarray) -> np.ndarray:
            return s_vec * float(kap @ a)

        def smin(f: np.ndarray) -> np.ndarray:
            return np.where(kap > 0, f[rows].min() if len(rows) else 1.0, 1.0)

        def smin2(f: np.ndarray) -> np.ndarray:
            return np.minimum(smin(f), f)

    def use(a: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(L(goods(a), rtol, x0))

    p = m.pi * m.labour
    good = p > d * c
    w_adv = np.where(good, p - d * c, 0.0)
    w_del = np.where(good, 0.0, d * c - p)
    g = base.g.copy()
    ys = []
    for t in range(T):
        y = m.targets(t0 + t).sum(axis=1).to_numpy()
        ys.append(y + 1e-7 * np.maximum(y, m.C0))
    X = [np.asarray(L(ys[t] + goods(g[t]))) for t in range(T)]

    def capacity(t: int) -> np.ndarray:
        K = np.asarray(K0, dtype=float).copy()
        for q in range(t):
            K = keep * K + g[q]
        return m.C0 * keep ** (t0 + t) + K

    for _ in range(sweeps):
        for s in range(T - 1):
            u = np.where(good, 0.0, g[s])
            if u.any():
                b = _pack(u, w_del, capacity(s + 1) - X[s + 1],
                          lambda a, rtol, x0: use(keep * a, rtol, x0) + a, smin2)
                if b.any():
                    g[s] = np.maximum(g[s] - b, 0.0)
                    g[s + 1] = g[s + 1] + keep * b
                    X[s] = X[s] - use(b)
                    X[s + 1] = X[s + 1] + use(keep * b)
            later = sum(g[q] / keep ** (q - s) for q in range(s + 1, T))
            u = np.where(good, later, 0.0)
            if u.any():
                a = _pack(u, w_adv, capacity(s) - X[s], use, smin)
                if a.any():
                    g[s] = g[s] + a
                    X[s] = X[s] + use(a)
                    rest = a.copy()
                    for q in range(T - 1, s, -1):
                        f = keep ** (q - s)
                        take = np.minimum(g[q], rest * f)
                        if take.any():
                            g[q] = g[q] - take
                            X[q] = X[q] - use(take)
                            rest = rest - take / f
    # balance every year exactly and check the plan against the forward one
    K = np.asarray(K0, dtype=float).copy()
    xo_l, xn_l, K_l = [], [], []
    ok = True
    labour = 0.0
    for t in range(T):
        res = _solve(m.A, ys[t] + goods(g[t]), rtol=1e-12, x0=X[t])
        if not res.success:
            return base
        x = np.maximum(np.asarray(res.x), 0.0)
        xn = np.minimum(x, K)
        xo = x - xn
        if np.any(xo > m.C0 * keep ** (t0 + t) * (1 + 1e-9)):
            ok = False
            break
        lab_t = float(m.labour @ xo + (1 - m.pi) * (m.labour @ xn))
        if m.max_labour is not None and lab_t > m.max_labour[t0 + t] * (1 + 1e-9):
            ok = False
            break
        if m.imports is not None and float(m.imports @ x) > float(
                m.targets(t0 + t)["exports"].sum()) * (1 + 1e-9):
            ok = False
            break
        labour += lab_t
        xo_l.append(xo)
        xn_l.append(xn)
        K_l.append(K.copy())
        K = keep * K + g[t]
    K_base = keep * base.K[-1] + base.g[-1]
    if not ok or np.any(K < K_base * (1 - 1e-9)) or np.any(g < 0) or \
            labour >= base.objective:
        return base
    moved = float(np.maximum(g - base.g, 0.0).sum())
    return _Window(xo=np.stack(xo_l), xn=np.stack(xn_l), g=g, K=np.stack(K_l),
                   duals=base.duals, status=Status.OPTIMAL,
                   message=("Forward balancing with investment re-timed: every year balanced "
                            f"exactly; {moved:.4g} units of new capacity re-timed, "
                            f"{(base.objective - labour) / base.objective:.2%} less labour "
                            "than the capacity-following pass."),
                   objective=labour, nit=base.nit + sweeps, backend_status=0,
                   backend_message="")


def _assemble(m: _Model, w: _Window, *, years: list[int], t0s: list[int], method: str,
              mode: str, seconds: float, assumptions: dict[str, Any], labour_unit: str,
              message: str | None = None) -> MultiYearPlanResult:
    n = len(m.products)
    cols = pd.Index(years, name="year")

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a.T, index=m.products, columns=cols)

    x = w.xo + w.xn
    net = np.stack([x[t] - m.A @ x[t] for t in range(len(years))])
    labour = np.array([m.labour @ w.xo[t] + (1 - m.pi) * (m.labour @ w.xn[t])
                       for t in range(len(years))])
    bundles = {y: m.targets(t) for y, t in zip(years, t0s, strict=True)}
    purposes = list(m.bundles.columns)
    table = pd.DataFrame(0.0, index=[*purposes, "investment", "surplus"], columns=cols)
    table.index.name = "purpose"
    ok = w.status == Status.OPTIMAL
    s_vec = np.zeros(0) if m.s is None else m.s
    kap = np.zeros(0) if m.kappa is None else m.kappa
    if ok:
        for k, yr in enumerate(years):
            xt = x[k]
            l_eff = np.where(xt > 0, (m.labour * w.xo[k] + (1 - m.pi) * m.labour * w.xn[k])
                             / np.maximum(xt, 1e-300), m.labour)
            v = np.asarray(_solve(sp.csr_array(m.A.T), l_eff, rtol=1e-12).x)
            yb = bundles[yr]
            table.loc[purposes, yr] = (v @ yb.to_numpy()) * m.hpu
            if m.B is not None:
                inv_goods = m.B @ w.g[k]
            else:
                inv_goods = s_vec * float(kap @ w.g[k])
            table.loc["investment", yr] = float(v @ inv_goods) * m.hpu
            needs = yb.sum(axis=1).to_numpy() + inv_goods
            table.loc["surplus", yr] = float(v @ (net[k] - needs)) * m.hpu
    targets_tot = pd.DataFrame({y: bundles[y].sum(axis=0) for y in years})
    targets_tot.columns.name = "year"
    hours = pd.Series(labour * m.hpu, index=cols, name="labour (hours)")
    ww = None
    able = None
    if m.able is not None:
        able = pd.Series([m.able[t] for t in t0s], index=cols, name="able-bodied")
        ww = pd.Series(hours.to_numpy() / (able.to_numpy() * m.weeks), index=cols,
                       name="working week (hours)")
    del n
    return MultiYearPlanResult(
        status=w.status, message=message or w.message, method=method, mode=mode, years=years,
        gross_output=frame(x), output_old=frame(w.xo), output_modern=frame(w.xn),
        new_capacity=frame(w.g), modern_capacity=frame(w.K), targets=targets_tot,
        target_bundles=bundles, net_output=frame(net),
        labour=pd.Series(labour, index=cols, name=f"labour ({labour_unit})"),
        labour_hours=hours, working_week=ww, able_bodied=able,
        labour_by_purpose_table=table, shadow_prices=frame(w.duals), objective=w.objective,
        nit=w.nit, seconds=seconds, labour_unit=labour_unit, assumptions=assumptions,
        backend_status=w.backend_status, backend_message=w.backend_message,
    )


def multi_year_plan(
    economy: Economy,
    targets: Mapping[str, Any] | pd.DataFrame | pd.Series,
    *,
    years: int = 5,
    start_year: int | None = None,
    growth: float | Mapping[str, float] = 0.02,
    population: float | None = None,
    population_growth: float = 0.0,
    participation: float = 1.0,
    weeks_per_year: float = 46.0,
    hours_per_labour_unit: float | None = None,
    hours_per_job: float = 1800.0,
    capital_output_ratio: float | None = None,
    depreciation: float | None = None,
    utilisation: float = 0.9,
    modern_labour_saving: float = 0.25,
    terminal_growth: float | None = None,
    max_week: float | None = None,
    balanced_trade: bool = False,
    method: str = "lp",
    time_limit: float | None = None,
) -> MultiYearPlanResult:
    """Plan ``years`` years at once as one sparse LP (module docstring for the model).

    ``targets`` are the first year's bundles by purpose; ``growth`` their
    yearly growth (one rate or ``{purpose: rate}``).  Returns a
    :class:`MultiYearPlanResult`; an infeasible plan comes back with
    ``success=False`` (e.g. when the first year's targets exceed the initial
    capacity).
    """
    if method not in METHODS["multi_year_plan"]:
        raise ValidationError(
            f"multi_year_plan: method must be one of {METHODS['multi_year_plan']}; "
            f"got {method!r}.{closest(str(method), METHODS['multi_year_plan'])}"
        )
    t_start = time.perf_counter()
    m, assumptions = _build_model(
        economy, targets, years=years, growth=growth, population=population,
        population_growth=population_growth, participation=participation,
        weeks_per_year=weeks_per_year, hours_per_labour_unit=hours_per_labour_unit,
        hours_per_job=hours_per_job, capital_output_ratio=capital_output_ratio,
        depreciation=depreciation, utilisation=utilisation,
        modern_labour_saving=modern_labour_saving, terminal_growth=terminal_growth,
        max_week=max_week, balanced_trade=balanced_trade)
    first = start_year if start_year is not None else (economy.year + 1 if economy.year else 1)
    if method in FORWARD_METHODS:
        w = _forward_window(m, 0, years, np.zeros(economy.n))
        if method == "forward":
            try:
                w = _retime_window(m, 0, w, np.zeros(economy.n))
            except (ValidationError, RuntimeError) as exc:  # a solve failed: keep the pass
                w = replace(w, message=f"{w.message} (investment not re-timed: {exc})")
    else:
        w = _solve_window(m, 0, years, np.zeros(economy.n), method, time_limit)
    message = w.message
    if w.status == Status.INFEASIBLE and method not in FORWARD_METHODS:
        message = f"{message} {_first_year_hint(m, 0, np.zeros(economy.n))}"
    done = w.xo.shape[0]
    return _assemble(m, w, years=list(range(first, first + done)), t0s=list(range(done)),
                     method=method, mode="multi-year", seconds=time.perf_counter() - t_start,
                     assumptions=assumptions,
                     labour_unit=economy.labour_unit.split(" per ")[0], message=message)


def _first_year_hint(m: _Model, t0: int, K0: np.ndarray) -> str:
    """Name the sectors whose capacity cannot even deliver the year's targets."""
    y = m.targets(t0).sum(axis=1).to_numpy()
    need = np.asarray(_solve(m.A, y, rtol=1e-10).x)
    cap = m.C0 * (1.0 - m.delta) ** t0 + K0
    over = np.flatnonzero(need > cap * (1 + 1e-9))
    if not len(over):
        return ("The targets fit the initial capacity, so the binding limit is the investment "
                "needed for later years (or max_week / balanced_trade).")
    order = over[np.argsort(-(need[over] / cap[over]))][:5]
    named = ", ".join(f"{m.products[i]!r} (needs {need[i] / cap[i]:.0%} of its capacity)"
                      for i in order)
    return (f"In year {t0} the targets alone need more than the existing capacity of: {named}. "
            "Raise capacity (lower `utilisation`) or let those targets grow into it.")


def receding_horizon_plan(
    economy: Economy,
    targets: Mapping[str, Any] | pd.DataFrame | pd.Series,
    *,
    years: int = 5,
    horizon: int = 3,
    start_year: int | None = None,
    method: str = "lp",
    time_limit: float | None = None,
    **kwargs: Any,
) -> MultiYearPlanResult:
    """Re-plan each year with the next ``horizon`` years in view; carry out the first year.

    Takes the keyword arguments of :func:`multi_year_plan`.  The capacity
    built in each year carries into the next window.
    """
    if horizon < 1:
        raise ValidationError(f"receding_horizon_plan: horizon must be >= 1; got {horizon}.")
    if method not in LP_METHODS:
        raise ValidationError(
            f"receding_horizon_plan: method must be one of {LP_METHODS}; got {method!r}."
        )
    t_start = time.perf_counter()
    m, assumptions = _build_model(economy, targets, years=years, **_model_kwargs(kwargs))
    n = economy.n
    K = np.zeros(n)
    parts: list[_Window] = []
    nit = 0
    status = Status.OPTIMAL
    message = f"Re-planned {years} times with a {horizon}-year horizon; each window optimal."
    for t in range(years):
        w = _solve_window(m, t, horizon, K, method, time_limit)
        nit += w.nit
        if w.status != Status.OPTIMAL:
            status = w.status
            message = f"Year {t} window: {w.message}"
            if w.status == Status.INFEASIBLE:
                message = f"{message} {_first_year_hint(m, t, K)}"
            break
        parts.append(w)
        K = (1.0 - m.delta) * K + w.g[0]
    done = len(parts)
    if done == 0:
        empty = np.zeros((1, n))
        parts = [_Window(xo=empty, xn=empty, g=empty, K=empty, duals=empty * np.nan,
                         status=status, message=message, objective=np.nan, nit=nit,
                         backend_status=w.backend_status, backend_message=w.backend_message)]
        done = 1
    joined = _Window(
        xo=np.stack([p.xo[0] for p in parts]), xn=np.stack([p.xn[0] for p in parts]),
        g=np.stack([p.g[0] for p in parts]), K=np.stack([p.K[0] for p in parts]),
        duals=np.stack([p.duals[0] for p in parts]), status=status, message=message,
        objective=float(sum(p.objective for p in parts)), nit=nit,
        backend_status=parts[-1].backend_status, backend_message=parts[-1].backend_message)
    first = start_year if start_year is not None else (economy.year + 1 if economy.year else 1)
    assumptions["horizon"] = horizon
    return _assemble(m, joined, years=list(range(first, first + done)), t0s=list(range(done)),
                     method=method, mode=f"receding-horizon ({horizon} years)",
                     seconds=time.perf_counter() - t_start, assumptions=assumptions,
                     labour_unit=economy.labour_unit.split(" per ")[0], message=message)


_DEFAULTS: dict[str, Any] = {
    "growth": 0.02, "population": None, "population_growth": 0.0, "participation": 1.0,
    "weeks_per_year": 46.0, "hours_per_labour_unit": None, "hours_per_job": 1800.0,
    "capital_output_ratio": None, "depreciation": None, "utilisation": 0.9,
    "modern_labour_saving": 0.25, "terminal_growth": None, "max_week": None,
    "balanced_trade": False,
}


def _model_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = [k for k in kwargs if k not in _DEFAULTS]
    if unknown:
        raise ValidationError(
            f"receding_horizon_plan got unknown keyword {unknown[0]!r}."
            f"{closest(unknown[0], _DEFAULTS)}"
        )
    out = dict(_DEFAULTS)
    out.update(kwargs)
    return out
