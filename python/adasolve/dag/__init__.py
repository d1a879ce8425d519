"""DAG learning with NOTEARS objectives by topological swaps (Deng et al., ICML 2023).

- :mod:`adasolve.dag.topo`: :func:`topo_swap`, :class:`TopoSwap`, and the simulation and
  metric helpers (:func:`simulate_dag`, :func:`simulate_parameters`,
  :func:`simulate_linear_sem`, :func:`count_accuracy`, :func:`is_dag`); C++ in
  ``cpp/src/dag``.
"""

from .topo import (  # noqa: F401
    TopoSwap,
    count_accuracy,
    is_dag,
    simulate_dag,
    simulate_linear_sem,
    simulate_parameters,
    topo_swap,
)
from .topo import __all__  # noqa: F401
