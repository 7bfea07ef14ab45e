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

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.validation import closest
from gosplan.errors import ValidationError
from gosplan.planning.bundles import bundles_frame, targets_mapping
from gosplan.planning.techniques import LABOUR, Technique, economy_techniques, technique_arrays

if TYPE_CHECKING:
    from gosplan.core.economy import Economy

Objective = Literal["assortment", "min_labour", "weighted"]
OBJECTIVES: tuple[str, ...] = ("assortment", "min_labour", "weighted")


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
        products = _products(caller, techniques, res)
        made = dict.fromkeys(products)
        tg = targets_mapping(targets, "targets", caller)
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
        N, O, R = technique_arrays(techniques, products, list(res))  # noqa: E741
        self._init_arrays(
            N=N,
            O=O,
            R=R,
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
        Rm, amt = _resource_arrays(caller, R, amounts, n_t)
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

        The techniques are built by :func:`gosplan.planning.techniques.economy_techniques`.
        """
        bundles = bundles_frame(economy, targets_by_purpose)
        res = dict(resources or {})
        labour_limit = res.pop(LABOUR, None)
        rnames = list(res)
        N, O, R, lab, upper, tech_names = economy_techniques(  # noqa: E741
            economy, rnames, resource_use, alternatives, capacity
        )
        kwargs.setdefault("labour_unit", economy.labour_unit)
        return cls.from_arrays(
            N,
            lab,
            bundles.sum(axis=1).to_numpy(),
            O=O,
            R=R,
            amounts=np.array(list(res.values()), dtype=float),
            labour_limit=labour_limit,
            upper=upper,
            products=economy.products,
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


def _resource_arrays(caller: str, R: Any, amounts: Any, n_t: int) -> tuple[Any, np.ndarray]:
    """Resource use (resources × techniques) and the amounts available, one per resource."""
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
    return Rm, amt


def _products(caller: str, techniques: list[Technique], res: Mapping[str, float]) -> list[str]:
    """The products: what the techniques make (never a resource), in order; every input
    must be a product or a resource, and labour is not an input."""
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
    return products


__all__ = [
    "LABOUR",
    "OBJECTIVES",
    "Objective",
    "PlanProblem",
    "Technique",
    "bundles_frame",
    "closest",
]
