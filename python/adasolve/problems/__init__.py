"""Built-in problem generators and collections.

- Linear-system sequences for the SOR family: :func:`poisson2d`,
  :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
"""

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
]
