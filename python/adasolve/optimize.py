"""SciPy-facing names of the constrained family (its code lives in :mod:`adasolve.constrained`).

``scipy.optimize.minimize(fun, x0, method=adasolve.optimize.sketch_sqp, constraints=...)``
routes to :func:`adasolve.minimize_eq`.
"""

from .constrained.minimize import STATUS_MESSAGES, minimize_eq, sketch_sqp

__all__ = ["minimize_eq", "sketch_sqp", "STATUS_MESSAGES"]
