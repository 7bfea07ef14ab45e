"""``gosplan demo``, the README's first command, from end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.cli import main


def test_demo_prints_the_four_parts_and_writes_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # piped output is not wrapped whatever the width
    out = tmp_path / "demo"
    r = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    lines = r.output.splitlines()
    for part in (
        "1. The economy: Brazil 2021",
        "2. What each product costs society in labour",
        "3. Labour values against market prices",
        "4. A 5-year plan: free health care and education for all",
    ):
        assert part in lines
    assert any(
        line.startswith("Working week per able-bodied person, by year: 2022: ") for line in lines
    )
    rows = [line.split("\t") for line in lines if line.startswith("health\t")]
    assert len(rows) == 1 and len(rows[0]) == 4  # a table, tab-separated
    values = pd.read_csv(out / "labour-values.csv", index_col=0)
    assert values.shape[0] == 128 and (values.iloc[:, 0] > 0).all()
    assert (out / "plan-by-purpose.csv").stat().st_size > 0
    assert (out / "working-week.csv").stat().st_size > 0
