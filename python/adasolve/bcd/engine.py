"""Greedy block coordinate descent (Nutini, Laradji, Schmidt, JMLR 2022).

Problems are small objects (:class:`LeastSquares`, :class:`Logistic`, :class:`Softmax`,
:class:`LabelPropagation`) that hold validated data; :func:`bcd_minimize` runs the C++ engine
(block selection rule x block structure x block update) on one of them.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Union

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult

from .. import _core
from .._validation import (
    as_csr,
    check_choice,
    check_matrix,
    check_maxiter,
    check_scalar,
    check_vector,
    seed_to_uint64,
)

__all__ = ["bcd_minimize"]

# One enum per choice, defined in C++ (cpp/include/adasolve/bcd.hpp) and bound with py::enum_.
Rule, Blocks, Update, Tree, Loss = (_core.bcd.Rule, _core.bcd.Blocks, _core.bcd.Update,
                                    _core.bcd.TreeKind, _core.bcd.Loss)


def _names(enum) -> dict:
    """The strings users write for an enum's members ('-' where the member name has '_')."""
    return {name.replace("_", "-"): member for name, member in enum.__members__.items()}


RULES, BLOCKS, UPDATES, TREES = (tuple(_names(e)) for e in (Rule, Blocks, Update, Tree))


def _option(value: Any, name: str, enum) -> Any:
    """The one parser of the engine's string options.

    Strings are accepted case-insensitively (``"GSL"`` is ``"gsl"``), as everywhere in adasolve;
    anything else that is not a member of ``enum`` gets a TypeError, an unknown string a
    ValueError naming the argument and listing the valid values.

    Examples
    --------
    >>> _option("GSL", "rule", Rule) == Rule.gsl
    True
    """
    if isinstance(value, enum):
        return value
    names = _names(enum)
    return names[check_choice(value, name, names)]


_ENUMS = {"rule": Rule, "blocks": Blocks, "update": Update, "tree": Tree}


def _solver(problem, *, x0=None, **options):
    """The C++ engine for a problem (used by bcd_minimize, tests and the benchmark).

    ``options`` are fields of ``_core.bcd.Options`` (rule, blocks, update, tree, block_size, tol,
    seed, gram_limit, priority), strings parsed by :func:`_option`; the fields not given keep the
    C++ defaults.
    """
    o = _core.bcd.Options()
    for key, value in options.items():
        setattr(o, key, _option(value, key, _ENUMS[key]) if key in _ENUMS else value)
    return _core.bcd.Solver(**problem._engine_args(), options=o,
                            x0=None if x0 is None else np.ascontiguousarray(x0, dtype=np.float64))


def _penalty(value: Any, name: str, n: int) -> np.ndarray:
    """A scalar or a per-variable array of non-negative weights, as a float64 vector."""
    if np.ndim(value) == 0:
        v = check_scalar(value, name, low=0.0)
        return np.full(n, v)
    arr = check_vector(value, name, n)
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _design(X: Any) -> Union[np.ndarray, tuple]:
    """Dense C-contiguous float64 array, or a CSR tuple for the engine (which copies to CSC)."""
    if sp.issparse(X):
        M = as_csr(X, "X", dtype=np.float64, square=False, check_indices=False)  # C++ checks
        return (M.shape[0], M.shape[1], M.indptr, M.indices, M.data)
    return check_matrix(X, "X", dtype=np.float64)


class _Problem:
    loss: str = ""
    n_vars: int = 0
    nonneg: bool = False

    def _engine_args(self) -> dict:
        raise NotImplementedError

    @property
    def is_quadratic(self) -> bool:
        return self.loss in ("least_squares", "quadratic")


class LeastSquares(_Problem):
    """``1/2 ||X w - y||^2 + l1 ||w||_1 + l2/2 ||w||^2`` (optionally ``w >= 0``).

    Parameters
    ----------
    X : (n, p) array_like or sparse matrix
    y : (n,) array_like
    l1, l2 : float or (p,) array_like
        Penalty weights (per variable when an array; 0 leaves a variable unpenalised).
    nonneg : bool
        Constrain ``w >= 0`` (the paper's non-negative L1 problem).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.bcd import LeastSquares
    >>> LeastSquares(np.eye(3), [1.0, 2.0, 3.0]).n_vars
    3
    """

    loss = "least_squares"

    def __init__(self, X: Any, y: Any, l1: Any = 0.0, l2: Any = 0.0, *, nonneg: bool = False) -> None:
        self.X = _design(X)
        shape = (self.X[0], self.X[1]) if isinstance(self.X, tuple) else self.X.shape
        self.shape = shape
        self.y = check_vector(y, "y", dtype=np.float64)
        if self.y.shape[0] != shape[0]:
            raise ValueError(f"X has {shape[0]} rows but y has {self.y.shape[0]} entries")
        self.n_vars = shape[1]
        self.l1 = _penalty(l1, "l1", self.n_vars)
        self.l2 = _penalty(l2, "l2", self.n_vars)
        self.nonneg = bool(nonneg)

    def _engine_args(self) -> dict:
        return dict(loss=Loss.__members__[self.loss], X=self.X, y=self.y, Y=None, l1=self.l1, l2=self.l2,
                    nonneg=self.nonneg)


class Logistic(LeastSquares):
    """Binary logistic regression ``sum_i log(1 + exp(-y_i x_i'w)) + l1 ||w||_1 + l2/2 ||w||^2``.

    ``y`` holds two distinct values; the larger one is the positive class (+1).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.bcd import Logistic
    >>> Logistic(np.eye(2), [0, 1]).n_vars
    2
    """

    loss = "logistic"

    def __init__(self, X: Any, y: Any, l1: Any = 0.0, l2: Any = 0.0, *, nonneg: bool = False) -> None:
        super().__init__(X, y, l1, l2, nonneg=nonneg)
        vals = np.unique(self.y)
        if vals.size > 2:
            raise ValueError(f"y must hold two classes for Logistic, got {vals.size} distinct values")
        self.y = np.where(self.y == vals.max(), 1.0, -1.0) if vals.size == 2 else np.sign(self.y) + (self.y == 0)


class Softmax(_Problem):
    """Multiclass logistic (softmax) regression with weights ``W`` of shape ``(p, K)``.

    ``Y`` is either an ``(n, K)`` one-hot (or probability) matrix or an ``(n,)`` vector of
    integer labels ``0..K-1``. Variables are ordered ``W.ravel()`` (feature-major).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.bcd import Softmax
    >>> Softmax(np.eye(3), [0, 1, 2]).n_vars
    9
    """

    loss = "softmax"

    def __init__(self, X: Any, Y: Any, l1: Any = 0.0, l2: Any = 0.0, *, nonneg: bool = False) -> None:
        self.X = _design(X)
        shape = (self.X[0], self.X[1]) if isinstance(self.X, tuple) else self.X.shape
        self.shape = shape
        Yarr = np.asarray(Y)
        if Yarr.ndim == 1:
            labels = check_vector(Yarr, "Y", shape[0])
            if not np.all(labels == np.round(labels)) or labels.min() < 0:
                raise ValueError("Y as a vector must hold integer labels 0..K-1")
            k = int(labels.max()) + 1
            if k > max(2, shape[0]):
                # a stray large label would silently allocate (and solve for) k mostly unseen
                # classes: n x k one-hot targets and p x k weights
                raise ValueError(
                    f"Y holds the label {k - 1}, which means {k} classes for {shape[0]} samples; "
                    "labels must be 0..K-1 with K at most the number of samples: remap them "
                    "(e.g. with numpy.unique(Y, return_inverse=True)) or pass a one-hot matrix")
            Ym = np.zeros((shape[0], max(k, 2)))
            Ym[np.arange(shape[0]), labels.astype(int)] = 1.0
        else:
            Ym = check_matrix(Yarr, "Y", dtype=np.float64, accept_sparse=False)
            if Ym.shape[0] != shape[0]:
                raise ValueError(f"X has {shape[0]} rows but Y has {Ym.shape[0]}")
        self.Y = np.ascontiguousarray(Ym)
        self.n_classes = self.Y.shape[1]
        self.n_vars = shape[1] * self.n_classes
        self.l1 = _penalty(l1, "l1", self.n_vars)
        self.l2 = _penalty(l2, "l2", self.n_vars)
        self.nonneg = bool(nonneg)

    def _engine_args(self) -> dict:
        return dict(loss=Loss.__members__[self.loss], X=self.X, y=None, Y=self.Y, l1=self.l1, l2=self.l2,
                    nonneg=self.nonneg)


class LabelPropagation(_Problem):
    """Quadratic label propagation on a weighted graph.

    Minimises ``1/2 sum_{i<j} w_ij (f_i - f_j)^2`` over the unlabelled nodes, the labelled
    ones fixed at ``y``. In the unknowns ``u`` this is ``1/2 u'Au - b'u`` with ``A = D_UU -
    W_UU`` (the Laplacian block) and ``b = W_UL y_L``; it is positive definite when every
    connected component holds a labelled node. The graph of ``A`` is what tree blocks use.

    Parameters
    ----------
    W : (n, n) symmetric non-negative matrix (dense or sparse)
    y : (n,) array_like; values at the labelled nodes (others ignored)
    labeled : (n,) bool mask or array of indices

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve.bcd import LabelPropagation
    >>> W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    >>> LabelPropagation(W, [1.0, 0.0, -1.0], [0, 2]).n_vars
    1
    """

    loss = "quadratic"

    def __init__(self, W: Any, y: Any, labeled: Any) -> None:
        Wc = as_csr(W, "W", dtype=np.float64)
        if (Wc.data < 0).any():
            raise ValueError("W must have non-negative weights")
        if abs(Wc - Wc.T).max() > 1e-12 * max(1.0, abs(Wc).max()):
            raise ValueError("W must be symmetric")
        n = Wc.shape[0]
        yv = check_vector(y, "y", n)
        lab = np.asarray(labeled)
        if lab.dtype == bool:
            if lab.shape != (n,):
                raise ValueError(f"labeled mask must have shape ({n},), got {lab.shape}")
            mask = lab.copy()
        else:
            idx = np.asarray(lab, dtype=np.int64).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(f"labeled indices must lie in [0, {n})")
            mask = np.zeros(n, bool)
            mask[idx] = True
        if mask.all() or not mask.any():
            raise ValueError("labeled must mark at least one labelled and one unlabelled node")
        Wc = Wc.tolil()
        Wc.setdiag(0)
        Wc = Wc.tocsr()
        Wc.eliminate_zeros()
        U = np.flatnonzero(~mask)
        L = np.flatnonzero(mask)
        deg = np.asarray(Wc.sum(axis=1)).ravel()
        WUU = Wc[U][:, U]
        A = (sp.diags(deg[U]) - WUU).tocsr()
        A.sum_duplicates()
        if (A.diagonal() <= 0).any():
            raise ValueError("every unlabelled node needs at least one edge")
        self.A = A
        self.b = np.asarray(Wc[U][:, L] @ yv[L]).ravel()
        self.W, self.y, self.labeled, self.unlabeled = Wc, yv, mask, U
        self.n_vars = U.size
        self.l1 = np.zeros(self.n_vars)
        self.l2 = np.zeros(self.n_vars)

    def full_labels(self, x: np.ndarray) -> np.ndarray:
        """All node values: ``y`` on labelled nodes, ``x`` on the others."""
        f = self.y.copy()
        f[self.unlabeled] = x
        return f

    def _engine_args(self) -> dict:
        A = self.A
        return dict(loss=Loss.__members__[self.loss], X=(A.shape[0], A.shape[1], A.indptr, A.indices, A.data), y=self.b,
                    Y=None, l1=self.l1, l2=self.l2, nonneg=False)


def bcd_minimize(
    problem: _Problem,
    *,
    rule: str = "gsl",
    block_size: int = 5,
    blocks: str = "auto",
    update: str = "lipschitz",
    maxiter: Optional[int] = None,
    tol: float = 1e-6,
    seed: Any = None,
    callback: Optional[Callable[[np.ndarray], Any]] = None,
    tree: str = "grow",
) -> OptimizeResult:
    """Minimise a problem by (greedy) block coordinate descent.

    Parameters
    ----------
    problem : LeastSquares, Logistic, Softmax or LabelPropagation
    rule : {"cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq"}, default "gsl"
        Block selection. Greedy rules score fixed blocks as in the paper's code: GS by
        ``sum |s_i|``, GSL by that over ``sqrt(L_b)``, GSD by ``sum |s_i| / sqrt(L_i)``, GSQ by
        ``sqrt(s_b' H_b^-1 s_b)``, where ``s`` is the minimum-norm subgradient (the gradient
        without L1 / constraints). With variable blocks the top-``block_size`` coordinates are
        taken: GS by ``|s_i|``, GSD by ``|s_i|/sqrt(L_i)``, GSL by ``|s_i|/sqrt(sum_j |H_ij|)``
        (Hessian row-sum bound) and GSQ by 10 iterative-hard-thresholding steps. This and the
        other string options are case-insensitive (``"GSL"`` is ``"gsl"``).
    block_size : int, default 5
        Variables per block (the maximum tree size with ``blocks="tree"``).
    blocks : {"auto", "fixed", "sorted", "random", "variable", "tree"}, default "auto"
        Contiguous, sorted by coordinate Lipschitz constant, a random (seeded) partition,
        variable blocks, or forest blocks grown on the graph (LabelPropagation only).
        ``"auto"`` takes variable blocks for the greedy rules gs, gsl and gsd, and sorted fixed
        blocks for the other rules. That is what the benchmark (``python -m bench bcd``, the
        paper's data sets A-E) measured: with greedy rules, variable blocks beat sorted fixed
        blocks in 32 of its 36 like-for-like comparisons; with random, cyclic and Lipschitz
        sampling fixed blocks did better, and gsq on variable blocks costs about ten Hessian
        products per iteration, so that it lost to fixed blocks in wall time in every case
        measured. ``blocks="fixed"`` gives contiguous blocks in index order (the default of
        earlier versions).
    update : {"gradient", "lipschitz", "newton", "message-passing"}
        Gradient step ``1/L_b``; step with the block's Lipschitz matrix (upper-bound Hessian);
        Newton step with the true block Hessian and backtracking; exact solve on forest blocks by
        message passing (Gaussian elimination along the trees). With L1 the matrix updates solve
        the block's proximal subproblem. With non-negativity (``nonneg=True``), ``"gradient"`` is
        the projected gradient step (the paper's PG), ``"lipschitz"`` solves the block's
        non-negative quadratic subproblem exactly for least squares (PN), and ``"newton"`` is
        the paper's two-metric projection (TMP): a scaled gradient step on the coordinates held
        at the bound, a Newton step on the others, projected, with Armijo backtracking.
    maxiter : int, optional
        Default ``max(1000, 100 * ceil(n_vars / block_size))``.
    tol : float
        Stop when the optimality measure ``||s||_inf`` (minimum-norm subgradient) is <= tol.
    seed : int or numpy Generator, optional
    callback : callable, optional
        ``callback(xk)`` after each iteration; returning True stops.
    tree : {"grow", "red-black", "partition"}
        How ``blocks="tree"`` forms its forests. ``"grow"``: each iteration, add nodes in the
        order of the rule's scores (gs/gsl/gsd; a random order for ``rule="random"``) while the
        selection stays a forest, up to ``block_size`` nodes. ``"red-black"``: the colour classes
        of a graph colouring (two colours by breadth-first search on bipartite graphs such as the
        lattice; greedy colouring by decreasing ``L_i`` otherwise), each an independent set.
        ``"partition"``: a partition of the graph into forests (nodes by decreasing ``L_i``, each
        into the first forest it keeps acyclic). Partitions are computed once, ignore
        ``block_size``, and their blocks are chosen by ``rule`` like fixed blocks (``"cyclic"``
        is the paper's order); every block is solved exactly by message passing.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``nit``, ``success``, ``status`` (0 converged, 1 maxiter, 2 callback,
        3 the objective overflowed: never reported as success),
        ``message``, ``optimality`` and ``history`` (dict of arrays ``fun``, ``optimality``,
        ``time``: entry 0 is the starting point ``x = 0``, entry k is after iteration k).

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve import bcd_minimize
    >>> from adasolve.bcd import LeastSquares
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 10)), rng.standard_normal(30)
    >>> res = bcd_minimize(LeastSquares(X, y), rule="gsq", block_size=5)
    >>> bool(res.success), bool(np.allclose(res.x, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-5))
    (True, True)
    """
    return _run(problem, rule=rule, block_size=block_size, blocks=blocks, update=update,
                maxiter=maxiter, tol=tol, seed=seed, callback=callback, tree=tree)


def _overflowing_scale(problem) -> float:
    """max |X| when the curvature ``n * max|X|^2`` overflows float64 (the method cannot then
    take a step), else 0."""
    X = getattr(problem, "X", None)
    data = X[4] if isinstance(X, tuple) else X
    if data is None or np.size(data) == 0:
        return 0.0
    smax = float(np.max(np.abs(data)))
    n = X[0] if isinstance(X, tuple) else data.shape[0]
    if smax > 0 and 2 * math.log2(smax) + math.log2(max(n, 1)) >= 1023:
        return smax
    return 0.0


def _finite_state(eng) -> bool:
    return bool(np.isfinite(eng.fun) and np.isfinite(eng.optimality))


def _run(problem, *, rule, block_size, blocks, update, maxiter, tol, seed, callback=None, x0=None,
         tree="grow"):
    # bcd_minimize plus a warm start (used by the estimators' working-set loop)
    if not isinstance(problem, _Problem):
        raise TypeError(
            "problem must be a LeastSquares, Logistic, Softmax or LabelPropagation instance, "
            f"got {type(problem).__name__}"
        )
    block_size = check_scalar(block_size, "block_size", kind=int, low=1)
    tol = check_scalar(tol, "tol", low=0.0)
    maxiter = check_maxiter(maxiter, max(1000, 100 * -(-problem.n_vars // block_size)))
    # the engine checks block_size against the problem and the rule/blocks/update/tree combination
    eng = _solver(problem, rule=rule, blocks=blocks, update=update, tree=tree, block_size=block_size,
                  tol=tol, seed=seed_to_uint64(seed), x0=x0)
    status = 1
    big = _overflowing_scale(problem)
    if big:
        history = {"fun": eng.hist_fun, "optimality": eng.hist_opt, "time": eng.hist_time}
        return OptimizeResult(
            x=eng.x, fun=eng.fun, nit=0, success=False, status=3, optimality=eng.optimality,
            history=history,
            message=f"X has entries up to {big:.3g}: its curvature (n * max|X|^2) overflows "
                    "float64, so no step can be taken; rescale X (and y)")
    if callback is None:
        eng.run(maxiter)
    else:
        while eng.nit < maxiter and not eng.converged and _finite_state(eng):
            eng.run(1)
            if callback(eng.x):
                status = 2
                break
    if eng.converged and _finite_state(eng):
        status = 0
    elif not _finite_state(eng):
        status = 3  # the engine stops at the first non-finite objective or optimality measure
    messages = {0: "optimality measure <= tol", 1: "maximum number of iterations reached",
                2: "stopped by callback",
                3: "the objective or its gradient overflowed to a non-finite value (inf/NaN); "
                   "the data are too large for float64 here: rescale X (and y)"}
    history = {"fun": eng.hist_fun, "optimality": eng.hist_opt, "time": eng.hist_time}
    return OptimizeResult(x=eng.x, fun=eng.fun, nit=eng.nit, success=status == 0, status=status,
                          message=messages[status], optimality=eng.optimality, history=history)
