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
        sector=np.zeros(E, dtype=np.int64),
        sectors=["metal"],
        capacity=np.ones(E),
        hours_norm=np.full(E, HOURS),
        norm_enterprise=np.arange(E),
        norm_product=np.zeros(E, dtype=np.int64),
        norm_per_unit=np.full(E, NORM),
        periods=starts[:-1],
        period_ends=starts[1:],
        plan=np.full((E, T), 100.0),
    )


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
        reports = pd.DataFrame(
            {
                "enterprise": e,
                "period": t,
                "output": self.output[e, t],
                "hours": self.hours[e, t],
                "lag_days": self.lag[e, t],
            }
        )
        sup = (e + 1) % E
        lines = pd.DataFrame(
            {
                "enterprise": np.concatenate([e, sup]),
                "period": np.concatenate([t, t]),
                "kind": np.concatenate([np.full(len(e), INPUT), np.full(len(e), DELIVERY)]),
                "counterparty": np.concatenate([sup, e]),
                "product": 0,
                "quantity": np.concatenate([self.received[e, t], self.delivered[e, t]]),
            }
        )
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
    inspect, helped = res.routes()
    assert not inspect.any() and not helped.any(), res.counts()
    assert np.nanmax(np.abs(res.ratio - 1)) < 0.05


def flagged(res, check: str) -> set[int]:  # type: ignore[no-untyped-def]
    return {e for e, _ in only(res.masks[check])}


def test_diverted_inputs() -> None:
    h = Honest()
    h.received[3, 5:] *= 1.3
    h.delivered[3, 5:] *= 1.3  # the supplier really delivered it
    res = h.run()
    assert flagged(res, "diversion") == {3} and res.masks["diversion"][3, 5]
    assert res.masks["mismatch"].sum() == 0
    assert res.values["diversion"][3, 5] > 10  # sd of the learnt norm
    row = res.flags().query("check == 'diversion'").iloc[0]
    assert row["route"] == "inspection" and "learnt norm" in row["detail"]


def test_padded_output_lacks_inputs_and_hours() -> None:
    h = Honest()
    h.output[4, 6:] *= 1.3  # the report claims more than was made
    res = h.run()
    assert flagged(res, "padding") == {4} and res.masks["padding"][4, 6]
    assert not res.masks["diversion"].any()


def test_small_padding_accumulates_over_weeks() -> None:
    h = Honest(seed=3)
    h.output[4, 6:] *= 1.03  # 3 sd of the noise: no single week stands out
    res = h.run()
    assert not res.masks["padding"][4, 6]
    assert res.masks["padding"][4, 7:].any()
    assert flagged(res, "padding") == {4}
    assert res.stats["needs_cusum_low"][4, 6:].max() > 3


def test_hours_above_norm() -> None:
    h = Honest()
    h.hours[5, 6:] *= 1.2
    res = h.run()
    assert flagged(res, "hours_excess") == {5}


def test_consistent_gap_flags_both_sides_phantom_only_the_supplier() -> None:
    h = Honest()
    h.received[8, 4:] *= 0.7  # customer 8 receives less than supplier 9 says it sent
    h.output[8, 4:] *= 0.7  # ... and makes less, so its own norms still hold
    h.hours[8, 4:] *= 0.7
    res = h.run()
    assert only(res.masks["mismatch"]) == {(e, t) for e in (8, 9) for t in range(4, T)}
    # a delivery the customer never got: the supplier's figures moved, the customer's did not
    h = Honest()
    h.delivered[11, 5:] *= 1.5  # supplier 12 claims half as much again to customer 11
    res = h.run()
    assert flagged(res, "mismatch") == {12}
    assert flagged(res, "partner_differs") == {11}


def test_copied_smooth_and_round_reports() -> None:
    h = Honest()
    h.output[2, 8:] = h.output[2, 7]  # the whole week repeated
    h.hours[2, 8:] = h.hours[2, 7]
    rng = np.random.default_rng(1)
    h.output[6, 6:] = h.output[6, 5] * (1 + 1e-4 * rng.standard_normal(T - 6))  # near copy
    h.hours[6, 6:] = h.hours[6, 5] * (1 + 1e-4 * rng.standard_normal(T - 6))
    h.output[7, 6:] = np.round(h.output[7, 6:], -1)  # two significant digits
    h.hours[7, 6:] = np.round(h.hours[7, 6:], -1)
    res = h.run()
    assert res.masks["copying"][2, 8] and flagged(res, "copying") <= {2, 7}  # round repeats
    assert flagged(res, "smooth") == {6}
    assert flagged(res, "heaping") == {7} and res.masks["heaping"][7, 9]


def test_late_and_missing_reports() -> None:
    h = Honest()
    h.lag[9, 2] = 10.0
    h.filed[10, 3] = False
    res = h.run()
    assert only(res.masks["late"]) == {(9, 2), (10, 3)}
    # before period 3's report was due, its absence is not yet late
    early = h.run(as_of=population().period_ends[3] + pd.Timedelta(days=1))
    assert only(early.masks["late"]) == {(9, 2)}


def test_consistent_shortfall_asks_for_help() -> None:
    h = Honest()
    for arr in (h.output, h.hours, h.received, h.delivered):
        arr[11, 6:] *= 0.6  # a lasting, honestly reported fall, consistent everywhere
    res = h.run()
    inspect, helped = res.routes()
    assert not inspect[11].any() and helped[11, 6:].any()
    assert res.values["shortfall"][11, -1] == pytest.approx(0.6, abs=0.05)
    rows = res.flags().query("enterprise == 'E11' and check == 'shortfall'")
    assert set(rows["route"]) == {"help"}
    # the same fall with output reported at the old level goes to inspection
    h.output[11, 6:] /= 0.6
    inspect, helped = h.run().routes()
    assert inspect[11].any() and not helped[11].any()


def test_a_week_is_never_re_judged_by_later_weeks() -> None:
    """Causality: what is raised for weeks up to 7 does not change when weeks 8.. arrive."""
    h = Honest(seed=5)
    h.output[4, 6:] *= 1.3
    h.received[3, 5:] *= 1.3
    full = h.run()
    h.filed[:, 8:] = False
    cut = h.run(as_of=population().period_ends[7] + pd.Timedelta(days=4))
    for check in full.masks:
        np.testing.assert_array_equal(
            full.masks[check][:, :8], cut.masks[check][:, :8], err_msg=check
        )
    np.testing.assert_allclose(full.z["needs"][:, :8], cut.z["needs"][:, :8])


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


def test_norms_are_learnt_not_taken_from_the_register() -> None:
    h = Honest()
    h.received[14, :] *= 1.2  # a steadily less efficient enterprise: its norm is learnt ...
    h.delivered[14, :] *= 1.2
    h.received[15, 6:] *= 1.5  # ... a change of technique half as much again is not
    h.delivered[15, 6:] *= 1.5
    pop = population()
    own = np.ones(E, bool)
    own[15] = False  # only the sector's norm is known for this one
    pop.own_norms = own
    reports, lines = h.tables()
    res = run_checks(pop, build_panel(pop, reports, lines))
    assert {e for e, t in only(res.masks["diversion"]) if t >= 6} == {15}


def test_a_run_shorter_than_the_smoothness_window_is_checked_not_a_crash() -> None:
    """Fewer periods reported than the smoothness window (a young plan, the living plan's
    first months) is no error: the window holds what there is."""
    from gosplan.services.fulfilment.checks import CheckSettings

    res = Honest().run(settings=CheckSettings(smooth_weeks=T + 4))
    assert res.masks["smooth"].shape == (E, T)
    assert not res.masks["smooth"].any()  # too few periods to call anyone's figures too smooth
