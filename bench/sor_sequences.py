"""The paper's two sequences (Khodak et al., ICLR 2024): learned omega against fixed and instance-optimal.

(a) plain SOR on poisson2d(10) + c I, c from the "high"/"low" Beta distributions;
(b) SSOR-CG warm-started on the Crank-Nicolson heat equation;
(c) wall-clock of the same heat sequence against scipy CG (plain, SSOR-preconditioned) and pyamg SA.

Run standalone: ``python -m bench.sor_sequences [--quick]``; bench/sor.py merges ``run(argv)``.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Dict, List

import numpy as np

GRID = np.linspace(1.0, 1.95, 20)


def _tuned(instances, tuner, solver, warm: bool):
    """Run a tuner by the solver protocol; returns (total iterations, tuner seconds, solver seconds)."""
    its = 0
    t_tuner = 0.0
    t_solve = 0.0
    for A, b, ctx, x0 in instances:
        t0 = time.perf_counter()
        w = tuner.suggest(context=ctx)
        t1 = time.perf_counter()
        _, _, st = solver(A, b, x0 if warm else None, omega=w, rtol=1e-8, full_output=True)
        t2 = time.perf_counter()
        tuner.observe(w, st.iterations, context=ctx, rate=st.convergence_factor)
        t3 = time.perf_counter()
        its += st.iterations
        t_tuner += (t1 - t0) + (t3 - t2)
        t_solve += t2 - t1
    return its, t_tuner, t_solve


def _fixed_matrix(instances, solver, warm: bool, omegas=GRID):
    M = np.empty((len(omegas), len(instances)), dtype=np.int64)
    for i, w in enumerate(omegas):
        for k, (A, b, ctx, x0) in enumerate(instances):
            M[i, k] = solver(A, b, x0 if warm else None, omega=float(w), rtol=1e-8, full_output=True)[2].iterations
    return M


def _young_run(instances, solver, warm, mus):
    from adasolve.tuning import young_omega

    tot = 0
    for (A, b, ctx, x0), mu in zip(instances, mus):
        tot += solver(A, b, x0 if warm else None, omega=young_omega(mu), rtol=1e-8, full_output=True)[2].iterations
    return tot


def _rows(name, instances, solver, warm, mus, tuners, seed):
    M = _fixed_matrix(instances, solver, warm)
    totals = M.sum(axis=1)
    ib = int(np.argmin(totals))
    best = int(totals[ib])
    gs = int(totals[0])
    rows = []

    def row(method, its, extra=None):
        r = {"sequence": name, "method": method, "iterations": int(its), "vs best fixed": its / best,
             "vs omega=1": its / gs}
        r.update(extra or {})
        rows.append(r)

    for label, make in tuners:
        tuner = make(seed)
        its, tt, ts = _tuned(instances, tuner, solver, warm)
        row(label, its, {"tuner overhead / solve": tt / ts})
    row(f"best fixed omega={GRID[ib]:.2f} (hindsight)", best)
    row("instance-optimal (per-instance grid search)", int(M.min(axis=0).sum()))
    row("instance-optimal (Young's formula)", _young_run(instances, solver, warm, mus))
    row("omega = 1", gs)
    return rows


def _tuner_list(context_range):
    from adasolve.tuning import ContextualOmegaTuner, OmegaTuner

    return [
        ("OmegaTuner auto (default)", lambda s: OmegaTuner(seed=s)),
        ("OmegaTuner tsallis-inf (paper)", lambda s: OmegaTuner(algorithm="tsallis-inf", seed=s)),
        ("OmegaTuner exp3", lambda s: OmegaTuner(algorithm="exp3", seed=s)),
        ("OmegaTuner ucb", lambda s: OmegaTuner(algorithm="ucb", seed=s)),
        ("ContextualOmegaTuner (auto bins + Young regression)",
         lambda s: ContextualOmegaTuner(seed=s, context_range=context_range)),
        ("ContextualOmegaTuner (tsallis-inf bins, paper's CB)",
         lambda s: ContextualOmegaTuner(seed=s, context_range=context_range, algorithm="tsallis-inf")),
    ]


def run(argv=None) -> Dict[str, List[dict]]:
    from adasolve import solve_sor, ssor_cg
    from adasolve._demo import build_heat_instances
    from adasolve.problems import shifted_laplacian_sequence

    p = argparse.ArgumentParser(prog="bench.sor_sequences")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--instances", type=int, default=None)
    p.add_argument("--nx", type=int, nargs="*", default=None)
    p.add_argument("--seed", type=int, default=0)
    args, _ = p.parse_known_args(argv)
    T = args.instances or (300 if args.quick else 5000)
    nxs = args.nx or ([16] if args.quick else [25, 50])
    sections: Dict[str, List[dict]] = {}

    # (a) shifted Laplacian, plain SOR from x0 = 0.
    lam_min = 4.0 - 4.0 * math.cos(math.pi / 11)  # smallest eigenvalue of poisson2d(10)
    rows = []
    for var in ("high", "low"):
        inst = [(A, b, c, None) for A, b, c in shifted_laplacian_sequence(T, variance=var, seed=args.seed)]
        mus = [(4.0 - lam_min) / (4.0 + c) for _, _, c, _ in inst]  # Jacobi radius of L + cI
        rows += _rows(f"(a) {var} variance", inst, solve_sor, False, mus, _tuner_list((-0.15, 0.45)), args.seed)
    sections["(a) plain SOR, poisson2d(10) + cI, %d instances" % T] = rows

    # (b) heat equation, SSOR-CG warm-started from the previous exact solution.
    rows = []
    timing = []
    for nx in nxs:
        inst = build_heat_instances(nx, T)
        mus = []
        for _, _, kap, _ in inst:
            s = 0.5 * kap * 1e-3 * nx * nx
            mus.append(4 * s * math.cos(math.pi / nx) / (1 + 4 * s))
        r = _rows(f"(b) nx={nx}", inst, ssor_cg, True, mus, _tuner_list((0.0, 10.0)), args.seed)
        rows += r
        timing += _timing(inst, nx, r, args.seed)
    sections["(b) SSOR-CG warm-started, heat equation, %d steps" % T] = rows
    sections["(c) wall-clock on the heat sequence"] = timing
    return sections


def _timing(inst, nx, rows, seed) -> List[dict]:
    import scipy.sparse.linalg as sla

    from adasolve import OmegaTuner, ssor_cg, ssor_preconditioner

    best_w = float(rows[[i for i, r in enumerate(rows) if r["method"].startswith("best fixed")][0]]["method"]
                   .split("=")[1].split()[0])
    out = []

    def add(method, sec, its):
        out.append({"nx": nx, "method": method, "seconds": sec, "ms / step": 1e3 * sec / len(inst),
                    "iterations": its})

    t0 = time.perf_counter()
    tuner = OmegaTuner(seed=seed)
    its = sum(ssor_cg(A, b, x0, omega=tuner, rtol=1e-8, full_output=True)[2].iterations for A, b, c, x0 in inst)
    add("adasolve ssor_cg + OmegaTuner", time.perf_counter() - t0, its)
    t0 = time.perf_counter()
    its = sum(ssor_cg(A, b, x0, omega=best_w, rtol=1e-8, full_output=True)[2].iterations for A, b, c, x0 in inst)
    add(f"adasolve ssor_cg omega={best_w:.2f}", time.perf_counter() - t0, its)

    def scipy_run(prec):
        n = [0]

        def cb(xk):
            n[0] += 1

        t0 = time.perf_counter()
        for A, b, c, x0 in inst:
            M = ssor_preconditioner(A, best_w) if prec else None
            sla.cg(A, b, x0=x0, rtol=1e-8, atol=0.0, maxiter=10000, M=M, callback=cb)
        return time.perf_counter() - t0, n[0]

    add("scipy cg", *scipy_run(False))
    add(f"scipy cg + ssor_preconditioner({best_w:.2f})", *scipy_run(True))
    try:
        import pyamg

        n = 0
        t0 = time.perf_counter()
        for A, b, c, x0 in inst:
            res = []
            ml = pyamg.smoothed_aggregation_solver(A)
            ml.solve(b, x0=x0, tol=1e-8, residuals=res, accel="cg")
            n += len(res) - 1
        add(f"pyamg {pyamg.__version__} SA (setup per step) + CG", time.perf_counter() - t0, n)
    except ImportError:
        out.append({"nx": nx, "method": "pyamg not installed (pip install pyamg)"})
    return out


def main(argv=None) -> int:
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    from bench._common import environment, write_results

    sections = run(argv)
    path = write_results("sor_sequences", sections, environment(),
                         notes="Iterations to rtol=1e-8; tuners use the solve_sor/ssor_cg protocol "
                               "(suggest, solve, observe with the observed convergence factor).")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
