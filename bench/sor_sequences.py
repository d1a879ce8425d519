"""The paper's sequences (Khodak et al., ICLR 2024): learned omega against fixed omegas, in
iterations and in wall-clock time with every overhead counted.

(a) plain SOR on poisson2d(10) + c I, c from the "high"/"low" Beta distributions, x0 = 0;
(b) SSOR-CG warm-started on the Crank-Nicolson heat equation (nx = 25 and 50 by default);
(s) a short heat sequence (400 steps, nx = 20): iterations against the best fixed omega;
(c) wall-clock on the heat sequence against SciPy's CG (plain, SSOR-preconditioned) and pyamg.

Wall time is the time of the user's loop: ``solve_sor(A, b, omega=tuner)`` (or a fixed
omega) for every instance, including validation, the tuner and all Python overhead. The
tuned and the best-fixed loops are timed alternately, ``--repeat`` times each, and the
best time of each is kept, so that a busy machine slows both alike.

Run standalone: ``python -m bench.sor_sequences [--quick]``; ``python -m bench sor`` merges ``run(argv)``.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Callable, Dict, List

import numpy as np

GRID = np.linspace(1.0, 1.95, 20)


def _loop(instances, solver, omega, warm: bool):
    """One pass of the user's loop; returns (total iterations, seconds)."""
    its = 0
    t0 = time.perf_counter()
    for A, b, ctx, x0 in instances:
        its += solver(A, b, x0 if warm else None, omega=omega, rtol=1e-8, context=ctx, full_output=True)[2].iterations
    return its, time.perf_counter() - t0


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


def _tuner_overhead(make: Callable, instances, repeat: int = 3) -> float:
    """Seconds per solve of suggest + observe called from Python (a hand-written loop).

    When the tuner is passed as ``omega=``, the solve calls them from C++ instead; that cost
    (``Tuner.time_steps``) is the "tuner overhead / solve" column."""
    from adasolve import ContextualOmegaTuner

    best = math.inf
    for _ in range(repeat):
        t = make()
        ctxs = [ctx for _, _, ctx, _ in instances]
        costs = np.random.default_rng(0).integers(5, 60, len(instances))
        contextual = isinstance(t, ContextualOmegaTuner)
        t0 = time.perf_counter()
        if contextual:
            for c, k in zip(ctxs, costs):
                w = t.suggest(context=c)
                t.observe(w, int(k), context=c, rate=0.5)
        else:
            for k in costs:
                w = t.suggest()
                t.observe(w, int(k), rate=0.5)
        best = min(best, time.perf_counter() - t0)
    return best / len(instances)


def _rows(name, instances, solver, warm, mus, tuners, repeat):
    M = _fixed_matrix(instances, solver, warm)
    totals = M.sum(axis=1)
    ib = int(np.argmin(totals))
    best_w = float(GRID[ib])
    best = int(totals[ib])
    gs = int(totals[0])
    # Wall time of the best fixed omega and of every tuner, timed alternately.
    t_best = math.inf
    walls: Dict[str, float] = {}
    iters: Dict[str, int] = {}
    for _ in range(repeat):
        for label, make in tuners:
            its, sec = _loop(instances, solver, make(), warm)
            iters[label] = its
            walls[label] = min(walls.get(label, math.inf), sec)
        _, sec = _loop(instances, solver, best_w, warm)
        t_best = min(t_best, sec)
    _, t_one = _loop(instances, solver, 1.0, warm)
    per_solve_best = t_best / len(instances)
    rows = []

    def row(method, its, sec, extra=None):
        r = {"sequence": name, "method": method, "iterations": int(its), "iterations vs best fixed": its / best,
             "wall [s]": sec, "wall vs best fixed": sec / t_best if sec == sec else float("nan")}
        r.update(extra or {})
        rows.append(r)

    for label, make in tuners:
        ovh = _tuner_overhead(make, instances)
        cpp = min(make()._impl.time_steps(len(instances)) for _ in range(3))
        row(label, iters[label], walls[label], {"tuner overhead / solve": cpp / per_solve_best,
                                                "suggest+observe from Python / solve": ovh / per_solve_best})
    row(f"best fixed omega={best_w:.2f} (hindsight)", best, t_best)
    row("instance-optimal (per-instance grid search)", int(M.min(axis=0).sum()), float("nan"))
    row("instance-optimal (Young's formula)", _young_run(instances, solver, warm, mus), float("nan"))
    row("omega = 1", gs, t_one)
    return rows


def _tuner_list(context_range, seed):
    from adasolve.tuning import ContextualOmegaTuner, OmegaTuner

    return [
        ("OmegaTuner auto (default)", lambda: OmegaTuner(seed=seed)),
        ("OmegaTuner tsallis-inf (paper)", lambda: OmegaTuner(algorithm="tsallis-inf", seed=seed)),
        ("ContextualOmegaTuner (auto bins + Young regression)",
         lambda: ContextualOmegaTuner(seed=seed, context_range=context_range)),
        ("ContextualOmegaTuner (tsallis-inf bins, paper's CB)",
         lambda: ContextualOmegaTuner(seed=seed, context_range=context_range, algorithm="tsallis-inf")),
    ]


def _heat_mus(inst, nx):
    mus = []
    for _, _, kap, _ in inst:
        s = 0.5 * kap * 1e-3 * nx * nx
        mus.append(4 * s * math.cos(math.pi / nx) / (1 + 4 * s))
    return mus


def run(argv=None) -> Dict[str, List[dict]]:
    from adasolve import solve_sor, ssor_cg
    from adasolve._demo import build_heat_instances
    from adasolve.problems import shifted_laplacian_sequence

    p = argparse.ArgumentParser(prog="bench.sor_sequences")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--instances", type=int, default=None)
    p.add_argument("--nx", type=int, nargs="*", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--sections", choices=["a", "b", "s", "c"], nargs="*", default=None)
    args, _ = p.parse_known_args(argv)
    T = args.instances or (300 if args.quick else 5000)
    nxs = args.nx or ([16] if args.quick else [25, 50])
    repeat = args.repeat or (1 if args.quick else 3)
    only = set(args.sections or ["a", "b", "s", "c"])
    sections: Dict[str, List[dict]] = {}

    if "a" in only:  # shifted Laplacian, plain SOR from x0 = 0
        lam_min = 4.0 - 4.0 * math.cos(math.pi / 11)  # smallest eigenvalue of poisson2d(10)
        rows = []
        for var in ("high", "low"):
            inst = [(A, b, c, None) for A, b, c in shifted_laplacian_sequence(T, variance=var, seed=args.seed)]
            mus = [(4.0 - lam_min) / (4.0 + c) for _, _, c, _ in inst]  # Jacobi radius of L + cI
            rows += _rows(f"(a) {var} variance", inst, solve_sor, False, mus,
                          _tuner_list((-0.15, 0.45), args.seed), repeat)
        sections["(a) plain SOR, poisson2d(10) + cI, %d instances" % T] = rows

    heat = {}
    if "b" in only or "c" in only:
        for nx in nxs:
            heat[nx] = build_heat_instances(nx, T)
    if "b" in only:  # heat equation, SSOR-CG warm-started from the previous exact solution
        rows = []
        for nx in nxs:
            rows += _rows(f"(b) nx={nx}", heat[nx], ssor_cg, True, _heat_mus(heat[nx], nx),
                          _tuner_list((0.0, 10.0), args.seed), repeat)
        sections["(b) SSOR-CG warm-started, heat equation, %d steps" % T] = rows
    if "s" in only:  # short sequence: what the first solves reveal must replace exploration
        nx_s, T_s = 20, 400
        inst = build_heat_instances(nx_s, T_s)
        sections["(s) short sequence: SSOR-CG, heat equation nx=20, 400 steps"] = _rows(
            f"(s) nx={nx_s}, {T_s} steps", inst, ssor_cg, True, _heat_mus(inst, nx_s),
            _tuner_list((0.0, 10.0), args.seed), repeat)
    if "c" in only:
        timing = []
        rows_b = sections.get("(b) SSOR-CG warm-started, heat equation, %d steps" % T, [])
        for nx in nxs:
            best = [r for r in rows_b if r["sequence"] == f"(b) nx={nx}" and r["method"].startswith("best fixed")]
            best_w = float(best[0]["method"].split("=")[1].split()[0]) if best else 1.4
            timing += _timing(heat[nx], nx, best_w, args.seed)
        sections["(c) wall-clock on the heat sequence against SciPy and pyamg"] = timing
    return sections


def _timing(inst, nx, best_w, seed) -> List[dict]:
    import scipy.sparse.linalg as sla

    from adasolve import OmegaTuner, ssor_cg, ssor_preconditioner

    out = []

    def add(method, sec, its):
        out.append({"nx": nx, "method": method, "seconds": sec, "ms / step": 1e3 * sec / len(inst),
                    "iterations": its})

    its, sec = _loop(inst, ssor_cg, OmegaTuner(seed=seed), True)
    add("adasolve ssor_cg + OmegaTuner", sec, its)
    its, sec = _loop(inst, ssor_cg, best_w, True)
    add(f"adasolve ssor_cg omega={best_w:.2f}", sec, its)

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
                         notes="Iterations to rtol=1e-8. Wall time: the whole user loop (validation, tuner, "
                               "Python), best of the repeats, tuned and fixed loops timed alternately.")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
