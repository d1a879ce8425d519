"""Seeded generators of the problems of Nutini, Laradji & Schmidt (JMLR 2022), Section 'experiments'.

Constructions follow the reference code (IssamLaradji/BlockCoordinateDescent, ``src/datasets``);
the random streams are NumPy's, so the numbers differ from the MATLAB-generated ``exp4.mat``
while the distributions are the same. Each function returns a problem object for
:func:`adasolve.bcd_minimize`; ``n``/``p`` can be shrunk for quick experiments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_random_state
from .engine import LabelPropagation, LeastSquares, Logistic, Softmax

__all__ = ["make_A", "make_A_nonneg_l1", "make_B", "make_C", "make_D", "make_E"]


def _design(n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    # randn + 1, columns scaled by 10 N(0,1), entries kept with probability 10 log(n) / n
    X = rng.standard_normal((n, p)) + 1.0
    X *= 10.0 * rng.standard_normal(p)
    X *= rng.random((n, p)) < min(1.0, 10.0 * np.log(n) / n)
    return X


def _sparse_w(p: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(p) * (rng.random(p) < 0.1)


def _maybe_sparse(X: np.ndarray, sparse: bool) -> Any:
    return sp.csr_matrix(X) if sparse else X


def make_A(n: int = 1000, p: int = 10000, seed: Any = 0, *, sparse: bool = False) -> LeastSquares:
    """Dataset A: least squares, ``X`` 1000 x 10000 with 10 log(n)/n density, sparse ``w``.

    ``sparse=True`` hands the design to the engine as CSR (same numbers; about 7 % of the
    entries are non-zero at full size), which makes updates touch only the affected rows.

    Examples
    --------
    >>> make_A(50, 100).n_vars
    100
    """
    rng = check_random_state(seed)
    X = _design(n, p, rng)
    y = X @ _sparse_w(p, rng) + rng.standard_normal(n)
    return LeastSquares(_maybe_sparse(X, sparse), y)


def make_A_nonneg_l1(n: int = 1000, p: int = 10000, l1: float = 50000.0, seed: Any = 0, *,
                     sparse: bool = False) -> LeastSquares:
    """Dataset A with non-negativity and L1 (lambda = 50000 in the paper)."""
    rng = check_random_state(seed)
    X = _design(n, p, rng)
    y = X @ _sparse_w(p, rng) + rng.standard_normal(n)
    return LeastSquares(_maybe_sparse(X, sparse), y, l1=l1, nonneg=True)


def make_B(n: int = 1000, p: int = 10000, seed: Any = 0, *, sparse: bool = False) -> Logistic:
    """Dataset B: binary logistic, labels sign(Xw) flipped with probability 0.1."""
    rng = check_random_state(seed)
    X = _design(n, p, rng)
    y = np.sign(X @ _sparse_w(p, rng))
    y[y == 0] = 1.0
    y[rng.random(n) < 0.1] *= -1
    return Logistic(_maybe_sparse(X, sparse), y)


def make_C(n: int = 1000, p: int = 1000, k: int = 50, seed: Any = 0, *, sparse: bool = False) -> Softmax:
    """Dataset C: softmax with 50 classes, labels argmax(XW + noise), dense W ~ N(0, 1)."""
    rng = check_random_state(seed)
    X = _design(n, p, rng)
    W = rng.standard_normal((p, k))
    labels = np.argmax(X @ W + rng.standard_normal((n, k)), axis=1)
    return Softmax(_maybe_sparse(X, sparse), np.eye(k)[labels])


def make_D(m: int = 50, n_labeled: int = 100, seed: Any = 0) -> LabelPropagation:
    """Dataset D: label propagation on an m x m lattice (4 neighbours), every edge of weight 1e5
    (the reference code's ``ising_Wy``), ``n_labeled`` labelled nodes with values ~ N(0, 100).

    Examples
    --------
    >>> make_D(10, 8).n_vars
    92
    """
    rng = check_random_state(seed)
    idx = np.arange(m * m).reshape(m, m)
    rows = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    cols = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    w = np.full(rows.size, 1e5)
    W = sp.coo_matrix((np.r_[w, w], (np.r_[rows, cols], np.r_[cols, rows])), shape=(m * m, m * m)).tocsr()
    labeled = rng.choice(m * m, n_labeled, replace=False)
    y = 10.0 * rng.standard_normal(m * m)
    return LabelPropagation(W, y, labeled)


def make_E(n: int = 2000, n_labeled: int = 100, k: int = 5, noise: float = 0.1, seed: Any = 0) -> LabelPropagation:
    """Dataset E: label propagation on a two-moons k-nearest-neighbour graph (unit weights)."""
    from scipy.spatial import cKDTree

    rng = check_random_state(seed)
    t = rng.random(n) * np.pi
    half = n // 2
    pts = np.empty((n, 2))
    pts[:half] = np.c_[np.cos(t[:half]), np.sin(t[:half])]
    pts[half:] = np.c_[1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])]
    pts += noise * rng.standard_normal(pts.shape)
    _, nbr = cKDTree(pts).query(pts, k + 1)
    rows = np.repeat(np.arange(n), k)
    cols = nbr[:, 1:].ravel()
    W = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n)).tocsr()
    W = ((W + W.T) > 0).astype(float)
    labels = np.r_[np.ones(half), -np.ones(n - half)]
    labeled = rng.choice(n, n_labeled, replace=False)
    return _connected(W.tocsr(), labels, labeled, rng)


def _connected(W, y, labeled, rng) -> LabelPropagation:
    # every connected component needs a labelled node for a positive definite system
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(W, directed=False)
    lab = set(labeled.tolist())
    have = set(comp[list(lab)].tolist())
    for c in np.unique(comp):
        if c not in have:
            lab.add(int(np.flatnonzero(comp == c)[0]))
    return LabelPropagation(W, y, np.array(sorted(lab)))
