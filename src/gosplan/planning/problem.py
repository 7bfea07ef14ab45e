"""Planning problems: techniques, resources, targets and the objective.

A :class:`Technique` turns inputs (products or natural resources) and labour
into outputs at a chosen *intensity* ``x >= 0`` (Kantorovich's "method").
A :class:`PlanProblem` collects techniques, the resources that exist, the
targets for net output and the objective.  On construction it is validated
once and turned into sparse matrices (product × technique, resource ×
technique), which is what the solvers use; nothing dense is ever formed.

Objectives
----------
``"min_labour"``
    Deliver every target at the least total labour.
``"assortment"``
    Kantorovich's assortment plan: deliver as many complete *bundles* of the
    targets as the resources and labour allow (maximise ``λ`` with
    ``net output >= λ · targets``).  Needs a limit (resources or labour).
``"weighted"``
    Maximise ``Σ w_i f_i``, the weighted fulfilment ``f_i ∈ [0, 1]`` of each
    target, when not everything can be had.  Needs a limit.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.errors import ValidationError

if TYPE_CHECKING:
    from gosplan.core.economy import Economy

Objective = Literal["assortment", "min_labour", "weighted"]
OBJECTIVES: tuple[str, ...] = ("assortment", "min_labour", "weighted")

#: labour as a limit is named by this key in ``resources``
LABOUR = "labour"


def closest(name: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices``, or an empty string."""
    found = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" Did you mean {found[0]!r}?" if found else ""


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


class PlanProblem:
    """A planning problem, validated and held as sparse matrices.

    Parameters
    ----------
    techniques
        The :class:`Technique` objects.  Products are everything a technique
        outputs, plus what is used as an input and is not a resource.
    resources
        ``{name: amount available}``; the key ``"labour"`` limits total labour.
    targets
        ``{product: net output wanted}`` (non-negative).
    objective
        ``"min_labour"``, ``"assortment"`` or ``"weighted"`` (module docstring).
    weights
        ``{product: weight}`` for ``"weighted"`` (default 1 for every target).
    labour_unit
        Unit of technique labour (default hours).
    population, participation, weeks_per_year, hours_per_labour_unit
        When ``population`` is given, results state the working week per
        able-bodied person: ``labour · hours_per_labour_unit /
        (population · participation · weeks_per_year)``.
    target_bundles
        Optional DataFrame (products × purposes) whose row sums are the
        targets; kept so results can say what each purpose costs.
    split
        Block size for the assortment's ``λ``: each block of target rows gets
        its own copy of ``λ`` and the copies are chained by equalities, so no
        column touches more than ``split`` rows (interior point and PDLP are
        slowed by dense columns).
    """

    def __init__(
        self,
        techniques: Sequence[Technique],
        *,
        resources: Mapping[str, float] | None = None,
        targets: Mapping[str, float] | pd.Series | None = None,
        objective: Objective = "min_labour",
        weights: Mapping[str, float] | None = None,
        labour_unit: str = "hours",
        population: float | None = None,
        participation: float = 1.0,
        weeks_per_year: float = 46.0,
        hours_per_labour_unit: float = 1.0,
        target_bundles: pd.DataFrame | None = None,
        split: int = 64,
    ) -> None:
        """Long because every argument is validated here, at the entry point, with a message
        naming the argument, the technique and the fix (STYLE: validate at entry
        only), and the array form is built once so that solvers trust it.
        """
        caller = "PlanProblem"
        if objective not in OBJECTIVES:
            raise ValidationError(
                f"The 'objective' parameter of {caller} must be one of {OBJECTIVES}; "
                f"got {objective!r}.{closest(str(objective), OBJECTIVES)}"
            )
        techniques = list(techniques)
        if not techniques:
            raise ValidationError(f"{caller} needs at least one technique.")
        names = [t.name for t in techniques]
        dup = pd.Index(names)[pd.Index(names).duplicated()].unique().tolist()
        if dup:
            raise ValidationError(f"{caller}: technique names must be unique; duplicated: {dup}.")
        res = dict(resources or {})
        for r, amount in res.items():
            if not np.isfinite(amount) or amount < 0:
                raise ValidationError(
                    f"{caller}: resource {r!r} must have a finite non-negative amount; "
                    f"got {amount!r}."
                )
        labour_limit = res.pop(LABOUR, None)
        made: dict[str, None] = {}
        for t in techniques:
            for p in t.outputs:
                if p in res:
                    raise ValidationError(
                        f"{caller}: {p!r} is both a resource and an output of technique "
                        f"{t.name!r}; a resource is given, not made."
                    )
                made.setdefault(p, None)
        products = list(made)
        for t in techniques:
            for k in t.inputs:
                if k == LABOUR:
                    raise ValidationError(
                        f"{caller}: technique {t.name!r} lists 'labour' among its inputs; "
                        "give it as Technique(labour=hours)."
                    )
                if k not in made and k not in res:
                    raise ValidationError(
                        f"{caller}: technique {t.name!r} uses {k!r}, which is neither a "
                        f"resource given in `resources` nor made by any technique: the "
                        f"resource does not exist.{closest(k, [*res, *products])}"
                    )
        tg = _mapping(targets, "targets", caller)
        for p, q in tg.items():
            if p not in made:
                hint = " It is a resource, not a product." if p in res else closest(p, products)
                raise ValidationError(
                    f"{caller}: target for {p!r}, but no technique makes it.{hint}"
                )
            if not np.isfinite(q) or q < 0:
                raise ValidationError(
                    f"{caller}: the target for {p!r} must be a finite non-negative quantity; "
                    f"got {q!r}."
                )
        pidx = {p: i for i, p in enumerate(products)}
        ridx = {r: i for i, r in enumerate(res)}
        rows_n: list[int] = []
        cols_n: list[int] = []
        vals_n: list[float] = []
        rows_o: list[int] = []
        cols_o: list[int] = []
        vals_o: list[float] = []
        rows_r: list[int] = []
        cols_r: list[int] = []
        vals_r: list[float] = []
        for j, t in enumerate(techniques):
            for p, q in t.outputs.items():
                rows_n.append(pidx[p])
                cols_n.append(j)
                vals_n.append(float(q))
                rows_o.append(pidx[p])
                cols_o.append(j)
                vals_o.append(float(q))
            for k, q in t.inputs.items():
                if k in pidx:
                    rows_n.append(pidx[k])
                    cols_n.append(j)
                    vals_n.append(-float(q))
                else:
                    rows_r.append(ridx[k])
                    cols_r.append(j)
                    vals_r.append(float(q))
        n_p, n_t = len(products), len(techniques)
        self._init_arrays(
            N=sp.csc_array((vals_n, (rows_n, cols_n)), shape=(n_p, n_t)),
            O=sp.csc_array((vals_o, (rows_o, cols_o)), shape=(n_p, n_t)),
            R=sp.csc_array((vals_r, (rows_r, cols_r)), shape=(len(res), n_t)),
            labour=np.array([t.labour for t in techniques], dtype=float),
            upper=np.array([np.inf if t.upper is None else t.upper for t in techniques]),
            products=pd.Index(products, name="product"),
            technique_names=pd.Index(names, name="technique"),
            resource_names=pd.Index(list(res), name="resource"),
            amounts=np.array(list(res.values()), dtype=float),
            targets=np.array([float(tg.get(p, 0.0)) for p in products]),
            labour_limit=None if labour_limit is None else float(labour_limit),
            objective=objective,
            weights=weights,
            labour_unit=labour_unit,
            population=population,
            participation=participation,
            weeks_per_year=weeks_per_year,
            hours_per_labour_unit=hours_per_labour_unit,
            target_bundles=target_bundles,
            split=split,
        )
        self.techniques: list[Technique] | None = techniques

    # ---------------------------------------------------------------- array form
    def _init_arrays(
        self,
        *,
        N: Any,
        O: Any,  # noqa: E741
        R: Any,
        labour: np.ndarray,
        upper: np.ndarray,
        products: pd.Index,
        technique_names: pd.Index,
        resource_names: pd.Index,
        amounts: np.ndarray,
        targets: np.ndarray,
        labour_limit: float | None,
        objective: str,
        weights: Mapping[str, float] | None,
        labour_unit: str,
        population: float | None,
        participation: float,
        weeks_per_year: float,
        hours_per_labour_unit: float,
        target_bundles: pd.DataFrame | None,
        split: int,
    ) -> None:
        caller = "PlanProblem"
        if objective not in OBJECTIVES:
            raise ValidationError(
                f"The 'objective' parameter of {caller} must be one of {OBJECTIVES}; "
                f"got {objective!r}.{closest(str(objective), OBJECTIVES)}"
            )
        #: net output per unit intensity (outputs minus product inputs), products × techniques
        self.N: Any = sp.csc_array(N)
        #: gross output per unit intensity, products × techniques
        self.O: Any = sp.csc_array(O)
        #: resource use per unit intensity, resources × techniques
        self.R: Any = sp.csc_array(R)
        self.labour = np.asarray(labour, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.products = products
        self.technique_names = technique_names
        self.resource_names = resource_names
        self.amounts = np.asarray(amounts, dtype=float)
        self.targets = np.asarray(targets, dtype=float)
        self.labour_limit = labour_limit
        self.objective: Objective = objective  # type: ignore[assignment]
        self.labour_unit = labour_unit
        if population is not None and not (population > 0):
            raise ValidationError(f"`population` of {caller} must be positive; got {population}.")
        if not (0 < participation <= 1):
            raise ValidationError(
                f"`participation` of {caller} must be in (0, 1]; got {participation}."
            )
        if not (0 < weeks_per_year <= 53):
            raise ValidationError(
                f"`weeks_per_year` of {caller} must be in (0, 53]; got {weeks_per_year}."
            )
        self.population = population
        self.participation = float(participation)
        self.weeks_per_year = float(weeks_per_year)
        self.hours_per_labour_unit = float(hours_per_labour_unit)
        self.target_bundles = target_bundles
        if split < 1:
            raise ValidationError(f"`split` of {caller} must be >= 1; got {split}.")
        self.split = int(split)
        w = np.zeros(len(products))
        if weights is not None:
            for p, q in weights.items():
                if p not in products:
                    raise ValidationError(
                        f"{caller}: weight for {p!r}, which is not a product.{closest(p, products)}"
                    )
                if not np.isfinite(q) or q < 0:
                    raise ValidationError(f"{caller}: weight of {p!r} must be >= 0; got {q}.")
                w[products.get_loc(p)] = float(q)
        else:
            w[self.targets > 0] = 1.0
        self.weights = w
        self.techniques = None

    @classmethod
    def from_arrays(
        cls,
        N: Any,
        labour: Any,
        targets: Any,
        *,
        O: Any = None,  # noqa: E741
        R: Any = None,
        amounts: Any = None,
        labour_limit: float | None = None,
        upper: Any = None,
        products: Sequence[str] | pd.Index | None = None,
        techniques: Sequence[str] | pd.Index | None = None,
        resources: Sequence[str] | pd.Index | None = None,
        objective: Objective = "min_labour",
        **kwargs: Any,
    ) -> PlanProblem:
        """Build directly from sparse matrices (for large problems).

        ``N`` is net output per unit intensity (products × techniques),
        ``O`` gross output (default: the positive part of ``N``), ``R`` resource
        use (resources × techniques) with ``amounts`` available.
        """
        caller = "PlanProblem.from_arrays"
        Nm = sp.csc_array(N, dtype=float)
        n_p, n_t = Nm.shape
        lab = np.asarray(labour, dtype=float).ravel()
        tg = np.asarray(targets, dtype=float).ravel()
        if lab.shape != (n_t,):
            raise ValidationError(f"`labour` of {caller} must have {n_t} entries; got {lab.shape}.")
        if tg.shape != (n_p,):
            raise ValidationError(f"`targets` of {caller} must have {n_p} entries; got {tg.shape}.")
        if not np.isfinite(tg).all() or (tg < 0).any():
            i = int(np.flatnonzero(~np.isfinite(tg) | (tg < 0))[0])
            raise ValidationError(
                f"`targets` of {caller} must be finite and non-negative; product index {i} "
                f"has {tg[i]!r}."
            )
        if not np.isfinite(lab).all() or (lab < 0).any():
            raise ValidationError(f"`labour` of {caller} must be finite and non-negative.")
        Om = sp.csc_array(Nm.maximum(0)) if O is None else sp.csc_array(O, dtype=float)
        if R is None:
            Rm = sp.csc_array((0, n_t))
            amt = np.zeros(0)
        else:
            Rm = sp.csc_array(R, dtype=float)
            amt = np.asarray(amounts, dtype=float).ravel()
            if amt.shape != (Rm.shape[0],):
                raise ValidationError(
                    f"`amounts` of {caller} must have {Rm.shape[0]} entries (one per resource)."
                )
        self = cls.__new__(cls)
        self._init_arrays(
            N=Nm,
            O=Om,
            R=Rm,
            labour=lab,
            upper=np.full(n_t, np.inf) if upper is None else np.asarray(upper, dtype=float),
            products=pd.Index(
                [f"p{i}" for i in range(n_p)] if products is None else list(products),
                name="product",
            ),
            technique_names=pd.Index(
                [f"t{j}" for j in range(n_t)] if techniques is None else list(techniques),
                name="technique",
            ),
            resource_names=pd.Index(
                [f"r{k}" for k in range(Rm.shape[0])] if resources is None else list(resources),
                name="resource",
            ),
            amounts=amt,
            targets=tg,
            labour_limit=labour_limit,
            objective=objective,
            weights=kwargs.pop("weights", None),
            labour_unit=kwargs.pop("labour_unit", "hours"),
            population=kwargs.pop("population", None),
            participation=kwargs.pop("participation", 1.0),
            weeks_per_year=kwargs.pop("weeks_per_year", 46.0),
            hours_per_labour_unit=kwargs.pop("hours_per_labour_unit", 1.0),
            target_bundles=kwargs.pop("target_bundles", None),
            split=kwargs.pop("split", 64),
        )
        if kwargs:
            raise ValidationError(f"{caller} got unknown keyword(s) {sorted(kwargs)}.")
        return self

    @classmethod
    def from_economy(
        cls,
        economy: Economy,
        targets_by_purpose: Mapping[str, Any] | pd.DataFrame | pd.Series,
        *,
        objective: Objective = "min_labour",
        resources: Mapping[str, float] | None = None,
        resource_use: Mapping[str, Mapping[str, float]] | None = None,
        alternatives: Sequence[Technique] = (),
        capacity: Mapping[str, float] | pd.Series | None = None,
        **kwargs: Any,
    ) -> PlanProblem:
        """One technique per product from the economy's ``A`` and labour, plus alternatives.

        ``targets_by_purpose`` maps a purpose (``"personal"``, ``"health"``,
        ...) to a bundle over products (mapping, Series or vector); a Series or
        DataFrame is accepted directly.  ``resource_use[resource][product]``
        is the resource used per unit of the product's standard technique.
        ``capacity[product]`` caps its standard technique's output.
        ``alternatives`` are extra techniques (e.g. a less labour-intensive
        method that needs more of some input).

        Long because each optional input (targets by purpose, resource use and
        amounts, alternatives, capacities) is checked and turned into techniques in
        turn; most of the length is this docstring and the checks' messages.
        """
        bundles = bundles_frame(economy, targets_by_purpose)
        A = sp.csc_array(economy.A)
        n = economy.n
        products = economy.products
        N = sp.csc_array(sp.identity(n, format="csc") - A)
        O = sp.identity(n, format="csc")  # noqa: E741
        lab = economy.labour.copy()
        res = dict(resources or {})
        labour_limit = res.pop(LABOUR, None)
        rnames = list(res)
        R = sp.lil_array((len(rnames), n))
        for r, per in (resource_use or {}).items():
            if r not in res:
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
        kwargs.setdefault("labour_unit", economy.labour_unit)
        return cls.from_arrays(
            N,
            lab,
            bundles.sum(axis=1).to_numpy(),
            O=O,
            R=sp.csc_array(R),
            amounts=np.array(list(res.values()), dtype=float),
            labour_limit=labour_limit,
            upper=upper,
            products=products,
            techniques=tech_names,
            resources=rnames,
            objective=objective,
            target_bundles=bundles,
            **kwargs,
        )

    # ---------------------------------------------------------------- views
    @property
    def n_products(self) -> int:
        return int(self.N.shape[0])

    @property
    def n_techniques(self) -> int:
        return int(self.N.shape[1])

    def with_objective(self, objective: Objective, **changes: Any) -> PlanProblem:
        """A shallow copy with another objective (and attributes changed)."""
        import copy

        other = copy.copy(self)
        if objective not in OBJECTIVES:
            raise ValidationError(
                f"objective must be one of {OBJECTIVES}; got {objective!r}."
                f"{closest(str(objective), OBJECTIVES)}"
            )
        other.objective = objective
        for k, v in changes.items():
            if not hasattr(other, k):
                raise ValidationError(f"PlanProblem has no attribute {k!r}.")
            setattr(other, k, v)
        return other

    def __repr__(self) -> str:
        return (
            f"<PlanProblem {self.objective}: {self.n_products} products, "
            f"{self.n_techniques} techniques, {len(self.resource_names)} resources, "
            f"nnz={self.N.nnz + self.R.nnz}>"
        )


def _mapping(v: Any, name: str, caller: str) -> dict[str, float]:
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
