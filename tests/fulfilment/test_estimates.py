"""Learnt norms and the CUSUM: causal, shrunk toward the group, run lengths as in the books."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.services.fulfilment.estimates import (
    NormSettings,
    combine,
    cusum,
    drift_sum,
    estimate_norms,
    history_bounds,
)


def test_norm_of_a_week_uses_only_earlier_weeks() -> None:
    rng = np.random.default_rng(0)
    d = 0.05 * rng.standard_normal((50, 40))
    group = np.zeros(50, dtype=np.int64)
    a = estimate_norms(d, group)
    later = d.copy()
    later[:, 30:] += 1.0  # whatever happens from week 30 on ...
    b = estimate_norms(later, group)
    np.testing.assert_array_equal(a.mu[:, :31], b.mu[:, :31])  # ... week 30's norm is as before
    np.testing.assert_array_equal(a.sd[:, :31], b.sd[:, :31])
    for t in range(40):
        lo, hi = history_bounds(t, NormSettings())
        assert 0 <= lo <= hi <= t


def test_short_history_is_shrunk_toward_the_register_and_the_group() -> None:
    rng = np.random.default_rng(1)
    n, T = 40, 40
    d = np.log(0.5) + 0.02 * rng.standard_normal((n, T))
    d[0, :] += 0.3  # a different technique, with a long history
    d[1, :25] = np.nan  # a newcomer: its first weeks are still inside the guard
    d[1, 25:] += 0.3
    prior = np.full(n, np.nan)
    prior[2] = np.log(0.5) + 0.5  # a wrong engineering norm, for an enterprise with history
    est = estimate_norms(d, np.zeros(n, dtype=np.int64), prior=prior)
    assert est.mu[0, -1] == pytest.approx(np.log(0.5) + 0.3, abs=0.02)  # own history wins
    assert est.mu[2, -1] == pytest.approx(np.log(0.5), abs=0.03)  # data overrule the register
    # the newcomer, with one week of its own behind the guard, is pulled toward the group
    # and judged with a wider band; with more weeks its own history takes over
    t = int(np.argmax(est.weeks[1] > 0))
    assert est.weeks[1, t] < 3 and np.log(0.5) < est.mu[1, t] < np.log(0.5) + 0.25
    assert est.sd[1, t] > 1.1 * est.sd[3, t]
    assert est.mu[1, -1] == pytest.approx(np.log(0.5) + 0.3, abs=0.02)


def test_cusum_run_lengths_match_the_textbook() -> None:
    rng = np.random.default_rng(2)
    z = rng.standard_normal((4000, 300))
    k, h = 0.5, 4.0
    c = cusum(z, k=k, h=h, clip=np.inf)
    b = h + 1.166
    arl0 = 2 * (np.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * 2 * k)  # Siegmund, one side
    rate = c.alarm_up.mean()
    assert rate == pytest.approx(1 / arl0, rel=0.25)
    # a sustained shift of one sd is found after about h / (1 - k) + 1 weeks
    shifted = cusum(z[:, :60] + 1.0, k=k, h=h, clip=np.inf)
    first = np.argmax(shifted.alarm_up, axis=1) + 1
    assert 5 < np.median(first) < 11
    # clipping bounds what one outlier adds
    spike = np.zeros((1, 5))
    spike[0, 2] = 50.0
    assert cusum(spike, k=0.5, h=10, clip=2.5).upper.max() == pytest.approx(2.0)


def test_combine_is_standard_normal_again() -> None:
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3000, 20))
    owner = np.repeat(np.arange(1000), 3)
    comb, count = combine(z, owner, 1000)
    assert (count == 3).all()
    assert comb.std() == pytest.approx(1.0, abs=0.03)


def test_drift_sum_is_standard_normal_causal_and_finds_a_ramp_first() -> None:
    rng = np.random.default_rng(4)
    z = rng.standard_normal((4000, 30))
    d = drift_sum(z, 5, np.inf)
    assert d[:, 10:].std() == pytest.approx(1.0, abs=0.03)  # honest noise: about N(0, 1)
    later = z.copy()
    later[:, 20:] += 9.0
    np.testing.assert_array_equal(drift_sum(later, 5, np.inf)[:, :20], d[:, :20])  # causal
    # honest weeks pass 4.75 about once in 10^5 or fewer; a ramp of 0.9 noises a week
    # (2 % a week at twice the noise) passes it by the fifth week in over 90 % of series,
    # where the needs CUSUM at a like false-alarm rate (k = 1, h = 6) finds under 90 %
    assert (drift_sum(z, 5, 3.5)[:, 10:] > 4.75).mean() < 1e-5
    ramp = z[:, :5] + 0.9 * np.arange(1, 6)
    assert (drift_sum(ramp, 5, 3.5)[:, 4] > 4.75).mean() > 0.9
    assert cusum(-ramp, k=1.0, h=6.0, clip=3.5).alarm_down.any(axis=1).mean() < 0.9
    assert drift_sum(np.full((1, 5), 1.0), 5, np.inf)[0, 4] == pytest.approx(np.sqrt(55) / 55 * 15)
    # one wild week counts at most the clip (times its weight)
    spike = np.zeros((1, 6))
    spike[0, 5] = 50.0
    spike[0, 2] = np.nan
    out = drift_sum(spike, 5, 3.5)
    assert out[0, 5] == pytest.approx(5 * 3.5 / np.sqrt(55))
    assert np.isnan(out[0, 2])
