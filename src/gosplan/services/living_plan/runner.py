"""The living plan's runner: each period through the real services, for the loop and its
open-loop twin (see :mod:`gosplan.services.living_plan` for the cycle).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.planning.living import dispersion, ration_in_order, wanted
from gosplan.services.living_plan.figures import LivingPlanRun, runs_from_log
from gosplan.services.living_plan.runner_setup import (
    CARE_FUND,
    WORKS,
    Progress,
    _RunnerSetup,
    _Side,
    decisions_rules,
)
from gosplan.services.living_plan.scenario import Scenario
from gosplan.services.living_plan.world import (
    normalise_shares,
    period_label,
    period_start,
    plan_period,
    table_digest,
)

__all__ = ["LivingPlanRun", "run", "runs_from_log"]


# --------------------------------------------------------------------------- one period


class _Runner(_RunnerSetup):
    # -- one period ------------------------------------------------------------
    def period(self, side: _Side, t: int) -> None:
        from gosplan.services.accounts import Deduction, price_units

        sc, goods, acc = self.sc, self.goods, side.accounts
        label = period_label(sc.start, t, sc.periods_per_year)
        rng = np.random.default_rng([sc.seed, t, 1 if side.feedback else 0])
        if side.assembly is not None and t == sc.vote_at and sc.vote_max_week is not None:
            # the proposal is made, discussed, voted on and closed before the period opens;
            # the plan follows what the decisions service says was adopted
            rules = decisions_rules()
            hours_before = rules.min_discussion_hours + rules.min_voting_hours
            planned = side.rows[-1]["working_week"] if side.rows else sc.base_week
            self.vote = side.assembly.vote_on_week(
                cap=sc.vote_max_week,
                planned_week=float(planned),
                opens=period_start(sc.start, t, sc.periods_per_year)
                - dt.timedelta(hours=hours_before),
                support=sc.vote_support,
                turnout=sc.vote_turnout,
                rng=np.random.default_rng([sc.seed, t, 13]),
            )
            self.vote["period"] = label
            side.max_week = self.vote["hours"]
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
        scheduled = made.copy()  # what the enterprise works to make (before the noise)
        made *= 1.0 + sc.production_noise * rng.standard_normal(made.size).clip(-3, 3)
        made = np.maximum(made, 0.0)
        # 2. the plan (yearly rates) that produces it beside social consumption and
        # investment; an adopted cap on the working week shrinks personal consumption
        plan, factor = plan_period(
            self.eco,
            self.fd,
            self._money(made),
            self.phi,
            self.h.able_persons,
            self.weeks_per_year,
            side.max_week,
            self.hpu,
            extra_investment=invest * sc.periods_per_year,
        )
        if factor < 1.0:
            target, made, scheduled = target * factor, made * factor, scheduled * factor
        delivered = np.floor(made).astype(np.int64)
        # persons are credited the labour value of what they are meant to consume; the
        # deduction covers the rest (social consumption, investment, the stock buffer)
        # persons unable to work get their per-head share from the `care` fund
        hours_total = float(plan.labour_hours) / sc.periods_per_year
        consume_h = float((target * goods.value).sum())
        work_credit = consume_h * self.h.able_persons / max(self.h.persons, 1)
        grants_h = consume_h - work_credit
        rate = min(max(1.0 - work_credit / hours_total, 0.0), 0.95) if hours_total > 0 else 0.0
        _, shares = plan.deduction_shares()
        fund_shares = {str(k): float(v) for k, v in shares.items() if float(v) > 0}
        if not fund_shares:
            fund_shares = {"stocks": 1.0}
        total_share = sum(fund_shares.values())
        fund_h = rate * hours_total
        care = min(grants_h / fund_h, 1.0) if fund_h > 0 and grants_h > 0 else 0.0
        fund_shares = {k: v / total_share * (1.0 - care) for k, v in fund_shares.items()}
        if care > 0:
            fund_shares[CARE_FUND] = fund_shares.get(CARE_FUND, 0.0) + care
        fund_shares = {k: v for k, v in fund_shares.items() if v > 0}
        deduction = Deduction(
            rate=Decimal(repr(round(rate, 6))),
            shares={k: Decimal(repr(round(v, 6))) for k, v in fund_shares.items()},
            source=f"living plan {sc.name}, period {label}",
        )
        deduction = normalise_shares(deduction)
        acc.open_period(label, deduction)
        # 3. hours: the plan's labour for the period.  Each enterprise works the labour
        # value of what it sets out to make, shared by its members; the rest (social
        # consumption, investment, the stock) is worked by everyone able, equally, for
        # the public works
        able_idx = np.flatnonzero(self.h.able)
        n_ent = len(self.ent_codes)
        direct = np.bincount(
            self.ent_of_good, weights=scheduled * goods.value, minlength=n_ent
        ).astype(float)
        if float(direct.sum()) > hours_total > 0:
            direct = direct * (hours_total / float(direct.sum()))
        works_h = max(hours_total - float(direct.sum()), 0.0)
        members = np.bincount(
            self.ent_of_group[able_idx], weights=self.h.size[able_idx], minlength=n_ent
        )
        per_person_e = direct / np.maximum(members, 1.0)
        per_person_works = works_h / max(float(self.h.size[able_idx].sum()), 1.0)
        key = f"{side.label}:{label}"
        ent_of_able = self.ent_of_group[able_idx]
        with acc.batch() as b:
            # each enterprise's delegate records its members' hours in one record set; the
            # public works office records everyone's share of the rest; each set is
            # approved by someone else (the next enterprise's delegate, the works council)
            sets: list[tuple[str, str, list[tuple[str, Decimal]], str, str]] = []
            approvals: list[tuple[str, str, str, str, str | None]] = []
            for e, code in enumerate(self.ent_codes):
                rows = [
                    (self.group_codes[int(g)], h)
                    for g in able_idx[ent_of_able == e]
                    if (
                        h := Decimal(repr(round(float(per_person_e[e]) * float(self.h.size[g]), 4)))
                    )
                    > 0
                ]
                if rows:
                    sets.append(
                        (
                            code,
                            label,
                            rows,
                            f"{key}:rec:{code}",
                            self.group_codes[self.delegates[e]],
                        )
                    )
            if works_h > 0:
                sets.append(
                    (
                        WORKS,
                        label,
                        [
                            (
                                self.group_codes[int(g)],
                                Decimal(repr(round(per_person_works * float(self.h.size[g]), 4))),
                            )
                            for g in able_idx
                        ],
                        f"{key}:rec:{WORKS}",
                        "public works office",
                    )
                )
                approvals.append((WORKS, label, f"{key}:appr:{WORKS}", "works council", None))
            for e, code in enumerate(self.ent_codes):
                if float(per_person_e[e]) <= 0:
                    continue
                approver = self.group_codes[self.delegates[(e + 1) % len(self.ent_codes)]]
                if len(self.ent_codes) == 1:
                    approver = "works-council"
                approvals.append((code, label, f"{key}:appr:{code}", approver, None))
            b.record_hours_sets(sets)
            b.approve_many(approvals)
            b.deliver_many(
                [
                    (code, int(delivered[i]), f"{key}:dlv:{code}")
                    for i, code in enumerate(goods.codes)
                    if delivered[i] > 0
                ]
            )
        granted, grants_ok = self._grants(acc, label, key, grants_h) if care > 0 else (0.0, True)
        # enterprise reports: cheats inflate what they report; shops count what arrived
        reported = delivered.astype(float).copy()
        cheating = t >= sc.cheater_at
        for i in range(len(goods.codes)):
            if cheating and int(self.ent_of_good[i]) in self.cheaters:
                reported[i] *= 1.0 + sc.cheater_inflate
        mismatch = np.abs(reported - delivered) > np.maximum(1.0, 0.02 * delivered)
        found = sorted({self.ent_codes[int(self.ent_of_good[i])] for i in np.flatnonzero(mismatch)})
        # ... and the fulfilment checks read the same reports: output (in the economy's
        # unit) and the hours the enterprise's members worked, as the accounts hold them
        stat_flags: list[dict[str, Any]] = []
        if side.inspection is not None:
            n_ent = len(self.ent_codes)
            out_e = np.bincount(self.ent_of_good, weights=reported * goods.size, minlength=n_ent)
            worked = np.zeros(n_ent)
            np.add.at(
                worked,
                self.ent_of_group[able_idx],
                per_person_e[self.ent_of_group[able_idx]] * self.h.size[able_idx],
            )
            stat_flags = side.inspection.period(
                t, label, out_e[self.inspected], worked[self.inspected]
            )
        # 4. purchases at the current prices, households in random order
        infos = {g.code: g for g in acc.goods()}
        price_u = np.array(
            [price_units(infos[c].labour_value, infos[c].ratio) for c in goods.codes],
            dtype=np.int64,
        )
        stock = np.array([infos[c].stock for c in goods.codes], dtype=np.int64)
        held = _balances(acc)  # every account's balance in one read
        balances_u = np.array([int(held[c] * 1_000_000) for c in self.group_codes], dtype=np.int64)
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
        # the shops' tills: each household's basket one ledger transaction (a line a
        # good), rung up in the order the households came, written in bulk
        with acc.batch() as b:
            b.buy_baskets(_baskets(bought, order, self.group_codes, goods.codes, key))
        acc.close_period(label)
        report = acc.feedback(
            label,
            elasticity=sc.elasticity,
            target_sell_through=sc.sell_through,
            max_step=sc.max_step,
        )
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
        stock_ok = bool(
            np.all(opening + dlv - sold == closing)
            and np.all(sold <= available)
            and np.all(dlv == delivered)
        )
        hours_ok = totals["approved"] == totals["credited_persons"] + totals[
            "credited_funds"
        ] and abs(
            float(totals["credited_funds"]) - float(totals["approved"]) * float(deduction.rate)
        ) <= 1e-3 * max(1.0, float(totals["approved"]))
        weeks = self.weeks_per_period * self.h.able_persons
        lab = plan.labour_by_purpose / sc.periods_per_year / weeks
        side.rows.append(
            {
                "side": side.label,
                "period": label,
                "t": t,
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
                "granted": granted,
                "grants_balanced": grants_ok,
                "spent": float((bought * price_u[None, :]).sum() / 1e6),
                "delivered_hours": float((delivered * v).sum()),
                "reports_inflated": int(
                    sum(1 for e in range(len(self.ent_codes)) if e in self.cheaters)
                ),
                "mismatches_found": len(found),
                "statistical_flags": len(stat_flags),
                "deduction_rate": float(deduction.rate),
                "approved_hours": float(totals["approved"]),
                "stock_balanced": stock_ok,
                "hours_conserved": hours_ok,
            }
        )
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

    def _grants(self, acc: Any, label: str, key: str, grants_h: float) -> tuple[float, bool]:
        """Credit each household unable to work its per-head share of personal consumption
        from the care fund (no more than the fund holds); (hours granted, whether the fund
        fell by exactly what the households received)."""
        unable = np.flatnonzero(~self.h.able)
        if not unable.size or grants_h <= 0:
            return 0.0, True
        fund = f"fund:{CARE_FUND}"
        before = acc.balance(fund)
        heads = self.h.size[unable].astype(float)
        want = grants_h * heads / max(float(heads.sum()), 1e-300)  # the same per head
        scale = min(1.0, float(before) / max(float(want.sum()), 1e-300))
        amounts = [Decimal(math.floor(w * scale * 1e6)) / Decimal(1_000_000) for w in want]
        held_before = _balances(acc)
        held = [held_before[self.group_codes[int(g)]] for g in unable]
        with acc.batch() as b:
            b.grant_many(
                [
                    (
                        CARE_FUND,
                        self.group_codes[int(g)],
                        label,
                        amount,
                        f"{key}:grant:{g}",
                        "care council",
                        f"provision for those unable to work, period {label}",
                    )
                    for g, amount in zip(unable, amounts, strict=True)
                    if amount > 0
                ]
            )
        after = acc.balance(fund)
        total = sum(amounts, Decimal(0))
        held_after = _balances(acc)
        ok = before - after == total and all(
            held_after[self.group_codes[int(g)]] - h == a
            for g, h, a in zip(unable, held, amounts, strict=True)
        )
        return float(total), ok

    def _log(self, side: _Side, label: str, plan: Any) -> None:
        from gosplan.services import publiclog
        from gosplan.storage.base import session_scope

        row = {k: (round(v, 9) if isinstance(v, float) else v) for k, v in side.rows[-1].items()}
        row = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()
        }
        with session_scope(side.accounts.engine) as s:
            e = publiclog.append(
                s,
                "living.period",
                {"run": self.sc.digest[:16], "plan_digest": table_digest(plan.gross_output), **row},
            )
            if side.feedback:
                self.log_indices.append(e.index)


def _baskets(
    bought: np.ndarray, order: np.ndarray, groups: list[str], codes: list[str], key: str
) -> list[tuple[str, list[tuple[str, int]], str]]:
    """``bought`` (households × goods) as baskets in the households' ``order``:
    ``(account, [(good, units), ...], key)``, households that bought nothing left out."""
    rows = bought[order]
    gs, js = np.nonzero(rows)
    q = rows[gs, js].tolist()
    lines = list(zip([codes[j] for j in js.tolist()], q, strict=True))
    cut = np.searchsorted(gs, np.arange(rows.shape[0] + 1)).tolist()
    out = []
    for i, g in enumerate(order.tolist()):
        if cut[i + 1] > cut[i]:
            out.append((groups[g], lines[cut[i] : cut[i + 1]], f"{key}:basket:{g}"))
    return out


def _balances(acc: Any) -> dict[str, Decimal]:
    """Every person (or cohort) account's balance, in one read (the cached balances,
    which the closing integrity check holds equal to the postings)."""
    return dict(acc.balances("person"))


def run(
    scenario: Scenario,
    store_url: str,
    *,
    twin_url: str | None = None,
    progress: Progress | None = None,
) -> LivingPlanRun:
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
    goods = pd.DataFrame(
        {
            "code": r.goods.codes,
            "product": r.goods.products,
            "hours_per_unit": r.goods.value,
            "unit_size": r.goods.size,
            "shifted": [i in set(r.shifted.tolist()) for i in range(len(r.goods.codes))],
        }
    )
    checks["cheaters"] = sorted(r.ent_codes[e] for e in r.cheaters)
    checks["found"] = sorted(loop.found)
    checks["statistical"] = (
        loop.inspection.summary({r.ent_codes[e] for e in r.cheaters}, scenario.cheater_at)
        if loop.inspection is not None
        else {"ran": False, "flags": [], "found": {}, "missed": [], "honest_flagged": []}
    )
    checks["vote"] = r.vote
    checks["shock_good"] = r.goods.codes[r.shock_good] if r.shock_good is not None else None
    return LivingPlanRun(
        scenario=scenario,
        periods=periods,
        unmet_by_good=by_good,
        goods=goods,
        checks=checks,
        log_indices=r.log_indices,
        ratios=ratios,
        sold=sold,
        delivered=delivered,
    )
