"""Simulators of the NOTEARS family (``notears/utils.py`` conventions, no igraph).

Random DAGs (:func:`simulate_dag`), edge weights (:func:`simulate_parameters`) and samples of a
linear structural equation model (:func:`simulate_linear_sem`). Adjacency matrices have the
parents in the rows.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple, Union

import numpy as np

from .._validation import as_float_array, check_choice, check_random_state, check_scalar
from .metrics import _topological_order, is_dag  # noqa: F401  (is_dag: doctests)

__all__ = ["simulate_dag", "simulate_linear_sem", "simulate_parameters"]


def simulate_dag(d: int, edges: int, graph_type: str = "ER", seed: Any = None) -> np.ndarray:
    """Random DAG with about ``edges`` edges, as a binary ``(d, d)`` adjacency (rows are parents).

    ``"ER"``: Erdos-Renyi with exactly ``edges`` edges placed uniformly among the
    ``d (d - 1) / 2`` node pairs, oriented along a random order. ``"SF"``: scale-free
    (Barabasi-Albert): node ``v`` attaches ``round(edges / d)`` edges to earlier nodes chosen
    with probability proportional to in-degree + 1, as igraph's ``Barabasi(directed=True)``
    does in the NOTEARS code. The nodes are then randomly permuted.

    Examples
    --------
    >>> B = simulate_dag(10, 20, "ER", seed=0)
    >>> int(B.sum()), is_dag(B)
    (20, True)
    """
    d = check_scalar(d, "d", kind=int, low=1)
    edges = check_scalar(edges, "edges", kind=int, low=0)
    graph_type = check_choice(graph_type, "graph_type", ["er", "sf"])
    rng = check_random_state(seed)
    B = np.zeros((d, d))
    if graph_type == "er":
        npairs = d * (d - 1) // 2
        if edges > npairs:
            raise ValueError(f"edges must be at most d (d - 1) / 2 = {npairs} for an ER DAG, got {edges}")
        lo, hi = np.tril_indices(d, k=-1)
        pick = rng.choice(npairs, size=edges, replace=False)
        B[lo[pick], hi[pick]] = 1.0  # edge from the later to the earlier index: acyclic
    else:
        m = int(round(edges / d))
        indeg = np.zeros(d)
        for v in range(1, d):
            k = min(m, v)
            if k == 0:
                continue
            p = indeg[:v] + 1.0
            targets = rng.choice(v, size=k, replace=False, p=p / p.sum())
            B[v, targets] = 1.0
            indeg[targets] += 1.0
    perm = rng.permutation(d)
    return B[np.ix_(perm, perm)]


def simulate_parameters(
    B: Any,
    w_ranges: Sequence[Tuple[float, float]] = ((-2.0, -0.5), (0.5, 2.0)),
    seed: Any = None,
) -> np.ndarray:
    """Edge weights for the DAG ``B``: each drawn uniformly from one of ``w_ranges`` chosen at random.

    Examples
    --------
    >>> W = simulate_parameters(simulate_dag(5, 4, seed=0), seed=0)
    >>> bool(np.all((W == 0) | (np.abs(W) >= 0.5)))
    True
    """
    B = as_float_array(B, "B", ndim=2)
    if B.shape[0] != B.shape[1]:
        raise ValueError(f"B must be square, got shape {B.shape}")
    rng = check_random_state(seed)
    W = np.zeros(B.shape)
    S = rng.integers(len(w_ranges), size=B.shape)
    for i, (low, high) in enumerate(w_ranges):
        U = rng.uniform(low=low, high=high, size=B.shape)
        W += (B != 0) * (S == i) * U
    return W


def simulate_linear_sem(
    W: Any,
    n: int,
    noise: str = "gauss",
    seed: Any = None,
    *,
    noise_scale: Union[None, float, Sequence[float]] = None,
) -> np.ndarray:
    """Samples ``X`` (n, d) of the linear SEM ``X = X W + Z``.

    ``noise`` is ``"gauss"``, ``"exp"`` or ``"gumbel"`` (additive noise of scale
    ``noise_scale``, default 1 for every node: the equal-variance setting), or
    ``"logistic"``: binary outcomes ``x_j ~ Bernoulli(sigmoid(X w_j))``.

    Examples
    --------
    >>> W = simulate_parameters(simulate_dag(5, 4, seed=0), seed=1)
    >>> simulate_linear_sem(W, 100, "gauss", seed=2).shape
    (100, 5)
    """
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    n = check_scalar(n, "n", kind=int, low=1)
    noise = check_choice(noise, "noise", ["gauss", "exp", "gumbel", "logistic"])
    rng = check_random_state(seed)
    d = W.shape[0]
    if noise_scale is None:
        scale = np.ones(d)
    else:
        scale = np.broadcast_to(np.asarray(noise_scale, dtype=float), (d,)).copy()
    order = _topological_order(W)
    if order is None:
        raise ValueError("W must be a DAG")
    X = np.zeros((n, d))
    for j in order:
        mean = X @ W[:, j]
        if noise == "gauss":
            X[:, j] = mean + rng.normal(scale=scale[j], size=n)
        elif noise == "exp":
            X[:, j] = mean + rng.exponential(scale=scale[j], size=n)
        elif noise == "gumbel":
            X[:, j] = mean + rng.gumbel(scale=scale[j], size=n)
        else:
            X[:, j] = rng.binomial(1, 1.0 / (1.0 + np.exp(-mean))).astype(float)
    return X
