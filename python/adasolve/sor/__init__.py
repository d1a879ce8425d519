"""SOR with a learned relaxation factor, and SSOR-preconditioned CG.

- :mod:`adasolve.sor.solve`: :func:`solve_sor`, :func:`ssor_cg`, :func:`ssor_preconditioner`,
  :func:`sor_sweep` (C++ kernels in ``cpp/src/sor``).
- :mod:`adasolve.sor.tuning`: :class:`OmegaTuner`, :class:`ContextualOmegaTuner`,
  :func:`young_omega` (the tuners run in C++).
- :mod:`adasolve.sor.problems`: the linear-system sequences of the benchmarks.
- :mod:`adasolve.sor.petsc`: the tuner inside PETSc's KSP (needs petsc4py; also
  :mod:`adasolve.petsc`).
- :mod:`adasolve.sor._cuda`: multicolour kernels for CUDA arrays (optional).
"""

from .solve import SolveStats, solve_sor, sor_sweep, ssor_cg, ssor_preconditioner
from .tuning import ContextualOmegaTuner, OmegaTuner, young_omega

__all__ = [
    "solve_sor", "ssor_cg", "ssor_preconditioner", "sor_sweep", "SolveStats",
    "OmegaTuner", "ContextualOmegaTuner", "young_omega",
]
