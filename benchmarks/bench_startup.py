"""How fast the command line starts: ``gosplan --help`` beside a bare ``python -c pass``.

Issue 12's goal: ``gosplan --help`` in at most 0.3 s.  Each figure is the
median of several runs of a fresh interpreter; the peer is the interpreter
alone, measured in the same run, so the ratio says what gosplan adds on this
machine whatever its load.  A second row shows what importing the numerical
core costs (``import gosplan.core``), which ``--help`` no longer pays.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _median_seconds(code: str, runs: int) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(quick: bool) -> list[dict[str, Any]]:
    runs = 5 if quick else 15
    bare = _median_seconds("pass", runs)
    help_ = _median_seconds(
        "from gosplan.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        runs,
    )
    core = _median_seconds("import gosplan.core", runs)
    return [
        {
            "work": "gosplan --help",
            "size": f"median of {runs}",
            "figure": help_,
            "unit": "s",
            "peer": "python -c pass",
            "peer_figure": bare,
            "ratio": bare / help_,
            "goal": "<= 0.3 s",
            "met": help_ <= 0.3,
            "note": f"gosplan adds {help_ - bare:.3f} s to the interpreter's start",
        },
        {
            "work": "import gosplan.core (numpy, scipy, pandas)",
            "size": f"median of {runs}",
            "figure": core,
            "unit": "s",
            "peer": "gosplan --help",
            "peer_figure": help_,
            "ratio": help_ / core,
            "goal": None,
            "met": None,
            "note": "what --help paid before the commands were imported lazily",
        },
    ]
