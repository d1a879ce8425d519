"""DAG learning with NOTEARS objectives by topological swaps (Deng et al., ICML 2023).

- :mod:`adasolve.dag.topo`: the search, :func:`topo_swap` and :class:`TopoSwap` (C++ in
  ``cpp/src/dag``);
- :mod:`adasolve.dag.simulate`: :func:`simulate_dag`, :func:`simulate_parameters`,
  :func:`simulate_linear_sem`;
- :mod:`adasolve.dag.metrics`: :func:`count_accuracy`, :func:`is_dag`;
- :mod:`adasolve.dag.stability`: :func:`bootstrap_edges`.
"""

from .metrics import count_accuracy, is_dag  # noqa: F401
from .simulate import simulate_dag, simulate_linear_sem, simulate_parameters  # noqa: F401
from .topo import TopoSwap, topo_swap  # noqa: F401
from .topo import __all__  # noqa: F401
from .stability import bootstrap_edges  # noqa: F401
