"""The learned omega in PETSc under MPI: the DMDA heat-equation sequence.

``mpiexec -n N python -m bench petsc [--quick] [--nx NX] [--steps S] [--grid-step K] [--max-it N]``  (as root, Open MPI also
wants ``--allow-run-as-root --oversubscribe``)

For SOR (Richardson + PCSOR) and SSOR-CG (CG + symmetric PCSOR), solves the whole
Crank-Nicolson sequence of :class:`adasolve.petsc.HeatDMDA` (warm starts, rtol 1e-8 on the
unpreconditioned residual) with: the bandit tuner (``OmegaTuner``), the contextual tuner
(``ContextualOmegaTuner`` with kappa(t)), every fixed omega of the tuner's grid (the best one in
hindsight is reported), omega = 1, and PETSc's default KSP/PC (GMRES + ILU(0) on one rank,
block Jacobi + ILU(0) on several; right preconditioning, so that it stops on the same
unpreconditioned residual) at the same tolerance. Reported: total iterations, wall
time of the solves (tuner calls and broadcasts included; assembly excluded, the same for all),
and the ratios tuned / row. Results: ``bench/results/petsc_n<N>.{json,md}``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Dict, List


def _run(nx: int, steps: int, method: str, tuner: Any = None, rtol: float = 1e-8,
         max_it: int = 20000) -> Dict[str, Any]:
    from petsc4py import PETSc

    from adasolve.petsc import HeatDMDA, TunedKSP

    heat = HeatDMDA(nx=nx, steps=steps, dt=1e-3)
    ksp = PETSc.KSP().create(heat.comm)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=max_it)
    ksp.setInitialGuessNonzero(True)
    tk = TunedKSP(ksp, tuner, method=method) if tuner is not None else None
    if tk is None:  # PETSc's defaults (GMRES(30), ILU / block Jacobi-ILU), same norm and rtol
        # GMRES measures the true residual only with right preconditioning.
        ksp.setPCSide(PETSc.PC.Side.RIGHT)
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    its, secs, failed = 0, 0.0, 0
    for kappa in heat:
        ksp.setOperators(heat.A)
        heat.comm.tompi4py().Barrier()
        t0 = time.perf_counter()
        if tk is not None:
            info = tk.solve(heat.b, heat.x, context=kappa)
            n, ok = info.iterations, info.converged
        else:
            ksp.solve(heat.b, heat.x)
            n, ok = ksp.getIterationNumber(), ksp.getConvergedReason() > 0
        secs += time.perf_counter() - t0
        its += n
        failed += not ok
        heat.step()
    # The slowest rank sets the wall time.
    from mpi4py import MPI

    secs = heat.comm.tompi4py().allreduce(secs, op=MPI.MAX)
    return {"iterations": its, "time": secs, "failed": failed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench petsc", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="nx = 25, 1000 steps (the demo's size)")
    ap.add_argument("--nx", type=int, default=50)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--methods", default="sor,ssor-cg")
    ap.add_argument("--grid-step", type=int, default=1,
                    help="sweep every k-th omega of the tuner's grid for the best fixed omega (default 1: all 20)")
    ap.add_argument("--max-it", type=int, default=20000,
                    help="KSP max_it: what a solve that does not converge costs (default 20000)")
    ap.add_argument("--name", default=None, help="result file stem (default petsc_n<ranks>)")
    args = ap.parse_args(argv)
    if args.quick:
        args.nx, args.steps = 25, 1000
    from petsc4py import PETSc

    from adasolve import ContextualOmegaTuner, OmegaTuner

    comm = PETSc.COMM_WORLD
    size, rank = comm.getSize(), comm.getRank()
    grid = OmegaTuner().omegas[::max(1, args.grid_step)]
    sections: Dict[str, List[Dict[str, Any]]] = {}
    for method in args.methods.split(","):
        rows = []
        tuned = _run(args.nx, args.steps, method, max_it=args.max_it, tuner=OmegaTuner(seed=0))
        ctx = _run(args.nx, args.steps, method, max_it=args.max_it,
                   tuner=ContextualOmegaTuner(seed=0, context_range=(0.0, 10.0)))
        fixed = {float(w): _run(args.nx, args.steps, method, max_it=args.max_it, tuner=OmegaTuner(omegas=[w], seed=0))
                 for w in grid}
        ok = {w: r for w, r in fixed.items() if r["failed"] == 0} or fixed
        wbest = min(ok, key=lambda w: (ok[w]["iterations"], ok[w]["time"]))
        default = _run(args.nx, args.steps, method, max_it=args.max_it, tuner=None)
        for name, r in [("tuned (OmegaTuner)", tuned), ("contextual (ContextualOmegaTuner)", ctx),
                        (f"best fixed omega = {wbest:.2f}", fixed[wbest]), ("omega = 1", fixed[1.0]),
                        ("PETSc default KSP/PC", default)]:
            rows.append({"ranks": size, "unknowns": (args.nx - 1) ** 2, "steps": args.steps, "solver": name,
                         "iterations": r["iterations"], "time (s)": r["time"], "failed solves": r["failed"],
                         "iterations tuned / this": tuned["iterations"] / max(r["iterations"], 1),
                         "time tuned / this": tuned["time"] / r["time"]})
        if rank == 0:
            for row in rows:
                print(method, row, flush=True)
        sections[f"{method}: heat-equation DMDA sequence, {size} rank(s)"] = rows
        sections[f"{method}: fixed omega sweep, {size} rank(s)"] = [
            {"omega": w, "iterations": r["iterations"], "time (s)": r["time"], "failed solves": r["failed"]}
            for w, r in fixed.items()]
    if rank == 0:
        from bench._common import environment, write_results

        v = PETSc.Sys.getVersion()
        notes = ("PETSc {}.{}.{} via petsc4py; {} MPI rank(s). rtol 1e-8 on the unpreconditioned residual, max_it {}, "
                 "warm starts from the previous step. Parallel PCSOR = block Jacobi with local SOR sweeps. "
                 "Ratios: tuned / row, same run.".format(*v, size, args.max_it))
        path = write_results(args.name or f"petsc_n{size}", sections,
                             environment(None, {"mpi_ranks": size, "petsc": ".".join(map(str, v))}), notes=notes)
        print(path.read_text())
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
