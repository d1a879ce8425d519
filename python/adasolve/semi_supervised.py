"""Semi-supervised label propagation solved by greedy BCD with message passing on tree blocks."""

from __future__ import annotations

try:
    import sklearn as _sklearn  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "adasolve.semi_supervised needs scikit-learn, which is not installed: "
        "pip install 'adasolve[sklearn]'; the rest of adasolve works without it"
    ) from _exc

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_scalar
from .bcd import LabelPropagation as _LPProblem
from .bcd import bcd_minimize

__all__ = ["LabelPropagation"]


class LabelPropagation(ClassifierMixin, BaseEstimator):
    """Harmonic label propagation (Zhu et al.) with a k-nearest-neighbour or RBF graph.

    For each class, minimises ``1/2 sum_ij w_ij (f_i - f_j)^2`` with the labelled nodes fixed
    to the class indicator, by :func:`adasolve.bcd_minimize` (by default greedy tree blocks
    updated exactly by message passing). Unlabelled samples carry the label ``-1`` in ``y``.

    Parameters
    ----------
    kernel : {"knn", "rbf"}
    n_neighbors : int
        Neighbours of the symmetrised k-NN graph (unit weights).
    gamma : float
        RBF width (dense graph; only for small data).
    rule, blocks, update, block_size, tol, max_iter : passed to bcd_minimize
        (``block_size=None`` means no cap on the tree size).

    Attributes
    ----------
    classes_, label_distributions_, transduction_, n_iter_
        Samples in a connected component of the graph that holds no labelled sample cannot be
        labelled: their ``transduction_`` is -1 and their ``label_distributions_`` row is zero
        (with a RuntimeWarning). ``predict`` returns the transduction of the nearest training
        sample, so -1 for points nearest to such samples.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.semi_supervised import LabelPropagation
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))] + 0.01 * np.arange(10)[:, None]
    >>> y = np.full(10, -1); y[0], y[9] = 0, 1
    >>> LabelPropagation(n_neighbors=2).fit(X, y).transduction_.tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """

    def __init__(self, kernel: str = "knn", *, n_neighbors: int = 7, gamma: float = 20.0,
                 rule: str = "gsl", blocks: str = "tree", update: str = "message-passing",
                 block_size: Any = None, tol: float = 1e-8, max_iter: Any = None) -> None:
        self.kernel = kernel
        self.n_neighbors = n_neighbors
        self.gamma = gamma
        self.rule = rule
        self.blocks = blocks
        self.update = update
        self.block_size = block_size
        self.tol = tol
        self.max_iter = max_iter

    def _graph(self, X):
        n = X.shape[0]
        if self.kernel == "knn":
            from scipy.spatial import cKDTree

            k = min(self.n_neighbors, n - 1)
            _, nbr = cKDTree(X).query(X, k + 1)
            W = sp.coo_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nbr[:, 1:].ravel())), shape=(n, n))
            return ((W + W.T) > 0).astype(float).tocsr()
        if self.kernel == "rbf":
            d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
            return np.exp(-self.gamma * d2)
        raise ValueError(f"kernel must be 'knn' or 'rbf', got {self.kernel!r}")

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        if self.kernel == "knn":
            check_scalar(self.n_neighbors, "n_neighbors", kind=int, low=1)
            if X.shape[0] < 2:
                raise ValueError(f"the k-NN graph needs at least 2 samples, got {X.shape[0]}")
        labeled = y != -1
        self.classes_ = np.unique(y[labeled])
        if self.classes_.size == 0:
            raise ValueError("y has no labelled sample (all -1)")
        W = self._graph(X)
        # samples in a connected component of the graph without a labelled sample get no label
        # (the harmonic solution is not defined there): transduction_ -1, a zero distribution row
        ncomp, comp = connected_components(W, directed=False)
        reached = np.zeros(ncomp, dtype=bool)
        reached[comp[labeled]] = True
        orphan = ~reached[comp]
        n = X.shape[0]
        F = np.zeros((n, self.classes_.size))
        self.n_iter_ = 0
        for c, cls in enumerate(self.classes_):
            target = (y == cls).astype(float)
            F[labeled, c] = target[labeled]
            if labeled.all():
                continue
            prob = _LPProblem(W, target, labeled)
            bs = prob.n_vars if self.block_size is None else min(self.block_size, prob.n_vars)
            res = bcd_minimize(prob, rule=self.rule, blocks=self.blocks, update=self.update,
                               block_size=bs, tol=self.tol, maxiter=self.max_iter)
            F[prob.unlabeled, c] = res.x
            self.n_iter_ = max(self.n_iter_, int(res.nit))
        F = np.clip(F, 0, None)
        s = F.sum(axis=1, keepdims=True)
        s[s == 0] = 1.0
        self.label_distributions_ = F / s
        self.transduction_ = self.classes_[np.argmax(self.label_distributions_, axis=1)]
        if orphan.any():
            self.label_distributions_[orphan] = 0.0
            self.transduction_[orphan] = -1
            warnings.warn(
                f"{int(orphan.sum())} sample(s) lie in connected components of the graph without "
                "a labelled sample; they get transduction_ -1 and an all-zero "
                "label_distributions_ row (increase n_neighbors or gamma to connect them)",
                RuntimeWarning, stacklevel=2)
        self.X_ = X
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        from scipy.spatial import cKDTree

        _, idx = cKDTree(self.X_).query(X, 1)
        return self.transduction_[idx]
