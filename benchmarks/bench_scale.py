"""10^7 products on one machine and on Dask; generation speed.

Each part runs in its own child process so that its memory figures are its
own (``multiprocessing`` spawn):

* generation: ``write_synthetic`` streaming 10^7 products to ``.npz`` and
  ``synthetic_economy`` building the :class:`Economy` (goal: under a minute);
* ``gosplan.labour_values`` at 10^7 (auto), with peak RSS relative to the CSR
  matrix, beside the plain Jacobi loop in scipy on the same matrix;
* the Dask engine on a ``LocalCluster`` of 2 worker processes (1 thread each)
  beside the single-machine solver on the same matrix, same run.

``quick`` uses 10^5 products.  For times ``ratio = peer / figure``.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

TOL = 1e-10


def _child(target: Any, *args: Any) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(q, *args))
    p.start()
    rows: list[dict[str, Any]] = q.get()
    p.join()
    return rows


def _generation(q: Any, n: int) -> None:
    import os

    from benchmarks._common import DATA, gib, measure
    from gosplan.scale import synthetic_economy, write_synthetic

    synthetic_economy(2000)  # compile
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"synthetic_{n}.npz"
    w = measure(lambda: write_synthetic(path, n, seed=1, chunk=1_000_000))
    size = os.path.getsize(path)
    path.unlink()
    e = measure(lambda: synthetic_economy(n, seed=1))
    q.put(
        [
            {
                "work": "generate + stream to .npz (write_synthetic)",
                "size": n,
                "figure": w.seconds,
                "unit": "s",
                "goal": "< 60 s",
                "met": w.seconds < 60,
                "note": f"file {gib(size):.2f} GiB; peak RSS added {gib(w.rss_added):.2f} GiB "
                "(chunks of 10^6 products)",
            },
            {
                "work": "generate the Economy in memory (synthetic_economy)",
                "size": n,
                "figure": e.seconds,
                "unit": "s",
                "goal": "< 60 s",
                "met": e.seconds < 60,
                "note": f"nnz {e.value.A.nnz:,}; includes Economy validation (A kept column-major, "
                "as generated), "
                f"{n:,} product labels; peak RSS {gib(e.rss_peak):.2f} GiB",
            },
        ]
    )


def _values(q: Any, n: int) -> None:
    import scipy.sparse as sp

    from benchmarks._common import csr_bytes, gib, measure, plain_jacobi, relres
    from gosplan import labour_values
    from gosplan.scale import synthetic_economy

    labour_values(synthetic_economy(3000))  # compile
    e = synthetic_economy(n, seed=1)
    nbytes = csr_bytes(e.A)
    m = measure(lambda: labour_values(e, tol=TOL))
    lv = m.value
    del m.value
    M = sp.csr_array(e.A.T)
    j = measure(lambda: plain_jacobi(M, e.labour, TOL))
    xj, itj = j.value
    ratio_mem = m.rss_peak / nbytes
    goal_t = 30.0 if n >= 10_000_000 else None
    q.put(
        [
            {
                "work": "labour values, gosplan.labour_values (auto)",
                "size": n,
                "figure": m.seconds,
                "unit": "s",
                "peer": "plain Jacobi (scipy)",
                "peer_figure": j.seconds,
                "ratio": j.seconds / m.seconds,
                "goal": "<= 30 s" if goal_t else None,
                "met": (m.seconds <= goal_t) if goal_t else None,
                "note": f"{lv.method}, {lv.iterations} mat-vecs, residual {lv.residual:.1e}; "
                f"Jacobi {itj} sweeps, residual {relres(M, xj, e.labour):.1e}",
            },
            {
                "work": "labour values: process peak RSS during the solve / CSR of A",
                "size": n,
                "figure": ratio_mem,
                "unit": "x CSR",
                "goal": "<= 2.5x",
                "met": ratio_mem <= 2.5,
                "note": f"CSR {gib(nbytes):.2f} GiB; peak {gib(m.rss_peak):.2f} GiB of which "
                f"{gib(m.rss_added):.2f} GiB added by the solve ({m.rss_added / nbytes:.2f}x; "
                f"A is {e.A.format.upper()}, so A.T is "
                + ("a view, no copy" if e.A.format == "csc" else "a 1x copy")
                + "); the rest is the Economy (A, labels, vectors)",
            },
        ]
    )


def _distributed(q: Any, n: int) -> None:
    import numpy as np
    import scipy.sparse as sp
    from distributed import Client, LocalCluster

    from benchmarks._common import gib, measure
    from gosplan.core.kernels import solve_bicgstab
    from gosplan.scale import synthetic_matrix
    from gosplan.scale.distributed import solve_leontief_distributed
    from gosplan.scale.synthetic_economies import SyntheticSpec

    C = synthetic_matrix(n, seed=1)
    M = sp.csr_array((C.data, C.indices, C.indptr), shape=C.shape)  # A.T, no copy
    del C
    b = SyntheticSpec(n=n, seed=1).labour(0, n)
    solve_bicgstab(M[:3000, :3000], b[:3000])  # compile
    single = measure(lambda: solve_bicgstab(M, b, rtol=TOL))
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,
        ) as cluster,
        Client(cluster) as c,
    ):
        dist = measure(lambda: solve_leontief_distributed(M, b, client=c, tol=TOL))
    rs, rd = single.value, dist.value
    diff = float(np.abs(rs.x - rd.x).max() / np.abs(rs.x).max())
    q.put(
        [
            {
                "work": "distributed labour values (Dask, 2 worker processes)",
                "size": n,
                "figure": dist.seconds,
                "unit": "s",
                "peer": "single machine (parallel BiCGSTAB)",
                "peer_figure": single.seconds,
                "ratio": single.seconds / dist.seconds,
                "goal": "identical within tolerance; overhead reported",
                "met": bool(rd.success and rd.residual <= TOL and diff < 1e-7),
                "note": f"max rel. difference {diff:.1e}; residual {rd.residual:.1e}; "
                f"{rd.extra['matvecs']} mat-vecs; scatter {rd.extra['scatter_seconds']:.1f} s; "
                f"workers hold {gib(rd.extra['worker_bytes']):.2f} GiB; "
                f"overhead {dist.seconds - single.seconds:+.1f} s",
            }
        ]
    )


def run(quick: bool) -> list[dict[str, Any]]:
    n = 100_000 if quick else 10_000_000
    rows = _child(_generation, n)
    rows += _child(_values, n)
    rows += _child(_distributed, n)
    return rows
