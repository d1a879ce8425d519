"""Built-in problem generators and collections (each lives with its family).

- Linear-system sequences for the SOR family (:mod:`adasolve.sor.problems`):
  :func:`poisson2d`, :func:`heat_equation_sequence`, :func:`shifted_laplacian_sequence`.
- Equality-constrained problems for :func:`adasolve.minimize_eq`
  (:mod:`adasolve.constrained.problems`): :func:`hock_schittkowski`, :func:`cutest_equality`
  (the paper's 47), and the scalable :func:`pde_control`, :func:`constrained_logistic`,
  :func:`eq_least_squares`.
"""

from ..constrained.problems import *  # noqa: F401,F403
from ..constrained.problems import __all__ as _constrained_all
from ..sor.problems import *  # noqa: F401,F403
from ..sor.problems import __all__ as _sor_all

__all__ = list(_sor_all) + list(_constrained_all)
