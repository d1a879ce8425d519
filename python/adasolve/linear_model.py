"""scikit-learn estimators solved by greedy working-set coordinate descent (C++ core).

Drop-in replacements for :mod:`sklearn.linear_model` classes: the same parameters, objectives,
attributes, warnings and errors (the classes subclass scikit-learn's, so ``isinstance`` checks and
parameter validation behave as there), with the fitting done by ``adasolve._core.bcd.glm``:

- :class:`Lasso`: ``1/(2n) sum_i s_i (y_i - x_i w - b)^2 + alpha ||w||_1``
- :class:`ElasticNet`: ``... + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio)/2 ||w||^2``
- :class:`LogisticRegression`: ``C sum_i s_i logloss_i + l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2``
  (intercept not penalised; multinomial for more than two classes)
- :func:`lasso_path`, :func:`enet_path`, :class:`LassoCV`, :class:`ElasticNetCV`,
  :class:`LogisticRegressionCV`

(``s_i`` are the sample weights, rescaled to sum to ``n`` for the regressions, as scikit-learn does.)
"""

from __future__ import annotations

try:
    import sklearn as _sklearn  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "adasolve.linear_model needs scikit-learn, which is not installed: "
        "pip install 'adasolve[sklearn]'; the rest of adasolve works without it"
    ) from _exc

import numbers
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn import linear_model as _sk
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearModel
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from . import _core
from ._validation import check_sparse_structure
from .bcd.engine import Rule, _option

__all__ = ["Lasso", "ElasticNet", "LogisticRegression", "lasso_path", "enet_path", "LassoCV",
           "ElasticNetCV", "LogisticRegressionCV", "PenalizedRegression", "WeightedLasso",
           "MCPRegression", "SCADRegression", "GroupLasso", "MultiTaskLasso"]

#: working-set rules of the C++ solver
_RULES = ("gsl", "gs", "cyclic")
_OUR_PARAMS = {"rule": [StrOptions(set(_RULES))],
               "block_size": [Interval(Integral, 1, None, closed="left")]}


def _design(X):
    """X as the C++ solver borrows it: float64 Fortran-ordered dense, or CSC with matching index
    dtypes (a copy only when X is not already in that form)."""
    if sp.issparse(X):
        Xc = X.tocsc()
        idx = np.int64 if (Xc.indptr.dtype == np.int64 or Xc.indices.dtype == np.int64) else np.int32
        return ("csc", Xc.shape, np.ascontiguousarray(Xc.indptr, dtype=idx),
                np.ascontiguousarray(Xc.indices, dtype=idx),
                np.ascontiguousarray(Xc.data, dtype=np.float64))
    return ("dense", np.asfortranarray(X, dtype=np.float64))


def _glm(D, y, w, b, **kw):
    """Run the C++ working-set solver on a prepared design; ``w`` is updated in place."""
    glm = _core.bcd.glm
    if D[0] == "csc":
        return glm.solve_csc(*D[1], D[2], D[3], D[4], y, w, b, **kw)
    return glm.solve_dense(D[1], y, w, b, **kw)


def _check_finite_scale(X, prefix=""):
    """A clear error instead of NaN coefficients when X's squares overflow float64."""
    data = X.data if sp.issparse(X) else X
    if data.size and float(np.max(np.abs(data))) > 1e150:
        sq = np.asarray(X.multiply(X).sum(axis=0)) if sp.issparse(X) else np.einsum(
            "ij,ij->j", X, X, dtype=np.float64)
        if not np.all(np.isfinite(sq)):
            raise ValueError(prefix + "X holds values so large that their squares overflow float64 "
                             "(max |x| = %.3g); rescale the input, e.g. with StandardScaler."
                             % float(np.max(np.abs(data))))


def _ws_kwargs(rule, block_size, selection, random_state, max_iter):
    seed = int(check_random_state(random_state).randint(0, 2**31 - 1)) if selection == "random" else 0
    return dict(rule=_option(rule, "rule", Rule), ws_start=int(block_size),
                shuffle=selection == "random", seed=seed,
                max_epochs=int(max_iter), max_outer=max(1000, int(max_iter)))


def _enet_one(D, y, w, b, *, alpha, l1_ratio, sw, fit_intercept, tol, positive, ws_kw,
              state=False):
    """One elastic-net solve (scikit-learn's scaling) on a prepared design; returns
    (intercept, dual gap, epochs, converged) and, when ``state`` is not False, the solver state
    to resume from (``state`` itself is the one to resume, or None)."""
    n = y.shape[0]
    if sw is None:
        yc = y - y.mean() if fit_intercept else y
        scale = float(yc @ yc) / n
    else:
        yc = y - np.average(y, weights=sw) if fit_intercept else y
        scale = float(sw @ (yc * yc)) / n
    res = _glm(D, y, w, float(b), loss="quadratic", data_scale=1.0 / n, l1=alpha * l1_ratio,
               l2=alpha * (1.0 - l1_ratio), fit_intercept=bool(fit_intercept),
               tol=tol * scale, step_tol=tol, positive=bool(positive), sample_weight=sw,
               **({} if state is False else {"state": state}), **ws_kw)
    out = float(res["intercept"]), float(res["gap"]), int(res["n_epochs"]), res["info"] == 0
    return out if state is False else out + (res["state"],)


_CONV_MSG = ("Objective did not converge. You might want to increase the number of iterations "
             "(max_iter). Duality gap: {gap:.3e}, tolerance: {tol:.3e}")


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas="deprecated", alphas="warn",
              precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
              return_n_iter=False, positive=False, check_input=True, **params):
    """Elastic-net path, as :func:`sklearn.linear_model.enet_path`, by working-set coordinate
    descent warm-started from one alpha to the next.

    The solution at each alpha starts the next; its support seeds the next working set (the
    solver begins with the support plus the worst violators, twice the support's size), so the
    working set is carried along the path. Parameters and returns are scikit-learn's. Extra
    keyword parameters: ``rule`` and ``block_size`` (see :class:`ElasticNet`), ``tol``,
    ``max_iter``, ``selection``, ``random_state``. A two-dimensional ``y`` (multi-task path) is
    delegated to scikit-learn. ``precompute``/``Xy`` are accepted; the solver works on X.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import enet_path
    >>> X = np.random.default_rng(0).standard_normal((30, 5)); y = X[:, 0]
    >>> alphas, coefs, gaps = enet_path(X, y, alphas=5)
    >>> coefs.shape
    (5, 5)
    """
    y_arr = np.asarray(y) if not sp.issparse(y) else y
    if getattr(y_arr, "ndim", 1) == 2:
        return _sk.enet_path(X, y, l1_ratio=l1_ratio, eps=eps, n_alphas=n_alphas, alphas=alphas,
                             precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                             verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                             check_input=check_input,
                             **{k: v for k, v in params.items() if k not in _OUR_PARAMS})
    _alphas = 100 if n_alphas == "deprecated" else n_alphas
    if n_alphas != "deprecated":
        warnings.warn("'n_alphas' was deprecated in 1.9 and will be removed in 1.11. 'alphas' now "
                      "accepts an integer value.", FutureWarning, stacklevel=2)
    if alphas is None:
        warnings.warn("'alphas=None' is deprecated and will be removed in 1.11; set 'alphas=100'.",
                      FutureWarning, stacklevel=2)
    elif not (isinstance(alphas, str) and alphas == "warn"):
        _alphas = alphas
    X_offset = params.pop("X_offset", None)
    params.pop("X_scale", None)
    sample_weight = params.pop("sample_weight", None)
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    random_state = params.pop("random_state", None)
    selection = params.pop("selection", "cyclic")
    rule = params.pop("rule", "gsl")
    block_size = params.pop("block_size", 10)
    params.pop("do_screening", None)
    if params:
        raise ValueError("Unexpected parameters in params", params.keys())
    if selection not in ("random", "cyclic"):
        raise ValueError("selection should be either random or cyclic.")
    if check_input:
        X = check_array(X, accept_sparse="csc", dtype=[np.float64, np.float32], order="F",
                        copy=False)
        y = check_array(y, dtype=X.dtype.type, ensure_2d=False, copy=False)
    n, p = X.shape
    out_dtype = X.dtype
    yd = np.ascontiguousarray(y, dtype=np.float64).ravel()
    is_sparse = sp.issparse(X)
    # a sparse X comes uncentred with its offsets (scikit-learn's convention); the free intercept
    # of the solver stands for the centring. Sample weights only matter for sparse X (dense X
    # comes already centred and rescaled by the caller).
    centred = is_sparse and X_offset is not None and np.any(np.asarray(X_offset) != 0)
    sw = (np.ascontiguousarray(sample_weight, dtype=np.float64)
          if (is_sparse and sample_weight is not None) else None)
    if isinstance(_alphas, Integral):
        if l1_ratio == 0:
            raise ValueError("Automatic alpha grid generation is not supported for l1_ratio=0. "
                             "Please supply a grid by providing your estimator with the "
                             "appropriate `alphas=` argument.")
        if Xy is not None:
            Xyw = np.asarray(Xy, dtype=np.float64).ravel()
        else:
            yw = yd if sw is None else yd * sw
            Xyw = np.asarray(X.T @ yw, dtype=np.float64).ravel()
            if centred:
                Xyw = Xyw - np.asarray(X_offset, dtype=np.float64) * yw.sum()
        nn = n if sw is None else float(sw.sum())
        amax = (max(0.0, Xyw.max()) if positive else np.abs(Xyw).max()) / (nn * l1_ratio)
        if amax <= np.finfo(np.float64).resolution:
            alphas = np.full(_alphas, np.finfo(np.float64).resolution)
        else:
            alphas = np.geomspace(amax, amax * eps, num=_alphas)
    else:
        alphas = np.sort(np.asarray(_alphas, dtype=np.float64))[::-1]
    D = _design(X)
    w = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64).ravel()
    b = 0.0
    ws_kw = _ws_kwargs(rule, block_size, selection, random_state, max_iter)
    coefs = np.empty((p, len(alphas)), dtype=out_dtype)
    gaps = np.empty(len(alphas))
    n_iters = []
    for i, a in enumerate(alphas):
        b, gap, nit, ok = _enet_one(D, yd, w, b, alpha=float(a), l1_ratio=float(l1_ratio), sw=sw,
                                    fit_intercept=centred, tol=tol, positive=positive, ws_kw=ws_kw)
        if not ok:
            warnings.warn(_CONV_MSG.format(gap=gap, tol=tol), ConvergenceWarning, stacklevel=2)
        coefs[:, i] = w
        gaps[i] = gap
        n_iters.append(nit)
    if return_n_iter:
        return alphas, coefs, gaps, n_iters
    return alphas, coefs, gaps


def lasso_path(X, y, *, eps=1e-3, n_alphas="deprecated", alphas="warn", precompute="auto",
               Xy=None, copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
               positive=False, **params):
    """Lasso path: :func:`enet_path` with ``l1_ratio=1`` (scikit-learn's signature).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import lasso_path
    >>> X = np.random.default_rng(0).standard_normal((30, 5)); y = X[:, 0]
    >>> alphas, coefs, gaps = lasso_path(X, y, alphas=[1.0, 0.1])
    >>> bool(coefs[0, 1] > coefs[0, 0])
    True
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive, **params)


def _check_gram(X, gram, sw):
    """scikit-learn's check of a user-supplied Gram matrix: one element recomputed."""
    gram = np.asarray(gram)
    p = X.shape[1]
    if gram.shape != (p, p):
        raise ValueError(f"The Gram matrix passed in via 'precompute' must have shape "
                         f"({p}, {p}), got {gram.shape}.")
    f1 = p // 2
    f2 = min(f1 + 1, p - 1)
    v1, v2 = X[:, f1], X[:, f2]
    expected = float(np.dot(v1 * (1.0 if sw is None else sw), v2))
    actual = gram[f1, f2]
    rtol = max(1e-4 if d == np.float32 else 1e-7 for d in (gram.dtype, X.dtype))
    if not np.isclose(expected, actual, rtol=rtol, atol=1e-5):
        raise ValueError("Gram matrix passed in via 'precompute' parameter did not pass "
                         "validation when a single element was checked - please check that it "
                         f"was computed properly. For element ({f1},{f2}) we computed {expected} "
                         f"but the user-supplied value was {actual}.")


class ElasticNet(_sk.ElasticNet):
    """Elastic net with scikit-learn's parameters and objective, solved by greedy working-set
    coordinate descent in C++.

    Every parameter of :class:`sklearn.linear_model.ElasticNet` has its meaning there; see that
    class for them. How they map onto the solver:

    - the solver works on growing *working sets*: the support plus the features that violate the
      optimality conditions most (scored by ``rule``), solved by coordinate descent with Anderson
      extrapolation, until the duality gap is below ``tol * ||y - mean(y)||^2 / n``
      (scikit-learn's scaling of ``tol``);
    - ``selection="cyclic"`` sweeps each working set in index order, ``"random"`` in a fresh random
      order each epoch (seeded by ``random_state``); the working set is greedy in both cases;
    - ``max_iter``: coordinate-descent epochs over the working sets, in total;
    - ``precompute``: a given Gram matrix is checked as scikit-learn checks it, then the solver
      works on X (working sets make the Gram matrix unnecessary); ``True``/``"auto"`` are accepted;
    - ``copy_X``: X is never modified;
    - float32 input is solved in float64 (one copy) and ``coef_`` is returned as float32;
    - a 2-D ``y`` is solved one column at a time (the objective separates across targets).

    Parameters
    ----------
    rule : {"gsl", "gs", "cyclic"}, default="gsl"
        How the working set is chosen: "gs" = largest violation of the optimality conditions,
        "gsl" = that violation divided by sqrt(L_j) (Gauss-Southwell-Lipschitz), "cyclic" = no
        working set (all features, as scikit-learn).
    block_size : int, default=10
        Initial working-set size (it then grows with the support).

    Attributes
    ----------
    coef_, intercept_, dual_gap_, n_iter_, sparse_coef_ : as in scikit-learn
        ``n_iter_`` counts coordinate-descent epochs over the working sets (at least 1).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import ElasticNet
    >>> X = np.random.default_rng(0).standard_normal((20, 5)); y = X[:, 0]
    >>> ElasticNet(alpha=0.1).fit(X, y).coef_.shape
    (5,)
    """

    _parameter_constraints: dict = {**_sk.ElasticNet._parameter_constraints, **_OUR_PARAMS}
    path = staticmethod(enet_path)

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", rule="gsl", block_size=10):
        super().__init__(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive, random_state=random_state,
                         selection=selection)
        self.rule = rule
        self.block_size = block_size

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model (scikit-learn's signature).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), optional
            Rescaled to sum to n_samples, as scikit-learn does.
        check_input : bool, default=True
            Skip the input validation (X, y must then be float arrays of matching shapes).

        Returns
        -------
        self
        """
        self._validate_params()
        check_sparse_structure(X, "X")  # before SciPy or scikit-learn index into it
        for name in ("alpha", "l1_ratio", "tol"):
            v = getattr(self, name)
            if not np.isfinite(v):
                raise ValueError(f"{name} must be finite, got {v!r}")
        if self.alpha == 0:
            warnings.warn("With alpha=0, this algorithm does not converge well. You are advised "
                          "to use the LinearRegression estimator", stacklevel=2)
        if check_input:
            X, y = validate_data(self, X, y, accept_sparse=("csc", "csr"), order="F",
                                 dtype=[np.float64, np.float32], accept_large_sparse=True,
                                 multi_output=True, y_numeric=True)
            y = check_array(y, dtype=X.dtype.type, ensure_2d=False, copy=False)
        elif (sample_weight is None and not sp.issparse(X)
              and not (X.flags.f_contiguous and X.dtype in (np.float64, np.float32))):
            # scikit-learn's contract: unchecked input must already be in the solver's layout
            # (with sample weights it re-lays X out itself, and so do we)
            raise ValueError("with check_input=False, X must be a Fortran-ordered (column-major) "
                             "float64 or float32 array or a sparse matrix")
        n, p = X.shape
        if isinstance(sample_weight, numbers.Number):
            sample_weight = None
        sw = None
        if sample_weight is not None:
            if check_input:
                sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            sw = np.ascontiguousarray(sample_weight, dtype=np.float64)
            if np.any(sw < 0):
                raise ValueError("Negative values in data passed to `sample_weight`.")
            sw = sw * (n / sw.sum())
        if hasattr(self.precompute, "__array__") and not sp.issparse(X):
            xm = (np.average(X, axis=0, weights=sw) if self.fit_intercept else np.zeros(p))
            if self.fit_intercept and not np.allclose(xm, 0):
                warnings.warn("Gram matrix was provided but X was centered to fit intercept: "
                              "recomputing Gram matrix.", UserWarning, stacklevel=2)
            elif check_input:
                _check_gram(X, self.precompute, sw)
        if check_input:
            _check_finite_scale(X, "Coordinate descent iterations resulted in non-finite parameter "
                                   "values (they would): ")
        out_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        k = Y.shape[1]
        W = np.zeros((k, p))
        B = np.zeros(k)
        # a warm start resumes the solver where the last fit stopped (its working set, epoch
        # count and extrapolation history) when that fit was cut by max_iter on the same problem
        key = (float(self.alpha), float(self.l1_ratio), bool(self.positive),
               bool(self.fit_intercept), X.shape, self.selection, self.rule, self.block_size,
               float(self.tol))
        states = [None] * k
        if self.warm_start and getattr(self, "coef_", None) is not None:
            prev = np.atleast_2d(self.coef_)
            if prev.shape == (k, p):
                W[:] = prev
                if self.fit_intercept:
                    B[:] = np.atleast_1d(self.intercept_)
                saved = getattr(self, "_resume", None)
                if saved is not None and saved[0] == key and len(saved[1]) == k:
                    states = list(saved[1])
        D = _design(X)
        ws_kw = _ws_kwargs(self.rule, self.block_size, self.selection, self.random_state,
                           self.max_iter)
        gaps, iters = np.zeros(k), []
        for t in range(k):
            w = np.ascontiguousarray(W[t])
            B[t], gaps[t], nit, ok, states[t] = _enet_one(
                D, np.ascontiguousarray(Y[:, t]), w, B[t], alpha=float(self.alpha),
                l1_ratio=float(self.l1_ratio), sw=sw, fit_intercept=self.fit_intercept,
                tol=float(self.tol), positive=self.positive, ws_kw=ws_kw, state=states[t])
            W[t] = w
            iters.append(nit)
            if not ok:
                warnings.warn(_CONV_MSG.format(gap=gaps[t], tol=self.tol) +
                              ". Consider increasing max_iter or tol.", ConvergenceWarning,
                              stacklevel=2)
        self._resume = (key, states) if any(st is not None for st in states) else None
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(B))):
            raise ValueError("Coordinate descent iterations resulted in non-finite parameter "
                             "values. The input data may contain large values and need to be "
                             "preprocessed.")
        if k == 1:  # a (n, 1) target gives 1-D coef_, as in scikit-learn
            self.coef_ = W[0].astype(out_dtype, copy=False)
            self.intercept_ = out_dtype.type(B[0]) if self.fit_intercept else 0.0
            self.dual_gap_ = gaps[0]
            self.n_iter_ = iters[0]
        else:
            self.coef_ = W.astype(out_dtype, copy=False)
            self.intercept_ = B.astype(out_dtype) if self.fit_intercept else np.zeros(k, out_dtype)
            self.dual_gap_ = gaps
            self.n_iter_ = iters
        return self


class Lasso(ElasticNet):
    """Lasso with scikit-learn's parameters and objective ``1/(2n)||y - Xw - b||^2 + alpha ||w||_1``.

    :class:`ElasticNet` with ``l1_ratio=1`` (same parameters, mapping and attributes).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import Lasso
    >>> X = np.random.default_rng(0).standard_normal((30, 6)); y = X @ [1, 0, 0, 2, 0, 0]
    >>> np.round(Lasso(alpha=0.01, tol=1e-10).fit(X, y).coef_, 2)
    array([0.99, 0.  , 0.  , 1.99, 0.  , 0.  ])
    """

    _parameter_constraints: dict = {k: v for k, v in ElasticNet._parameter_constraints.items()
                                    if k != "l1_ratio"}
    path = staticmethod(enet_path)

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False, random_state=None,
                 selection="cyclic", rule="gsl", block_size=10):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive, random_state=random_state,
                         selection=selection, rule=rule, block_size=block_size)


class ElasticNetCV(_sk.ElasticNetCV):
    """:class:`sklearn.linear_model.ElasticNetCV` with the paths and the final fit done by
    adasolve (:func:`enet_path`, :class:`ElasticNet`); folds run in parallel through joblib
    (``n_jobs``) as in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import ElasticNetCV
    >>> X = np.random.default_rng(0).standard_normal((40, 5)); y = X[:, 0]
    >>> float(ElasticNetCV(cv=3).fit(X, y).alpha_) > 0
    True
    """

    path = staticmethod(enet_path)

    def _get_estimator(self):
        return ElasticNet()


class LassoCV(_sk.LassoCV):
    """:class:`sklearn.linear_model.LassoCV` with the paths and the final fit done by adasolve
    (:func:`lasso_path`, :class:`Lasso`); ``n_jobs`` as in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import LassoCV
    >>> X = np.random.default_rng(0).standard_normal((40, 5)); y = X[:, 0]
    >>> float(LassoCV(cv=3).fit(X, y).alpha_) > 0
    True
    """

    path = staticmethod(lasso_path)

    def _get_estimator(self):
        return Lasso()


def _resolve_penalty(est):
    """(l1_ratio, C) that scikit-learn 1.9 would use, with its warnings; C = inf: no penalty."""
    r = est.l1_ratio
    if est.penalty == "deprecated":
        if r is None:
            warnings.warn("'l1_ratio=None' was deprecated in version 1.8 and will trigger an "
                          "error in 1.10. Use 0<=l1_ratio<=1 instead.", FutureWarning, stacklevel=3)
            r = 0.0
        penalty = "l2" if r == 0 else ("l1" if r == 1 else "elasticnet")
        if est.C == np.inf:
            penalty = None
    else:
        penalty = est.penalty
        warnings.warn("'penalty' was deprecated in version 1.8 and will be removed in 1.10. To "
                      "avoid this warning, leave 'penalty' set to its default value and use "
                      "'l1_ratio' or 'C' instead. Use l1_ratio=0 instead of penalty='l2', "
                      "l1_ratio=1 instead of penalty='l1', l1_ratio set to a float between 0 and "
                      "1 instead of penalty='elasticnet', and C=np.inf instead of penalty=None.",
                      FutureWarning, stacklevel=3)
    try:  # scikit-learn's own solver/penalty compatibility errors, word for word
        from sklearn.linear_model._logistic import _check_solver
        _check_solver(est.solver, penalty, est.dual)
    except ImportError:  # pragma: no cover - other scikit-learn versions
        pass
    if penalty != "elasticnet" and r is not None and 0 < r < 1:
        warnings.warn(f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                      f"(penalty={penalty})", stacklevel=3)
    if (est.penalty == "l2" and est.l1_ratio != 0) or (est.penalty == "l1" and est.l1_ratio != 1):
        warnings.warn(f"Inconsistent values: penalty={est.penalty} with l1_ratio={est.l1_ratio}. "
                      "penalty is deprecated. Please use l1_ratio only.", stacklevel=3)
    if penalty == "elasticnet" and r is None:
        raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
    if penalty is None:
        if est.penalty is None and est.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters",
                          stacklevel=3)
        return 0.0, np.inf
    ratio = {"l1": 1.0, "l2": 0.0}.get(penalty, r)
    return float(ratio), float(est.C)


class LogisticRegression(_sk.LogisticRegression):
    """Logistic regression with scikit-learn 1.9's parameters and objective, solved by greedy
    working-set proximal Newton in C++.

    Objective: ``C sum_i s_i logloss_i + l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2`` with the
    intercept unpenalised (``C=np.inf``: no penalty), ``s_i`` the sample weight times the class
    weight. Every parameter of :class:`sklearn.linear_model.LogisticRegression` is accepted with
    its meaning and its checks (``solver``/``penalty`` compatibility errors included). How they map:

    - two classes: the C++ working-set solver for every penalty (l1, l2, elastic net, none):
      proximal Newton on working sets chosen by ``rule``, stopped when the duality gap is below
      ``tol * C * sum(s) * log 2``; ``max_iter`` counts proximal-Newton steps;
    - more classes (multinomial): the fit is delegated to scikit-learn's own solver (the C++
      working-set solver is binary), so results are scikit-learn's, weights included;
    - ``solver``, ``dual``, ``intercept_scaling``, ``n_jobs``, ``verbose``: accepted and checked,
      not used otherwise (the intercept is never penalised, as with lbfgs/saga).

    Parameters
    ----------
    rule : {"gsl", "gs", "cyclic"}, default="gsl"
        Working-set rule (see :class:`ElasticNet`).
    block_size : int, default=5
        Initial working-set size.

    Attributes
    ----------
    classes_, coef_, intercept_, n_iter_ : as in scikit-learn
    dual_gap_ : float or None
        Final duality gap of the two-class solver (None otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).standard_normal((40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> LogisticRegression(l1_ratio=1, solver="saga").fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {**_sk.LogisticRegression._parameter_constraints,
                                    **_OUR_PARAMS}

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, dual=False, tol=1e-4,
                 fit_intercept=True, intercept_scaling=1, class_weight=None, random_state=None,
                 solver="lbfgs", max_iter=100, verbose=0, warm_start=False, n_jobs=None,
                 rule="gsl", block_size=5):
        super().__init__(penalty=penalty, C=C, l1_ratio=l1_ratio, dual=dual, tol=tol,
                         fit_intercept=fit_intercept, intercept_scaling=intercept_scaling,
                         class_weight=class_weight, random_state=random_state, solver=solver,
                         max_iter=max_iter, verbose=verbose, warm_start=warm_start, n_jobs=n_jobs)
        self.rule = rule
        self.block_size = block_size

    def fit(self, X, y, sample_weight=None):
        """Fit the model (scikit-learn's signature).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        self._validate_params()
        check_sparse_structure(X, "X")  # before SciPy or scikit-learn index into it
        ratio, C = _resolve_penalty(self)
        if self.n_jobs is not None:
            warnings.warn(f"'n_jobs' has no effect since 1.8 and will be removed in 1.10. You "
                          f"provided 'n_jobs={self.n_jobs}', please leave it unspecified.",
                          FutureWarning, stacklevel=2)
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"),
                             dtype=[np.float64, np.float32], accept_large_sparse=True)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        K = self.classes_.size
        if K < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                             f"the data contains only one class: {self.classes_[0]!r}")
        if self.solver == "liblinear" and K > 2:
            raise ValueError("The 'liblinear' solver does not support multiclass classification"
                             " (n_classes >= 3). Either use another solver or wrap the "
                             "estimator in a OneVsRestClassifier to keep applying a "
                             "one-versus-rest scheme.")
        _check_finite_scale(X)
        n, p = X.shape
        sw = np.ones(n) if sample_weight is None else np.asarray(
            _check_sample_weight(sample_weight, X, dtype=np.float64), dtype=np.float64)
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=self.classes_, y=y,
                                      sample_weight=sample_weight)
            sw = sw * cw[yi]
        out_dtype = X.dtype
        self.dual_gap_ = None
        if K == 2:
            self._fit_binary(X, yi, sw, ratio, C)
        else:
            self._fit_delegate(X, y, sample_weight)
        self.coef_ = self.coef_.astype(out_dtype, copy=False)
        self.intercept_ = self.intercept_.astype(out_dtype, copy=False)
        if not (np.all(np.isfinite(self.coef_)) and np.all(np.isfinite(self.intercept_))):
            raise ValueError("The solver produced non-finite coefficients; the input data may "
                             "contain large values and need to be preprocessed.")
        return self

    def _fit_binary(self, X, yi, sw, ratio, C):
        n, p = X.shape
        ys = np.where(yi == 1, 1.0, -1.0)
        if np.isinf(C):  # no penalty: the loss alone, at unit scale
            s, l1, l2 = 1.0, 0.0, 0.0
        else:
            s, l1, l2 = C, ratio, 1.0 - ratio
        target = self.tol * s * float(sw.sum()) * np.log(2.0)
        w = np.zeros(p)
        b = 0.0
        prev = getattr(self, "coef_", None)
        if self.warm_start and prev is not None and prev.shape == (1, p):
            w[:] = prev[0]
            b = float(self.intercept_[0]) if self.fit_intercept else 0.0
        weights = None if np.all(sw == 1.0) else np.ascontiguousarray(sw)
        res = _glm(_design(X), ys, w, b, loss="logistic", data_scale=float(s), l1=l1, l2=l2,
                   fit_intercept=bool(self.fit_intercept), tol=target,
                   rule=_option(self.rule, "rule", Rule),
                   ws_start=int(self.block_size), max_epochs=int(self.max_iter), max_outer=1000,
                   sample_weight=weights)
        self.dual_gap_ = float(res["gap"])
        self.n_iter_ = np.array([max(1, int(res["n_epochs"]))], dtype=np.int32)
        if res["info"] != 0:
            warnings.warn(f"{type(self).__name__} did not converge: duality gap "
                          f"{self.dual_gap_:.3g} > {target:.3g} after the iteration limit; "
                          "increase max_iter or tol.", ConvergenceWarning, stacklevel=3)
        self.coef_ = w.reshape(1, p)
        self.intercept_ = np.array([float(res["intercept"]) if self.fit_intercept else 0.0])

    def _fit_delegate(self, X, y, sample_weight):
        params = {k: v for k, v in self.get_params().items() if k not in _OUR_PARAMS}
        ref = _sk.LogisticRegression(**params)
        prev = getattr(self, "coef_", None)
        if self.warm_start and prev is not None and prev.shape == (self.classes_.size, X.shape[1]):
            ref.coef_, ref.intercept_ = prev, self.intercept_  # scikit-learn's warm start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # already issued by this fit
            ref.fit(X, y, sample_weight=sample_weight)
        self.coef_, self.intercept_, self.n_iter_ = ref.coef_, ref.intercept_, ref.n_iter_


class LogisticRegressionCV(_sk.LogisticRegressionCV):
    """:class:`sklearn.linear_model.LogisticRegressionCV`, with the final refit done by
    :class:`LogisticRegression` (the two-class working-set solver) when ``refit=True``.

    The grid of ``Cs`` (and ``l1_ratios``) is scored by scikit-learn's cross-validation; the
    chosen ``C_``/``l1_ratio_`` are refitted on all data by adasolve.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import LogisticRegressionCV
    >>> X = np.random.default_rng(0).standard_normal((60, 3)); y = (X[:, 0] > 0).astype(int)
    >>> m = LogisticRegressionCV(Cs=3, l1_ratios=(1.0,), solver="saga", cv=3,
    ...                          scoring="neg_log_loss", use_legacy_attributes=False).fit(X, y)
    >>> m.coef_.shape
    (1, 3)
    """

    def fit(self, X, y, sample_weight=None, **params):
        super().fit(X, y, sample_weight=sample_weight, **params)
        if self.refit and np.size(self.classes_) == 2:
            C = float(np.ravel(self.C_)[0])
            r = getattr(self, "l1_ratio_", None)
            r = 0.0 if r is None else float(np.ravel(r)[0])
            est = LogisticRegression(C=C, l1_ratio=r, fit_intercept=self.fit_intercept,
                                     tol=self.tol, max_iter=max(100, self.max_iter),
                                     class_weight=self.class_weight, solver="saga")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                est.fit(X, y, sample_weight=sample_weight)
            self.coef_ = est.coef_.astype(self.coef_.dtype)
            self.intercept_ = est.intercept_.astype(np.asarray(self.intercept_).dtype)
        return self


# ---- beyond L1: general datafits and penalties, groups and several tasks ----------------------

_DATAFITS = ("quadratic", "huber", "poisson")
_PENALTIES = ("l1", "mcp", "scad")


def _pen_glm(D, y, w, b, **kw):
    """Run the C++ datafit + penalty solver on a prepared design; ``w`` is updated in place."""
    glm = _core.bcd.glm
    if D[0] == "csc":
        return glm.pen_csc(*D[1], D[2], D[3], D[4], y, w, b, **kw)
    return glm.pen_dense(D[1], y, w, b, **kw)


def _feature_weights(weights, p, name="weights"):
    """Per-feature (or per-group) weights as a float64 vector, checked: finite, >= 0, length p."""
    if weights is None:
        return None
    wt = np.asarray(weights, dtype=np.float64)
    if wt.ndim != 1 or wt.shape[0] != p:
        raise ValueError(f"The number of {name} must match the number of "
                         f"{'features' if name == 'weights' else 'groups'}. Got {wt.size}, "
                         f"expected {p}.")
    if not np.all(np.isfinite(wt)) or np.any(wt < 0):
        raise ValueError(f"{name} must be finite and >= 0.")
    return np.ascontiguousarray(wt)


class PenalizedRegression(RegressorMixin, LinearModel):
    r"""Sparse regression with a choice of datafit and penalty, solved by greedy working-set
    coordinate descent in C++ (the datafits and penalties of skglm, with its scaling).

    Objective, with :math:`z = Xw + b` (``b`` unpenalised) and :math:`n` samples:

    .. math:: F(z) + \sum_j c_j \, \mathrm{pen}(w_j)

    datafit ``F``:

    - ``"quadratic"``: :math:`\frac{1}{2n}\sum_i (y_i - z_i)^2`
    - ``"huber"``: :math:`\frac{1}{n}\sum_i h_\delta(y_i - z_i)`, :math:`h_\delta(r) = r^2/2` for
      :math:`|r| \le \delta`, :math:`\delta|r| - \delta^2/2` beyond (robust to outliers in y)
    - ``"poisson"``: :math:`\frac{1}{n}\sum_i (e^{z_i} - y_i z_i)` (counts, log link)

    penalty ``pen``:

    - ``"l1"``: :math:`\alpha(\rho|x| + (1-\rho) x^2/2)` with :math:`\rho` = ``l1_ratio``
      (``weights`` make it skglm's weighted L1)
    - ``"mcp"``: :math:`\alpha|x| - x^2/(2\gamma)` for :math:`|x| \le \gamma\alpha`,
      :math:`\gamma\alpha^2/2` beyond (non-convex; ``gamma`` > 0)
    - ``"scad"``: :math:`\alpha|x|` up to :math:`\alpha`, then
      :math:`(2\gamma\alpha|x| - x^2 - \alpha^2)/(2(\gamma-1))` up to :math:`\gamma\alpha`,
      :math:`\alpha^2(\gamma+1)/2` beyond (non-convex; ``gamma`` > 1)

    ``c_j`` are ``weights`` (all 1 by default; ``c_j = 0`` leaves feature ``j`` unpenalised).
    The Poisson datafit takes the ``"l1"`` penalty only.

    Parameters
    ----------
    datafit : {"quadratic", "huber", "poisson"}, default="quadratic"
    penalty : {"l1", "mcp", "scad"}, default="l1"
    alpha : float, default=1.0
        Penalty strength (>= 0).
    l1_ratio : float, default=1.0
        ``"l1"`` penalty only: share of the L1 part (1: weighted Lasso, < 1: elastic net).
    gamma : float, default=3.0
        Concavity of MCP / SCAD (larger: closer to L1).
    delta : float, default=1.0
        Huber threshold, in units of y.
    weights : array-like of shape (n_features,), default=None
        Per-feature multipliers of the penalty (>= 0).
    fit_intercept : bool, default=True
    positive : bool, default=False
        Constrain the coefficients to be >= 0.
    tol : float, default=1e-4
        Stop when every feature's optimality violation (distance of minus the gradient to the
        penalty's subdifferential) is at most ``tol``: skglm's criterion. For the non-convex
        penalties it certifies a critical point, not a global minimum.
    max_iter : int, default=50
        Working-set (outer) iterations.
    max_epochs : int, default=50000
        Coordinate-descent passes (Poisson: proximal-Newton steps), in total.
    p0 : int, default=10
        First working-set size.
    warm_start : bool, default=False
        Start from the previous ``coef_`` / ``intercept_``.
    verbose : int, default=0
        Accepted for skglm compatibility; unused.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer iterations done.
    stop_crit_ : float
        The final optimality violation.
    objective_ : float
        The final objective value.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import PenalizedRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 5)); y = X @ [2.0, 0, 0, -1.0, 0]
    >>> y[:3] += 30  # outliers
    >>> m = PenalizedRegression(datafit="huber", delta=1.0, alpha=0.01).fit(X, y)
    >>> np.round(m.coef_, 1) + 0.0
    array([ 2. ,  0. ,  0. , -1. , -0.1])
    """

    _parameter_constraints: dict = {
        "datafit": [StrOptions(set(_DATAFITS))],
        "penalty": [StrOptions(set(_PENALTIES))],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "gamma": [Interval(numbers.Real, 0, None, closed="neither")],
        "delta": [Interval(numbers.Real, 0, None, closed="neither")],
        "weights": ["array-like", None],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "p0": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, datafit="quadratic", penalty="l1", *, alpha=1.0, l1_ratio=1.0, gamma=3.0,
                 delta=1.0, weights=None, fit_intercept=True, positive=False, tol=1e-4,
                 max_iter=50, max_epochs=50_000, p0=10, warm_start=False, verbose=0):
        self.datafit = datafit
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.gamma = gamma
        self.delta = delta
        self.weights = weights
        self._set_common(max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept,
                         warm_start)

    def _set_common(self, max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept,
                    warm_start):
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.p0 = p0
        self.verbose = verbose
        self.tol = tol
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start

    def _spec(self):
        """(datafit, penalty, gamma, delta, l1_ratio) this estimator solves (subclasses fix some
        of them)."""
        return self.datafit, self.penalty, self.gamma, self.delta, self.l1_ratio

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._validate_params()
        datafit, penalty, gamma, delta, l1_ratio = self._spec()
        if not np.isfinite(self.alpha):
            raise ValueError(f"alpha must be finite, got {self.alpha!r}")
        if penalty == "scad" and not gamma > 1:
            raise ValueError(f"gamma must be > 1 for SCAD, got {gamma!r}")
        if datafit == "poisson" and penalty != "l1":
            raise ValueError("the Poisson datafit supports penalty='l1' only (L1 / elastic net), "
                             f"got penalty={penalty!r}")
        check_sparse_structure(X, "X")
        X, y = validate_data(self, X, y, accept_sparse=("csc", "csr"), order="F",
                             dtype=[np.float64, np.float32], y_numeric=True)
        if datafit == "poisson" and np.any(y < 0):
            raise ValueError("Poisson targets y must be >= 0")
        _check_finite_scale(X)
        out_dtype = X.dtype
        n, p = X.shape
        wts = _feature_weights(self.weights, p)
        w = np.zeros(p)
        b = 0.0
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (p,):
            w[:] = self.coef_
            b = float(self.intercept_) if self.fit_intercept else 0.0
        yd = np.ascontiguousarray(y, dtype=np.float64)
        ratio = float(l1_ratio) if penalty == "l1" else 1.0
        res = _pen_glm(_design(X), yd, w, b, datafit=datafit, penalty=penalty,
                       alpha=float(self.alpha) * ratio, l2=float(self.alpha) * (1.0 - ratio),
                       gamma=float(gamma), delta=float(delta), weights=wts,
                       positive=bool(self.positive), fit_intercept=bool(self.fit_intercept),
                       tol=float(self.tol), max_outer=int(self.max_iter),
                       max_epochs=int(self.max_epochs), ws_start=int(self.p0))
        if res["info"] != 0:
            warnings.warn(f"{type(self).__name__} did not converge: optimality violation "
                          f"{res['kkt']:.3e} > tol = {self.tol:.3e}; increase max_iter / "
                          "max_epochs or tol.", ConvergenceWarning, stacklevel=2)
        self.coef_ = w.astype(out_dtype, copy=False)
        self.intercept_ = float(res["intercept"]) if self.fit_intercept else 0.0
        self.n_iter_ = int(res["n_outer"])
        self.stop_crit_ = float(res["kkt"])
        self.objective_ = float(res["objective"])
        return self

    def predict(self, X):
        """Predict: the linear model ``X @ coef_ + intercept_``; with the Poisson datafit its
        exponential (the predicted mean count)."""
        z = self._decision_function(X)
        return np.exp(z) if self._spec()[0] == "poisson" else z

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy.sparse CSR matrix of shape (1, n_features)."""
        return sp.csr_matrix(self.coef_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class WeightedLasso(PenalizedRegression):
    r"""Lasso with per-feature weights (skglm's ``WeightedLasso``):
    ``1/(2n)||y - Xw - b||^2 + alpha sum_j weights_j |w_j|``.

    ``weights_j = 0`` leaves feature ``j`` unpenalised; ``weights=None`` is the plain Lasso.
    Other parameters and attributes as :class:`PenalizedRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import WeightedLasso
    >>> X = np.random.default_rng(0).standard_normal((30, 4)); y = X @ [1.0, 0, 0, 0.2]
    >>> np.round(WeightedLasso(alpha=0.1, weights=[1, 1, 1, 0]).fit(X, y).coef_, 2)
    array([0.87, 0.  , 0.  , 0.17])
    """

    _parameter_constraints: dict = {k: v for k, v in PenalizedRegression._parameter_constraints.items()
                                    if k not in ("datafit", "penalty", "l1_ratio", "gamma", "delta")}

    def __init__(self, alpha=1.0, weights=None, max_iter=50, max_epochs=50_000, p0=10, verbose=0,
                 tol=1e-4, positive=False, fit_intercept=True, warm_start=False):
        self.alpha = alpha
        self.weights = weights
        self._set_common(max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept,
                         warm_start)

    def _spec(self):
        return "quadratic", "l1", 3.0, 1.0, 1.0


class MCPRegression(PenalizedRegression):
    r"""Least squares with the minimax concave penalty (skglm's ``MCPRegression``):
    ``1/(2n)||y - Xw - b||^2 + sum_j weights_j MCP_{alpha,gamma}(w_j)``.

    MCP equals ``alpha |x|`` near 0 and levels off at ``gamma alpha^2 / 2`` for
    ``|x| >= gamma alpha``: large coefficients are not shrunk (less bias than the Lasso).
    Non-convex: the solution found is a critical point and depends on the start.
    Parameters and attributes as :class:`PenalizedRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import MCPRegression
    >>> X = np.random.default_rng(0).standard_normal((50, 5)); y = X @ [2.0, 0, 0, -1.0, 0]
    >>> np.round(MCPRegression(alpha=0.1, gamma=3).fit(X, y).coef_, 3) + 0.0  # no shrinkage bias
    array([ 2.,  0.,  0., -1.,  0.])
    """

    _parameter_constraints: dict = {k: v for k, v in PenalizedRegression._parameter_constraints.items()
                                    if k not in ("datafit", "penalty", "l1_ratio", "delta")}

    def __init__(self, alpha=1.0, gamma=3, weights=None, max_iter=50, max_epochs=50_000, p0=10,
                 verbose=0, tol=1e-4, positive=False, fit_intercept=True, warm_start=False,
                 ws_strategy="subdiff"):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self._set_common(max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept,
                         warm_start)
        self.ws_strategy = ws_strategy

    _parameter_constraints["ws_strategy"] = [StrOptions({"subdiff"})]

    def _spec(self):
        return "quadratic", "mcp", self.gamma, 1.0, 1.0


class SCADRegression(PenalizedRegression):
    r"""Least squares with the SCAD penalty (skglm's ``SCAD`` penalty with the ``Quadratic``
    datafit): ``1/(2n)||y - Xw - b||^2 + sum_j weights_j SCAD_{alpha,gamma}(w_j)``, ``gamma > 1``
    (3.7 is the customary choice).

    Non-convex, like :class:`MCPRegression`. Parameters and attributes as
    :class:`PenalizedRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import SCADRegression
    >>> X = np.random.default_rng(0).standard_normal((50, 5)); y = X @ [2.0, 0, 0, -1.0, 0]
    >>> np.round(SCADRegression(alpha=0.1).fit(X, y).coef_, 3) + 0.0
    array([ 2.,  0.,  0., -1.,  0.])
    """

    _parameter_constraints: dict = {k: v for k, v in PenalizedRegression._parameter_constraints.items()
                                    if k not in ("datafit", "penalty", "l1_ratio", "delta")}

    def __init__(self, alpha=1.0, gamma=3.7, weights=None, max_iter=50, max_epochs=50_000, p0=10,
                 verbose=0, tol=1e-4, positive=False, fit_intercept=True, warm_start=False):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self._set_common(max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept,
                         warm_start)

    def _spec(self):
        return "quadratic", "scad", self.gamma, 1.0, 1.0


def _group_glm(D, Y, W, b, grp_ptr, grp_indices, **kw):
    """Run the C++ group / multi-task solver; ``W`` (p, T) and ``b`` (T,) are updated in place."""
    glm = _core.bcd.glm
    if D[0] == "csc":
        return glm.group_csc(*D[1], D[2], D[3], D[4], Y, W, b, grp_ptr, grp_indices, **kw)
    return glm.group_dense(D[1], Y, W, b, grp_ptr, grp_indices, **kw)


def _groups_to_ptr(groups, p):
    """skglm's ``groups`` (int: contiguous groups of that size; list of ints: contiguous groups of
    those sizes; list of lists: the feature indices of each group) as (grp_ptr, grp_indices)."""
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
        if groups < 1 or p % groups:
            raise ValueError(f"groups={groups} must be a positive divisor of n_features={p} "
                             "(contiguous groups of that size).")
        return (np.arange(0, p + 1, groups, dtype=np.int64), np.arange(p, dtype=np.int64))
    try:
        items = list(groups)
    except TypeError:
        raise TypeError("groups must be an int, a list of ints or a list of lists of ints, got "
                        f"{type(groups).__name__}") from None
    if not items:
        raise ValueError("groups must not be empty")
    if all(isinstance(g, numbers.Integral) and not isinstance(g, bool) for g in items):
        sizes = np.asarray(items, dtype=np.int64)
        if np.any(sizes < 1) or sizes.sum() != p:
            raise ValueError(f"group sizes must be >= 1 and sum to n_features={p}, got a sum of "
                             f"{int(sizes.sum())}.")
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), np.arange(p, dtype=np.int64)
    lists = []
    for g in items:
        a = np.asarray(g)
        if a.ndim != 1 or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError("each group must be a non-empty list of feature indices (ints)")
        lists.append(a.astype(np.int64))
    idx = np.concatenate(lists)
    if np.any(idx < 0) or np.any(idx >= p):
        raise ValueError(f"group feature indices must be in [0, {p - 1}]")
    if np.unique(idx).size != idx.size:
        raise ValueError("groups must not overlap (a feature is listed twice)")
    ptr = np.concatenate([[0], np.cumsum([a.size for a in lists])]).astype(np.int64)
    return ptr, np.ascontiguousarray(idx)


class GroupLasso(RegressorMixin, LinearModel):
    r"""Group lasso (skglm's ``GroupLasso``): whole groups of features enter or leave together.

    Objective: :math:`\frac{1}{2n}\|y - Xw - b\|^2 + \alpha \sum_g c_g \|w_g\|_2`,
    ``c_g`` the group ``weights`` (all 1 by default). Solved by working sets of groups and block
    coordinate descent (block soft-thresholding, step ``1/L_g``, ``L_g = ||X_g||_2^2 / n``) in C++.

    Parameters
    ----------
    groups : int, list of int or list of lists of int
        int: contiguous groups of that size (it must divide n_features); list of ints: contiguous
        groups of those sizes; list of lists: the feature indices of each group (features in no
        group are held at 0).
    alpha : float, default=1.0
    weights : array-like of shape (n_groups,), default=None
        Per-group multipliers (> 0).
    max_iter : int, default=50
        Working-set (outer) iterations.
    max_epochs : int, default=50000
        Block coordinate-descent passes, in total.
    p0 : int, default=10
        First working-set size, in groups.
    verbose : int, default=0
        Accepted for skglm compatibility; unused.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y - mean(y)||^2 / n`` (scikit-learn's
        Lasso criterion; skglm stops on the optimality violation instead).
    positive : bool, default=False
        Only ``False`` is supported.
    fit_intercept : bool, default=True
    warm_start : bool, default=False

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    dual_gap_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import GroupLasso
    >>> X = np.random.default_rng(0).standard_normal((40, 6)); y = X[:, 0] - X[:, 1]
    >>> np.round(GroupLasso(groups=2, alpha=0.05).fit(X, y).coef_, 2) + 0.0
    array([ 0.96, -0.94,  0.  ,  0.  ,  0.  ,  0.  ])
    """

    _parameter_constraints: dict = {
        "groups": [Interval(Integral, 1, None, closed="left"), "array-like", list],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "weights": ["array-like", None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "p0": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
    }

    def __init__(self, groups, alpha=1.0, weights=None, max_iter=50, max_epochs=50_000, p0=10,
                 verbose=0, tol=1e-4, positive=False, fit_intercept=True, warm_start=False):
        self.groups = groups
        self.alpha = alpha
        self.weights = weights
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.p0 = p0
        self.verbose = verbose
        self.tol = tol
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._validate_params()
        if self.positive:
            raise ValueError("GroupLasso supports positive=False only")
        if not np.isfinite(self.alpha):
            raise ValueError(f"alpha must be finite, got {self.alpha!r}")
        check_sparse_structure(X, "X")
        X, y = validate_data(self, X, y, accept_sparse=("csc", "csr"), order="F",
                             dtype=[np.float64, np.float32], y_numeric=True)
        _check_finite_scale(X)
        n, p = X.shape
        ptr, idx = _groups_to_ptr(self.groups, p)
        wts = _feature_weights(self.weights, ptr.size - 1, name="group weights")
        if wts is not None and np.any(wts == 0):
            raise ValueError("group weights must be > 0")
        W = np.zeros((p, 1))
        b = np.zeros(1)
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (p,):
            W[:, 0] = self.coef_
            b[0] = float(self.intercept_) if self.fit_intercept else 0.0
        yd = np.asfortranarray(np.asarray(y, dtype=np.float64).reshape(n, 1))
        yc = yd[:, 0] - yd.mean() if self.fit_intercept else yd[:, 0]
        target = float(self.tol) * float(yc @ yc) / n
        res = _group_glm(_design(X), yd, W, b, ptr, idx, alpha=float(self.alpha), weights=wts,
                         fit_intercept=bool(self.fit_intercept), tol=target,
                         max_outer=int(self.max_iter), max_epochs=int(self.max_epochs),
                         ws_start=int(self.p0))
        if res["info"] != 0:
            warnings.warn(_CONV_MSG.format(gap=res["gap"], tol=target), ConvergenceWarning,
                          stacklevel=2)
        self.coef_ = W[:, 0].astype(X.dtype, copy=False)
        self.intercept_ = float(b[0]) if self.fit_intercept else 0.0
        self.n_iter_ = int(res["n_outer"])
        self.dual_gap_ = float(res["gap"])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MultiTaskLasso(_sk.MultiTaskLasso):
    r""":class:`sklearn.linear_model.MultiTaskLasso` solved by greedy working sets and block
    coordinate descent in C++: the same parameters, objective
    :math:`\frac{1}{2n}\|Y - XW - 1b^T\|_F^2 + \alpha \|W\|_{21}` (the sum of the norms of
    the rows of ``W``, one row per feature), attributes and stopping rule (duality gap at most
    ``tol * ||Y - mean(Y)||_F^2 / n``).

    ``selection`` and ``random_state`` are accepted and unused (the working-set order is
    deterministic). ``sample_weight`` is rescaled to sum to ``n_samples``, as in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.linear_model import MultiTaskLasso
    >>> X = np.random.default_rng(0).standard_normal((40, 5)); Y = np.c_[X[:, 0], 2 * X[:, 0]]
    >>> np.round(MultiTaskLasso(alpha=0.1).fit(X, Y).coef_, 2)
    array([[0.93, 0.  , 0.  , 0.  , 0.  ],
           [1.85, 0.  , 0.  , 0.  , 0.  ]])
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the model (scikit-learn's signature).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples, n_tasks)
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        if not np.isfinite(self.alpha):
            raise ValueError(f"alpha must be finite, got {self.alpha!r}")
        check_sparse_structure(X, "X")
        X, y = validate_data(self, X, y, validate_separately=(
            dict(accept_sparse=("csc", "csr"), dtype=[np.float64, np.float32], order="F"),
            dict(ensure_2d=False, dtype=[np.float64, np.float32])))
        if y.ndim == 1:
            raise ValueError("For mono-task outputs, use Lasso")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X and y have inconsistent numbers of samples: {X.shape[0]} and "
                             f"{y.shape[0]}")
        _check_finite_scale(X)
        n, p = X.shape
        T = y.shape[1]
        sw = None
        if sample_weight is not None and not isinstance(sample_weight, numbers.Number):
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if not np.any(sw > 0):
                raise ValueError("sample_weight must not all be zero: at least one sample needs "
                                 "a positive weight.")
            sw = np.ascontiguousarray(sw * (n / sw.sum()), dtype=np.float64)  # sum n, as sklearn
        W = np.zeros((p, T))
        b = np.zeros(T)
        prev = getattr(self, "coef_", None)
        if self.warm_start and prev is not None and np.shape(prev) == (T, p):
            W[:] = np.asarray(prev).T
            b[:] = np.asarray(self.intercept_, dtype=np.float64) if self.fit_intercept else 0.0
        Yd = np.asfortranarray(y, dtype=np.float64)
        Yc = Yd - np.average(Yd, axis=0, weights=sw) if self.fit_intercept else Yd
        self.eps_ = float(self.tol) * float(np.sum((Yc * Yc) if sw is None else sw[:, None] * Yc * Yc))
        target = self.eps_ / n
        # dense X: centre X and Y (a copy; X is never modified) and solve without an intercept,
        # as scikit-learn does: the intercept then never lags behind W, which matters on
        # ill-conditioned designs; sparse X keeps the intercept inside the solver (no dense copy)
        center = self.fit_intercept and not sp.issparse(X)
        if center:
            x_mean = np.average(X, axis=0, weights=sw).astype(np.float64)
            y_mean = np.average(Yd, axis=0, weights=sw)
            D = ("dense", np.asfortranarray(X - x_mean, dtype=np.float64))
            Ys = np.asfortranarray(Yd - y_mean)
        else:
            D, Ys = _design(X), Yd
        res = _group_glm(D, Ys, W, b, np.arange(p + 1, dtype=np.int64),
                         np.arange(p, dtype=np.int64), alpha=float(self.alpha),
                         fit_intercept=bool(self.fit_intercept and not center), tol=target,
                         sample_weight=sw, max_outer=max(1000, int(self.max_iter)),
                         max_epochs=int(self.max_iter), ws_start=10)
        if center:
            b = y_mean - x_mean @ W
        if res["info"] != 0:
            warnings.warn(_CONV_MSG.format(gap=res["gap"], tol=target), ConvergenceWarning,
                          stacklevel=2)
        self.coef_ = np.asfortranarray(W.T.astype(X.dtype, copy=False))
        self.intercept_ = b.astype(X.dtype) if self.fit_intercept else 0.0  # as scikit-learn
        self.n_iter_ = max(1, int(res["n_epochs"]))
        self.dual_gap_ = float(res["gap"])
        return self
