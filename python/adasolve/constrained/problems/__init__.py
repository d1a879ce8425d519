"""Equality-constrained test problems for :func:`adasolve.minimize_eq`.

:func:`hock_schittkowski`, :func:`cutest_equality` (the paper's 47), and the scalable
:func:`pde_control`, :func:`constrained_logistic`, :func:`eq_least_squares`.
"""

from ._base import EqualityProblem
from ._collections import (
    CUTEST_EQUALITY_NAMES,
    constrained_logistic,
    cutest_equality,
    eq_least_squares,
    hock_schittkowski,
    pde_control,
)

__all__ = [
    "CUTEST_EQUALITY_NAMES",
    "EqualityProblem",
    "constrained_logistic",
    "cutest_equality",
    "eq_least_squares",
    "hock_schittkowski",
    "pde_control",
]
from ._hs_ineq import HS_INEQ_NAMES, InequalityProblem, hock_schittkowski_ineq  # noqa: E402

__all__ += ["HS_INEQ_NAMES", "InequalityProblem", "hock_schittkowski_ineq"]
