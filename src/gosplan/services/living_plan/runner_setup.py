"""The living plan's world as the runner sets it up: the economy scaled to the run's
population, the households and enterprises, and each side's store (the loop's and the
open-loop twin's), with the checks of conservation that close a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.planning.living import Households, draw_households, shift_tastes
from gosplan.services.living_plan.assembly import Assembly
from gosplan.services.living_plan.inspection import Inspection
from gosplan.services.living_plan.scenario import Scenario
from gosplan.services.living_plan.world import economy_and_goods

Progress = Callable[[str, int, int], None]
#: the social fund that provides for those unable to work
CARE_FUND = "care"
#: the enterprise whose hours are social consumption, investment and the stock
WORKS = "public-works"


def decisions_rules() -> Any:
    from gosplan.services.decisions import Rules

    return Rules()


# --------------------------------------------------------------------------- the world


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
    inspection: Inspection | None = None
    assembly: Assembly | None = None


# --------------------------------------------------------------------------- setup


class _RunnerSetup:
    def __init__(
        self, sc: Scenario, store_url: str, twin_url: str | None, progress: Progress | None
    ) -> None:
        self.sc = sc
        self.store_url = store_url
        self.twin_url = twin_url
        self.progress = progress
        self.rng = np.random.default_rng(sc.seed)
        self.log_indices: list[int] = []
        self.checks: dict[str, Any] = {}
        self.vote: dict[str, Any] | None = None
        #: the enterprises whose reports go through the fulfilment checks
        self.inspected: np.ndarray = np.array([], dtype=np.int64)

    # -- setup ---------------------------------------------------------------
    def setup(self) -> None:
        sc = self.sc
        eco, goods, vals, hpu = economy_and_goods(sc)
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
                base_shares, rng=self.rng, fraction=sc.taste_fraction, size=sc.taste_size
            )
        else:
            self.shifted = np.array([], dtype=int)
        if sc.taste_goods:
            shares = self.true_shares.copy()
            picked = []
            for name, factor in sc.taste_goods:
                hits = [
                    i
                    for i, (c, p) in enumerate(zip(goods.codes, goods.products, strict=True))
                    if name in (c, p)
                ]
                if not hits:
                    raise ValidationError(
                        f"scenario [tastes] goods: {name!r} is not a consumer "
                        f"good here; goods: {', '.join(goods.codes[:12])}"
                    )
                shares[hits[0]] *= factor
                picked.append(hits[0])
            self.true_shares = shares / shares.sum()
            self.shifted = np.union1d(self.shifted, np.array(picked, dtype=int))
        groups = max(1, sc.persons // sc.cohort_size)
        self.h: Households = draw_households(
            self.true_shares,
            groups,
            rng=self.rng,
            concentration=sc.concentration,
            unable_share=sc.unable_share,
            size=sc.cohort_size,
        )
        able = self.h.able_persons
        # scale the economy to the run's population: its able persons work the base week
        base = self._base_plan_hours()
        self.phi = able * sc.base_week * 46.0 / base
        self.weeks_per_year = 46.0
        goods.base_units = base_shares_money * self.phi / goods.size
        self.personal_base_money = personal * self.phi
        self.weeks_per_period = self.weeks_per_year / sc.periods_per_year
        # enterprises: each good's sector belongs to one enterprise (round robin)
        able_idx = np.flatnonzero(self.h.able)
        n_ent = min(sc.enterprises, max(able_idx.size, 1))
        self.ent_codes = [f"ent-{i:04d}" for i in range(n_ent)]
        self.ent_of_good = np.arange(len(goods.codes)) % n_ent
        k = round(sc.cheater_share * n_ent)
        self.cheaters = set(self.rng.choice(n_ent, size=k, replace=False).tolist()) if k else set()
        # the able join the enterprises in proportion to the labour their goods take (at
        # least one each), so that each enterprise's hours follow what it makes
        weight = np.bincount(
            self.ent_of_good, weights=goods.base_units * goods.value, minlength=n_ent
        ).astype(float)
        self.ent_weight: np.ndarray = weight / max(float(weight.sum()), 1e-300)
        spare = max(able_idx.size - n_ent, 0)
        quota = spare * self.ent_weight
        counts = 1 + np.floor(quota).astype(np.int64)
        rest = spare + n_ent - int(counts.sum())
        if rest > 0:
            counts[np.argsort(-(quota - np.floor(quota)), kind="stable")[:rest]] += 1
        self.ent_of_group = np.full(len(self.h.size), -1)
        self.ent_of_group[able_idx] = np.repeat(np.arange(n_ent), counts)[: able_idx.size]
        self.group_codes = [
            f"person-{i:06d}" if sc.cohort_size == 1 else f"cohort-{i:06d}"
            for i in range(len(self.h.size))
        ]
        self.delegates = {
            e: next(int(g) for g in able_idx if self.ent_of_group[g] == e) for e in range(n_ent)
        }
        self.shock_good = None
        if sc.shock_sector is not None:
            match = [
                i
                for i, p in enumerate(goods.products)
                if p == sc.shock_sector or goods.codes[i] == sc.shock_sector
            ]
            if not match:
                raise ValidationError(
                    f"scenario `shock.sector` {sc.shock_sector!r} is not a "
                    f"consumer good of {eco.name!r}; goods: "
                    f"{', '.join(goods.codes[:12])}…"
                )
            self.shock_good = match[0]

    def _group_name(self, g: int) -> str:
        n = self.sc.cohort_size
        return f"cohort {g} of {n} persons" if n > 1 else f"person {g}"

    def _money(self, units: np.ndarray) -> pd.Series:
        """Units of the goods as money amounts of their products (yearly rates)."""
        money = pd.Series(
            units * self.goods.size * self.sc.periods_per_year, index=self.goods.products
        )
        return money.groupby(level=0).sum()

    def _base_plan_hours(self) -> float:
        from gosplan.planning.leontief import leontief_plan

        fd = self.fd.clip(lower=0.0)
        cols = [
            c for c in ("personal", "social", "investment", "stocks", "exports") if c in fd.columns
        ]
        plan = leontief_plan(self.eco, fd[cols], hours_per_labour_unit=self.hpu)
        return float(plan.labour_hours)

    def open_side(self, label: str, url: str, feedback: bool) -> _Side:
        from gosplan.services.accounts import MAX_HOURS_PER_RECORD, Accounts, GoodSpec

        sc, goods = self.sc, self.goods
        # an account holds a cohort of `cohort_size` persons: the caps scale with it
        acc = Accounts.open(
            url,
            max_hours_per_period=Decimal(
                str(round(sc.cohort_size * 80 * self.weeks_per_period + 1))
            ),
            max_hours_per_record=sc.cohort_size * MAX_HOURS_PER_RECORD,
        )
        with acc.batch() as b:  # one transaction: accounts, then memberships (public events)
            b.open_accounts(
                [(code, "enterprise", code) for code in self.ent_codes]
                + [(WORKS, "enterprise", "public works: social consumption, investment, stock")]
                + [(code, "person", self._group_name(g)) for g, code in enumerate(self.group_codes)]
            )
        with acc.batch() as b:
            b.join_many(
                [
                    (ent, self.group_codes[g])
                    for g in np.flatnonzero(self.h.able)
                    for ent in (self.ent_codes[int(self.ent_of_group[g])], WORKS)
                ],
                by="works council",
            )
        acc.add_goods(
            [
                GoodSpec(
                    code=c,
                    name=p,
                    labour_value=Decimal(repr(float(v))).quantize(Decimal("0.000001")),
                    unit=f"{s:g} {self.eco.output_unit or 'unit'}",
                    product=p,
                    stock=0,
                )
                for c, p, v, s in zip(
                    goods.codes, goods.products, goods.value, goods.size, strict=True
                )
            ]
        )
        side = _Side(
            label=label,
            accounts=acc,
            feedback=feedback,
            targets=goods.base_units / self.sc.periods_per_year,
            capacity=np.ones(len(goods.codes)),
            closing=np.zeros(len(goods.codes)),
        )
        freq = Inspection.freq_of(sc.periods_per_year)
        if feedback and freq is not None:
            # the enterprises' reports go through the fulfilment register and its checks
            # (an enterprise with no good to make — more enterprises than goods — has no
            # planned output and files no reports: it is not registered)
            per_period = goods.base_units * goods.size / sc.periods_per_year
            n_ent = len(self.ent_codes)
            base_out = np.bincount(self.ent_of_good, weights=per_period, minlength=n_ent)
            self.inspected = np.flatnonzero(base_out > 0)
            side.inspection = Inspection(
                engine=acc.engine,
                codes=[self.ent_codes[e] for e in self.inspected],
                sectors=[goods.products[e % len(goods.products)] for e in self.inspected],
                base_output=base_out[self.inspected],
                freq=freq,
                start=pd.Timestamp(f"{sc.start}-01"),
                periods=sc.periods,
            )
            side.inspection.register(self.eco, sc.name)
        if feedback and sc.vote_at is not None:
            # the households vote through the decisions service
            side.assembly = Assembly.enrol(
                acc.engine,
                sc.digest[:16],
                self.group_codes,
                rng=np.random.default_rng([sc.seed, 11]),
            )
        return side

    def start_log(self, side: _Side) -> None:
        from gosplan.services import publiclog
        from gosplan.storage.base import session_scope

        with session_scope(side.accounts.engine) as s:
            e = publiclog.append(
                s,
                "living.run",
                {
                    "run": self.sc.digest[:16],
                    "side": side.label,
                    "scenario": self.sc.to_json(),
                    "goods": self.goods.codes,
                    "persons": self.h.persons,
                    "able": self.h.able_persons,
                    "enterprises": len(self.ent_codes),
                    "shifted_goods": [self.goods.codes[i] for i in self.shifted],
                },
            )
            if side.feedback:
                self.log_indices.append(e.index)

    def conservation(self, side: _Side) -> dict[str, Any]:
        """The ledger's invariants, and the run's own balances, over every period."""
        acc = side.accounts
        problems = acc.check_integrity()
        held = acc.balances("person", derived=True)  # from the postings, not the cache
        credited = sum((held[c] for c in self.group_codes), Decimal(0))
        earned = sum(
            (Decimal(repr(r["credited"])) + Decimal(repr(r["granted"])) for r in side.rows),
            Decimal(0),
        )
        spent = sum((Decimal(repr(r["spent"])) for r in side.rows), Decimal(0))
        negative = [c for c in self.group_codes if held[c] < 0]
        return {
            "ledger_problems": problems,
            "stocks_balance": all(r["stock_balanced"] for r in side.rows),
            "hours_credited_equal_hours_less_deduction": all(
                r["hours_conserved"] for r in side.rows
            ),
            "grants_debit_the_fund_by_what_persons_receive": all(
                r["grants_balanced"] for r in side.rows
            ),
            "balances_equal_credits_less_purchases": abs(credited - (earned - spent))
            <= Decimal("0.001") * max(Decimal(1), earned),
            "no_negative_balance": not negative,
        }
