"""Inequality constraints and bounds: a primal-dual interior-point method.

:func:`minimize_constrained` solves

    min f(x)  s.t.  cl <= c(x) <= cu,  xl <= x <= xu

(equalities where ``cl == cu``) with the primal-dual barrier method of Waechter and
Biegler's IPOPT paper: every inequality row gets a slack ``s`` (``c_i(x) - s_i = 0``,
``cl_i <= s_i <= cu_i``), the bounds on ``w = (x, s)`` go into a logarithmic barrier
with parameter ``mu`` (Fiacco-McCormick: each barrier problem is solved to an accuracy
proportional to ``mu``, then ``mu`` decreases superlinearly), each iteration takes a
Newton step on the primal-dual equations, restricted by the fraction-to-boundary rule,
and accepted by a backtracking line search on the l1 exact penalty function of the
barrier problem (with a second-order correction against the Maratos effect).

The Newton (KKT) system of every iteration,

    [[W + Sigma + delta_w I, G^T], [G, -delta_c I]] [dw; dy] = -[grad phi_mu + G^T y; c],

is assembled, inertia-corrected (``delta_w``) and solved by the constrained family's
C++ KKT machinery (``adasolve._core.constrained``: dense LU or sparse LDL^T whose
inertia decides ``delta_w``, or the randomized sketching solvers). The outer loop,
which calls the user's functions, is Python.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint, OptimizeResult
from scipy.sparse.linalg import LinearOperator

from .. import _core
from .._validation import as_float_array, check_choice, check_maxiter, check_scalar, seed_to_uint64

__all__ = ["minimize_constrained", "IPM_STATUS_MESSAGES"]

_sn = _core.constrained
_Check = _sn.HessianCheck

SKETCHES = ("auto", "exact", "gaussian", "countsketch", "kaczmarz")

#: status codes of :func:`minimize_constrained`
IPM_STATUS_MESSAGES = {
    0: "Optimization terminated successfully: KKT residual below tol.",
    1: "Maximum number of iterations reached.",
    2: "The problem appears infeasible: converged to a stationary point of the "
       "constraint violation that does not satisfy the constraints.",
    3: "Line search failed: no step along the Newton direction decreases the merit function.",
    5: "A user function raised or returned a non-finite value.",
    6: "Stopped by the callback.",
    8: "No progress: the steps are at the rounding level of the iterate.",
    9: "The inner solver did not reach the accuracy the step needs within its budget.",
}

_DEFAULTS = {
    "mu_init": 0.1,          # IPOPT's mu_init
    "kappa_eps": 10.0,       # barrier problem solved to kappa_eps * mu
    "kappa_mu": 0.2,         # mu <- min(kappa_mu mu, mu^theta_mu)
    "theta_mu": 1.5,
    "tau_min": 0.99,         # fraction-to-boundary parameter floor
    "bound_push": 1e-2,      # kappa_1 = kappa_2 of IPOPT's initial point
    "bound_mult_init": 1.0,
    "xi_B": 1e-4,            # smallest curvature the inertia correction asks for
    "max_backtrack": 40,
    "soc": True,
    "max_inner": 100000,
    "inner_max_seconds": 10.0,
    "dense_max": 2000,       # above this many unknowns (x, s) the sparse path is used
}


# one rule for calling the user's functions in the family (which function failed, how)
from ._functions import _call, _UserFunctionError as _UserError  # noqa: E402


def _vec(val: Any, size: int, name: str) -> np.ndarray:
    arr = np.asarray(val, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{name} returned {arr.size} values, expected {size}")
    if not np.isfinite(arr).all():
        raise _UserError(f"{name} returned a non-finite value")
    return arr


def _mat(val: Any, shape: tuple, name: str, sparse: bool) -> Any:
    """Dense C-contiguous float64 array or canonical CSR with int32 indices."""
    if sp.issparse(val):
        if val.shape != shape:
            raise ValueError(f"{name} returned shape {val.shape}, expected {shape}")
        if not sparse:
            val = val.toarray()
        else:
            out = sp.csr_matrix(val, dtype=np.float64)
            out.sum_duplicates()
            out.sort_indices()
            if not np.isfinite(out.data).all():
                raise _UserError(f"{name} returned a non-finite value")
            return out
    arr = np.asarray(val, dtype=np.float64)
    if arr.shape != shape and arr.size == shape[0] * shape[1] and arr.ndim <= 2 and (
            1 in shape or arr.ndim == 1):
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"{name} returned shape {arr.shape}, expected {shape}")
    if not np.isfinite(arr).all():
        raise _UserError(f"{name} returned a non-finite value")
    if sparse:
        return sp.csr_matrix(arr)
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------------------
# input: bounds and constraints


def _limits(lb: Any, ub: Any, size: int, what: str) -> tuple:
    lb = np.asarray(lb if lb is not None else -np.inf, dtype=np.float64)
    ub = np.asarray(ub if ub is not None else np.inf, dtype=np.float64)
    if lb.ndim > 1 or ub.ndim > 1:
        raise ValueError(f"{what}: lb and ub must be scalars or 1-D, got shapes {lb.shape}, {ub.shape}")
    for arr, nm in ((lb, "lb"), (ub, "ub")):
        if arr.ndim == 1 and arr.size not in (1, size):
            raise ValueError(f"{what}: {nm} has {arr.size} entries, expected {size}")
    lb = np.broadcast_to(lb.reshape(-1) if lb.ndim else lb, (size,)).astype(np.float64)
    ub = np.broadcast_to(ub.reshape(-1) if ub.ndim else ub, (size,)).astype(np.float64)
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError(f"{what} contain NaN")
    bad = np.flatnonzero(lb > ub)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{what} are infeasible: lb > ub at index {i} ({lb[i]} > {ub[i]})")
    if (lb == np.inf).any() or (ub == -np.inf).any():
        raise ValueError(f"{what}: lb = +inf or ub = -inf leaves no feasible value")
    return lb, ub


def _parse_bounds(bounds: Any, n: int) -> tuple:
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    if isinstance(bounds, Bounds):
        return _limits(bounds.lb, bounds.ub, n, "bounds")
    try:
        pairs = list(bounds)
    except TypeError:
        raise TypeError("bounds must be a scipy.optimize.Bounds or a sequence of (min, max) "
                        f"pairs, got {type(bounds).__name__}") from None
    if len(pairs) != n:
        raise ValueError(f"bounds has {len(pairs)} (min, max) pairs but x0 has {n} entries")
    lo, hi = np.empty(n), np.empty(n)
    for i, p in enumerate(pairs):
        try:
            a, b = p
        except (TypeError, ValueError):
            raise ValueError(f"bounds[{i}] must be a (min, max) pair, got {p!r}") from None
        lo[i] = -np.inf if a is None else float(a)
        hi[i] = np.inf if b is None else float(b)
    return _limits(lo, hi, n, "bounds")


class _Block:
    """One constraint object: rows cl <= fun(x) <= cu with Jacobian jac(x)."""

    def __init__(self, name, fun, jac, lb, ub, hess=None, A=None):
        self.name, self.fun, self.jac, self.hess, self.A = name, fun, jac, hess, A
        self.lb, self.ub = lb, ub
        self.size = None


def _parse_one(con: Any, i: int, args: tuple) -> _Block:
    name = f"constraints[{i}]"
    if isinstance(con, LinearConstraint):
        A = con.A
        A = sp.csr_matrix(A, dtype=np.float64) if sp.issparse(A) else np.atleast_2d(
            np.asarray(A, dtype=np.float64))
        if A.ndim != 2:
            raise ValueError(f"{name}: LinearConstraint.A must be 2-D")
        if not (np.isfinite(A.data).all() if sp.issparse(A) else np.isfinite(A).all()):
            raise ValueError(f"{name}: LinearConstraint.A contains non-finite values")
        return _Block(name, lambda x, A=A: A @ x, lambda x, A=A: A, con.lb, con.ub, A=A)
    if isinstance(con, NonlinearConstraint):
        if not callable(con.jac):
            raise ValueError(f"{name}: NonlinearConstraint.jac must be a callable returning the "
                             f"Jacobian (got {con.jac!r}); finite differences are not supported")
        h = con.hess if callable(con.hess) else None
        return _Block(name, con.fun, con.jac, con.lb, con.ub, hess=h)
    if isinstance(con, dict):
        kind = con.get("type")
        if kind not in ("eq", "ineq"):
            raise ValueError(f"{name}: a constraint dict needs 'type' 'eq' or 'ineq', got {kind!r}")
        if not callable(con.get("fun")):
            raise ValueError(f"{name}: a constraint dict needs a callable 'fun'")
        if not callable(con.get("jac")):
            raise ValueError(f"{name}: a constraint dict needs a callable 'jac' (its Jacobian)")
        a = tuple(con.get("args", ()))  # as SciPy: the dict's own args, never the objective's
        f, j = con["fun"], con["jac"]
        return _Block(name, lambda x: f(x, *a), lambda x: j(x, *a), 0.0,
                      0.0 if kind == "eq" else np.inf)
    raise TypeError(f"{name}: constraints must be NonlinearConstraint, LinearConstraint or dict "
                    f"objects (or a list of them), got {type(con).__name__}")


def _parse_constraints(constraints: Any, args: tuple) -> list:
    if constraints is None:
        return []
    if isinstance(constraints, (list, tuple)):
        return [_parse_one(c, i, args) for i, c in enumerate(constraints)]
    return [_parse_one(constraints, 0, args)]


def _wants_intermediate(callback: Callable) -> bool:
    try:
        return "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------
# the problem in IPOPT's form: min f(x) s.t. c~(w) = 0, wl <= w <= wu, w = (x, s)


class _NLP:
    def __init__(self, fun, jac, hess, blocks, xl, xu, x0, sparse_hint):
        self.fun, self.jac_f, self.hess = fun, jac, hess
        self.blocks = blocks
        self.n = n = x0.size
        self.nfev = self.njev = self.nhev = 0
        sizes, cls, cus = [], [], []
        for b in blocks:
            if b.A is not None and b.A.shape[1] != n:
                raise ValueError(f"{b.name}: LinearConstraint.A has {b.A.shape[1]} columns but "
                                 f"x0 has {n} entries")
            val = np.atleast_1d(np.asarray(_call(b.fun, x0, f"{b.name} fun"), dtype=np.float64))
            if val.ndim != 1:
                raise ValueError(f"{b.name}: fun must return a 1-D array, got shape {val.shape}")
            b.size = val.size
            lo, hi = _limits(b.lb, b.ub, val.size, f"{b.name} bounds (lb, ub)")
            b.lb, b.ub = lo, hi
            sizes.append(val.size)
            cls.append(lo)
            cus.append(hi)
        self.m_all = int(sum(sizes))
        cl = np.concatenate(cls) if cls else np.zeros(0)
        cu = np.concatenate(cus) if cus else np.zeros(0)
        # fixed variables become equality rows x_j = xl_j (the barrier needs an interior)
        fixed = np.flatnonzero(xl == xu)
        self.fixed = fixed
        xl, xu = xl.copy(), xu.copy()
        self.fix_val = xl[fixed].copy()
        xl[fixed], xu[fixed] = -np.inf, np.inf
        free_rows = ~np.isfinite(cl) & ~np.isfinite(cu)
        self.active = np.flatnonzero(~free_rows)          # rows of c that enter the KKT system
        cl_a, cu_a = cl[self.active], cu[self.active]
        self.is_eq = cl_a == cu_a
        self.ineq_pos = np.flatnonzero(~self.is_eq)       # positions (within active rows)
        self.mI = self.ineq_pos.size
        self.m = self.active.size + fixed.size
        self.N = n + self.mI
        self.target = np.where(self.is_eq, cl_a, 0.0)
        self.target = np.concatenate([self.target, self.fix_val])
        self.cl, self.cu = cl, cu
        self.wl = np.concatenate([xl, cl_a[self.ineq_pos]])
        self.wu = np.concatenate([xu, cu_a[self.ineq_pos]])
        self.hasL = np.isfinite(self.wl)
        self.hasU = np.isfinite(self.wu)
        self.sparse = bool(sparse_hint) or self.N > _DEFAULTS["dense_max"]
        # slack part of G~: -1 at (ineq row, n + k)
        ma = self.active.size
        self.S_rows = self.ineq_pos
        self.S_cols = n + np.arange(self.mI)
        if self.sparse:
            E = sp.csr_matrix((-np.ones(self.mI), (self.S_rows, np.arange(self.mI))),
                              shape=(ma, self.mI))
            F = sp.csr_matrix((np.ones(fixed.size), (np.arange(fixed.size), fixed)),
                              shape=(fixed.size, n))
            self._E, self._F = E, F
        else:
            self._E = None
            self._Fd = np.zeros((fixed.size, n))
            self._Fd[np.arange(fixed.size), fixed] = 1.0

    # user functions -------------------------------------------------------------------
    def f(self, x):
        self.nfev += 1
        v = _call(self.fun, x, "fun")
        try:
            v = float(np.asarray(v, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise ValueError(f"fun must return a scalar, got {v!r}") from None
        if not math.isfinite(v):
            raise _UserError("fun returned a non-finite value")
        return v

    def g(self, x):
        self.njev += 1
        return _vec(_call(self.jac_f, x, "jac"), self.n, "jac")

    def c_rows(self, x):
        """All active constraint rows c(x) (before subtracting targets/slacks)."""
        out = [_vec(_call(b.fun, x, f"{b.name} fun"), b.size, f"{b.name} fun") for b in self.blocks]
        c = np.concatenate(out) if out else np.zeros(0)
        return c[self.active]

    def J_rows(self, x):
        blocks = [_mat(_call(b.jac, x, f"{b.name} jac"), (b.size, self.n), f"{b.name} jac",
                       self.sparse) for b in self.blocks]
        if self.sparse:
            J = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, self.n))
            return J[self.active] if self.active.size != self.m_all else J
        J = np.vstack(blocks) if blocks else np.zeros((0, self.n))
        return J[self.active] if self.active.size != self.m_all else J

    def W(self, x, y_rows):
        """Lagrangian Hessian (x block) for multipliers of the active rows."""
        v = np.zeros(self.m_all)
        v[self.active] = y_rows
        self.nhev += 1
        H = _call(self.hess, x, "hess", v)
        if isinstance(H, LinearOperator):
            H = H @ np.eye(self.n)
        return _mat(H, (self.n, self.n), "hess", self.sparse)

    # IPOPT form ---------------------------------------------------------------------
    def residual(self, crow, w):
        """c~(w): equality rows c - cl, inequality rows c - s, fixed rows x_j - xl_j."""
        r = crow.copy()
        r[self.S_rows] -= w[self.S_cols]
        if self.fixed.size:
            r = np.concatenate([r, w[self.fixed]])
        return r - self.target

    def G(self, Jrow):
        if self.sparse:
            top = sp.hstack([Jrow, self._E], format="csr")
            if self.fixed.size:
                bot = sp.hstack([self._F, sp.csr_matrix((self.fixed.size, self.mI))], format="csr")
                top = sp.vstack([top, bot], format="csr")
            top.sort_indices()
            return top
        G = np.zeros((self.m, self.N))
        ma = self.active.size
        G[:ma, :self.n] = Jrow
        G[self.S_rows, self.S_cols] = -1.0
        if self.fixed.size:
            G[ma:, :self.n] = self._Fd
        return G


def _push_inside(v, lo, hi, kappa):
    """IPOPT's initial-point rule: at least kappa * max(1, |bound|) (and kappa of the
    interval) inside every bound."""
    v = v.copy()
    pl = np.where(np.isfinite(lo) & np.isfinite(hi),
                  np.minimum(kappa * np.maximum(1.0, np.abs(lo)), kappa * (hi - lo)),
                  kappa * np.maximum(1.0, np.abs(lo)))
    pu = np.where(np.isfinite(lo) & np.isfinite(hi),
                  np.minimum(kappa * np.maximum(1.0, np.abs(hi)), kappa * (hi - lo)),
                  kappa * np.maximum(1.0, np.abs(hi)))
    with np.errstate(invalid="ignore"):
        v = np.where(np.isfinite(lo), np.maximum(v, lo + pl), v)
        v = np.where(np.isfinite(hi), np.minimum(v, hi - pu), v)
    return v


def _ftb(v, dv, tau):
    """Largest a in (0, 1] with v + a dv >= (1 - tau) v (v > 0 componentwise)."""
    neg = dv < 0
    if not neg.any():
        return 1.0
    return float(min(1.0, np.min(-tau * v[neg] / dv[neg])))


# --------------------------------------------------------------------------------------


def minimize_constrained(
    fun: Callable,
    x0: Any,
    *,
    jac: Any,
    constraints: Any = (),
    bounds: Any = None,
    hess: Any = None,
    sketch: str = "auto",
    sketch_size: Optional[int] = None,
    tol: float = 1e-6,
    maxiter: int = 3000,
    seed: Any = None,
    callback: Optional[Callable] = None,
    options: Optional[dict] = None,
) -> OptimizeResult:
    """Minimize ``fun(x)`` subject to ``cl <= c(x) <= cu`` and ``lb <= x <= ub``.

    A primal-dual interior-point (barrier) method following A. Waechter and
    L. T. Biegler, "On the implementation of an interior-point filter line-search
    algorithm for large-scale nonlinear programming", Math. Programming 106 (2006):
    slacks for the inequality rows, a logarithmic barrier on every bound of ``x`` and of
    the slacks, primal-dual Newton steps restricted by the fraction-to-boundary rule,
    IPOPT's monotone barrier update, initial point and bound-multiplier safeguard, and
    inertia correction of the KKT matrix. The step is accepted by a backtracking line
    search on the l1 exact penalty function of the barrier problem (Nocedal and Wright,
    Algorithm 19.2) with a second-order correction, in place of IPOPT's filter. The Newton
    systems are solved by the same C++ KKT solvers as :func:`minimize_eq`.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x) -> float``.
    x0 : array_like, shape (n,)
        Starting point (finite; moved inside the bounds as IPOPT does).
    jac : callable or True
        Gradient of ``fun``; ``True`` means ``fun`` returns ``(f, grad)``.
    constraints : NonlinearConstraint, LinearConstraint, dict or list of these
        ``lb <= c(x) <= ub`` with any mix of equalities (``lb == ub``), one- and
        two-sided inequalities; dicts are SciPy's old style (``type`` 'eq': ``fun(x) =
        0``, 'ineq': ``fun(x) >= 0``, with a callable ``jac``). Jacobians may be dense
        or SciPy sparse; a sparse one selects the sparse path.
    bounds : scipy.optimize.Bounds or sequence of (min, max) pairs, optional
        Bounds on x (``None`` or infinite entries: unbounded). ``lb == ub`` fixes a
        variable.
    hess : callable, "bfgs" or None
        ``hess(x, v)``: Hessian of the Lagrangian ``f(x) + v^T c(x)`` in x, where ``v``
        holds one multiplier per row of the constraints in the order given (dense,
        sparse or a ``LinearOperator``). ``"bfgs"`` or ``None``: damped BFGS (dense).
    sketch : {"auto", "exact", "gaussian", "countsketch", "kaczmarz"}
        Solver of the KKT systems. ``"auto"`` (default) and ``"exact"``: dense LU with
        the Hessian shift from the reduced Hessian's eigenvalues for small dense
        problems, sparse LDL^T whose inertia decides the shift otherwise. The sketches run
        until the residual is below a fraction of the current KKT error (the barrier's
        matrices are badly conditioned near a solution, so they are slow there).
    sketch_size : int, optional
        Columns of a block sketch.
    tol : float
        Stop when the KKT residual (max of the stationarity, constraint violation and
        complementarity, all infinity norms) is at most ``tol``.
    maxiter : int
        Maximum number of iterations.
    seed : None, int or numpy.random.Generator
        Seed of the sketches.
    callback : callable, optional
        ``callback(xk)`` or ``callback(intermediate_result=OptimizeResult)`` after every
        iteration; raising ``StopIteration`` stops the solver (status 6).
    options : dict, optional
        ``mu_init`` (0.1), ``kappa_eps`` (10), ``kappa_mu`` (0.2), ``theta_mu`` (1.5),
        ``tau_min`` (0.99), ``bound_push`` (0.01), ``bound_mult_init`` (1),
        ``xi_B`` (1e-4: curvature the inertia correction asks of the reduced Hessian),
        ``max_backtrack`` (40), ``soc`` (True), ``max_inner`` (1e5 sketch steps),
        ``inner_max_seconds`` (10), ``dense_max`` (2000 unknowns).

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``v`` (one multiplier per constraint row, sign of ``f + v^T c``:
        ``v_i <= 0`` at an active lower bound ``cl_i``, ``>= 0`` at an active upper bound),
        ``constr_multipliers`` (``v`` split per constraint object), ``bound_multipliers``
        (``z``, length n, ``grad f + J^T v + z = 0``: ``z_j <= 0`` at an active lower
        bound), ``kkt_residual``, ``constr_violation``, ``barrier_parameter``, ``nit``,
        ``nfev``, ``njev``, ``nhev``, ``success``, ``status`` (see
        ``IPM_STATUS_MESSAGES``), ``message``, ``sketch``.

    Raises
    ------
    ValueError
        ``lb > ub`` or NaN in bounds or constraint limits, shapes that do not match x0,
        non-finite ``x0``, bad options.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import Bounds, LinearConstraint
    >>> from adasolve import minimize_constrained
    >>> res = minimize_constrained(lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2, [0.0, 0.0],
    ...                            jac=lambda x: 2 * (x - [2.0, 1.0]),
    ...                            hess=lambda x, v: 2 * np.eye(2),
    ...                            constraints=LinearConstraint([[1.0, 1.0]], -np.inf, 2.0),
    ...                            bounds=Bounds(0.0, 1.8))
    >>> res.success, np.round(res.x, 5), np.round(res.v, 5)
    (True, array([1.5, 0.5]), array([1.]))
    """
    return _minimize_ipm(fun, x0, jac=jac, constraints=constraints, bounds=bounds, hess=hess,
                         sketch=sketch, sketch_size=sketch_size, tol=tol, maxiter=maxiter,
                         seed=seed, callback=callback, options=options, args=())


def _minimize_ipm(fun, x0, *, jac, constraints, bounds, hess, sketch, sketch_size, tol, maxiter,
                  seed, callback, options, args):
    x0 = as_float_array(x0, "x0", dtype=np.float64).reshape(-1)
    n = x0.size
    if n == 0:
        raise ValueError("x0 must have at least one entry")
    sketch = check_choice(sketch, "sketch", SKETCHES)
    tol = check_scalar(tol, "tol", low=0.0, low_inclusive=False)
    maxiter = check_maxiter(maxiter, 3000)
    opts = dict(_DEFAULTS)
    if options is not None:
        if not isinstance(options, dict):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        unknown = set(options) - set(_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; valid: {sorted(_DEFAULTS)}")
        opts.update(options)
    for k in ("mu_init", "kappa_eps", "bound_push", "bound_mult_init", "xi_B",
              "inner_max_seconds"):
        opts[k] = check_scalar(opts[k], f"options['{k}']", low=0.0, low_inclusive=False)
    opts["kappa_mu"] = check_scalar(opts["kappa_mu"], "options['kappa_mu']", low=0.0, high=1.0,
                                    low_inclusive=False, high_inclusive=False)
    opts["tau_min"] = check_scalar(opts["tau_min"], "options['tau_min']", low=0.0, high=1.0,
                                   low_inclusive=False, high_inclusive=False)
    kseed = seed_to_uint64(seed) % (1 << 64)
    if not (callable(jac) or jac is True):
        raise ValueError("jac must be a callable gradient or True (fun returns (f, grad))")
    if args:
        f_user, a = fun, args
        fun = lambda x: f_user(x, *a)  # noqa: E731
        if callable(jac):
            j_user = jac
            jac = lambda x: j_user(x, *a)  # noqa: E731
    if jac is True:
        f_user = fun
        cache: dict = {}

        def _both(x):
            key = x.tobytes()
            if cache.get("key") != key:
                out = f_user(x)
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise ValueError("with jac=True, fun must return (f, grad)")
                cache["key"], cache["val"] = key, out
            return cache["val"]

        fun = lambda x: _both(x)[0]  # noqa: E731
        jac = lambda x: _both(x)[1]  # noqa: E731
    use_bfgs = hess is None or (isinstance(hess, str) and hess.lower() == "bfgs")
    if not use_bfgs and not callable(hess):
        raise ValueError(f"hess must be a callable hess(x, v), 'bfgs' or None, got {hess!r}")
    xl, xu = _parse_bounds(bounds, n)
    blocks = _parse_constraints(constraints, args)
    t0 = time.perf_counter()

    def fail_result(status, msg):
        return OptimizeResult(x=x0.copy(), fun=float("nan"), success=False, status=status,
                              message=msg, nit=0, kkt_residual=float("nan"))

    for b in blocks:
        if b.A is not None and b.A.shape[1] != n:
            raise ValueError(f"{b.name}: LinearConstraint.A has {b.A.shape[1]} columns but "
                             f"x0 has {n} entries")
    try:
        # a function that fails at x0 with IndexError/ValueError most likely expects another
        # length: say so, naming x0, instead of returning a failed result
        _call(fun, x0, "fun")
        if callable(jac):
            _call(jac, x0, "jac")
        for b in blocks:
            _call(b.fun, x0, f"{b.name} fun")
    except _UserError as exc:
        if isinstance(exc.__cause__, (IndexError, ValueError)):
            raise ValueError(f"{exc} when evaluated at x0 (x0 has {n} entries): check that x0 "
                             "has the length that fun, jac and the constraints expect") from None
        return fail_result(5, f"{IPM_STATUS_MESSAGES[5]} At x0: {exc}")
    try:
        sparse_hint = any(b.A is not None and sp.issparse(b.A) for b in blocks)
        if not sparse_hint:
            for b in blocks:
                if b.A is None and sp.issparse(_call(b.jac, x0, f"{b.name} jac")):
                    sparse_hint = True
                    break
        if not use_bfgs and not sparse_hint:
            try:
                probe = hess(x0.copy(), np.zeros(sum(
                    np.atleast_1d(np.asarray(b.fun(x0.copy()))).size for b in blocks)))
                sparse_hint = sp.issparse(probe)
            except Exception:
                pass
        nlp = _NLP(fun, jac, hess, blocks, xl, xu, x0, sparse_hint and not use_bfgs)
    except _UserError as exc:
        return fail_result(5, f"{IPM_STATUS_MESSAGES[5]} At x0: {exc}")
    if use_bfgs and nlp.sparse and nlp.N > opts["dense_max"]:
        raise ValueError("hess='bfgs' keeps a dense n x n matrix; give hess(x, v) for "
                         f"problems with n + (inequality rows) > {opts['dense_max']}")
    if use_bfgs:
        nlp.sparse = False
        nlp._Fd = np.zeros((nlp.fixed.size, n))
        nlp._Fd[np.arange(nlp.fixed.size), nlp.fixed] = 1.0
    try:
        return _solve(nlp, x0, use_bfgs, sketch, sketch_size, tol, maxiter, kseed, callback,
                      opts, t0)
    except _UserError as exc:
        return fail_result(5, f"{IPM_STATUS_MESSAGES[5]} {exc}")


def _solve(nlp, x0, use_bfgs, sketch, sketch_size, tol, maxiter, kseed, callback, opts, t0):
    n, N, m = nlp.n, nlp.N, nlp.m
    hasL, hasU, wl, wu = nlp.hasL, nlp.hasU, nlp.wl, nlp.wu
    iL, iU = np.flatnonzero(hasL), np.flatnonzero(hasU)
    wlL, wuU = wl[iL], wu[iU]
    solver = "exact" if sketch == "auto" else sketch
    if sketch_size is None:
        sketch_size = 1 if solver != "countsketch" else int(min(N + m, max(4, min(64, math.sqrt(N + m)))))
    kind = _sn.Sketch.__members__[solver]  # the string was checked against SKETCHES once
    cache = _sn.SparseKKTCache() if nlp.sparse and solver == "exact" else None
    kappa = opts["bound_push"]

    x = _push_inside(x0, wl[:n], wu[:n], kappa)
    f = nlp.f(x)
    g = nlp.g(x)
    crow = nlp.c_rows(x)
    Jrow = nlp.J_rows(x)
    s = _push_inside(crow[nlp.ineq_pos], wl[n:], wu[n:], kappa)
    w = np.concatenate([x, s])
    zL = np.full(iL.size, opts["bound_mult_init"])
    zU = np.full(iU.size, opts["bound_mult_init"])
    G = nlp.G(Jrow)
    gw = np.concatenate([g, np.zeros(N - n)])
    B = np.eye(n) if use_bfgs else None

    def kkt(H, Gm, gl, c, shift_hint, delta_c=0.0, modify=True):
        if nlp.sparse:
            Hc = sp.csr_matrix(H)
            Hc.sort_indices()
            Gc = sp.csr_matrix(Gm)
            Gc.sort_indices()
            check = (_Check.inertia if solver == "exact" else _Check.cholesky) if modify else _Check.none
            return _sn.kkt_sparse(
                N, Hc.indptr.astype(np.int32), Hc.indices.astype(np.int32),
                np.ascontiguousarray(Hc.data, dtype=np.float64), Gc.shape[0],
                Gc.indptr.astype(np.int32), Gc.indices.astype(np.int32),
                np.ascontiguousarray(Gc.data, dtype=np.float64), gl, c, kind, sketch_size,
                opts["xi_B"], 1e-12, check, kseed, 50, delta_c, cache, shift_hint)
        return _sn.kkt_dense(np.ascontiguousarray(H), np.ascontiguousarray(Gm), gl, c, kind,
                             sketch_size, opts["xi_B"], 1e-12,
                             _Check.cholesky if modify else _Check.none, kseed, delta_c, shift_hint)

    def solve_kkt(K, err, bnorm):
        if solver == "exact":
            K.solve(0.0, 1)
            return True
        target = min(0.1, max(err, 1e-12)) * bnorm
        _, resid, conv = K.solve(target, int(opts["max_inner"]), float(opts["inner_max_seconds"]))
        return bool(conv)

    def ls_multipliers():
        """Least-squares multipliers (IPOPT's initial estimate): [[I, G^T], [G, 0]] [d; y]
        = -[grad f - zL + zU; 0]; None when the solve fails."""
        gz = gw.copy()
        gz[iL] -= zL
        gz[iU] += zU
        Id = sp.identity(N, format="csr") if nlp.sparse else np.eye(N)
        K0 = kkt(Id, G, gz, np.zeros(m), 0.0, modify=False)
        if solve_kkt(K0, 1.0, np.linalg.norm(gz)):
            y0 = np.asarray(K0.dv)
            if np.isfinite(y0).all():
                return y0
        return None

    def stationarity(yv):
        gl = gw + np.asarray(G.T @ yv).reshape(-1)
        gl[iL] -= zL
        gl[iU] += zU
        return float(np.max(np.abs(gl)))

    y = np.zeros(m)
    if m:
        y0 = ls_multipliers()
        if y0 is not None and np.max(np.abs(y0)) <= 1e3:
            y = y0

    mu = opts["mu_init"]
    mu_min = tol / (opts["kappa_eps"] + 1.0)
    tau = max(opts["tau_min"], 1.0 - mu)
    nu = 1.0
    nu_floor = 0.0  # raised when the constraint violation stalls (possible infeasibility)
    theta_hist: list = []
    last_shift = 0.0
    nit = 0
    status, message = 1, IPM_STATUS_MESSAGES[1]
    n_tiny = 0
    wants_ir = callback is not None and _wants_intermediate(callback)
    r = nlp.residual(crow, w)

    def errors(mu_):
        gl = gw + (G.T @ y if m else 0.0)
        gl = np.asarray(gl).reshape(-1).copy()
        gl[iL] -= zL
        gl[iU] += zU
        dL = w[iL] - wlL
        dU = wuU - w[iU]
        compL = dL * zL - mu_
        compU = dU * zU - mu_
        st = float(np.max(np.abs(gl))) if N else 0.0
        pr = float(np.max(np.abs(r))) if r.size else 0.0
        co = max(float(np.max(np.abs(compL))) if compL.size else 0.0,
                 float(np.max(np.abs(compU))) if compU.size else 0.0)
        return st, pr, co

    def scaled_err(mu_):
        st, pr, co = errors(mu_)
        smax = 100.0
        tot = np.abs(y).sum() + zL.sum() + zU.sum()
        sd = max(smax, tot / max(1, m + iL.size + iU.size)) / smax
        sc = max(smax, (zL.sum() + zU.sum()) / max(1, iL.size + iU.size)) / smax
        return max(st / sd, pr, co / sc)

    def barrier(wv, fv):
        return fv - mu * (np.log(wv[iL] - wlL).sum() + np.log(wuU - wv[iU]).sum())

    def infeasible_stationary(loose=False):
        """Is w (nearly) a stationary point of 0.5 ||c~||^2 over the bounds while c~ != 0?
        (``loose``: when the method cannot go on anyway, a 100x weaker test)"""
        pr = float(np.max(np.abs(r))) if r.size else 0.0
        if pr <= max(10 * tol, 1e-8):
            return False
        d = -np.asarray(G.T @ r).reshape(-1)
        scale = np.ones(N)
        toL = np.zeros(N, bool)
        toL[iL] = True
        toU = np.zeros(N, bool)
        toU[iU] = True
        distL = np.full(N, np.inf)
        distL[iL] = w[iL] - wlL
        distU = np.full(N, np.inf)
        distU[iU] = wuU - w[iU]
        scale = np.where(d < 0, np.minimum(1.0, distL), np.minimum(1.0, distU))
        gnorm = float(np.max(np.abs(d * scale)))
        return gnorm <= (1e-2 if loose else 1e-4) * pr * max(1.0, float(abs(G).max()) if m else 1.0)

    def make_result():
        st, pr, co = errors(0.0)
        xr = w[:n].copy()
        crow_all = np.zeros(nlp.m_all)
        crow_all[nlp.active] = crow
        v_all = np.zeros(nlp.m_all)
        v_all[nlp.active] = y[:nlp.active.size]
        z = np.zeros(n)
        zfull = np.zeros(N)
        zfull[iL] -= zL
        zfull[iU] += zU
        z = zfull[:n].copy()
        if nlp.fixed.size:
            z[nlp.fixed] += y[nlp.active.size:]
        split, k = [], 0
        for b in nlp.blocks:
            split.append(v_all[k:k + b.size].copy())
            k += b.size
        viol_c = np.maximum(0.0, np.maximum(nlp.cl - crow_all, crow_all - nlp.cu)) if nlp.m_all else np.zeros(0)
        viol_x = np.maximum(0.0, np.maximum(np.where(np.isfinite(nlp.wl[:n]), nlp.wl[:n] - xr, 0.0),
                                            np.where(np.isfinite(nlp.wu[:n]), xr - nlp.wu[:n], 0.0)))
        if nlp.fixed.size:
            viol_x[nlp.fixed] = np.abs(xr[nlp.fixed] - nlp.fix_val)
        cv = max(float(viol_c.max()) if viol_c.size else 0.0, float(viol_x.max()) if n else 0.0,
                 pr)
        kkt_res = max(st, pr, co)
        return OptimizeResult(
            x=xr, fun=f, v=v_all, constr_multipliers=split, bound_multipliers=z,
            slack=w[n:].copy(), kkt_residual=kkt_res, constr_violation=cv,
            barrier_parameter=mu, nit=nit, nfev=nlp.nfev, njev=nlp.njev, nhev=nlp.nhev,
            success=status == 0, status=status, message=message, sketch=solver,
            execution_time=time.perf_counter() - t0)

    W = None
    while True:
        st, pr, co = errors(0.0)
        if max(st, pr, co) <= tol:
            status, message = 0, IPM_STATUS_MESSAGES[0]
            break
        if nit >= maxiter:
            if infeasible_stationary(loose=True):
                status, message = 2, IPM_STATUS_MESSAGES[2]
            break
        # barrier update (Fiacco-McCormick, possibly several decreases at once)
        while mu > mu_min and scaled_err(mu) <= opts["kappa_eps"] * mu:
            mu = max(mu_min, min(opts["kappa_mu"] * mu, mu ** opts["theta_mu"]))
            tau = max(opts["tau_min"], 1.0 - mu)
        nit += 1
        if W is None:
            W = B.copy() if use_bfgs else nlp.W(w[:n], y[:nlp.active.size])
        dL = w[iL] - wlL
        dU = wuU - w[iU]
        sigma = np.zeros(N)
        sigma[iL] += zL / dL
        sigma[iU] += zU / dU
        gphi = gw.copy()
        gphi[iL] -= mu / dL
        gphi[iU] += mu / dU
        gl = gphi + (np.asarray(G.T @ y).reshape(-1) if m else 0.0)
        if nlp.sparse:
            Wf = sp.csr_matrix(W)
            if N > n:
                Wf = sp.block_diag([Wf, sp.csr_matrix((N - n, N - n))], format="csr")
            Ht = (Wf + sp.diags(sigma, format="csr")).tocsr()
        else:
            Ht = np.zeros((N, N))
            Ht[:n, :n] = W
            Ht[np.diag_indices(N)] += sigma
        bnorm = math.sqrt(float(gl @ gl) + float(r @ r))
        K = kkt(Ht, G, gl, r, last_shift)
        ok = solve_kkt(K, scaled_err(mu), bnorm)
        dw = np.asarray(K.dx)
        dy = np.asarray(K.dv)
        if solver == "exact" and (not np.isfinite(dw).all() or K.resid_norm > 1e-8 * max(1.0, bnorm)):
            # singular KKT matrix (rank-deficient Jacobian): IPOPT's delta_c regularization
            K = kkt(Ht, G, gl, r, last_shift, delta_c=1e-8 * mu ** 0.25 * max(1.0, bnorm))
            solve_kkt(K, scaled_err(mu), bnorm)
            dw = np.asarray(K.dx)
            dy = np.asarray(K.dv)
        last_shift = float(K.shift)
        if not np.isfinite(dw).all():
            status, message = 3, IPM_STATUS_MESSAGES[3] + " (the KKT solve failed)"
            break
        dzL = mu / dL - zL - (zL / dL) * dw[iL]
        dzU = mu / dU - zU + (zU / dU) * dw[iU]
        a_max = min(_ftb(dL, dw[iL], tau), _ftb(dU, -dw[iU], tau))
        a_z = min(_ftb(zL, dzL, tau), _ftb(zU, dzU, tau))
        # l1 merit: phi_mu + nu ||c~||_1; the penalty grows so that dw is a descent direction
        theta = float(np.abs(r).sum())
        Dphi = float(gphi @ dw)
        Hd = Ht @ dw
        quad = float(dw @ Hd) + last_shift * float(dw @ dw)
        lin_r = float(np.abs(r + np.asarray(G @ dw).reshape(-1)).sum()) if m else 0.0
        need = (Dphi + 0.5 * max(quad, 0.0)) / (0.9 * (theta - lin_r)) if theta > lin_r else 0.0
        # nu >= need makes dw a descent direction (Nocedal & Wright (18.36)); nu above the
        # multipliers' size makes the penalty exact. A nu kept from early iterations, far
        # above both, makes the curvature of c dominate the merit function and cuts every
        # step along a curved constraint (Maratos), so it may come down again.
        ymax = float(np.max(np.abs(y + dy))) if m else 0.0
        nu = max(need + 1.0 if nu < need else nu, 0.0)
        nu = max(min(nu, 10.0 * (max(need, ymax) + 1.0)), need + 1.0 if need > 0 else 0.0)
        nu = max(nu, nu_floor)
        D = Dphi + nu * (lin_r - theta)
        phi0 = barrier(w, f) + nu * theta
        # IPOPT compares merit values with a relative slack of 10 eps |phi0|: near the solution
        # the decrease is at the rounding level of phi and the test would otherwise depend on
        # how the CPU rounds (with or without fused multiply-add)
        slack = 10.0 * np.finfo(float).eps * abs(phi0)
        alpha = a_max
        accepted = False
        soc_tried = not opts["soc"] or m == 0
        for _ in range(int(opts["max_backtrack"])):
            wt = w + alpha * dw
            ft = nlp.f(wt[:n])
            ct = nlp.c_rows(wt[:n])
            rt = nlp.residual(ct, wt)
            phit = barrier(wt, ft) + nu * float(np.abs(rt).sum())
            if phit <= phi0 + 1e-4 * alpha * D + slack:
                accepted = True
                break
            if not soc_tried:
                soc_tried = True
                # second-order correction: the minimum-norm step back onto c~ = 0 linearized
                try:
                    Gd = G.toarray() if sp.issparse(G) else G
                    if Gd.shape[0] <= 2000:
                        corr = -np.linalg.lstsq(Gd, rt, rcond=None)[0]
                        ws_step = alpha * dw + corr
                        a2 = min(_ftb(dL, ws_step[iL], tau), _ftb(dU, -ws_step[iU], tau))
                        if a2 >= 1.0:
                            ws = w + ws_step
                            fs = nlp.f(ws[:n])
                            cs = nlp.c_rows(ws[:n])
                            rs = nlp.residual(cs, ws)
                            phis = barrier(ws, fs) + nu * float(np.abs(rs).sum())
                            if phis <= phi0 + 1e-4 * alpha * D + slack:
                                wt, ft, ct, rt = ws, fs, cs, rs
                                accepted = True
                                break
                except np.linalg.LinAlgError:
                    pass
            alpha *= 0.5
        if not accepted:
            if infeasible_stationary():
                status, message = 2, IPM_STATUS_MESSAGES[2]
                break
            if m and float(np.max(np.abs(r))) > 10 * tol and nu < 1e12:
                # no step decreases the merit while c~ != 0: weight feasibility more (if the
                # constraints cannot be met, this drives w to a stationary point of ||c~||)
                nu_floor = 10.0 * max(nu, 1.0)
                continue
            if infeasible_stationary(loose=True):
                status, message = 2, IPM_STATUS_MESSAGES[2]
            else:
                status, message = 3, IPM_STATUS_MESSAGES[3]
            break
        step = wt - w
        x_old, gw_old, G_old = w[:n].copy(), gw, G
        w = wt
        f, crow, r = ft, ct, rt
        y = y + alpha * dy
        zL = zL + a_z * dzL
        zU = zU + a_z * dzU
        # IPOPT's safeguard: z_i stays within [mu / (k d_i), k mu / d_i], k = 1e10
        dL = w[iL] - wlL
        dU = wuU - w[iU]
        zL = np.clip(zL, mu / (1e10 * dL), 1e10 * mu / dL)
        zU = np.clip(zU, mu / (1e10 * dU), 1e10 * mu / dU)
        g = nlp.g(w[:n])
        gw = np.concatenate([g, np.zeros(N - n)])
        Jrow = nlp.J_rows(w[:n])
        G = nlp.G(Jrow)
        if m and alpha < 0.1:
            # a short step leaves y + alpha dy far from the multipliers of the new point (and
            # W, built from y, poor): take the least-squares estimate when it fits better
            y_ls = ls_multipliers()
            if y_ls is not None and stationarity(y_ls) < 0.1 * stationarity(y):
                y = y_ls
        if use_bfgs:
            ya = y[:nlp.active.size]
            Ja, Jo = Jrow, G_old[:nlp.active.size, :n]
            gl_new = g + (Ja.T @ ya if ya.size else 0.0)
            gl_old = gw_old[:n] + (Jo.T @ ya if ya.size else 0.0)
            _sn.damped_bfgs_update(B, np.ascontiguousarray(w[:n] - x_old),
                                   np.ascontiguousarray(gl_new - gl_old))
            W = None
        else:
            W = None
        if float(np.max(np.abs(step))) <= 1e-15 * max(1.0, float(np.max(np.abs(w)))):
            n_tiny += 1
            if n_tiny >= 5:
                status, message = 8, IPM_STATUS_MESSAGES[8]
                break
        else:
            n_tiny = 0
        if not ok and solver != "exact" and D >= 0:
            status, message = 9, IPM_STATUS_MESSAGES[9]
            break
        theta_hist.append(float(np.abs(r).sum()))
        if m and len(theta_hist) > 10 and float(np.max(np.abs(r))) > 10 * tol and \
                theta_hist[-1] > 0.99 * min(theta_hist[-11:-1]) and \
                infeasible_stationary(loose=True):
            # the violation has not dropped by 1% in 10 iterations and w is near a stationary
            # point of it: weight it more (drives w to that point if c~ = 0 has no solution)
            nu_floor = 10.0 * max(nu, 1.0)
            theta_hist.clear()
            if infeasible_stationary() or nu_floor > 1e12:
                status, message = 2, IPM_STATUS_MESSAGES[2]
                break
        if callback is not None:
            try:
                if wants_ir:
                    callback(intermediate_result=make_result())
                else:
                    callback(w[:n].copy())
            except StopIteration:
                status, message = 6, IPM_STATUS_MESSAGES[6]
                break
    return make_result()


# --------------------------------------------------------------------------------------
# scipy.optimize.minimize(method=sketch_sqp) with bounds or inequality constraints


def _has_inequalities(bounds: Any, constraints: Any) -> bool:
    """Does a SciPy-style problem need the interior-point method?"""
    if bounds is not None:
        return True
    cons = constraints if isinstance(constraints, (list, tuple)) else [constraints]
    for c in cons:
        if c is None:
            continue
        if isinstance(c, dict):
            if c.get("type") == "ineq":
                return True
        elif isinstance(c, (LinearConstraint, NonlinearConstraint)):
            lb = np.asarray(c.lb, dtype=np.float64)
            ub = np.asarray(c.ub, dtype=np.float64)
            try:
                if not np.array_equal(*np.broadcast_arrays(lb, ub)):
                    return True
            except ValueError:
                return True  # shape error: let the interior-point parser name it
    return False


def _scipy_interior(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
                    constraints=(), callback=None, **options):
    """``scipy.optimize.minimize(method=sketch_sqp)`` for problems with bounds or
    inequality constraints: :func:`minimize_constrained` with SciPy's conventions
    (``hess(x, *args)`` is the objective's Hessian, combined with each
    ``NonlinearConstraint.hess(x, v)``; damped BFGS when one is missing)."""
    if hessp is not None and hess is None:
        raise ValueError("sketch_sqp needs hess (a matrix), not hessp; or omit both for BFGS")
    if jac is None or not (callable(jac) or jac is True):
        raise ValueError("sketch_sqp needs jac= (a callable gradient, or True)")
    opts = dict(options)
    kw = {k: opts.pop(k) for k in ("tol", "maxiter", "sketch", "sketch_size", "seed") if k in opts}
    opts.pop("disp", None)
    args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    x0a = as_float_array(x0, "x0", dtype=np.float64).reshape(-1)
    blocks = _parse_constraints(constraints, args)
    lag_hess: Any = "bfgs"
    if callable(hess) and all(b.A is not None or b.hess is not None for b in blocks):
        sizes = []
        for b in blocks:
            try:
                sizes.append(np.atleast_1d(np.asarray(b.fun(x0a.copy()))).size)
            except Exception:
                sizes = None
                break
        if sizes is not None:
            offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
            hobj = hess

            def _lagrangian_hess(x, v):
                H = hobj(x, *args)
                for b, lo, hi in zip(blocks, offs[:-1], offs[1:]):
                    if b.hess is not None and np.any(v[lo:hi] != 0):
                        Hc = b.hess(x, v[lo:hi])
                        if sp.issparse(H) != sp.issparse(Hc):
                            H = sp.csr_matrix(H) + sp.csr_matrix(Hc)
                        else:
                            H = H + Hc
                return H

            lag_hess = _lagrangian_hess
    if callback is not None and not _wants_intermediate(callback):
        user_cb = callback
        callback = lambda xk: user_cb(xk)  # noqa: E731
    return _minimize_ipm(fun, x0a, jac=jac, constraints=constraints, bounds=bounds,
                         hess=lag_hess, sketch=kw.get("sketch", "auto"),
                         sketch_size=kw.get("sketch_size"), tol=kw.get("tol", 1e-6),
                         maxiter=kw.get("maxiter", 3000), seed=kw.get("seed"),
                         callback=callback, options=opts or None, args=args)
