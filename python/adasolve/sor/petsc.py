"""The learned omega inside PETSc: SOR and SSOR-CG solves of a PETSc KSP, tuned across a sequence.

A simulation that already solves its linear systems with PETSc (a time-stepping loop, a
parameter sweep, under ``mpiexec``) wraps its KSP once::

    tk = TunedKSP(ksp, OmegaTuner(seed=0), method="sor")
    for step in range(n):
        ...                                   # update A (ksp.setOperators) and b
        tk.solve(b, x)                        # omega from the tuner, cost back to it

:class:`TunedKSP` configures the KSP (Richardson + PCSOR, or CG + symmetric PCSOR), sets omega
before each solve and reports the iteration count and the observed convergence rate to the
tuner afterwards. Under MPI rank 0 decides omega and broadcasts it; every rank keeps an
identical copy of the tuner (see :class:`TunedKSP`).

Needs ``petsc4py`` and ``mpi4py`` (``pip install "adasolve[petsc]"``; see the README for
installing PETSc itself). Importing this module without them raises ImportError.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from dataclasses import dataclass
from typing import Any, List

import numpy as np

try:
    from mpi4py import MPI  # noqa: F401  (petsc4py's Comm.tompi4py needs it)
    from petsc4py import PETSc
except ImportError as _exc:  # pragma: no cover - exercised where petsc4py is absent
    raise ImportError(
        "adasolve.petsc needs petsc4py and mpi4py: install PETSc (Debian: apt-get install petsc-dev), "
        "then PETSC_DIR=/usr/lib/petsc pip install --no-build-isolation 'adasolve[petsc]'; "
        "see the README"
    ) from _exc

from .._validation import check_choice, check_scalar
from .problems import HeatEquationSequence, _bump, diffusion_coefficient  # the SciPy sequence's definitions

__all__ = ["TunedKSP", "KSPSolveInfo", "HeatDMDA"]

_METHODS = ("sor", "ssor-cg")


@dataclass
class KSPSolveInfo:
    """What one :meth:`TunedKSP.solve` did (identical on every rank).

    Attributes
    ----------
    omega : float
        The relaxation factor used.
    iterations : int
        KSP iterations (global: the same on every rank).
    converged : bool
        PETSc's converged reason was positive.
    reason : int
        PETSc's ``KSPConvergedReason`` (negative: diverged, e.g. -3 for max_it).
    rate : float
        Observed convergence factor ``(||r_k|| / ||r_0||)^(1/k)`` from the residual history
        (NaN without iterations).
    """

    omega: float
    iterations: int
    converged: bool
    reason: int
    rate: float


def _set_option(obj: Any, name: str, value: Any) -> None:
    """Set one option of ``obj`` through the options database, then remove it again.

    petsc4py 3.18 has no setter for the SOR parameters; reading them with
    ``setFromOptions`` and deleting the entry keeps the database clean, so other PETSc
    objects (without a prefix, say) never pick the value up.
    """
    opts = PETSc.Options(obj.getOptionsPrefix())
    opts[name] = value
    try:
        obj.setFromOptions()
    finally:
        opts.delValue(name)


def _no_op_monitor(ksp: Any, its: int, rnorm: float) -> None:
    """Attached to Richardson KSPs so that PETSc tests convergence.

    With scale 1, the default convergence test and no monitor, KSPRICHARDSON hands the whole
    solve to PCSOR's "apply Richardson" fast path, which runs ``max_it`` sweeps and never
    looks at the tolerance (converged reason 4, CONVERGED_ITS). A monitor turns the fast path
    off; this one does nothing.
    """


class TunedKSP:
    """A PETSc KSP whose SOR relaxation factor is chosen by an adasolve tuner before each solve.

    Parameters
    ----------
    ksp : petsc4py.PETSc.KSP
        The solver; its operators, tolerances and initial-guess setting stay the user's. It is
        reconfigured once here: ``method="sor"``: KSPRICHARDSON (scale 1) with PCSOR, forward
        sweeps; ``method="ssor-cg"``: KSPCG with PCSOR, symmetric sweeps. Both measure the
        unpreconditioned residual norm, so iteration counts mean ``||b - A x|| <= rtol ||b||``
        as in :func:`adasolve.solve_sor`. (Richardson's default norm type may be NONE, and
        with PCSOR PETSc would otherwise take a fast path that runs ``max_it`` sweeps without
        a convergence test: a no-op monitor is attached to prevent it.)
    tuner : OmegaTuner or ContextualOmegaTuner
        Anything with ``suggest(context=...)`` and ``observe(omega, cost, context=..., rate=...)``.
        Under MPI every rank must create it with the same arguments and seed; this is checked
        here (one hash comparison).
    method : {"sor", "ssor-cg"}
    context : object or callable, optional
        Default context for the tuner (e.g. a diffusion coefficient), or a function of no
        arguments returning it, called before each solve; :meth:`solve`'s ``context``
        overrides it. Rank 0's value is used on every rank.

    Attributes
    ----------
    history : list of KSPSolveInfo
        One entry per solve.

    Notes
    -----
    *Under MPI.* Every rank calls :meth:`solve` (it is collective, like ``KSP.solve``). Each
    rank runs ``tuner.suggest`` (which keeps the tuners' random streams in step), rank 0's
    omega and context are broadcast and used everywhere, and after the solve every rank
    observes rank 0's ``(omega, iterations, context, rate)``. PETSc's iteration count and
    residual norms are global, so ``observe`` sees the global iteration count and every
    rank's tuner ends in the same state (``pickle.dumps(tuner)`` is identical).

    *Parallel SOR is not SOR.* PETSc's PCSOR on more than one rank runs SOR sweeps on each
    rank's diagonal block only (``-pc_sor_local_forward`` / ``-pc_sor_local_symmetric``): the
    preconditioner is block Jacobi with SOR inside the blocks, and the couplings between
    ranks are only updated once per iteration. The best omega therefore depends on the
    number of ranks (and on the partition): it tends to move from Young's optimum towards
    smaller values as the blocks get smaller, and a large omega that is best on one rank may
    diverge on many. A tuner learns the omega for the run it is used in; do not reuse a
    tuner trained at one rank count for another without letting it adapt.

    Examples
    --------
    >>> from petsc4py import PETSc
    >>> from adasolve import OmegaTuner
    >>> from adasolve.petsc import TunedKSP, HeatDMDA
    >>> heat = HeatDMDA(nx=16, steps=3)
    >>> ksp = PETSc.KSP().create(heat.comm)
    >>> tk = TunedKSP(ksp, OmegaTuner(seed=0), method="ssor-cg")
    >>> for kappa in heat:
    ...     ksp.setOperators(heat.A)
    ...     info = tk.solve(heat.b, heat.x, context=kappa)
    ...     heat.step()
    >>> len(tk.history), all(h.converged for h in tk.history)
    (3, True)
    """

    def __init__(self, ksp: Any, tuner: Any, *, method: str = "sor", context: Any = None) -> None:
        if not isinstance(ksp, PETSc.KSP):
            raise TypeError(f"ksp must be a petsc4py.PETSc.KSP, got {type(ksp).__name__}")
        if not (callable(getattr(tuner, "suggest", None)) and callable(getattr(tuner, "observe", None))):
            raise TypeError(f"tuner must have suggest() and observe() (OmegaTuner, ContextualOmegaTuner), "
                            f"got {type(tuner).__name__}")
        self.method = check_choice(method, "method", _METHODS)
        self.ksp = ksp
        self.tuner = tuner
        self.context = context
        self.history: List[KSPSolveInfo] = []
        self._mpi = ksp.getComm().tompi4py()
        self._root = 0
        self._check_same_tuner()
        self._configure()

    # ------------------------------------------------------------------ setup
    def _check_same_tuner(self) -> None:
        if self._mpi.Get_size() == 1:
            return
        digest = hashlib.sha256(pickle.dumps(self.tuner)).hexdigest()
        digests = self._mpi.allgather(digest)
        if len(set(digests)) != 1:
            raise ValueError("tuner state differs between ranks: create the tuner with the same "
                             "arguments and seed on every rank (without seed=, each rank draws its "
                             "own random seed)")

    def _configure(self) -> None:
        ksp = self.ksp
        pc = ksp.getPC()
        if self.method == "sor":
            ksp.setType(PETSc.KSP.Type.RICHARDSON)
            pc.setType(PETSc.PC.Type.SOR)
            _set_option(pc, "pc_sor_local_forward", "")
            if not any(mon[0] is _no_op_monitor for mon in (ksp.getMonitor() or [])):
                ksp.setMonitor(_no_op_monitor)
        else:
            ksp.setType(PETSc.KSP.Type.CG)
            pc.setType(PETSc.PC.Type.SOR)
            _set_option(pc, "pc_sor_local_symmetric", "")
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.setConvergenceHistory(reset=True)

    def set_omega(self, omega: float) -> None:
        """Set PCSOR's omega (collective); :meth:`solve` calls it with the tuner's choice."""
        w = check_scalar(omega, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)
        _set_option(self.ksp.getPC(), "pc_sor_omega", repr(w))

    # ------------------------------------------------------------------ solve
    def _context(self, context: Any) -> Any:
        if context is None:
            context = self.context() if callable(self.context) else self.context
        return context

    def solve(self, b: Any, x: Any, *, context: Any = None) -> KSPSolveInfo:
        """``ksp.solve(b, x)`` with the tuner's omega; the tuner then observes the cost.

        Parameters
        ----------
        b, x : petsc4py.PETSc.Vec
            Right-hand side and solution (used as the initial guess when the KSP was set to
            ``setInitialGuessNonzero(True)``).
        context : optional
            The instance's features for a contextual tuner (rank 0's value is used).

        Returns
        -------
        KSPSolveInfo
            Also appended to :attr:`history`. A solve that does not converge (PETSc's
            reason < 0, e.g. ``max_it`` reached) is reported there and still observed, with
            its iteration count as the cost; nothing is raised.
        """
        ctx = self._context(context)
        w_local = float(self.tuner.suggest(context=ctx))
        w, ctx = self._mpi.bcast((w_local, ctx), root=self._root)
        self.set_omega(w)
        self.ksp.setConvergenceHistory(reset=True)
        self.ksp.solve(b, x)
        its = int(self.ksp.getIterationNumber())
        reason = int(self.ksp.getConvergedReason())
        hist = np.asarray(self.ksp.getConvergenceHistory(), dtype=np.float64)
        rate = math.nan
        if its > 0 and hist.size > its and hist[0] > 0 and np.isfinite(hist[its]):
            rate = float((hist[its] / hist[0]) ** (1.0 / its))
        # Rank 0's view of the outcome is everyone's (the values are global anyway; this
        # makes the tuners' states bitwise identical whatever the reductions' rounding).
        its, reason, rate = self._mpi.bcast((its, reason, rate), root=self._root)
        self.tuner.observe(w, its, context=ctx, rate=None if math.isnan(rate) else rate)
        info = KSPSolveInfo(omega=w, iterations=its, converged=reason > 0, reason=reason, rate=rate)
        self.history.append(info)
        return info

    @property
    def total_iterations(self) -> int:
        """Sum of the iterations of all solves so far."""
        return sum(h.iterations for h in self.history)

    def __repr__(self) -> str:
        return (f"TunedKSP(method={self.method!r}, tuner={type(self.tuner).__name__}, "
                f"ranks={self._mpi.Get_size()}, solves={len(self.history)})")


class HeatDMDA:
    """The 2-D heat-equation sequence of :func:`adasolve.problems.heat_equation_sequence` on a DMDA.

    Crank-Nicolson on the unit square with Dirichlet 0 boundaries, ``(nx-1)^2`` unknowns on a
    distributed 2-D DMDA (5-point star stencil), the same time-varying diffusion
    ``kappa(t)``, forcing and initial bump. Step k solves
    ``(I - dt/2 kappa L) u_new = (I + dt/2 kappa L) u + dt f``.

    Iterate it: each iteration assembles :attr:`A` and :attr:`b` for the next step and yields
    kappa (the context); solve into :attr:`x` (the current state is the initial guess), then
    call :meth:`step` to make ``x`` the new state.

    Parameters
    ----------
    nx : int
        Grid cells per side (``nx - 1`` interior points per side).
    steps : int
    dt : float
    comm : petsc4py.PETSc.Comm, optional
        Default ``PETSc.COMM_WORLD``.
    """

    def __init__(self, nx: int = 25, steps: int = 5000, dt: float = 1e-3, comm: Any = None) -> None:
        self.nx = check_scalar(nx, "nx", kind=int, low=3)
        self.steps = check_scalar(steps, "steps", kind=int, low=1)
        self.dt = check_scalar(dt, "dt", low=0.0, low_inclusive=False)
        self.comm = comm if comm is not None else PETSc.COMM_WORLD
        n = self.nx - 1
        self.da = PETSc.DMDA().create([n, n], dof=1, stencil_width=1,
                                      stencil_type=PETSc.DMDA.StencilType.STAR, comm=self.comm)
        self.L = self._laplacian()
        self.A = self.L.duplicate(copy=False)
        self.u = self.da.createGlobalVec()
        self.x = self.u.duplicate()
        self.b = self.u.duplicate()
        self._f = self.u.duplicate()
        (xs, xe), (ys, ye) = self.da.getRanges()
        h = 1.0 / self.nx
        gx = (np.arange(xs, xe) + 1) * h
        gy = (np.arange(ys, ye) + 1) * h
        # Local block in natural order: y outer, x inner (as the SciPy sequence's ravel()).
        self._X, self._Y = np.meshgrid(gx, gy, indexing="xy")
        self.u.setArray(self._bump(0.5, 0.5, 0.25).ravel())
        self.k = 0

    def _laplacian(self):
        """The 5-point Laplacian over h^2 (negative definite), assembled once."""
        A = self.da.createMatrix()
        n = self.nx - 1
        inv_h2 = float(self.nx) ** 2
        row = PETSc.Mat.Stencil()
        col = PETSc.Mat.Stencil()
        (xs, xe), (ys, ye) = self.da.getRanges()
        for j in range(ys, ye):
            for i in range(xs, xe):
                row.index = (i, j)
                row.field = 0
                for di, dj, v in ((0, 0, -4.0), (-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0)):
                    ii, jj = i + di, j + dj
                    if 0 <= ii < n and 0 <= jj < n:
                        col.index = (ii, jj)
                        col.field = 0
                        A.setValueStencil(row, col, v * inv_h2)
        A.assemble()
        return A

    def _bump(self, cx: float, cy: float, r: float) -> np.ndarray:
        return _bump(self._X, self._Y, cx, cy, r)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> "HeatDMDA":
        return self

    def __next__(self) -> float:
        if self.k >= self.steps:
            raise StopIteration
        th = (self.k + 0.5) * self.dt
        kap = diffusion_coefficient(th)
        hk = 0.5 * kap * self.dt
        # A = I - hk L ; b = u + hk L u + dt f
        self.L.copy(self.A, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        self.A.scale(-hk)
        self.A.shift(1.0)
        self.L.mult(self.u, self.b)
        self.b.aypx(hk, self.u)
        # The SciPy sequence's forcing on this rank's block of the grid (it reads _X, _Y only).
        self._f.setArray(HeatEquationSequence.forcing(self, th))
        self.b.axpy(self.dt, self._f)
        self.u.copy(self.x)  # warm start from the current state
        self.k += 1
        return kap

    def step(self) -> None:
        """Make the last solution :attr:`x` the state."""
        self.x.copy(self.u)

    def natural(self, v: Any = None) -> np.ndarray:
        """The whole vector (default the state) in natural order on every rank (a gather)."""
        v = self.u if v is None else v
        nat = self.da.createNaturalVec()
        self.da.globalToNatural(v, nat)
        scatter, full = PETSc.Scatter.toAll(nat)
        scatter.scatter(nat, full, False, PETSc.Scatter.Mode.FORWARD)
        return full.getArray().copy()

