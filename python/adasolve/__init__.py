"""adasolve: fast numerical solvers from recent papers, with C++ cores.

Families
--------
Each family is one package, with the same name in C++ (``cpp/src/<family>``), the bindings
(``adasolve._core.<family>``), the tests, the benchmarks and the docs:

- :mod:`adasolve.sor`: SOR with a learned relaxation factor, SSOR-preconditioned CG
- :mod:`adasolve.constrained`: equality-constrained optimization by sketched Newton steps
  (SciPy-facing names also in :mod:`adasolve.optimize`)
- :mod:`adasolve.bcd`: greedy block coordinate descent (scikit-learn estimators in
  :mod:`adasolve.linear_model` and :mod:`adasolve.semi_supervised`)
- :mod:`adasolve.dag`: NOTEARS objectives by topological swaps
- :mod:`adasolve.mfac`: M-FAC inverse-Hessian-vector products, OBS pruning
  (the optimizer in :mod:`adasolve.torch`)
"""

from __future__ import annotations

# The one place the version is written: pyproject.toml (scikit-build-core's regex provider) and
# CMakeLists.txt read this line.
__version__ = "0.1.0"

from . import _core  # noqa: F401  (fail early and clearly if the extension is missing)
from ._core import max_threads
from .sor import *  # noqa: F401,F403
from .sor import __all__ as _sor_all
from .bcd import *  # noqa: F401,F403
from .bcd import __all__ as _bcd_all
from .mfac import *  # noqa: F401,F403
from .mfac import __all__ as _mfac_all
from .dag import *  # noqa: F401,F403
from .dag import __all__ as _dag_all
from .constrained import *  # noqa: F401,F403
from .constrained import __all__ as _constrained_all
from ._device import cuda_available

__all__ = (
    ["__version__", "max_threads", "cuda_available"]
    + list(_sor_all)
    + list(_bcd_all)
    + list(_mfac_all)
    + list(_dag_all)
    + list(_constrained_all)
)

# Threads are one library-wide setting (the C++ thread team and OpenMP), set at the top of _core.
from ._core import num_threads, set_num_threads  # noqa: E402

__all__ += ["set_num_threads", "num_threads"]
