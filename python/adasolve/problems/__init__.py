"""Built-in problem generators and collections.

- Linear-system sequences for the SOR family: :func:`poisson2d`,
  :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
- Equality-constrained collections: :func:`hock_schittkowski`,
  :func:`cutest_equality`, and scalable problems.
"""

__all__: list = []

from ._constrained import (  # noqa: E402
    CUTEST_EQUALITY_NAMES,
    EqualityProblem,
    constrained_logistic,
    cutest_equality,
    eq_least_squares,
    hock_schittkowski,
    pde_control,
)

__all__ += [
    "CUTEST_EQUALITY_NAMES",
    "EqualityProblem",
    "constrained_logistic",
    "cutest_equality",
    "eq_least_squares",
    "hock_schittkowski",
    "pde_control",
]
