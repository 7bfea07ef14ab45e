"""Each check on hand-built populations whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gosplan.services.fulfilment.checks import (
    DELIVERY,
    INPUT,
    Population,
    build_panel,
    credibility,
    run_checks,
)

E, T = 24, 12
NORM, HOURS = 0.5, 2.0


def population() -> Population:
    """E enterprises in one sector; enterprise e is supplied by e+1 (mod E)."""
    starts = pd.date_range("2027-01-04", periods=T + 1, freq="7D")
    return Population(
        codes=np.array([f"E{e:02d}" for e in range(E)], dtype=object),
        sector=np.zeros(E, dtype=np.int64), sectors=["metal"], capacity=np.ones(E),
        hours_norm=np.full(E, HOURS), norm_enterprise=np.arange(E),
        norm_product=np.zeros(E, dtype=np.int64), norm_per_unit=np.full(E, NORM),
        periods=starts[:-1], period_ends=starts[1:], plan=np.full((E, T), 100.0))


class Honest:
    """Honest figures with 1 % noise; tests then spoil one enterprise."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.output = 100.0 * (1 + 0.01 * rng.standard_normal((E, T)))
        self.hours = HOURS * self.output * (1 + 0.01 * rng.standard_normal((E, T)))
        self.received = NORM * self.output * (1 + 0.01 * rng.standard_normal((E, T)))
        self.delivered = self.received * (1 + 0.002 * rng.standard_normal((E, T)))
        self.lag = np.full((E, T), 1.0)
        self.filed = np.ones((E, T), dtype=bool)

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        e, t = np.nonzero(self.filed)
        reports = pd.DataFrame({"enterprise": e, "period": t, "output": self.output[e, t],
                                "hours": self.hours[e, t], "lag_days": self.lag[e, t]})
        sup = (e + 1) % E
        lines = pd.DataFrame({
            "enterprise": np.concatenate([e, sup]),
            "period": np.concatenate([t, t]),
            "kind": np.concatenate([np.full(len(e), INPUT), np.full(len(e), DELIVERY)]),
            "counterparty": np.concatenate([sup, e]),
            "product": 0,
            "quantity": np.concatenate([self.received[e, t], self.delivered[e, t]]),
        })
        # a supplier that filed nothing reported no delivery
        keep = self.filed[lines["enterprise"], lines["period"]]
        return reports, lines[keep].reset_index(drop=True)

    def run(self, **kw):  # type: ignore[no-untyped-def]
        pop = population()
        reports, lines = self.tables()
        return run_checks(pop, build_panel(pop, reports, lines), **kw)


def only(mask: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in zip(*np.nonzero(mask), strict=True)}


def test_honest_population_is_not_flagged() -> None:
    res = Honest().run()
    assert res.counts() == dict.fromkeys(res.masks, 0)
    assert np.nanmax(np.abs(res.ratio - 1)) < 0.05


def test_diverted_inputs() -> None:
    h = Honest()
    h.received[3, 5:] *= 1.3
    h.delivered[3, 5:] *= 1.3  # the supplier really delivered it
    res = h.run()
    assert only(res.masks["diversion"]) == {(3, t) for t in range(5, T)}
    assert res.masks["mismatch"].sum() == 0
    assert res.values["diversion"][3, 6] == pytest.approx(np.log(1.3), abs=0.03)
    detail = res.flags().query("check == 'diversion'")["detail"].iloc[0]
    assert detail.startswith("inputs +") and "against the norm" in detail


def test_padded_output_lacks_inputs_and_hours() -> None:
    h = Honest()
    h.output[4, 6:] *= 1.3  # the report claims more than was made
    res = h.run()
    assert only(res.masks["padding"]) == {(4, t) for t in range(6, T)}
    assert not res.masks["diversion"].any()


def test_hours_above_norm() -> None:
    h = Honest()
    h.hours[5, 2] *= 1.4
    res = h.run()
    assert only(res.masks["hours_excess"]) == {(5, 2)}


def test_delivery_receipt_gap_flags_both_sides() -> None:
    h = Honest()
    h.received[8, 4:] *= 0.7  # customer 8 receives less than supplier 9 says it sent
    h.output[8, 4:] *= 0.7  # ... and makes less, so its own norms still hold
    h.hours[8, 4:] *= 0.7
    res = h.run()
    assert only(res.masks["mismatch"]) == {(e, t) for e in (8, 9) for t in range(4, T)}
    assert res.values["mismatch"][9, 5] == pytest.approx(np.log(1 / 0.7), abs=0.02)


def test_late_and_missing_reports() -> None:
    h = Honest()
    h.lag[9, 2] = 10.0
    h.filed[10, 3] = False
    res = h.run()
    assert only(res.masks["late"]) == {(9, 2), (10, 3)}
    # before period 3's report was due, its absence is not yet late
    early = h.run(as_of=population().period_ends[3] + pd.Timedelta(days=1))
    assert only(early.masks["late"]) == {(9, 2)}


def test_shortfall_against_plan() -> None:
    h = Honest()
    for arr in (h.output, h.hours, h.received, h.delivered):
        arr[11, 7] *= 0.6  # a bad week, honestly reported and consistent
    res = h.run()
    assert only(res.masks["shortfall"]) == {(11, 7)}
    assert res.values["shortfall"][11, 7] == pytest.approx(0.6, abs=0.03)


def test_step_break_is_a_break_and_a_one_off_is_a_transient() -> None:
    h = Honest()
    for arr in (h.output, h.hours, h.received, h.delivered):
        arr[12, 6:] *= 0.85  # a real, lasting fall
        arr[13, 6] *= 0.85  # one bad week
    res = h.run()
    assert res.masks["break"][12, 6:8].any()
    assert not res.masks["break"][13].any()
    assert only(res.masks["transient"]) == {(13, 6)}
    assert not res.masks["break"][np.arange(E) != 12].any()


def test_fulfilment_tables_and_credibility() -> None:
    h = Honest()
    h.output[:] = 100.0
    h.output[0, :] = 50.0
    h.hours[0, :] = HOURS * 50.0
    h.received[0, :] = NORM * 50.0
    h.delivered[0, :] = h.received[0, :]
    h.lag[1, :] = 9.0  # always late
    res = h.run()
    ent = res.fulfilment("enterprise")
    assert ent.loc["E00", "cumulative_pct"] == pytest.approx(50.0)
    assert ent.loc["E02", "period_pct"] == pytest.approx(100.0)
    eco = res.fulfilment("economy")
    assert eco["cumulative_pct"].iloc[0] == pytest.approx(100 * (23 * 100 + 50) / 2400)
    cred = credibility(res)
    assert cred.loc["E01", "credibility"] < 0.5 < cred.loc["E02", "credibility"]
    assert cred.loc["E01", "flagged_periods"] == T


def test_sector_norms_allow_for_differences_in_technique() -> None:
    h = Honest()
    h.received[14, :] *= 1.2  # a steadily less efficient enterprise ...
    h.delivered[14, :] *= 1.2
    h.received[15, 6:] *= 1.5  # ... and one drawing half as much again
    h.delivered[15, 6:] *= 1.5
    pop = population()
    own = np.ones(E, bool)
    own[[14, 15]] = False  # only the sector's norm is known for these two
    pop.own_norms = own
    reports, lines = h.tables()
    res = run_checks(pop, build_panel(pop, reports, lines))
    assert only(res.masks["diversion"]) == {(15, t) for t in range(6, T)}
    # with its own norm known, the same 20 % is flagged
    pop.own_norms = None
    res = run_checks(pop, build_panel(pop, reports, lines))
    assert {e for e, _ in only(res.masks["diversion"])} == {14, 15}
