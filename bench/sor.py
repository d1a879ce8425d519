"""SOR benchmarks: sweep throughput (kernels) and, when present, the tuner sequences.

Run: ``flock /tmp/adasolve-bench.lock python -m bench sor [--quick] [--only kernels|sequences]``

Kernels: one forward SOR sweep on the 2-D Poisson matrix (5-point, N x N unknowns),
adasolve natural order (1 thread) and multicolour (1 and 2 threads, set with
``adasolve._core.sor.set_num_threads``) against ``pyamg.relaxation.relaxation.sor``
(forward sweep; pyamg >= 5 does true pointwise SOR there), and against the memory
bandwidth bound: bytes a sweep must move / bandwidth of a large NumPy copy.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Dict, List

import numpy as np
import scipy.sparse as sp

from bench._common import environment, measure_bandwidth, timeit, write_results


def _poisson2d(n: int) -> sp.csr_matrix:
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")
    I = sp.identity(n, format="csr")
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


def kernels(quick: bool) -> Dict[str, List[dict]]:
    import adasolve
    from adasolve import _core, sor_sweep

    N = 200 if quick else 1000
    A = _poisson2d(N)
    n, nnz = A.shape[0], A.nnz
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n)
    inv = 1.0 / A.diagonal()
    w = 1.5
    sweeps = 10
    repeat = 3 if quick else 7
    k = _core.sor
    col = k.greedy_coloring(n, A.indptr, A.indices)

    def ours(coloring):
        x = np.zeros(n)
        return lambda: k.sweep(n, A.indptr, A.indices, A.data, inv, x, b, w, sweeps, 0, coloring)

    rows = []
    # bytes one sweep must move: A (values + column indices + row pointers), x read+written, b, 1/diag
    nbytes = nnz * (8 + 4) + (n + 1) * 4 + n * 8 * 4
    bw = measure_bandwidth()
    k.set_num_threads(1)
    t_nat = timeit(ours(None), repeat=repeat)["best"] / sweeps
    xs = np.zeros(n)
    t_pub = timeit(lambda: sor_sweep(A, xs, b, omega=w, iterations=sweeps), repeat=repeat)["best"] / sweeps
    t_mc1 = timeit(ours(col), repeat=repeat)["best"] / sweeps
    k.set_num_threads(2)
    t_mc2 = timeit(ours(col), repeat=repeat)["best"] / sweeps
    k.set_num_threads(adasolve.max_threads())
    try:
        import pyamg
        from pyamg.relaxation.relaxation import sor as pyamg_sor

        xp = np.zeros(n)
        t_pyamg = timeit(lambda: pyamg_sor(A, xp, b, w, iterations=sweeps, sweep="forward"),
                         repeat=repeat)["best"] / sweeps
        pv = pyamg.__version__
    except ImportError:
        t_pyamg, pv = float("nan"), "absent (pip install pyamg)"

    def row(name, threads, t, target=""):
        return {"method": name, "threads": threads, "grid": f"{N}x{N}", "nnz": nnz,
                "ms_per_sweep": t * 1e3, "ratio_vs_pyamg": t / t_pyamg,
                "fraction_of_bandwidth": nbytes / t / bw, "target": target}

    rows.append(row("adasolve natural (kernel)", 1, t_nat, "ratio <= 0.8; >= 60% bandwidth"))
    rows.append(row("adasolve sor_sweep (public API, incl. validation)", 1, t_pub))
    rows.append(row("adasolve multicolour", 1, t_mc1))
    rows.append(row("adasolve multicolour", 2, t_mc2, "ratio <= 0.5"))
    rows.append(row(f"pyamg {pv} relaxation.sor forward", 1, t_pyamg))
    for r in rows:
        r["bandwidth_GBps"] = bw / 1e9
    return {"Sweep throughput, 2-D Poisson (forward SOR sweep, omega=1.5)": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sor")
    p.add_argument("--quick", action="store_true", help="small sizes, seconds")
    p.add_argument("--only", choices=["kernels", "sequences"], default=None)
    args, rest = p.parse_known_args(argv)
    sections: Dict[str, List[dict]] = {}
    if args.only in (None, "kernels"):
        sections.update(kernels(args.quick))
    if args.only in (None, "sequences"):
        if importlib.util.find_spec("bench.sor_sequences") is not None:
            from bench import sor_sequences

            sections.update(sor_sequences.run(list(argv or [])))
        else:
            print("bench/sor_sequences.py absent: sequence sections skipped", file=sys.stderr)
    try:
        import pyamg

        extra = {"pyamg": pyamg.__version__}
    except ImportError:
        extra = {}
    path = write_results("sor", sections, environment(threads=None, extra=extra),
                         notes="Times are best of repeats; ratio_vs_pyamg < 1 means adasolve is faster.")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
