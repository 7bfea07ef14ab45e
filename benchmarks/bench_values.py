"""Labour values at 10^6 products, against plain Jacobi, spsolve, pymrio; sweep bandwidth.

Rows (full run; ``quick`` uses 10^5 and 1 000 products):

* ``gosplan.labour_values`` (method ``auto``: parallel BiCGSTAB) on a synthetic
  economy of 10^6 products (``log2 n + 5`` inputs each, spectral radius 0.7),
  relative residual 1e-10, beside the plain Jacobi loop in scipy and
  ``scipy.sparse.linalg.spsolve`` (in a child process capped at 120 s and
  8 GiB), and beside the other methods (float32+refinement, parallel Jacobi,
  scipy's BiCGSTAB, pyamg) as evidence for the choice.
* 5 000 products against ``pymrio``'s ``calc_all`` (dense inverse).
* Bandwidth: seconds per BiCGSTAB mat-vec (all vector work included) and per
  parallel Jacobi sweep, beside one scipy sparse mat-vec of the same matrix.

* Layouts (issue 16): the same economy given as CSC and as CSR, each beside
  plain Jacobi in scipy, 3 repetitions interleaved, median; and the peak RSS
  of ``labour_values`` for each layout in a child process, relative to the
  matrix.  ``python -m benchmarks.bench_values --layouts N [--memory M]`` runs
  only this part.

For times ``ratio = peer / figure`` (how many times faster gosplan is).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from benchmarks._common import DATA, csr_bytes, gib, measure, plain_jacobi, relres, run_capped

TOL = 1e-10


def _warm() -> None:
    from gosplan import labour_values
    from gosplan.scale import synthetic_economy

    e = synthetic_economy(3000, seed=0)
    for m in ("auto", "mixed", "jacobi-parallel"):
        labour_values(e, method=m)


def _best(fn: Any, k: int) -> Any:
    runs = [measure(fn) for _ in range(k)]
    return min(runs, key=lambda r: r.seconds)


def values_rows(n: int, quick: bool) -> list[dict[str, Any]]:
    from gosplan import labour_values
    from gosplan.core.linsolve import solve_leontief
    from gosplan.scale import synthetic_economy

    rows: list[dict[str, Any]] = []
    _warm()
    gen = measure(lambda: synthetic_economy(n, seed=1))
    e = gen.value
    M = sp.csr_array(e.A.T)
    b = e.labour
    nbytes = csr_bytes(M)
    rows.append(
        {
            "work": "synthetic economy (Economy object)",
            "size": n,
            "figure": gen.seconds,
            "unit": "s",
            "note": f"nnz {e.A.nnz:,}; CSR {gib(nbytes):.2f} GiB",
        }
    )
    reps = 2
    auto = _best(lambda: labour_values(e, tol=TOL), reps)
    lv = auto.value
    jac = _best(lambda: plain_jacobi(M, b, TOL), 1 if not quick else 2)
    xj, itj = jac.value
    goal_s = 2.0 if n >= 1_000_000 else None
    rows.append(
        {
            "work": "labour values, gosplan.labour_values (auto)",
            "size": n,
            "figure": auto.seconds,
            "unit": "s",
            "peer": "plain Jacobi (scipy)",
            "peer_figure": jac.seconds,
            "ratio": jac.seconds / auto.seconds,
            "goal": "<= 2 s" if goal_s else None,
            "met": (auto.seconds <= goal_s) if goal_s else None,
            "note": f"{lv.method}, {lv.iterations} mat-vecs, residual {lv.residual:.1e} "
            f"(Jacobi {itj} sweeps, {relres(M, xj, b):.1e}); peak RSS added "
            f"{gib(auto.rss_added):.2f} GiB = {auto.rss_added / nbytes:.2f}x CSR",
        }
    )
    # spsolve in a capped child process
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"values_{n}.npz"
    sp.save_npz(path, sp.csr_matrix(M), compressed=False)
    np.save(DATA / f"values_{n}_b.npy", b)
    cap_s = 30.0 if quick else 120.0
    code = (
        "import time, numpy as np, scipy.sparse as sp, scipy.sparse.linalg as la\n"
        f"M = sp.load_npz({str(path)!r}); b = np.load({str(DATA / f'values_{n}_b.npy')!r})\n"
        "K = (sp.identity(M.shape[0], format='csc') - M).tocsc()\n"
        "t = time.perf_counter(); x = la.spsolve(K, b)\n"
        "s = time.perf_counter() - t\n"
        "print('RES', np.linalg.norm(b - K @ x) / np.linalg.norm(b)); print('SECONDS', s)\n"
    )
    outcome, secs = run_capped(code, timeout=cap_s, mem_gib=8.0)
    rows.append(
        {
            "work": "labour values, gosplan.labour_values (auto)",
            "size": n,
            "figure": auto.seconds,
            "unit": "s",
            "peer": "scipy spsolve (SuperLU)",
            "peer_figure": secs if secs is not None else outcome,
            "ratio": (secs / auto.seconds) if secs is not None else None,
            "note": f"child process capped at {cap_s:.0f} s and 8 GiB",
        }
    )
    # the other methods, as evidence
    for method, label in (
        ("mixed", "float32 + float64 refinement"),
        ("jacobi-parallel", "Neumann series, parallel fused sweep"),
        ("bicgstab", "scipy bicgstab, Jacobi preconditioner"),
    ):
        m = _best(lambda method=method: labour_values(e, method=method, tol=TOL), 1)
        rows.append(
            {
                "work": f"labour values, method={method!r}",
                "size": n,
                "figure": m.seconds,
                "unit": "s",
                "peer": "plain Jacobi (scipy)",
                "peer_figure": jac.seconds,
                "ratio": jac.seconds / m.seconds,
                "note": f"{label}; {m.value.iterations} it., residual {m.value.residual:.1e}; "
                f"peak RSS added {m.rss_added / nbytes:.2f}x CSR",
            }
        )
    amg = (
        "import time, numpy as np, scipy.sparse as sp, pyamg\n"
        f"M = sp.load_npz({str(path)!r}); b = np.load({str(DATA / f'values_{n}_b.npy')!r})\n"
        "K = (sp.identity(M.shape[0], format='csr') - M).tocsr()\n"
        "t = time.perf_counter()\n"
        "ml = pyamg.smoothed_aggregation_solver(K, symmetry='nonsymmetric')\n"
        "res = []; x = ml.solve(b, tol=1e-11, accel='gmres', maxiter=200, residuals=res)\n"
        "s = time.perf_counter() - t\n"
        "print('RES', np.linalg.norm(b - K @ x) / np.linalg.norm(b)); print('SECONDS', s)\n"
    )
    outcome, secs = run_capped(amg, timeout=cap_s, mem_gib=8.0)
    rows.append(
        {
            "work": "labour values, pyamg smoothed aggregation + GMRES",
            "size": n,
            "figure": secs if secs is not None else None,
            "unit": "s",
            "peer": "gosplan auto",
            "peer_figure": auto.seconds,
            "ratio": (auto.seconds / secs) if secs else None,
            "note": outcome if secs is None else "setup + solve, child process",
        }
    )
    # bandwidth: per mat-vec of the solver vs one scipy mat-vec
    x = np.random.default_rng(0).random(n)
    t_mv = min(measure(lambda: M @ x).seconds for _ in range(5))
    res = min(
        (solve_leontief(M, b, method="bicgstab-parallel", tol=TOL) for _ in range(2)),
        key=lambda r: r.extra["seconds"],
    )
    per = res.extra["seconds"] / res.extra["matvecs"]
    rows.append(
        {
            "work": "bandwidth: BiCGSTAB time per mat-vec (incl. vector work)",
            "size": n,
            "figure": per,
            "unit": "s",
            "peer": "one scipy sparse mat-vec",
            "peer_figure": t_mv,
            "ratio": t_mv / per,
            "goal": "<= 2x one mat-vec",
            "met": per <= 2 * t_mv,
            "note": f"{res.extra['matvecs']} mat-vecs in {res.extra['seconds']:.2f} s",
        }
    )
    jp = solve_leontief(M, b, method="jacobi-parallel", tol=TOL)
    t0 = time.perf_counter()
    jp = solve_leontief(M, b, method="jacobi-parallel", tol=TOL)
    per_j = (time.perf_counter() - t0) / (jp.nit + 1)
    rows.append(
        {
            "work": "bandwidth: parallel Jacobi time per sweep",
            "size": n,
            "figure": per_j,
            "unit": "s",
            "peer": "one scipy sparse mat-vec",
            "peer_figure": t_mv,
            "ratio": t_mv / per_j,
            "goal": "<= 2x one mat-vec",
            "met": per_j <= 2 * t_mv,
            "note": f"{jp.nit} sweeps; sweep = mat-vec + update + residual, fused",
        }
    )
    path.unlink(missing_ok=True)
    Path(DATA / f"values_{n}_b.npy").unlink(missing_ok=True)
    return rows


def pymrio_rows(n: int) -> list[dict[str, Any]]:
    import pandas as pd
    import pymrio

    from gosplan import gross_output, labour_values
    from gosplan.scale import synthetic_economy

    e = synthetic_economy(n, seed=2)
    assert e.final_demand is not None
    y = e.final_demand.sum(axis=1).to_numpy()
    ours = _best(lambda: labour_values(e, tol=TOL), 3)
    x = gross_output(e, y).x  # noqa: F841 - only to show the planning side costs as little
    idx = pd.MultiIndex.from_arrays([["reg"] * n, list(e.products)], names=["region", "sector"])
    A = pd.DataFrame(e.A.toarray(), index=idx, columns=idx)
    Y = pd.DataFrame(
        y,
        index=idx,
        columns=pd.MultiIndex.from_tuples([("reg", "final")], names=["region", "category"]),
    )
    S = pd.DataFrame(e.labour[None, :], index=pd.Index(["labour"], name="stressor"), columns=idx)

    def peer() -> Any:
        io = pymrio.IOSystem(A=A, Y=Y, name="synthetic")
        io.labour = pymrio.Extension(
            name="labour", S=S, unit=pd.DataFrame(["hours"], index=S.index, columns=["unit"])
        )
        io.calc_all()
        return io

    theirs = measure(peer)
    mult = theirs.value.labour.M.to_numpy().ravel()
    diff = float(np.abs(mult - ours.value.values.to_numpy()).max() / np.abs(mult).max())
    ratio = theirs.seconds / ours.seconds
    return [
        {
            "work": "labour values vs pymrio calc_all",
            "size": n,
            "figure": ours.seconds,
            "unit": "s",
            "peer": "pymrio calc_all (dense inverse)",
            "peer_figure": theirs.seconds,
            "ratio": ratio,
            "goal": ">= 100x faster",
            "met": ratio >= 100,
            "note": f"max rel. difference {diff:.1e}; pymrio peak RSS added "
            f"{gib(theirs.rss_added):.2f} GiB, gosplan {gib(ours.rss_added):.3f} GiB",
        }
    ]


def layout_rows(n: int, reps: int = 3, extras: bool = True) -> list[dict[str, Any]]:
    """CSC and CSR input beside plain Jacobi, ``reps`` interleaved repetitions, medians.

    ``extras``: also, once, the copy-first path and plain Jacobi on the CSC view."""
    import os

    from gosplan import Economy, labour_values
    from gosplan.core.linsolve import solve_leontief
    from gosplan.scale import synthetic_economy

    _warm()
    labour_values(
        Economy(sp.csr_array(synthetic_economy(3000).A), synthetic_economy(3000).labour)
    )  # compile the scatter kernels
    e_csc = synthetic_economy(n, seed=1)
    e_csr = Economy(sp.csr_array(e_csc.A), e_csc.labour, products=e_csc.products)
    assert (e_csc.A.format, e_csr.A.format) == ("csc", "csr")
    b = e_csc.labour
    M_view = e_csc.A.T  # the CSR of A.T, the best layout for scipy's mat-vec
    M_csc_view = e_csr.A.T  # what a CSR user has: a CSC view of A.T
    times: dict[str, list[float]] = {
        k: [] for k in ("jacobi", "jacobi_csc", "csc", "csr", "csr_copy")
    }
    loads: list[float] = []
    out: dict[str, Any] = {}
    for rep in range(reps):
        loads.append(os.getloadavg()[0])
        j = measure(lambda: plain_jacobi(M_view, b, TOL))
        times["jacobi"].append(j.seconds)
        out["jacobi"] = j.value
        for key, e in (("csc", e_csc), ("csr", e_csr)):
            m = measure(lambda e=e: labour_values(e, tol=TOL))
            times[key].append(m.seconds)
            out[key] = m.value
        if not extras or rep > 0:
            continue
        # the path before issue 16 for a CSR A: copy A.T to CSR, then the gather kernels
        c = measure(lambda: solve_leontief(sp.csr_array(e_csr.A.T), b, tol=TOL))
        times["csr_copy"].append(c.seconds)
        jc = measure(lambda: plain_jacobi(M_csc_view, b, TOL))
        times["jacobi_csc"].append(jc.seconds)
    med = {k: float(np.median(v)) for k, v in times.items() if v}
    load = f"load average {min(loads):.1f}-{max(loads):.1f}"
    rows: list[dict[str, Any]] = []
    xj, itj = out["jacobi"]
    for key, label in (("csc", "CSC A (column-major)"), ("csr", "CSR A (row-major)")):
        lv = out[key]
        ratio = med["jacobi"] / med[key]
        rows.append(
            {
                "work": f"labour values, {label}",
                "size": n,
                "figure": med[key],
                "unit": "s",
                "peer": "plain Jacobi (scipy, CSR of A.T)",
                "peer_figure": med["jacobi"],
                "ratio": ratio,
                "goal": ">= 3x plain Jacobi",
                "met": ratio >= 3.0,
                "note": f"median of {reps}; layout_path {lv.layout_path}; {lv.method}, "
                f"{lv.iterations} mat-vecs, residual {lv.residual:.1e} (Jacobi {itj} "
                f"sweeps, {relres(M_view, xj, b):.1e}); {load}",
            }
        )
    if not extras:
        return rows
    rows.append(
        {
            "work": "labour values, CSR A, copying A.T to CSR first (the path before)",
            "size": n,
            "figure": med["csr_copy"],
            "unit": "s",
            "peer": "plain Jacobi (scipy, CSR of A.T)",
            "peer_figure": med["jacobi"],
            "ratio": med["jacobi"] / med["csr_copy"],
            "note": f"one run; the row-scatter kernel saves the copy; {load}",
        }
    )
    rows.append(
        {
            "work": "labour values, CSR A (row-major)",
            "size": n,
            "figure": med["csr"],
            "unit": "s",
            "peer": "plain Jacobi (scipy on the CSC view of A.T)",
            "peer_figure": med["jacobi_csc"],
            "ratio": med["jacobi_csc"] / med["csr"],
            "note": f"peer one run; the peer as a CSR user would write it; {load}",
        }
    )
    return rows


def _save_csr_child(n: int, path: str) -> None:
    """The synthetic economy's ``A`` written row-major to ``path``, as a reader hands it
    over (its column-major original never lives in the measuring process)."""
    from gosplan.scale import synthetic_economy

    e = synthetic_economy(n, seed=1)
    labour = np.asarray(e.labour)
    A = sp.csr_matrix(e.A)
    del e
    sp.save_npz(path + ".A.npz", A, compressed=False)
    np.save(path + ".labour.npy", labour)


def _memory_child(q: Any, n: int, layout: str, csr_file: str | None = None) -> None:
    import psutil

    from benchmarks._common import csr_bytes, gib, measure
    from gosplan import Economy, labour_values
    from gosplan.core.kernels import make_apply_csc
    from gosplan.scale import synthetic_economy

    small = synthetic_economy(3000)
    labour_values(Economy(sp.csr_array(small.A), small.labour))  # compile
    make_apply_csc(small.A.indptr, small.A.indices, small.A.data, threads=2)
    del small
    base = psutil.Process().memory_info().rss  # the interpreter and its libraries
    if layout == "csr" and csr_file:  # read row-major from the start, as a reader builds it
        A = sp.csr_array(sp.load_npz(csr_file + ".A.npz"))
        e = Economy(A, np.load(csr_file + ".labour.npy"))
        del A
    else:
        e = synthetic_economy(n, seed=1)
    if layout == "csr" and not csr_file:
        A = sp.csr_array(e.A)
        labour, products = e.labour, e.products
        del e  # the column-major copy goes before the row-major Economy is checked
        e = Economy(A, labour, products=products)
        del A, labour, products
    nbytes = csr_bytes(e.A)
    m = measure(lambda: labour_values(e, tol=TOL))
    lv = m.value
    ratio = m.rss_peak / nbytes
    above = (m.rss_peak - base) / nbytes
    q.put(
        [
            {
                "work": f"labour values, {layout.upper()} A: process peak RSS / the matrix",
                "size": n,
                "figure": ratio,
                "unit": "x matrix",
                "goal": "<= 1.6x",
                "met": ratio <= 1.6,
                "note": f"matrix {gib(nbytes):.2f} GiB; peak {gib(m.rss_peak):.2f} GiB, of which "
                f"{gib(m.rss_added):.2f} GiB added by the solve ({m.rss_added / nbytes:.2f}x); "
                f"layout_path {lv.layout_path}; {m.seconds:.1f} s; the rest is the Economy "
                "(labels, vectors) and the interpreter",
            },
            {
                "work": f"labour values, {layout.upper()} A: (peak RSS - interpreter) / the matrix",
                "size": n,
                "figure": above,
                "unit": "x matrix",
                "goal": "<= 1.6x",
                "met": above <= 1.6,
                "note": f"interpreter with numpy/scipy/numba loaded: {gib(base):.2f} GiB "
                "(it dominates below 10^7)",
            },
        ]
    )


def layout_memory_rows(n: int, layouts: tuple[str, ...] = ("csc", "csr")) -> list[dict[str, Any]]:
    """Peak RSS of labour values for a CSC and a CSR ``A``, each in its own child process."""
    import multiprocessing as mp

    rows: list[dict[str, Any]] = []
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        for layout in layouts:
            csr_file = None
            if layout == "csr":  # written by another process, then read as a reader would
                csr_file = str(Path(tmp) / "A")
                w = ctx.Process(target=_save_csr_child, args=(n, csr_file))
                w.start()
                w.join()
            q = ctx.Queue()
            p = ctx.Process(target=_memory_child, args=(q, n, layout, csr_file))
            p.start()
            rows += q.get()
            p.join()
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    rows = pymrio_rows(1000 if quick else 5000)
    rows += values_rows(100_000 if quick else 1_000_000, quick)
    rows += layout_rows(100_000 if quick else 1_000_000)
    rows += layout_memory_rows(100_000 if quick else 1_000_000)
    return rows


if __name__ == "__main__":
    import argparse

    from benchmarks.run import machine, table

    ap = argparse.ArgumentParser(description="labour values by layout of A (issue 16)")
    ap.add_argument("--layouts", type=int, default=1_000_000, help="size of the speed rows")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--memory", type=int, default=0, help="size of the memory rows (0: none)")
    ap.add_argument("--no-extras", action="store_true", help="only Jacobi, CSC and CSR")
    ap.add_argument(
        "--memory-layouts", default="csc,csr", help="layouts of the memory rows (csc,csr)"
    )
    args = ap.parse_args()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine().items()))
    if args.layouts:
        print(table(layout_rows(args.layouts, args.reps, not args.no_extras)), flush=True)
    if args.memory:
        layouts = tuple(x.strip() for x in args.memory_layouts.split(",") if x.strip())
        print(table(layout_memory_rows(args.memory, layouts)), flush=True)
