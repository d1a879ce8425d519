"""SOR benchmarks: sweep kernels (idle and with a busy core), the cost of a call, and the
tuner sequences.

Run: ``python -m bench sor [--quick] [--only kernels|overhead|sequences]``

Kernels: one forward SOR sweep on the 2-D Poisson matrix (5-point), 10^3 to 10^6 unknowns:
adasolve's natural order (1 thread) and multicolour order (1 and 2 threads, set with
``adasolve.set_num_threads``) against ``pyamg.relaxation.relaxation.sor``, and the
natural sweep against the memory-bandwidth bound (bytes a sweep must move / bandwidth of a
large NumPy copy). The multicolour ratios are measured twice: on the idle machine, and while
another process keeps one core busy (a Python busy loop), which is when a spin-waiting
OpenMP runtime collapses.

Overhead: the wall time of a whole ``solve_sor`` call doing one sweep on a 100-unknown CSR
matrix, in units of one SciPy ``A @ b`` on the same matrix, and of ``suggest`` + ``observe``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import multiprocessing as mp
import sys
import time
from typing import Dict, List

import numpy as np
import scipy.sparse as sp

from bench._common import environment, measure_bandwidth, timeit, write_results


def _poisson2d(n: int) -> sp.csr_matrix:
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")
    I = sp.identity(n, format="csr")
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


def _spin(stop) -> None:  # pragma: no cover - runs in a child process
    while not stop.is_set():
        pass


@contextlib.contextmanager
def busy_core():
    """Keep one core busy with another process (a pure-Python busy loop) while inside."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    p = ctx.Process(target=_spin, args=(stop,), daemon=True)
    p.start()
    time.sleep(0.3)
    try:
        yield
    finally:
        stop.set()
        p.join(5)
        if p.is_alive():
            p.kill()


def _sweep_times(N: int, quick: bool) -> Dict[str, float]:
    from adasolve import _core

    A = _poisson2d(N)
    n = A.shape[0]
    b = np.random.default_rng(0).standard_normal(n)
    k = _core.sor
    M = k.Csr_float64_int32(n, A.indptr, A.indices, A.data)  # prepared matrix (1/diag, colouring)
    sweeps = max(3, min(2000, int(3e6 // A.nnz)))
    repeat = 3 if quick else 7
    x = np.zeros(n)

    def t(multicolor, threads):
        _core.set_num_threads(threads)
        M.sweep(b, x, 1.5, 0, sweeps, multicolor)  # warm-up (and the Governor's first timings)
        return timeit(lambda: M.sweep(b, x, 1.5, 0, sweeps, multicolor), repeat=repeat)["best"] / sweeps

    out = {"n": n, "nnz": A.nnz, "natural": t(False, 1), "mc1": t(True, 1), "mc2": t(True, 2)}
    try:
        from pyamg.relaxation.relaxation import sor as pyamg_sor

        xp = np.zeros(n)
        out["pyamg"] = timeit(lambda: pyamg_sor(A, xp, b, 1.5, iterations=sweeps, sweep="forward"),
                              repeat=repeat)["best"] / sweeps
    except ImportError:
        out["pyamg"] = float("nan")
    return out


def kernels(quick: bool) -> Dict[str, List[dict]]:
    from adasolve import _core

    sizes = [32, 100, 316] if quick else [32, 100, 316, 1000]
    bw = measure_bandwidth()
    threads0 = _core.num_threads()
    rows, busy_rows = [], []
    try:
        idle = {N: _sweep_times(N, quick) for N in sizes}
        with busy_core():
            busy = {N: _sweep_times(N, quick) for N in sizes}
    finally:
        _core.set_num_threads(threads0)
    for N in sizes:
        r = idle[N]
        # bytes one sweep must move: A (values + column indices + row pointers), x read+written, b, 1/diag
        nbytes = r["nnz"] * (8 + 4) + (r["n"] + 1) * 4 + r["n"] * 8 * 4
        rows.append({"unknowns": r["n"], "natural ms": 1e3 * r["natural"],
                     "natural / pyamg": r["natural"] / r["pyamg"],
                     "natural, fraction of copy bandwidth": nbytes / r["natural"] / bw,
                     "multicolour 1 thread / pyamg": r["mc1"] / r["pyamg"],
                     "multicolour 2 threads / pyamg": r["mc2"] / r["pyamg"],
                     "multicolour 2 threads / natural": r["mc2"] / r["natural"],
                     "bandwidth GB/s": bw / 1e9})
        q = busy[N]
        busy_rows.append({"unknowns": q["n"], "natural ms": 1e3 * q["natural"],
                          "multicolour 2 threads ms": 1e3 * q["mc2"],
                          "multicolour 2 threads / natural": q["mc2"] / q["natural"],
                          "multicolour 1 thread / natural": q["mc1"] / q["natural"],
                          "target": "<= 1.5"})
    return {"Sweep kernels, idle machine (forward SOR sweep, 2-D Poisson, omega=1.5; "
            "targets: multicolour 2 threads <= 0.5x pyamg, natural >= 60% of copy bandwidth)": rows,
            "Sweep kernels with one core kept busy by another process": busy_rows}


def overhead(quick: bool) -> Dict[str, List[dict]]:
    from adasolve import ContextualOmegaTuner, OmegaTuner, solve_sor

    A = _poisson2d(10)
    b = np.ones(A.shape[0])
    n = 2000 if quick else 20000

    def per_call(fn):
        return timeit(lambda: [fn() for _ in range(n)], repeat=5)["best"] / n

    spmv = per_call(lambda: A @ b)
    one = per_call(lambda: solve_sor(A, b, omega=1.5, maxiter=1))
    t = OmegaTuner(seed=0)

    def plain():
        w = t.suggest()
        t.observe(w, 50, rate=0.9)

    ct = ContextualOmegaTuner(seed=0, context_range=(0.0, 1.0))
    cs = np.random.default_rng(0).random(n + 1).tolist()
    it = iter(cs * 20)

    def contextual():
        c = next(it)
        w = ct.suggest(context=c)
        ct.observe(w, 50, context=c, rate=0.9)

    cpp_plain = min(OmegaTuner(seed=0)._impl.time_steps(n) for _ in range(3))
    cpp_ctx = min(ContextualOmegaTuner(seed=0, context_range=(0.0, 1.0))._impl.time_steps(n) for _ in range(3))
    return {"Cost of a call (100-unknown CSR matrix)": [
        {"what": "SciPy A @ b", "microseconds": 1e6 * spmv, "in SpMVs": 1.0, "target": ""},
        {"what": "solve_sor(A, b, omega=1.5, maxiter=1)", "microseconds": 1e6 * one, "in SpMVs": one / spmv,
         "target": "<= 4 SpMV"},
        {"what": "OmegaTuner suggest + observe", "microseconds": 1e6 * per_call(plain), "in SpMVs": float("nan"),
         "target": "<= 2 us"},
        {"what": "ContextualOmegaTuner suggest + observe", "microseconds": 1e6 * per_call(contextual),
         "in SpMVs": float("nan"), "target": "<= 5 us"},
        {"what": "OmegaTuner suggest + observe inside a tuned solve (C++)", "microseconds": 1e6 * cpp_plain,
         "in SpMVs": float("nan"), "target": ""},
        {"what": "ContextualOmegaTuner suggest + observe inside a tuned solve (C++)",
         "microseconds": 1e6 * cpp_ctx, "in SpMVs": float("nan"), "target": ""},
    ]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sor")
    p.add_argument("--quick", action="store_true", help="small sizes, seconds")
    p.add_argument("--only", choices=["kernels", "overhead", "sequences"], default=None)
    args, rest = p.parse_known_args(argv)
    sections: Dict[str, List[dict]] = {}
    if args.only in (None, "overhead"):
        sections.update(overhead(args.quick))
    if args.only in (None, "kernels"):
        sections.update(kernels(args.quick))
    if args.only in (None, "sequences"):
        if importlib.util.find_spec("bench.sor_sequences") is not None:
            from bench import sor_sequences

            sections.update(sor_sequences.run((["--quick"] if args.quick else []) + list(rest)))
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
