from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from gosplan.cli import main
from gosplan.scale import read_synthetic, synthetic_economy


def test_synth_writes_a_file_that_reads_back_and_solves(tmp_path: Path) -> None:
    out = tmp_path / "e.npz"
    r = CliRunner().invoke(
        main, ["synth", "2500", "--seed", "4", "--out", str(out), "--chunk", "1000"]
    )
    assert r.exit_code == 0, r.output
    # the message wraps at the terminal's width: compare with whitespace collapsed
    assert "2,500 products, 16 inputs each" in " ".join(r.output.split())
    e = read_synthetic(out)
    ref = synthetic_economy(2500, seed=4)
    assert np.array_equal(e.A.data, ref.A.data)
    r = CliRunner().invoke(main, ["synth-values", str(out)])
    assert r.exit_code == 0, r.output
    assert "method=bicgstab-parallel" in " ".join(r.output.split())


def test_synth_refuses_a_bad_spectral_radius(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["synth", "100", "--out", str(tmp_path / "x.npz"), "--spectral-radius", "1.2"]
    )
    assert r.exit_code == 1
    assert "'spectral_radius' parameter" in r.output
