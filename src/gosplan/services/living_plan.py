"""The living plan: the whole cycle run period after period through the real services.

Each period of a run goes through the same code paths as the CLI and the
web application:

1. **plan** — a Leontief plan (:func:`gosplan.planning.leontief.leontief_plan`)
   delivers the period's targets: personal consumption (the goods the shops
   will sell), social consumption and investment (paid first); an adopted
   decision may cap the working week (:func:`~gosplan.planning.living.fit_working_week`);
   the plan is logged with a digest of its tables;
2. **deduction** — the period opens in the labour-time accounts with the
   plan's deduction for the social funds;
3. **work** — every able person works the plan's share of hours for their
   enterprise; each enterprise's delegate records them, a delegate of
   *another* enterprise approves them (nobody approves their own or what they
   recorded); credits go to persons less the deduction;
4. **delivery** — enterprises deliver what capacity allows (a supply shock
   takes capacity away; investment restores it over time) to the shops;
   enterprises report output and hours, and cheating ones inflate their
   reports; the shops' receipts are compared with the reports;
5. **purchase** — households (persons, or cohorts of persons with one account)
   spend the hours they hold by Cobb–Douglas tastes at the current prices,
   in a random order each period, while stock lasts;
6. **close and feedback** — the period closes; the accounts' market-clearing
   feedback (:meth:`~gosplan.services.accounts.Accounts.feedback`) reprices
   each good and moves next period's targets
   (:func:`~gosplan.planning.living.next_personal_targets`).

An **open-loop twin** runs the same households through a second store with
the base-year plan repeated, prices fixed at labour values and no feedback,
so every figure stands beside what the loop buys.

Everything a run shows is recorded in the public log (``living.run`` with
the scenario, ``living.period`` with each period's figures), so the run can
be replayed and audited; :func:`runs_from_log` reads them back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.planning.living import (
    Households,
    dispersion,
    draw_households,
    fit_working_week,
    ration_in_order,
    shift_tastes,
    wanted,
)

__all__ = [
    "LivingPlanRun",
    "Scenario",
    "load_scenario",
    "run",
    "runs_from_log",
]

Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- scenario

@dataclass(frozen=True)
class Scenario:
    """What to run: the economy, the population, the period count, the events and the rules.

    Every field has a default; a TOML file sets any of them (see
    ``examples/living-*.toml`` and ``docs/living-plan.md``).
    """

    name: str = "baseline"
    source: str = "default"
    year: int | None = None
    periods: int = 12
    periods_per_year: int = 12
    start: str = "2027-01"
    persons: int = 20
    cohort_size: int = 1
    enterprises: int = 5
    max_goods: int | None = None
    seed: int = 0
    unable_share: float = 0.15
    concentration: float = 300.0
    base_week: float = 1800.0 / 46.0
    # events
    taste_fraction: float = 0.0
    taste_size: float = 0.3
    taste_goods: tuple[tuple[str, float], ...] = ()
    shock_sector: str | None = None
    shock_loss: float = 0.3
    shock_at: int = 0
    shock_recovery: float = 0.05
    cheater_share: float = 0.0
    cheater_inflate: float = 0.15
    vote_at: int | None = None
    vote_max_week: float | None = None
    # rules of the planning office
    elasticity: float = 1.0
    sell_through: float = 0.9
    max_step: float = 0.25
    buffer: float = 0.11
    production_noise: float = 0.02
    capacity_growth: float = 0.05
    capital_output: float = 1.0
    open_loop: bool = True

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ValidationError(f"scenario `{name}` must be {what}; got "
                                      f"{getattr(self, name)!r}.")

        need(1 <= self.periods <= 1000, "periods", "a whole number from 1 to 1000")
        need(self.periods_per_year in (1, 4, 12, 52), "periods_per_year", "1, 4, 12 or 52")
        need(1 <= self.persons <= 10_000_000, "persons", "from 1 to 10 000 000")
        need(1 <= self.cohort_size <= self.persons, "cohort_size", "from 1 to `persons`")
        need(1 <= self.enterprises <= 100_000, "enterprises", "from 1 to 100 000")
        need(self.max_goods is None or self.max_goods >= 1, "max_goods", "at least 1")
        for name in ("unable_share", "taste_fraction", "shock_loss", "cheater_share"):
            need(0 <= getattr(self, name) < 1, name, "in [0, 1)")
        for name in ("taste_size", "shock_recovery", "cheater_inflate", "production_noise",
                     "buffer", "capacity_growth"):
            need(0 <= getattr(self, name) <= 1, name, "in [0, 1]")
        need(math.isfinite(self.concentration) and self.concentration > 0, "concentration",
             "a positive number")
        need(math.isfinite(self.base_week) and 0 < self.base_week <= 100, "base_week",
             "hours in (0, 100]")
        need(0 < self.elasticity <= 10, "elasticity", "in (0, 10]")
        need(0 <= self.capital_output <= 20, "capital_output", "years of output in [0, 20]")
        need(0 < self.sell_through <= 1, "sell_through", "in (0, 1]")
        need(0 < self.max_step <= 1, "max_step", "in (0, 1]")
        need(0 <= self.shock_at < max(self.periods, 1) or self.shock_sector is None,
             "shock_at", "a period of the run")
        need(self.vote_at is None or 0 <= self.vote_at < self.periods, "vote_at",
             "a period of the run")
        need(self.vote_max_week is None or 0 < self.vote_max_week <= 100, "vote_max_week",
             "hours in (0, 100]")
        need((self.vote_at is None) == (self.vote_max_week is None), "vote_at",
             "given together with `vote_max_week`")
        try:
            y, m = self.start.split("-")
            ok = 1900 <= int(y) <= 2200 and 1 <= int(m) <= 12
        except ValueError:
            ok = False
        need(ok, "start", "a month YYYY-MM")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


_SECTIONS = {
    "scenario": {"name", "source", "year", "periods", "periods_per_year", "start", "seed",
                 "open_loop"},
    "population": {"persons": "persons", "cohort_size": "cohort_size",
                   "unable_share": "unable_share", "concentration": "concentration",
                   "base_week": "base_week"},
    "enterprises": {"count": "enterprises", "production_noise": "production_noise",
                    "max_goods": "max_goods", "capacity_growth": "capacity_growth",
                    "capital_output": "capital_output"},
    "tastes": {"fraction": "taste_fraction", "size": "taste_size", "goods": "taste_goods"},
    "shock": {"sector": "shock_sector", "loss": "shock_loss", "at": "shock_at",
              "recovery": "shock_recovery"},
    "cheaters": {"share": "cheater_share", "inflate": "cheater_inflate"},
    "vote": {"at": "vote_at", "max_week": "vote_max_week"},
    "rules": {"elasticity": "elasticity", "sell_through": "sell_through",
              "max_step": "max_step", "buffer": "buffer"},
}


def load_scenario(path: str | Path) -> Scenario:
    """A :class:`Scenario` from a TOML file; unknown sections or keys are errors naming them."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{p}: cannot read the scenario ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ValidationError(f"{p}: the scenario is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{p}: not valid TOML: {exc}.") from None
    if not data:
        raise ValidationError(f"{p}: the scenario is empty; give at least [scenario] name.")
    kwargs: dict[str, Any] = {}
    for section, body in data.items():
        if section not in _SECTIONS:
            raise ValidationError(f"{p}: unknown section [{section}]; known: "
                                  f"{', '.join(sorted(_SECTIONS))}.")
        if not isinstance(body, dict):
            raise ValidationError(f"{p}: [{section}] must be a table of keys.")
        keys = _SECTIONS[section]
        for key, value in body.items():
            if key not in keys:
                raise ValidationError(f"{p}: unknown key `{key}` in [{section}]; known: "
                                      f"{', '.join(sorted(keys))}.")
            target = keys[key] if isinstance(keys, dict) else key
            kwargs[target] = value
    if "taste_goods" in kwargs:
        tg = kwargs["taste_goods"]
        if not isinstance(tg, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 10
                for v in tg.values()):
            raise ValidationError(f"{p}: [tastes] goods must be a table of good = factor "
                                  f"(0 < factor <= 10); got {tg!r}.")
        kwargs["taste_goods"] = tuple((str(k), float(v)) for k, v in tg.items())
    fields = Scenario.__dataclass_fields__
    for name, value in kwargs.items():
        if name == "taste_goods":
            continue
        kind = str(fields[name].type)
        if ("int" in kind and "float" not in kind and not isinstance(value, int)) or (
                isinstance(value, bool) and "bool" not in kind):
            raise ValidationError(f"{p}: `{name}` must be a whole number; got {value!r}.")
        if "float" in kind and not isinstance(value, int | float):
            raise ValidationError(f"{p}: `{name}` must be a number; got {value!r}.")
    try:
        return Scenario(**kwargs)
    except ValidationError as exc:
        raise ValidationError(f"{p}: {exc}") from None


# --------------------------------------------------------------------------- the world

@dataclass
class _Goods:
    codes: list[str]
    products: list[str]
    value: np.ndarray  # hours per unit
    size: np.ndarray  # output (money) units per good unit
    base_units: np.ndarray  # base-year personal consumption of the run's population, units


@dataclass
class _Side:
    """One store's state: the loop's or the open-loop twin's."""

    label: str
    accounts: Any
    feedback: bool
    targets: np.ndarray  # units of each good to deliver this period
    capacity: np.ndarray  # share of the base capacity of each good's sector
    closing: np.ndarray  # units left in the shops at the end of the last period
    build: list[float] = field(default_factory=list)  # investment still to do, per period
    max_week: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    unmet_by_good: list[np.ndarray] = field(default_factory=list)
    ratios: list[np.ndarray] = field(default_factory=list)
    sold: list[np.ndarray] = field(default_factory=list)
    delivered: list[np.ndarray] = field(default_factory=list)
    found: set[str] = field(default_factory=set)


@dataclass
class LivingPlanRun:
    """A run's figures, period by period, for the loop and its open-loop twin.

    ``periods`` has one row per (side, period): ``unmet_share`` (share of
    wanted purchases, at labour value, that found no stock), ``excess_stock``
    (closing stock over what was available), ``ratio_cv`` (coefficient of
    variation of price/value ratios, weighted by sales), ``working_week``,
    labour by purpose (``labour_personal``, ``labour_social``,
    ``labour_investment``, hours per person and week), ``credited``,
    ``spent`` (hours), ``reports_inflated`` and ``mismatches_found``
    (deliveries that did not match reports).  ``unmet_by_good`` has the
    shares of unmet demand per good and period (loop side); ``ratios``, ``sold``
    and ``delivered`` the price/value ratio in force, units sold and units
    delivered per good and period (loop side).
    """

    scenario: Scenario
    periods: pd.DataFrame
    unmet_by_good: pd.DataFrame
    goods: pd.DataFrame
    checks: dict[str, Any]
    log_indices: list[int]
    ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    sold: pd.DataFrame = field(default_factory=pd.DataFrame)
    delivered: pd.DataFrame = field(default_factory=pd.DataFrame)

    def side(self, label: str) -> pd.DataFrame:
        return self.periods[self.periods["side"] == label].set_index("period")

    def converged_at(self, *, unmet: float = 0.02, cv: float = 0.05,
                     label: str = "loop") -> int | None:
        """First period from which unmet demand ≤ ``unmet`` and ratio CV ≤ ``cv`` hold on."""
        df = self.side(label).reset_index()
        ok = (df["unmet_share"] <= unmet) & (df["ratio_cv"] <= cv)
        for i in range(len(df)):
            if ok.iloc[i:].all():
                return i
        return None

    def recovery(self, good: str, after: int, *, unmet: float = 0.02) -> int | None:
        """Periods after ``after`` until ``good``'s unmet demand is back ≤ ``unmet`` for good."""
        if good not in self.unmet_by_good.columns:
            return None
        s = self.unmet_by_good[good].to_numpy()
        for i in range(after, len(s)):
            if (s[i:] <= unmet).all():
                return i - after
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario.name, "checks": self.checks}
        for label in self.periods["side"].unique():
            df = self.side(str(label))
            last = df.iloc[-1]
            out[str(label)] = {
                "converged_at": self.converged_at(label=str(label)),
                "unmet_share_last": float(last["unmet_share"]),
                "ratio_cv_last": float(last["ratio_cv"]),
                "excess_stock_last": float(last["excess_stock"]),
                "working_week_last": float(last["working_week"]),
                "working_week_first": float(df.iloc[0]["working_week"]),
            }
        return out


def _period_label(start: str, i: int, per_year: int) -> str:
    y, m = (int(x) for x in start.split("-"))
    if per_year == 12:
        k = (m - 1) + i
        return f"{y + k // 12:04d}-{k % 12 + 1:02d}"
    if per_year == 52:
        d = dt.date(y, m, 1) + dt.timedelta(weeks=i)
        iso = d.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    if per_year == 4:
        q0 = (m - 1) // 3 + i
        return f"{y + q0 // 4:04d}-Q{q0 % 4 + 1}"
    return f"{y + i:04d}"


def _economy_and_goods(sc: Scenario) -> tuple[Any, _Goods, Any, float]:
    from gosplan.core.values import labour_values
    from gosplan.planning.targets import hours_per_labour_unit
    from gosplan.readers.registry import open_source
    from gosplan.services.accounts import catalogue_from_economy

    eco = open_source(sc.source, year=sc.year)
    vals = labour_values(eco)
    hpu = (hours_per_labour_unit(eco) if getattr(eco, "labour_kind", "hours") != "wages"
           else None)
    if hpu is None:
        raise ValidationError(f"economy {eco.name!r} measures labour as wages; the living plan "
                              "needs hours or persons employed.")
    specs = catalogue_from_economy(eco, personal_hours=0.0, values=vals,
                                   hours_per_labour_unit=hpu)
    personal = eco.final_demand_by_purpose()["personal"].clip(lower=0.0)
    if sc.max_goods is not None and len(specs) > sc.max_goods:
        keep = set(personal.loc[[str(s.product) for s in specs]].nlargest(sc.max_goods).index)
        specs = [s for s in specs if s.product in keep]
    # units a hundred times smaller than the catalogue's (a unit costs about 0.003-0.03
    # hours), so that households buying whole units lose little to rounding
    size = np.array([float(s.unit.split()[0]) for s in specs]) / 100.0
    value = np.array([float(s.labour_value) for s in specs]) / 100.0
    goods = _Goods(codes=[s.code for s in specs], products=[str(s.product) for s in specs],
                   value=value, size=size, base_units=np.zeros(len(specs)))
    return eco, goods, vals, float(hpu)


# --------------------------------------------------------------------------- one period

def _plan(eco: Any, fd: pd.DataFrame, personal_money: pd.Series, phi: float, able: int,
          weeks_per_year: float, max_week: float | None, hpu: float,
          extra_investment: float = 0.0) -> tuple[Any, float]:
    """The period's Leontief plan (yearly rates) and the factor applied to personal targets.

    ``extra_investment`` (money, at a yearly rate) is added to the investment bundle in
    the base year's composition: the capacity the loop builds or rebuilds this period.
    """
    from gosplan.planning.leontief import leontief_plan

    def targets(factor: float) -> pd.DataFrame:
        t = fd.drop(columns=["personal"]).clip(lower=0.0) * phi
        t = t[[c for c in ("social", "investment", "stocks", "exports") if c in t.columns]]
        if extra_investment > 0 and "investment" in t.columns and t["investment"].sum() > 0:
            inv = t["investment"]
            t["investment"] = inv + inv / inv.sum() * extra_investment
        t.insert(0, "personal", personal_money.reindex(fd.index).fillna(0.0) * factor)
        return t

    plan = leontief_plan(eco, targets(1.0), population=float(able), weeks_per_year=weeks_per_year,
                         hours_per_labour_unit=hpu)
    if max_week is None:
        return plan, 1.0
    lab = plan.labour_by_purpose
    personal_h = float(lab.get("personal", 0.0))
    factor, _ = fit_working_week(personal_h, float(lab.sum()) - personal_h, float(able),
                                 weeks_per_year, max_week)
    if factor < 1.0:
        plan = leontief_plan(eco, targets(factor), population=float(able),
                             weeks_per_year=weeks_per_year, hours_per_labour_unit=hpu)
    return plan, factor


def _normalise_shares(d: Any) -> Any:
    """Fund shares rounded to 6 places summing to exactly 1 (the rest to the largest)."""
    from gosplan.services.accounts import Deduction

    shares = dict(d.shares)
    if not shares:
        return d
    gap = Decimal(1) - sum(shares.values(), Decimal(0))
    top = max(shares, key=lambda k: shares[k])
    shares[top] += gap
    return Deduction(rate=d.rate, shares=shares, source=d.source)


def _digest(frame: pd.DataFrame | pd.Series) -> str:
    hashed = np.asarray(pd.util.hash_pandas_object(frame, index=True), dtype=np.uint64)
    return hashlib.sha256(hashed.tobytes()).hexdigest()


class _Runner:
    def __init__(self, sc: Scenario, store_url: str, twin_url: str | None,
                 progress: Progress | None) -> None:
        self.sc = sc
        self.store_url = store_url
        self.twin_url = twin_url
        self.progress = progress
        self.rng = np.random.default_rng(sc.seed)
        self.log_indices: list[int] = []
        self.checks: dict[str, Any] = {}

    # -- setup ---------------------------------------------------------------
    def setup(self) -> None:
        sc = self.sc
        eco, goods, vals, hpu = _economy_and_goods(sc)
        self.eco, self.goods, self.hpu = eco, goods, hpu
        fd = eco.final_demand_by_purpose()
        self.fd = fd
        personal = fd["personal"].clip(lower=0.0)
        base_shares_money = personal.reindex(goods.products).to_numpy()
        hours_per_good = base_shares_money * vals.values.reindex(goods.products).to_numpy() * hpu
        base_shares = hours_per_good / hours_per_good.sum()
        self.true_shares = base_shares
        if sc.taste_fraction > 0:
            self.true_shares, self.shifted = shift_tastes(
                base_shares, rng=self.rng, fraction=sc.taste_fraction, size=sc.taste_size)
        else:
            self.shifted = np.array([], dtype=int)
        if sc.taste_goods:
            shares = self.true_shares.copy()
            picked = []
            for name, factor in sc.taste_goods:
                hits = [i for i, (c, p) in enumerate(zip(goods.codes, goods.products,
                                                         strict=True)) if name in (c, p)]
                if not hits:
                    raise ValidationError(f"scenario [tastes] goods: {name!r} is not a consumer "
                                          f"good here; goods: {', '.join(goods.codes[:12])}")
                shares[hits[0]] *= factor
                picked.append(hits[0])
            self.true_shares = shares / shares.sum()
            self.shifted = np.union1d(self.shifted, np.array(picked, dtype=int))
        groups = max(1, sc.persons // sc.cohort_size)
        self.h: Households = draw_households(self.true_shares, groups, rng=self.rng,
                                             concentration=sc.concentration,
                                             unable_share=sc.unable_share,
                                             size=sc.cohort_size)
        able = self.h.able_persons
        # scale the economy to the run's population: its able persons work the base week
        base = self._base_plan_hours()
        self.phi = able * sc.base_week * 46.0 / base
        self.weeks_per_year = 46.0
        goods.base_units = base_shares_money * self.phi / goods.size
        self.personal_base_money = personal * self.phi
        self.weeks_per_period = self.weeks_per_year / sc.periods_per_year
        # enterprises: each good's sector belongs to one enterprise (round robin)
        n_ent = min(sc.enterprises, max(able, 1))
        self.ent_codes = [f"ent-{i:04d}" for i in range(n_ent)]
        self.ent_of_good = np.arange(len(goods.codes)) % n_ent
        k = round(sc.cheater_share * n_ent)
        self.cheaters = set(self.rng.choice(n_ent, size=k, replace=False).tolist()) if k else set()
        able_idx = np.flatnonzero(self.h.able)
        self.ent_of_group = np.full(len(self.h.size), -1)
        self.ent_of_group[able_idx] = np.arange(able_idx.size) % n_ent
        self.group_codes = [f"person-{i:06d}" if sc.cohort_size == 1 else f"cohort-{i:06d}"
                            for i in range(len(self.h.size))]
        self.delegates = {e: next(int(g) for g in able_idx if self.ent_of_group[g] == e)
                          for e in range(n_ent)}
        self.shock_good = None
        if sc.shock_sector is not None:
            match = [i for i, p in enumerate(goods.products)
                     if p == sc.shock_sector or goods.codes[i] == sc.shock_sector]
            if not match:
                raise ValidationError(f"scenario `shock.sector` {sc.shock_sector!r} is not a "
                                      f"consumer good of {eco.name!r}; goods: "
                                      f"{', '.join(goods.codes[:12])}…")
            self.shock_good = match[0]

    def _group_name(self, g: int) -> str:
        n = self.sc.cohort_size
        return f"cohort {g} of {n} persons" if n > 1 else f"person {g}"

    def _money(self, units: np.ndarray) -> pd.Series:
        """Units of the goods as money amounts of their products (yearly rates)."""
        money = pd.Series(units * self.goods.size * self.sc.periods_per_year,
                          index=self.goods.products)
        return money.groupby(level=0).sum()

    def _base_plan_hours(self) -> float:
        from gosplan.planning.leontief import leontief_plan

        fd = self.fd.clip(lower=0.0)
        cols = [c for c in ("personal", "social", "investment", "stocks", "exports")
                if c in fd.columns]
        plan = leontief_plan(self.eco, fd[cols], hours_per_labour_unit=self.hpu)
        return float(plan.labour_hours)

    def open_side(self, label: str, url: str, feedback: bool) -> _Side:
        from gosplan.services.accounts import Accounts, GoodSpec

        sc, goods = self.sc, self.goods
        acc = Accounts.open(url, max_hours_per_period=Decimal(str(
            round(sc.cohort_size * 80 * self.weeks_per_period + 1))))
        for code in self.ent_codes:
            acc.open_account(code, "enterprise", code)
        for g, code in enumerate(self.group_codes):
            acc.open_account(code, "person", self._group_name(g))
        for g in np.flatnonzero(self.h.able):
            e = int(self.ent_of_group[g])
            acc.join(self.ent_codes[e], self.group_codes[g], by="works council")
        acc.add_goods([GoodSpec(code=c, name=p, labour_value=Decimal(repr(float(v))).quantize(
                           Decimal("0.000001")), unit=f"{s:g} {self.eco.output_unit or 'unit'}",
                           product=p, stock=0)
                       for c, p, v, s in zip(goods.codes, goods.products, goods.value,
                                             goods.size, strict=True)])
        return _Side(label=label, accounts=acc, feedback=feedback,
                     targets=goods.base_units / self.sc.periods_per_year,
                     capacity=np.ones(len(goods.codes)), closing=np.zeros(len(goods.codes)))

    # -- one period ------------------------------------------------------------
    def period(self, side: _Side, t: int) -> None:
        from gosplan.services.accounts import Deduction, price_units

        sc, goods, acc = self.sc, self.goods, side.accounts
        label = _period_label(sc.start, t, sc.periods_per_year)
        rng = np.random.default_rng([sc.seed, t, 1 if side.feedback else 0])
        if sc.vote_at is not None and t == sc.vote_at and side.feedback:
            side.max_week = sc.vote_max_week
        # 1. what the shops should receive: the consumption target plus the stock buffer,
        # less what they still hold (the open loop repeats the base plan's deliveries);
        # capacity caps it (a shock takes capacity away, investment brings it back)
        base = goods.base_units / sc.periods_per_year
        target = side.targets.copy()
        if side.feedback:
            # investment: capacity grows toward what the target needs, by at most
            # `capacity_growth` of the base a period (a shocked sector by `shock.recovery`)
            need = target * (1.0 + sc.buffer) / np.maximum(base * (1.0 + sc.buffer), 1e-12)
            step = np.full(need.size, sc.capacity_growth)
            if self.shock_good is not None and t > sc.shock_at:
                step[self.shock_good] = sc.shock_recovery
            grow = np.clip(need - side.capacity, 0.0, step)
            side.capacity = side.capacity + grow
            # new capacity is built: `capital_output` years of its output in investment
            # goods, spread over the next half year (time to build)
            cost = float((grow * goods.base_units * goods.size).sum()) * sc.capital_output
            n_build = max(1, sc.periods_per_year // 2)
            while len(side.build) < n_build:
                side.build.append(0.0)
            for i in range(n_build):
                side.build[i] += cost / n_build
        invest = side.build.pop(0) if side.build else 0.0
        if self.shock_good is not None and t == sc.shock_at:
            side.capacity[self.shock_good] *= 1.0 - sc.shock_loss
        cap_units = base * (1.0 + sc.buffer) * side.capacity
        # the office plans no more consumption than capacity allows
        target = np.minimum(target, cap_units / (1.0 + sc.buffer))
        if side.feedback:
            planned = np.maximum(target * (1.0 + sc.buffer) - side.closing, 0.0)
        else:
            planned = target.copy()
        made = np.minimum(planned, cap_units)
        made *= 1.0 + sc.production_noise * rng.standard_normal(made.size).clip(-3, 3)
        made = np.maximum(made, 0.0)
        # 2. the plan (yearly rates) that produces it beside social consumption and
        # investment; an adopted cap on the working week shrinks personal consumption
        plan, factor = _plan(self.eco, self.fd, self._money(made), self.phi,
                             self.h.able_persons, self.weeks_per_year, side.max_week, self.hpu,
                             extra_investment=invest * sc.periods_per_year)
        if factor < 1.0:
            target, made = target * factor, made * factor
        delivered = np.floor(made).astype(np.int64)
        # persons are credited the labour value of what they are meant to consume; the
        # deduction covers the rest (social consumption, investment, the stock buffer)
        hours_total = float(plan.labour_hours) / sc.periods_per_year
        consume_h = float((target * goods.value).sum())
        rate = min(max(1.0 - consume_h / hours_total, 0.0), 0.95) if hours_total > 0 else 0.0
        _, shares = plan.deduction_shares()
        fund_shares = {str(k): float(v) for k, v in shares.items() if float(v) > 0}
        if not fund_shares:
            fund_shares = {"stocks": 1.0}
        total_share = sum(fund_shares.values())
        deduction = Deduction(
            rate=Decimal(repr(round(rate, 6))),
            shares={k: (Decimal(repr(round(v / total_share, 6)))) for k, v in
                    fund_shares.items()},
            source=f"living plan {sc.name}, period {label}")
        deduction = _normalise_shares(deduction)
        acc.open_period(label, deduction)
        # 3. hours: the plan's labour for the period, shared by the able groups
        able_idx = np.flatnonzero(self.h.able)
        per_person = hours_total / self.h.able_persons
        key = f"{side.label}:{label}"
        with acc.batch() as b:
            for e, code in enumerate(self.ent_codes):
                delegate = self.group_codes[self.delegates[e]]
                for g in able_idx[self.ent_of_group[able_idx] == e]:
                    h = Decimal(repr(round(per_person * float(self.h.size[g]), 4)))
                    b.record_hours(code, self.group_codes[int(g)], label, h,
                                   key=f"{key}:rec:{code}:{g}", recorded_by=delegate)
            for e, code in enumerate(self.ent_codes):
                approver = self.group_codes[self.delegates[(e + 1) % len(self.ent_codes)]]
                if len(self.ent_codes) == 1:
                    approver = "works-council"
                b.approve(code, label, key=f"{key}:appr:{code}", approver=approver)
            for i, code in enumerate(goods.codes):
                if delivered[i] > 0:
                    b.deliver(code, int(delivered[i]), key=f"{key}:dlv:{code}")
        # enterprise reports: cheats inflate what they report; shops count what arrived
        reported = delivered.astype(float).copy()
        for i in range(len(goods.codes)):
            if int(self.ent_of_good[i]) in self.cheaters:
                reported[i] *= 1.0 + sc.cheater_inflate
        mismatch = np.abs(reported - delivered) > np.maximum(1.0, 0.02 * delivered)
        found = sorted({self.ent_codes[int(self.ent_of_good[i])]
                        for i in np.flatnonzero(mismatch)})
        # 4. purchases at the current prices, households in random order
        infos = {g.code: g for g in acc.goods()}
        price_u = np.array([price_units(infos[c].labour_value, infos[c].ratio)
                            for c in goods.codes], dtype=np.int64)
        stock = np.array([infos[c].stock for c in goods.codes], dtype=np.int64)
        balances_u = np.array([int(acc.balance(c) * 1_000_000) for c in self.group_codes],
                              dtype=np.int64)
        want = wanted(self.h, balances_u / 1e6, price_u / 1e6)
        order = rng.permutation(len(self.group_codes))
        bought = ration_in_order(want, stock, order)
        spend = (bought * price_u[None, :]).sum(axis=1)
        over = spend > balances_u
        if over.any():  # rounding of prices: trim the dearest line until it fits
            for g in np.flatnonzero(over):
                while (bought[g] * price_u).sum() > balances_u[g]:
                    j = int(np.argmax(np.where(bought[g] > 0, price_u, -1)))
                    bought[g, j] -= 1
        with acc.batch() as b:
            for g in range(len(self.group_codes)):
                for j in np.flatnonzero(bought[g]):
                    b.buy(self.group_codes[g], goods.codes[j], int(bought[g, j]),
                          key=f"{key}:buy:{g}:{j}")
        acc.close_period(label)
        report = acc.feedback(label, elasticity=sc.elasticity,
                              target_sell_through=sc.sell_through, max_step=sc.max_step)
        tab = report.table.reindex(goods.codes)
        # 5. figures
        wanted_units = np.floor(want + 1e-9).sum(axis=0)
        unmet_units = np.maximum(wanted_units - bought.sum(axis=0), 0.0)
        v = goods.value
        unmet_share = float((unmet_units * v).sum() / max((wanted_units * v).sum(), 1e-12))
        with np.errstate(divide="ignore", invalid="ignore"):
            by_good = np.where(wanted_units > 0, unmet_units / wanted_units, 0.0)
        available = tab["available"].to_numpy(dtype=float)
        closing = tab["closing"].to_numpy(dtype=float)
        sold = tab["sold"].to_numpy(dtype=float)
        ratios = tab["ratio"].to_numpy(dtype=float)
        opening = tab["opening"].to_numpy(dtype=float)
        dlv = tab["delivered"].to_numpy(dtype=float)
        totals = acc.totals(label)
        stock_ok = bool(np.all(opening + dlv - sold == closing) and np.all(sold <= available)
                        and np.all(dlv == delivered))
        hours_ok = (totals["approved"] == totals["credited_persons"] + totals["credited_funds"]
                    and abs(float(totals["credited_funds"])
                            - float(totals["approved"]) * float(deduction.rate)) <= 1e-3
                    * max(1.0, float(totals["approved"])))
        weeks = self.weeks_per_period * self.h.able_persons
        lab = plan.labour_by_purpose / sc.periods_per_year / weeks
        side.rows.append({
            "side": side.label, "period": label, "t": t,
            "unmet_share": unmet_share,
            "excess_stock": float((closing * v).sum() / max((available * v).sum(), 1e-12)),
            "ratio_cv": dispersion(ratios, weights=np.maximum(sold * v, 0.0) + 1e-12),
            "ratio_mean": float(np.average(ratios, weights=np.maximum(sold * v, 0) + 1e-12)),
            "working_week": hours_total / weeks,
            "labour_personal": float(lab.get("personal", 0.0)),
            "labour_social": float(lab.get("social", 0.0)),
            "labour_investment": float(lab.get("investment", 0.0)),
            "capacity_built": invest,
            "personal_factor": factor,
            "credited": float(totals["credited_persons"]),
            "spent": float((bought * price_u[None, :]).sum() / 1e6),
            "delivered_hours": float((delivered * v).sum()),
            "reports_inflated": int(sum(1 for e in range(len(self.ent_codes))
                                        if e in self.cheaters)),
            "mismatches_found": len(found),
            "deduction_rate": float(deduction.rate),
            "approved_hours": float(totals["approved"]),
            "stock_balanced": stock_ok,
            "hours_conserved": hours_ok,
        })
        side.unmet_by_good.append(by_good)
        side.ratios.append(ratios)
        side.sold.append(sold)
        side.delivered.append(delivered.astype(float))
        side.found.update(found)
        # 6. feedback: prices and next targets (the loop only)
        if side.feedback:
            acc.apply_feedback(report)
            clearing = tab["clearing_ratio"].to_numpy(dtype=float)
            side.targets = target * np.power(np.maximum(clearing, 1e-9), sc.elasticity)
        else:
            side.targets = goods.base_units / sc.periods_per_year
        side.closing = closing
        self._log(side, label, plan)

    def _log(self, side: _Side, label: str, plan: Any) -> None:
        from gosplan.services import publiclog
        from gosplan.storage.base import session_scope

        row = {k: (round(v, 9) if isinstance(v, float) else v) for k, v in side.rows[-1].items()}
        row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for k, v in row.items()}
        with session_scope(side.accounts.engine) as s:
            e = publiclog.append(s, "living.period", {
                "run": self.sc.digest[:16], "plan_digest": _digest(plan.gross_output),
                **row})
            if side.feedback:
                self.log_indices.append(e.index)

    def start_log(self, side: _Side) -> None:
        from gosplan.services import publiclog
        from gosplan.storage.base import session_scope

        with session_scope(side.accounts.engine) as s:
            e = publiclog.append(s, "living.run", {
                "run": self.sc.digest[:16], "side": side.label, "scenario": self.sc.to_json(),
                "goods": self.goods.codes, "persons": self.h.persons,
                "able": self.h.able_persons, "enterprises": len(self.ent_codes),
                "shifted_goods": [self.goods.codes[i] for i in self.shifted]})
            if side.feedback:
                self.log_indices.append(e.index)

    def conservation(self, side: _Side) -> dict[str, Any]:
        """The ledger's invariants, and the run's own balances, over every period."""
        acc = side.accounts
        problems = acc.check_integrity()
        credited = sum((acc.balance(c) for c in self.group_codes), Decimal(0))
        earned = sum((Decimal(repr(r["credited"])) for r in side.rows), Decimal(0))
        spent = sum((Decimal(repr(r["spent"])) for r in side.rows), Decimal(0))
        negative = [c for c in self.group_codes if acc.balance(c) < 0]
        return {
            "ledger_problems": problems,
            "stocks_balance": all(r["stock_balanced"] for r in side.rows),
            "hours_credited_equal_hours_less_deduction": all(r["hours_conserved"]
                                                             for r in side.rows),
            "balances_equal_credits_less_purchases": abs(credited - (earned - spent))
            <= Decimal("0.001") * max(Decimal(1), earned),
            "no_negative_balance": not negative,
        }


def run(scenario: Scenario, store_url: str, *, twin_url: str | None = None,
        progress: Progress | None = None) -> LivingPlanRun:
    """Run ``scenario`` through the store at ``store_url`` (and the open-loop twin through
    ``twin_url``, a second, empty store) and return its figures."""
    r = _Runner(scenario, store_url, twin_url, progress)
    r.setup()
    sides = [r.open_side("loop", store_url, True)]
    if scenario.open_loop:
        if twin_url is None:
            raise ValidationError("the open-loop twin needs a second store (`twin_url`).")
        sides.append(r.open_side("open-loop", twin_url, False))
    try:
        for side in sides:
            r.start_log(side)
        total = scenario.periods * len(sides)
        done = 0
        for t in range(scenario.periods):
            for side in sides:
                r.period(side, t)
                done += 1
                if progress is not None:
                    progress(f"{side.label} period {t + 1}/{scenario.periods}", done, total)
        checks: dict[str, Any] = {side.label: r.conservation(side) for side in sides}
    finally:
        for side in sides:
            side.accounts.close()
    periods = pd.DataFrame([row for side in sides for row in side.rows])
    loop = sides[0]
    index = [row["period"] for row in loop.rows]
    by_good = pd.DataFrame(np.vstack(loop.unmet_by_good), columns=r.goods.codes, index=index)
    ratios = pd.DataFrame(np.vstack(loop.ratios), columns=r.goods.codes, index=index)
    sold = pd.DataFrame(np.vstack(loop.sold), columns=r.goods.codes, index=index)
    delivered = pd.DataFrame(np.vstack(loop.delivered), columns=r.goods.codes, index=index)
    goods = pd.DataFrame({"code": r.goods.codes, "product": r.goods.products,
                          "hours_per_unit": r.goods.value, "unit_size": r.goods.size,
                          "shifted": [i in set(r.shifted.tolist())
                                      for i in range(len(r.goods.codes))]})
    checks["cheaters"] = sorted(r.ent_codes[e] for e in r.cheaters)
    checks["found"] = sorted(loop.found)
    checks["shock_good"] = (r.goods.codes[r.shock_good] if r.shock_good is not None else None)
    return LivingPlanRun(scenario=scenario, periods=periods, unmet_by_good=by_good,
                         goods=goods, checks=checks, log_indices=r.log_indices, ratios=ratios,
                         sold=sold, delivered=delivered)


def runs_from_log(entries: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Runs recorded in the public log: scenario and figures per period, by run id."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        p = e.get("payload") or {}
        if e.get("kind") == "living.run" and p.get("side", "loop") == "loop":
            out[str(p["run"])] = {"run": p["run"], "scenario": p["scenario"],
                                  "goods": p.get("goods", []), "periods": [],
                                  "start_index": e["index"]}
        elif e.get("kind") == "living.period" and str(p.get("run")) in out \
                and p.get("side") == "loop":
            out[str(p["run"])]["periods"].append({**p, "index": e["index"]})
    return out
