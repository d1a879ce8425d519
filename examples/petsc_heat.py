"""The 2-D heat equation on a PETSc DMDA, with omega learned across the time steps.

Run on two MPI ranks (as root, Open MPI also wants ``--allow-run-as-root --oversubscribe``)::

    mpiexec -n 2 python examples/petsc_heat.py --nx 60 --steps 500

Each time step solves ``(I - dt/2 kappa(t) L) u_new = (I + dt/2 kappa(t) L) u + dt f`` (the
sequence of :func:`adasolve.problems.heat_equation_sequence`) with SSOR-preconditioned CG
(or ``--method sor``: Richardson + SOR) in PETSc; :class:`adasolve.petsc.TunedKSP` picks omega
before each solve and learns from the iteration count. ``--contextual`` uses the diffusion
coefficient kappa(t) as the tuner's context. Rank 0 prints the iterations per 100 steps, the
total, and the same run with omega = 1 for comparison.
"""

import argparse
import time

from petsc4py import PETSc

from adasolve import ContextualOmegaTuner, OmegaTuner
from adasolve.petsc import HeatDMDA, TunedKSP


def run(args, tuner):
    heat = HeatDMDA(nx=args.nx, steps=args.steps, dt=1e-3)
    ksp = PETSc.KSP().create(heat.comm)
    ksp.setTolerances(rtol=1e-8, atol=0.0, max_it=10000)
    ksp.setInitialGuessNonzero(True)          # warm start from the previous time step
    tk = TunedKSP(ksp, tuner, method=args.method)
    t0 = time.perf_counter()
    for kappa in heat:
        ksp.setOperators(heat.A)               # A changes with kappa(t) every step
        tk.solve(heat.b, heat.x, context=kappa)
        heat.step()
    return tk, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nx", type=int, default=60)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--method", choices=["sor", "ssor-cg"], default="ssor-cg")
    ap.add_argument("--contextual", action="store_true")
    args = ap.parse_args()
    rank, size = PETSc.COMM_WORLD.getRank(), PETSc.COMM_WORLD.getSize()
    tuner = ContextualOmegaTuner(seed=0, context_range=(0.0, 10.0)) if args.contextual else OmegaTuner(seed=0)
    tk, secs = run(args, tuner)
    fixed, fsecs = run(args, OmegaTuner(omegas=[1.0], seed=0))   # a one-arm "tuner": omega = 1 throughout
    if rank == 0:
        its = [h.iterations for h in tk.history]
        print(f"{size} rank(s), {(args.nx - 1) ** 2} unknowns, {args.steps} steps, {args.method}")
        for s in range(0, len(its), 100):
            print(f"  steps {s:4d}-{min(s + 100, len(its)) - 1:4d}: {sum(its[s:s + 100]):6d} iterations, "
                  f"last omega {tk.history[min(s + 99, len(its) - 1)].omega:.3f}")
        print(f"tuned:     {tk.total_iterations:7d} iterations, {secs:.2f} s")
        print(f"omega = 1: {fixed.total_iterations:7d} iterations, {fsecs:.2f} s")


if __name__ == "__main__":
    main()
