"""Built-in problem generators and collections.

- Linear-system sequences for the SOR family: :func:`poisson2d`,
  :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
- Equality-constrained collections: :func:`hock_schittkowski`,
  :func:`cutest_equality`, and scalable problems.
"""

from ._sor import HeatEquationSequence, heat_equation_sequence, poisson2d, shifted_laplacian_sequence

__all__: list = ["poisson2d", "heat_equation_sequence", "shifted_laplacian_sequence", "HeatEquationSequence"]
