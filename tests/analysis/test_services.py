"""The yearly loop: ``gosplan.services.yearly_analysis.time_series`` on built and real economies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy, ValidationError
from gosplan.services.yearly_analysis import COLUMNS, analyse, time_series


def toy(year: int) -> Economy:
    """Three sectors whose bread sector needs more labour each year."""
    bread_hours = 10.0 + 4.0 * (year - 2000)
    return Economy.from_flows(
        np.array([[1.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
        [10.0, 12.0, 8.0],
        [bread_hours, 10.0, 5.0],
        products=["bread", "machines", "cloth"],
        compensation=[5.0, 5.0, 5.0],
        surplus=[5.0, 5.0, 5.0],
        final_demand=pd.DataFrame({"households": [9.0, 0.0, 3.0], "gfcf": [0.0, 7.0, 0.0]}),
        capital_stock=[20.0, 20.0, 10.0],
        name="Toy",
        year=year,
    )


def test_time_series_one_row_per_year_with_progress() -> None:
    seen: list[int] = []
    frame = time_series(toy, [2000, 2001, 2002], on_year=lambda y, e: seen.append(y))
    assert seen == [2000, 2001, 2002]
    assert list(frame.index) == [2000, 2001, 2002]
    for col in COLUMNS:
        assert col in frame.columns
    # more labour in bread, the wage good: necessary labour grows, e falls year by year
    assert frame["e"].is_monotonic_decreasing
    assert frame.loc[2000, "e"] == pytest.approx(analyse(toy(2000))["e"])
    assert frame["r"].notna().all()
    assert (frame["residual"] < 1e-10).all()


def test_missing_data_gives_nan_and_a_note() -> None:
    def bare(year: int) -> Economy:
        return Economy.from_flows(
            np.zeros((3, 3)), [1.0, 2.0, 3.0], [1.0, 1.0, 2.0], products=list("abc"), year=year
        )

    frame = time_series(bare, [1999])
    assert np.isnan(frame["e"].to_numpy()[0]) and np.isnan(frame["r"].to_numpy()[0])
    assert "compensation" in str(frame["notes"].to_numpy()[0])
    # values per unit 1, 1/2, 2/3: output at values (1, 1, 2) against at prices (1, 2, 3)
    assert frame.loc[1999, "correlation"] == pytest.approx(np.sqrt(3) / 2)


def test_errors_name_the_year() -> None:
    def broken(year: int) -> Economy:
        if year == 2001:
            raise ValidationError("no such table")
        return toy(year)

    with pytest.raises(ValidationError, match="no such table") as info:
        time_series(broken, [2000, 2001])
    assert "while analysing the year 2001" in "".join(getattr(info.value, "__notes__", []))
    with pytest.raises(ValidationError, match="at least one year"):
        time_series(toy, [])


def test_wiod_gbr_series_from_a_source_spec(data_dir: Path) -> None:
    frame = time_series(str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"), [2009, 2010])
    assert list(frame.index) == [2009, 2010]
    assert frame["labour_unit"].iloc[0] == "million hours"
    assert frame["correlation"].between(0.8, 1.0).all()
    assert frame["d_distance"].between(0.0, 2**0.5).all()
    assert frame["e"].between(0.5, 2.0).all()
    assert frame["r"].between(0.05, 0.5).all()
