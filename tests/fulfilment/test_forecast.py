"""The multi-process forecaster: cross-checked with statsmodels, and on known breaks."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.services.fulfilment.forecast import ForecastSettings, multiprocess_filter, robust_sd


def noisy(n: int = 60, sd: float = 0.02, seed: int = 0) -> np.ndarray:
    return 1.0 + sd * np.random.default_rng(seed).standard_normal(n)


def test_steady_process_alone_is_the_statsmodels_local_linear_trend() -> None:
    sm = pytest.importorskip("statsmodels.api")
    y = noisy(80) + 0.002 * np.arange(80)
    s = ForecastSettings(prior=(1.0, 0.0, 0.0, 0.0))
    sd = robust_sd(y[None, :])  # one noise for the whole series, as statsmodels takes it
    fc = multiprocess_filter(y[None, :], s, obs_sd=sd)
    V = float(sd[0] ** 2)
    model = sm.tsa.UnobservedComponents(y, level="local linear trend")
    res = model.filter([V, s.level_noise * V, s.slope_noise * V])
    # different start-up (ours: first value; statsmodels: diffuse) fades out
    np.testing.assert_allclose(fc.level[0, 30:], res.filtered_state[0, 30:], rtol=2e-3)
    np.testing.assert_allclose(fc.forecast[0, 30:], res.forecasts[0, 30:], rtol=2e-3)
    np.testing.assert_allclose(fc.probability("steady")[0, 1:], 1.0)


def test_step_is_a_step_and_outlier_is_a_transient() -> None:
    y = np.stack([noisy(seed=1), noisy(seed=2), noisy(seed=3)])
    y[0, 30:] -= 0.2  # lasting step
    y[1, 30] -= 0.2  # one-off
    fc = multiprocess_filter(y)
    step_back = fc.probability("step", smoothed=True)
    # once period 31 is seen, period 30 is known to have been a step (judged with the
    # noise known before it, so a little less sure than with hindsight) ...
    assert step_back[0, 31] > 0.6
    # ... and the one-off a transient, not a step
    assert fc.probability("transient", smoothed=True)[1, 31] > 0.9
    assert step_back[1, 31] < 0.05
    # the steady series is steady almost everywhere
    steady = fc.probability("steady")[2, 1:]
    assert np.mean(steady > 0.5) > 0.95


def test_forecast_follows_a_new_trend() -> None:
    y = noisy(seed=4)
    y[30:] += 0.03 * np.arange(1, 31)
    fc = multiprocess_filter(y[None, :])
    err = np.abs(fc.forecast[0] - y)
    assert err[45:].mean() < 0.04  # the new slope is learnt
    assert fc.forecast[0, 59] - fc.forecast[0, 50] > 0.2


def test_missing_periods_propagate_the_forecast() -> None:
    y = noisy(seed=5)
    y[20:23] = np.nan
    fc = multiprocess_filter(y[None, :])
    assert np.isnan(fc.probabilities[:, 0, 20:23]).all()
    assert np.isfinite(fc.forecast[0]).all()
    assert fc.sd[0, 22] > fc.sd[0, 19]  # less known after a gap
    assert abs(fc.forecast[0, 23] - 1.0) < 0.05
