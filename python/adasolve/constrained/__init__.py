"""Equality-constrained optimization by sketched Newton steps on an exact augmented Lagrangian.

- :mod:`adasolve.constrained.minimize`: :func:`minimize_eq` and the SciPy method
  :func:`sketch_sqp` (also :mod:`adasolve.optimize`); C++ in ``cpp/src/constrained``.
- :mod:`adasolve.constrained.problems`: Hock-Schittkowski, the CUTEst equality set and
  scalable problems (also :mod:`adasolve.problems`).
- :mod:`adasolve.constrained._cuda`: sketch application on CUDA arrays (optional).
"""

from .minimize import STATUS_MESSAGES, minimize_eq, sketch_sqp  # noqa: F401

from .interior import IPM_STATUS_MESSAGES, minimize_constrained  # noqa: F401,E402

__all__ = ["minimize_eq"]
__all__ += ["minimize_constrained"]
