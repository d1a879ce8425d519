"""Built-in problem generators and collections.

- Linear-system sequences for the SOR family: :func:`poisson2d`,
  :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
- Equality-constrained collections: :func:`hock_schittkowski`,
  :func:`cutest_equality`, and scalable problems.
"""

__all__: list = []
