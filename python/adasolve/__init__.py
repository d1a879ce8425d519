"""adasolve: fast numerical solvers from recent papers, with C++ cores.

Families
--------
- SOR with a learned relaxation factor, SSOR-preconditioned CG (:mod:`adasolve.sor`)
- Greedy block coordinate descent (:mod:`adasolve.bcd`)
- M-FAC inverse-Hessian-vector products (:mod:`adasolve.mfac`)
- NOTEARS objectives by topological swaps (:mod:`adasolve.dag`)
- Equality-constrained optimization by sketching Newton (:mod:`adasolve.optimize`)
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import _core  # noqa: F401  (fail early and clearly if the extension is missing)
from ._core import max_threads
from .sor import *  # noqa: F401,F403
from .sor import __all__ as _sor_all
from .tuning import *  # noqa: F401,F403
from .tuning import __all__ as _tuning_all
from .bcd import *  # noqa: F401,F403
from .bcd import __all__ as _bcd_all
from .mfac import *  # noqa: F401,F403
from .mfac import __all__ as _mfac_all
from .dag import *  # noqa: F401,F403
from .dag import __all__ as _dag_all
from .optimize import *  # noqa: F401,F403
from .optimize import __all__ as _optimize_all
from ._gpu import cuda_available

__all__ = (
    ["__version__", "max_threads", "cuda_available"]
    + list(_sor_all)
    + list(_tuning_all)
    + list(_bcd_all)
    + list(_mfac_all)
    + list(_dag_all)
    + list(_optimize_all)
)
