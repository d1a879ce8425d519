"""Graph helpers and structure-recovery metrics (NOTEARS conventions, no igraph).

Adjacency matrices have the parents in the rows: ``B[i, j] != 0`` is the edge ``i -> j``.
"""

from __future__ import annotations

import heapq
from typing import Any, Dict, Optional

import numpy as np

__all__ = ["count_accuracy", "is_dag"]


def _topological_order(B: np.ndarray) -> Optional[np.ndarray]:
    """Kahn's algorithm on the nonzero pattern of ``B`` (rows are parents); None if cyclic.

    Ties are broken by the smallest node index, so the order is deterministic.
    """
    A = B != 0
    d = A.shape[0]
    indeg = A.sum(axis=0).astype(np.int64)
    order = []
    ready = sorted(np.flatnonzero(indeg == 0).tolist())
    heapq.heapify(ready)
    while ready:
        v = heapq.heappop(ready)
        order.append(v)
        for c in np.flatnonzero(A[v]):
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(ready, int(c))
    if len(order) != d:
        return None
    return np.asarray(order, dtype=np.int64)

def is_dag(W: Any) -> bool:
    """True when the directed graph with adjacency ``W`` (nonzero = edge) has no cycle.

    Examples
    --------
    >>> is_dag(np.array([[0, 1], [0, 0]]))
    True
    >>> is_dag(np.array([[0, 1], [1, 0]]))
    False
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    return _topological_order(W) is not None

def count_accuracy(B_true: Any, B_est: Any) -> Dict[str, float]:
    """Structure-recovery metrics of ``B_est`` against ``B_true`` (NOTEARS definitions).

    Both are ``(d, d)`` adjacency matrices (nonzero = edge, rows are parents); ``B_est`` must
    be a DAG. Returns ``fdr`` (reversed + false edges over predicted), ``tpr`` (correct over
    true), ``fpr`` (reversed + false over true non-edges), ``shd`` (extra + missing + reversed)
    and ``nnz`` (predicted edges).

    Examples
    --------
    >>> B = np.array([[0, 1], [0, 0]])
    >>> count_accuracy(B, B.T)["shd"]
    1
    """
    Bt = np.asarray(B_true) != 0
    Be = np.asarray(B_est) != 0
    if Bt.ndim != 2 or Bt.shape[0] != Bt.shape[1]:
        raise ValueError(f"B_true must be square, got shape {Bt.shape}")
    if Be.shape != Bt.shape:
        raise ValueError(f"B_est has shape {Be.shape}, expected {Bt.shape}")
    if not is_dag(Be):
        raise ValueError("B_est must be a DAG")
    d = Bt.shape[0]
    pred = Be.sum()
    cond = Bt.sum()
    true_pos = (Be & Bt).sum()
    reverse = (Be & ~Bt & Bt.T).sum()
    false_pos = (Be & ~Bt & ~Bt.T).sum()
    cond_neg = 0.5 * d * (d - 1) - cond
    fdr = float(reverse + false_pos) / max(pred, 1)
    tpr = float(true_pos) / max(cond, 1)
    fpr = float(reverse + false_pos) / max(cond_neg, 1)
    sk_est = np.tril(Be | Be.T, k=-1)
    sk_true = np.tril(Bt | Bt.T, k=-1)
    shd = int((sk_est & ~sk_true).sum() + (sk_true & ~sk_est).sum() + reverse)
    return {"fdr": round(float(fdr), 6), "tpr": round(float(tpr), 6), "fpr": round(float(fpr), 6), "shd": shd, "nnz": int(pred)}
