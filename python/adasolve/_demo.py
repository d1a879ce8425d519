"""The ``python -m adasolve demo`` job: learn omega across a heat-equation sequence.

Every method solves the same systems (the paper's Crank-Nicolson heat
equation, h2d.m), each warm-started from the previous step's exact solution,
with SSOR-preconditioned CG (the paper's solver for this experiment) to
``rtol = 1e-8``.  scipy's unpreconditioned CG is the reference.
"""

from __future__ import annotations

import sys
import time
from typing import Optional

import numpy as np


def _progress(label: str, k: int, n: int) -> None:
    if k % max(n // 50, 1) and k != n:
        return
    width = 30
    done = int(width * k / n)
    sys.stderr.write(f"\r{label:<28} [{'#' * done}{'.' * (width - done)}] {k}/{n}")
    if k == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build_heat_instances(nx: int, steps: int):
    """The systems of a heat-equation sequence with exact warm starts (spsolve)."""
    import scipy.sparse.linalg as sla

    from .sor.problems import heat_equation_sequence

    seq = heat_equation_sequence(nx=nx, steps=steps)
    out = []
    for k, (A, b, kap) in enumerate(seq):
        x0 = seq.u.copy()
        x = sla.spsolve(A.tocsc(), b)
        seq.step(x)
        out.append((A, b, kap, x0))
        _progress("building sequence", k + 1, steps)
    return out


def run_sequence(instances, omega, *, rtol: float = 1e-8, label: str = "", solver=None):
    """Solve every instance with ``ssor_cg`` (or ``solver``); per-instance iterations and total time."""
    from .sor.solve import ssor_cg

    solver = solver or ssor_cg
    its = np.empty(len(instances), dtype=np.int64)
    t0 = time.perf_counter()
    for k, (A, b, ctx, x0) in enumerate(instances):
        _, _, st = solver(A, b, x0, omega=omega, rtol=rtol, context=ctx, full_output=True)
        its[k] = st.iterations
        if label:
            _progress(label, k + 1, len(instances))
    return its, time.perf_counter() - t0


def run_scipy_cg(instances, rtol: float = 1e-8, label: str = ""):
    import scipy.sparse.linalg as sla

    its = np.empty(len(instances), dtype=np.int64)
    t0 = time.perf_counter()
    for k, (A, b, ctx, x0) in enumerate(instances):
        cnt = [0]

        def cb(xk, cnt=cnt):
            cnt[0] += 1

        sla.cg(A, b, x0=x0, rtol=rtol, atol=0.0, maxiter=10000, callback=cb)
        its[k] = cnt[0]
        if label:
            _progress(label, k + 1, len(instances))
    return its, time.perf_counter() - t0


def run_demo(size: Optional[int] = None, instances: Optional[int] = None, seed: int = 0,
             plot: Optional[str] = None) -> int:
    from .sor.tuning import ContextualOmegaTuner, OmegaTuner

    nx = 25 if size is None else int(size)
    T = 1000 if instances is None else int(instances)
    if nx < 3 or T < 1:
        print("error: --size must be >= 3 and --instances >= 1", file=sys.stderr)
        return 2
    if plot is not None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'adasolve[plot]'", file=sys.stderr)
            return 2
    print(f"Heat equation (Crank-Nicolson, h2d.m): nx={nx} ({(nx - 1) ** 2} unknowns), {T} steps, "
          f"SSOR-CG warm-started, rtol=1e-8", file=sys.stderr)
    inst = build_heat_instances(nx, T)
    rows = []
    curves = {}

    tuner = OmegaTuner(seed=seed)
    its, sec = run_sequence(inst, tuner, label="OmegaTuner('auto')")
    rows.append(("OmegaTuner (auto)", "SSOR-CG", f"learned, last {tuner.best_omega:.2f}", its, sec))
    ctuner = ContextualOmegaTuner(seed=seed, context_range=(0.0, 10.0))  # kappa(t) lies in [0, 10]
    its, sec = run_sequence(inst, ctuner, label="ContextualOmegaTuner")
    rows.append(("ContextualOmegaTuner", "SSOR-CG", "learned per kappa", its, sec))
    its, sec = run_sequence(inst, 1.0, label="omega = 1 (SGS)")
    rows.append(("omega = 1 (symmetric GS)", "SSOR-CG", "1.00", its, sec))
    grid = np.linspace(1.0, 1.95, 20)
    best = None
    for w in grid:
        its, sec = run_sequence(inst, float(w), label=f"hindsight search w={w:.2f}")
        if best is None or its.sum() < best[1].sum():
            best = (w, its, sec)
    rows.append(("best fixed omega (hindsight)", "SSOR-CG", f"{best[0]:.2f}", best[1], best[2]))
    its, sec = run_scipy_cg(inst, label="scipy cg")
    rows.append(("scipy.sparse.linalg.cg", "CG (no precond.)", "-", its, sec))

    head = f"{'method':<30} {'solver':<17} {'omega':<20} {'iterations':>11} {'vs best':>8} {'time [s]':>9}"
    print(head)
    print("-" * len(head))
    bt = best[1].sum()
    for name, solver, w, its, sec in rows:
        print(f"{name:<30} {solver:<17} {w:<20} {int(its.sum()):>11} {its.sum() / bt:>8.3f} {sec:>9.2f}")
        curves[name] = np.cumsum(its)
    if plot is not None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, c in curves.items():
            ax.plot(np.arange(1, T + 1), c, label=name)
        ax.set_xlabel("instance (time step)")
        ax.set_ylabel("cumulative iterations")
        ax.set_title(f"Heat equation, nx={nx}, SSOR-CG (scipy CG unpreconditioned)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"saved {plot}", file=sys.stderr)
    return 0
