"""The ``python -m adasolve demo`` job: learn omega across a heat-equation sequence.

Every method solves the same systems (the paper's Crank-Nicolson heat equation, h2d.m), each
warm-started from the previous step's exact solution, with SSOR-preconditioned CG (the paper's
solver for this experiment) to ``rtol = 1e-8``; SciPy's unpreconditioned CG is the reference.

The default time step ``dt = 2e-3`` over 500 steps covers one period of the diffusion
coefficient ``kappa(t)``: a calm half (``kappa <= 0.1``, where the systems are close to the
identity and omega hardly matters) and a stiff half (``kappa`` up to 10, where the best fixed
omega is about 1.5 and omega = 1 costs a fifth more iterations). A sequence that stays in the
calm half (``dt = 1e-3`` with 500 steps or fewer) has nothing to learn: its best omega is 1.
"""

from __future__ import annotations

import sys
import time
from typing import Optional

import numpy as np

#: The fixed omegas tried in hindsight (and shown in the plot).
OMEGA_GRID = np.round(np.linspace(1.0, 1.95, 20), 2)

_KEY = """\
key: iterations = total SSOR-CG (or CG) iterations over the sequence; vs best = iterations /
     those of the best fixed omega (lower is better; below 1 beats every fixed omega);
     hindsight = the best of {n} fixed omegas in [1, 1.95], found by solving the whole sequence
     once per omega, which a user cannot do in advance; time = wall time in seconds, all
     Python overhead and the tuners included."""


def _bar(total: int, desc: str):
    """A tqdm progress bar on a terminal (stderr); nothing without tqdm or in a log file."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, disable=None, file=sys.stderr)


def build_heat_instances(nx: int, steps: int, dt: float = 1e-3, *, progress: bool = False):
    """The systems of a heat-equation sequence with exact warm starts (spsolve).

    Returns a list of ``(A, b, kappa, x0)``: the system of each step, its diffusion
    coefficient (the context) and the previous step's exact solution (the warm start).
    """
    import scipy.sparse.linalg as sla

    from .sor.problems import heat_equation_sequence

    seq = heat_equation_sequence(nx=nx, steps=steps, dt=dt)
    bar = _bar(steps, "building the sequence") if progress else None
    out = []
    for A, b, kap in seq:
        x0 = seq.u.copy()
        seq.step(sla.spsolve(A.tocsc(), b))
        out.append((A, b, kap, x0))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return out


def run_sequence(instances, omega, *, rtol: float = 1e-8, label: str = "", solver=None,
                 times: bool = False):
    """Solve every instance with ``ssor_cg`` (or ``solver``).

    Returns per-instance iterations and the total wall time; with ``times=True`` the
    per-instance wall times instead of the total. A non-empty ``label`` shows a progress bar
    on a terminal.
    """
    from .sor.solve import ssor_cg

    solver = solver or ssor_cg
    its = np.empty(len(instances), dtype=np.int64)
    sec = np.empty(len(instances))
    bar = _bar(len(instances), label) if label else None
    for k, (A, b, ctx, x0) in enumerate(instances):
        t0 = time.perf_counter()
        _, _, st = solver(A, b, x0, omega=omega, rtol=rtol, context=ctx, full_output=True)
        sec[k] = time.perf_counter() - t0
        its[k] = st.iterations
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return its, (sec if times else float(sec.sum()))


def run_scipy_cg(instances, rtol: float = 1e-8, label: str = "", times: bool = False):
    """SciPy's unpreconditioned CG on every instance: iterations and wall time (as run_sequence)."""
    import scipy.sparse.linalg as sla

    its = np.empty(len(instances), dtype=np.int64)
    sec = np.empty(len(instances))
    bar = _bar(len(instances), label) if label else None
    for k, (A, b, ctx, x0) in enumerate(instances):
        cnt = [0]

        def cb(xk, cnt=cnt):
            cnt[0] += 1

        t0 = time.perf_counter()
        sla.cg(A, b, x0=x0, rtol=rtol, atol=0.0, maxiter=10000, callback=cb)
        sec[k] = time.perf_counter() - t0
        its[k] = cnt[0]
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return its, (sec if times else float(sec.sum()))


def run_demo(size: Optional[int] = None, instances: Optional[int] = None, seed: int = 0,
             plot: Optional[str] = None, dt: Optional[float] = None) -> int:
    """Run the demo; print the table (and key) on stdout, save the figure to ``plot``."""
    from .sor.tuning import ContextualOmegaTuner, OmegaTuner

    nx = 30 if size is None else int(size)
    T = 500 if instances is None else int(instances)
    dt = 2e-3 if dt is None else float(dt)
    if nx < 3 or T < 1 or not dt > 0:
        print("error: --size must be >= 3, --instances >= 1 and --dt > 0", file=sys.stderr)
        return 2
    if plot is not None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'adasolve[demo]'", file=sys.stderr)
            return 2
    print(f"Heat equation (Crank-Nicolson, h2d.m): nx={nx} ({(nx - 1) ** 2} unknowns), {T} steps "
          f"of dt={dt:g}, SSOR-CG warm-started, rtol=1e-8")
    sys.stdout.flush()
    inst = build_heat_instances(nx, T, dt, progress=True)
    rows = []  # (method, solver, omega, iterations per instance, seconds per instance)

    tuner = OmegaTuner(seed=seed)
    its, sec = run_sequence(inst, tuner, label="OmegaTuner", times=True)
    rows.append(("OmegaTuner (learned)", "SSOR-CG", f"learned: {tuner.best_omega:.2f}", its, sec))
    ctuner = ContextualOmegaTuner(seed=seed, context_range=(0.0, 10.0))  # kappa(t) lies in [0, 10]
    its, sec = run_sequence(inst, ctuner, label="ContextualOmegaTuner", times=True)
    rows.append(("ContextualOmegaTuner", "SSOR-CG", "learned per kappa", its, sec))

    fixed = []  # (omega, iterations, seconds) for every omega of the grid
    bar = _bar(len(OMEGA_GRID), "fixed omegas (hindsight)")
    for w in OMEGA_GRID:
        its, sec = run_sequence(inst, float(w), times=True)
        fixed.append((float(w), its, sec))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    one = fixed[0]
    best = min(fixed, key=lambda f: f[1].sum())
    rows.append(("omega = 1 (symmetric GS)", "SSOR-CG", "1.00", one[1], one[2]))
    rows.append(("best fixed omega (hindsight)", "SSOR-CG", f"{best[0]:.2f}", best[1], best[2]))
    its, sec = run_scipy_cg(inst, label="scipy cg", times=True)
    rows.append(("scipy.sparse.linalg.cg", "CG (no precond.)", "-", its, sec))

    head = (f"{'method':<30} {'solver':<17} {'omega':<18} {'iterations':>10} {'vs best':>8} "
            f"{'time [s]':>9}")
    print(head)
    print("-" * len(head))
    bt = best[1].sum()
    for name, solver, w, its, sec in rows:
        print(f"{name:<30} {solver:<17} {w:<18} {int(its.sum()):>10} {its.sum() / bt:>8.3f} "
              f"{sec.sum():>9.2f}")
    print(_KEY.format(n=len(OMEGA_GRID)))

    if plot is not None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
        ws = [f[0] for f in fixed]
        ax1.plot(ws, [f[1].sum() for f in fixed], "o-", color="0.4", label="fixed omega")
        ax1.plot([best[0]], [bt], "*", ms=14, color="C3",
                 label=f"best fixed omega = {best[0]:.2f} (hindsight)")
        for (name, _, _, its, _), c in zip(rows[:2], ("C0", "C1")):
            ax1.axhline(its.sum(), color=c, ls="--", label=f"{name}: {int(its.sum())}")
        ax1.set_xlabel("omega")
        ax1.set_ylabel("total SSOR-CG iterations (lower is better)")
        ax1.set_title("Iterations over the sequence")
        ax1.legend(fontsize=8)
        styles = {"scipy.sparse.linalg.cg": dict(color="0.6", ls=":")}
        for (name, _, _, _, sec), c in zip(rows, ("C0", "C1", "C2", "C3", "0.6")):
            ax2.plot(np.arange(1, T + 1), np.cumsum(sec), label=name,
                     **styles.get(name, dict(color=c)))
        ax2.set_xlabel("time step (system) of the sequence")
        ax2.set_ylabel("cumulative wall time [s] (lower is better)")
        ax2.set_title("Wall time, tuner overhead included")
        ax2.legend(fontsize=8)
        fig.suptitle(f"Learning omega while solving a heat-equation sequence "
                     f"(nx={nx}, {T} steps, dt={dt:g})")
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"saved {plot}", file=sys.stderr)
    return 0
