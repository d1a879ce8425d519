"""scikit-learn estimators solved by greedy block coordinate descent (:mod:`adasolve.bcd`).

The objectives and the scaling of ``alpha`` / ``C`` are scikit-learn's, so coefficients can be
compared one to one:

- :class:`Lasso`: ``1/(2n) ||y - Xw - b||^2 + alpha ||w||_1``
- :class:`ElasticNet`: ``1/(2n) ||y - Xw - b||^2 + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio)/2 ||w||^2``
- :class:`LogisticRegression`: ``C sum_i logloss_i + ||w||_1`` (``penalty="l1"``) or ``+ 1/2 ||w||^2``
  (``"l2"``); the intercept is not penalised; multinomial (softmax) for more than two classes.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._validation import check_sparse_structure
from .bcd import LeastSquares, Logistic, Softmax, _run, bcd_minimize

__all__ = ["Lasso", "ElasticNet", "LogisticRegression"]


def _with_intercept_column(X):
    """Append a column of ones (a copy) so that the intercept is one more, unpenalised, variable."""
    if sp.issparse(X):
        return sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    return np.hstack([X, np.ones((X.shape[0], 1))])


#: working-set rules of the fast solver (adasolve._core.bcd_glm); other rules use the BCD engine
_FAST_RULES = ("cyclic", "gs", "gsl")


def _glm_solve(X, y, w, b, **kw):
    """Run the C++ working-set solver on X, borrowed; ``w`` is updated in place.

    Dense input is used as is when Fortran-ordered (one copy otherwise, as scikit-learn's Lasso);
    sparse input becomes CSC (one copy from CSR; none when it is CSC with matching index dtypes).
    """
    glm = _core.bcd_glm
    if sp.issparse(X):
        Xc = X.tocsc()
        idx = np.int64 if (Xc.indptr.dtype == np.int64 or Xc.indices.dtype == np.int64) else np.int32
        indptr = np.ascontiguousarray(Xc.indptr, dtype=idx)
        indices = np.ascontiguousarray(Xc.indices, dtype=idx)
        data = np.ascontiguousarray(Xc.data, dtype=np.float64)
        return glm.solve_csc(*Xc.shape, indptr, indices, data, y, w, b, **kw)
    return glm.solve_dense(np.asfortranarray(X, dtype=np.float64), y, w, b, **kw)


class _BCDLinear(BaseEstimator):
    def _check_block_size(self):
        if not (isinstance(self.block_size, (int, np.integer)) and self.block_size >= 1):
            raise ValueError(f"block_size must be an integer >= 1, got {self.block_size!r}")

    def _fit_glm(self, X, y, w, b, target, **kw):
        """The fast path shared by the estimators: run the solver, record gap and epochs."""
        max_epochs = 100000 if self.max_iter is None else int(self.max_iter)
        res = _glm_solve(X, y, w, b, fit_intercept=bool(self.fit_intercept), tol=target,
                         rule=self.rule, ws_start=int(self.block_size), max_epochs=max_epochs,
                         max_outer=1000, **kw)
        self.dual_gap_ = float(res["gap"])
        self.n_iter_ = int(res["n_epochs"])
        if res["info"] != 0:
            warnings.warn(f"{type(self).__name__} did not converge: duality gap "
                          f"{self.dual_gap_:.3g} > {target:.3g} after the iteration limit; "
                          "increase max_iter or tol.", ConvergenceWarning, stacklevel=4)
        return res

    def _solve(self, problem):
        res = bcd_minimize(problem, rule=self.rule, block_size=min(self.block_size, problem.n_vars),
                           blocks=self.blocks, update=self.update, maxiter=self.max_iter,
                           tol=self._engine_tol, seed=self.random_state)
        self.n_iter_ = int(res.nit)
        return res


class ElasticNet(RegressorMixin, _BCDLinear):
    """Elastic net with scikit-learn's objective, solved by working-set coordinate descent.

    With the default ``blocks="variable"``, ``update="lipschitz"`` and ``rule`` in
    {"cyclic", "gs", "gsl"}, the C++ working-set solver (:mod:`adasolve._core.bcd_glm`) runs:
    greedy variable blocks (the support plus the features that violate the optimality conditions
    most, scored by ``rule``), exact coordinate minimisation inside, Anderson extrapolation, and a
    duality-gap stopping test. Other rule/block/update choices run the generic BCD engine
    (:func:`adasolve.bcd_minimize`) in a working-set loop, a slower path kept for study.

    Parameters
    ----------
    alpha, l1_ratio, fit_intercept : as in :class:`sklearn.linear_model.ElasticNet`
    rule : {"gs", "gsl", "cyclic"} or any rule of :func:`adasolve.bcd_minimize`
        How the working set is chosen: "gs" = largest violation of the optimality conditions
        (Gauss-Southwell on the minimum-norm subgradient), "gsl" = that violation divided by
        sqrt(L_j) (Gauss-Southwell-Lipschitz), "cyclic" = no working set (all features, cyclic
        coordinate descent as scikit-learn). Default "gsl", as the issue's signature gives it;
        "gs" and "gsl" coincide on standardized columns.
    block_size : int
        Initial working-set size (it then grows to twice the support).
    blocks, update : passed to :func:`adasolve.bcd_minimize` on the generic path.
    tol : float
        Stop when the duality gap is <= ``tol * ||y - mean(y)||^2 / n`` (``||y||^2 / n`` without
        intercept), scikit-learn's scaling of ``tol``.
    max_iter : int, optional
        Coordinate-descent epochs over the working sets, in total (default 100000).
    random_state : int or None
        Used by the generic path only.
    warm_start : bool
        Start from the previous ``coef_`` / ``intercept_`` (regularisation paths).

    Attributes
    ----------
    coef_, intercept_ : the solution
    dual_gap_ : float
        Final duality gap (objective units; None on the generic path).
    n_iter_ : int
        Epochs performed.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import ElasticNet
    >>> X = np.random.default_rng(0).standard_normal((20, 5)); y = X[:, 0]
    >>> ElasticNet(alpha=0.1).fit(X, y).coef_.shape
    (5,)
    """

    _l1_ratio_fixed: Optional[float] = None

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 rule: str = "gsl", block_size: int = 10, blocks: str = "variable",
                 update: str = "lipschitz", tol: float = 1e-6, max_iter: Optional[int] = None,
                 random_state: Any = None, warm_start: bool = False) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.rule = rule
        self.block_size = block_size
        self.blocks = blocks
        self.update = update
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start

    def _ratio(self):
        return self.l1_ratio

    def _fast(self):
        return self.rule in _FAST_RULES and self.blocks == "variable" and self.update == "lipschitz"

    def fit(self, X, y):
        check_sparse_structure(X, "X")  # before SciPy/sklearn index into it
        fast = self._fast()
        X, y = validate_data(self, X, y, accept_sparse=("csc", "csr") if fast else "csr",
                             dtype=np.float64, y_numeric=True, multi_output=False,
                             order="F" if fast else None, reset=True)
        if not (isinstance(self.alpha, (int, float, np.number)) and self.alpha >= 0):
            raise ValueError(f"alpha must be a number >= 0, got {self.alpha!r}")
        ratio = self._ratio()
        if not 0 <= ratio <= 1:
            raise ValueError(f"l1_ratio must be in [0, 1], got {ratio}")
        self._check_block_size()
        if fast:
            return self._fit_fast(X, y, ratio)
        return self._fit_engine(X, y, ratio)

    def _fit_fast(self, X, y, ratio):
        n, p = X.shape
        y = np.ascontiguousarray(y, dtype=np.float64)
        yc = y - y.mean() if self.fit_intercept else y
        target = self.tol * float(yc @ yc) / n
        w = np.zeros(p)
        b = 0.0
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (p,):
            w[:] = self.coef_
            b = float(self.intercept_) if self.fit_intercept else 0.0
        res = self._fit_glm(X, y, w, b, target, loss="quadratic", data_scale=1.0 / n,
                            l1=self.alpha * ratio, l2=self.alpha * (1 - ratio))
        self.coef_ = w
        self.intercept_ = float(res["intercept"]) if self.fit_intercept else 0.0
        return self

    def _fit_engine(self, X, y, ratio):
        n, p = X.shape
        l1 = np.full(p, n * self.alpha * ratio)
        l2 = np.full(p, n * self.alpha * (1 - ratio))
        Xf, yf = X, y
        x_mean = np.zeros(p)
        y_mean = 0.0
        if self.fit_intercept:
            if sp.issparse(X):
                Xf = _with_intercept_column(X)
                l1, l2 = np.r_[l1, 0.0], np.r_[l2, 0.0]
            else:
                x_mean, y_mean = X.mean(axis=0), y.mean()
                Xf, yf = X - x_mean, y - y_mean  # centred copies; X itself is untouched
        self._engine_tol = self.tol * n
        w = self._working_set(Xf, yf, l1, l2)
        if self.fit_intercept and sp.issparse(X):
            self.coef_, self.intercept_ = w[:p].copy(), float(w[p])
        else:
            self.coef_ = w
            self.intercept_ = float(y_mean - x_mean @ w) if self.fit_intercept else 0.0
        self.dual_gap_ = None
        return self

    def _working_set(self, X, y, l1, l2):
        # Working sets chosen by the Gauss-Southwell-Lipschitz score (the paper's greedy idea
        # applied to feature screening, as celer/skglm do): solve the problem restricted to the
        # current support plus the worst violators with the BCD engine (warm-started; the
        # restricted Gram matrix makes each greedy iteration O(block * |W|)), then check the
        # optimality of all features with one full gradient X'r.
        n, p = X.shape
        Xc = X.tocsc() if sp.issparse(X) else X  # column slices (a copy for sparse input)
        colsq = np.asarray(X.multiply(X).sum(axis=0)).ravel() if sp.issparse(X) else np.einsum("ij,ij->j", X, X)
        L = colsq + l2
        L[L <= 0] = 1.0
        always = np.flatnonzero(l1 == 0)
        w = np.zeros(p)
        r = -y
        self.n_iter_ = 0
        ws = max(10, 2 * always.size)
        for _ in range(100):
            g = np.asarray(X.T @ r).ravel() + l2 * w
            s = np.where(w > 0, g + l1, np.where(w < 0, g - l1, np.sign(g) * np.maximum(np.abs(g) - l1, 0)))
            opt = np.abs(s).max()
            if opt <= self._engine_tol:
                break
            support = np.union1d(np.flatnonzero(w), always)
            k = min(p, max(ws, 2 * support.size))
            score = np.abs(s) / np.sqrt(L)
            score[support] = np.inf
            W = np.argpartition(-score, k - 1)[:k] if k < p else np.arange(p)
            W = np.sort(W[score[W] > 0])
            sub = LeastSquares(Xc[:, W], y, l1=l1[W], l2=l2[W])
            res = _run(sub, rule=self.rule, block_size=min(self.block_size, W.size), blocks=self.blocks,
                       update=self.update, maxiter=self.max_iter,
                       tol=max(0.5 * self._engine_tol, 0.05 * opt), seed=self.random_state, x0=w[W])
            self.n_iter_ += int(res.nit)
            w = np.zeros(p)
            w[W] = res.x
            r = np.asarray(Xc[:, W] @ res.x).ravel() - y
            ws = min(p, ws + 10)
        return w

    def predict(self, X):
        check_sparse_structure(X, "X")  # before SciPy/sklearn index into it
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    """Lasso with scikit-learn's objective ``1/(2n)||y - Xw||^2 + alpha ||w||_1``.

    Solved by the working-set coordinate descent of :class:`ElasticNet` (same parameters, with
    ``l1_ratio = 1``).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import Lasso
    >>> X = np.random.default_rng(0).standard_normal((30, 6)); y = X @ [1, 0, 0, 2, 0, 0]
    >>> np.round(Lasso(alpha=0.01, tol=1e-10).fit(X, y).coef_, 2)
    array([0.99, 0.  , 0.  , 1.99, 0.  , 0.  ])
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, rule: str = "gsl",
                 block_size: int = 10, blocks: str = "variable", update: str = "lipschitz",
                 tol: float = 1e-6, max_iter: Optional[int] = None, random_state: Any = None,
                 warm_start: bool = False) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.rule = rule
        self.block_size = block_size
        self.blocks = blocks
        self.update = update
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start

    def _ratio(self):
        return 1.0


class LogisticRegression(ClassifierMixin, _BCDLinear):
    """L1 / L2 logistic regression (binary and multinomial) with scikit-learn's objective.

    Parameters
    ----------
    penalty : {"l1", "l2"}
    C : float
        Inverse regularisation strength (scikit-learn's meaning).
    fit_intercept : bool
        The intercept is not penalised (as scikit-learn's lbfgs / saga solvers).
    rule, block_size, blocks, random_state : see :class:`ElasticNet`
    update : str
        "newton" (default): binary ``penalty="l1"`` runs the C++ working-set solver, a proximal
        Newton method on the working set (coordinate descent on the quadratic model, backtracking
        line search). Other updates, ``penalty="l2"`` and the multinomial case run the generic
        BCD engine.
    tol : float
        Fast path: stop when the duality gap is <= ``tol * n * C * log(2)`` (tol relative to the
        objective at w = 0). Generic path: the engine's subgradient tolerance.
    max_iter : int, optional
        Fast path: proximal-Newton steps in total; generic path: block iterations.
    warm_start : bool
        Start the fast path from the previous ``coef_`` / ``intercept_``.

    Attributes
    ----------
    dual_gap_ : float or None
        Final duality gap of the fast path (None on the generic path).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).standard_normal((40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> LogisticRegression(C=1.0).fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(self, penalty: str = "l2", *, C: float = 1.0, fit_intercept: bool = True,
                 rule: str = "gsl", block_size: int = 5, blocks: str = "variable", update: str = "newton",
                 tol: float = 1e-6, max_iter: Optional[int] = None, random_state: Any = None,
                 warm_start: bool = False) -> None:
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.rule = rule
        self.block_size = block_size
        self.blocks = blocks
        self.update = update
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start

    def fit(self, X, y):
        check_sparse_structure(X, "X")  # before SciPy/sklearn index into it
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64)
        check_classification_targets(y)
        if self.penalty not in ("l1", "l2"):
            raise ValueError(f"penalty must be 'l1' or 'l2', got {self.penalty!r}")
        if not (isinstance(self.C, (int, float, np.number)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        self.classes_, yi = np.unique(y, return_inverse=True)
        K = self.classes_.size
        if K < 2:
            raise ValueError(f"This solver needs samples of at least 2 classes in the data; got one class: {self.classes_[0]}")
        n, p = X.shape
        self._engine_tol = self.tol
        self.dual_gap_ = None
        if (K == 2 and self.penalty == "l1" and self.rule in _FAST_RULES
                and self.blocks == "variable" and self.update == "newton"):
            return self._fit_fast(X, yi)
        Xf = _with_intercept_column(X) if self.fit_intercept else X
        q = Xf.shape[1]
        lam = 1.0 / self.C
        if sp.issparse(Xf):
            Xf = Xf.tocsr()  # the generic engine takes CSR (no copy when it already is)
        if K == 2:
            w = np.full(q, lam)
            if self.fit_intercept:
                w[-1] = 0.0
            kw = {"l1": w} if self.penalty == "l1" else {"l2": w}
            res = self._solve(Logistic(Xf, (yi == 1).astype(float), **kw))
            coef = res.x
            self.coef_ = coef[:p].reshape(1, p).copy()
            self.intercept_ = np.array([coef[p]]) if self.fit_intercept else np.zeros(1)
        else:
            w = np.full((q, K), lam)
            if self.fit_intercept:
                w[-1] = 0.0
            kw = {"l1": w.ravel()} if self.penalty == "l1" else {"l2": w.ravel()}
            res = self._solve(Softmax(Xf, yi, **kw))
            Wm = res.x.reshape(q, K)
            self.coef_ = Wm[:p].T.copy()
            b = Wm[p].copy() if self.fit_intercept else np.zeros(K)
            # the softmax is invariant to a common shift of the unpenalised intercepts
            self.intercept_ = b - b.mean() if self.fit_intercept else b
        return self

    def _fit_fast(self, X, yi):
        n, p = X.shape
        self._check_block_size()
        ys = np.where(yi == 1, 1.0, -1.0)
        target = self.tol * n * self.C * np.log(2.0)
        w = np.zeros(p)
        b = 0.0
        prev = getattr(self, "coef_", None)
        if self.warm_start and prev is not None and prev.shape == (1, p):
            w[:] = prev[0]
            b = float(self.intercept_[0]) if self.fit_intercept else 0.0
        res = self._fit_glm(X, ys, w, b, target, loss="logistic", data_scale=float(self.C),
                            l1=1.0, l2=0.0)
        self.coef_ = w.reshape(1, p)
        self.intercept_ = np.array([res["intercept"] if self.fit_intercept else 0.0])
        return self

    def decision_function(self, X):
        check_sparse_structure(X, "X")  # before SciPy/sklearn index into it
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        s = np.asarray(X @ self.coef_.T) + self.intercept_
        return s.ravel() if s.shape[1] == 1 else s

    def predict_proba(self, X):
        s = self.decision_function(X)
        if s.ndim == 1:
            pr = 1.0 / (1.0 + np.exp(-s))
            return np.column_stack([1 - pr, pr])
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        s = self.decision_function(X)
        idx = (s > 0).astype(int) if s.ndim == 1 else s.argmax(axis=1)
        return self.classes_[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
