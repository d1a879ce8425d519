"""Built-in problem generators and collections.

- Linear-system sequences for the SOR family: :func:`poisson2d`,
  :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
- Equality-constrained problems for :func:`adasolve.minimize_eq`:
  :func:`hock_schittkowski`, :func:`cutest_equality` (the paper's 47), and the
  scalable :func:`pde_control`, :func:`constrained_logistic`, :func:`eq_least_squares`.
"""

from ._constrained import (
    CUTEST_EQUALITY_NAMES,
    EqualityProblem,
    constrained_logistic,
    cutest_equality,
    eq_least_squares,
    hock_schittkowski,
    pde_control,
)
from ._sor import (
    HeatEquationSequence,
    heat_equation_sequence,
    poisson2d,
    shifted_laplacian_sequence,
)

__all__ = [
    "poisson2d",
    "shifted_laplacian_sequence",
    "heat_equation_sequence",
    "HeatEquationSequence",
    "CUTEST_EQUALITY_NAMES",
    "EqualityProblem",
    "constrained_logistic",
    "cutest_equality",
    "eq_least_squares",
    "hock_schittkowski",
    "pde_control",
]
