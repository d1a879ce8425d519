"""Setup of :func:`minimize_eq`: the user's functions and constraints, validated and wrapped.

:class:`Problem` holds the objective, gradient, Hessian (a matrix, Hessian-vector
products, or none for BFGS) and the equality constraints, counts evaluations, and turns
every user error into :class:`_UserFunctionError` (reported in the result, never raised
past the solver).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint
from scipy.sparse.linalg import LinearOperator

from .._validation import check_sparse_structure

# --------------------------------------------------------------------------------------
# user functions


class _UserFunctionError(Exception):
    pass


class _Counter:
    def __init__(self) -> None:
        self.nfev = 0
        self.njev = 0
        self.nhev = 0


def _call(fn: Callable, x: np.ndarray, name: str, *extra: Any) -> Any:
    try:
        return fn(x.copy(), *extra)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # stop cleanly on any user error, say which function
        raise _UserFunctionError(f"{name} raised {type(exc).__name__}: {exc}") from exc


def _finite_vector(val: Any, size: int, name: str) -> np.ndarray:
    arr = np.asarray(val, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{name} returned {arr.size} values, expected {size}"
                         + (" (the length of x0)" if name == "jac" else ""))
    # a finite sum proves every entry finite (one reduction, no temporary); else check all
    if not math.isfinite(arr.sum()) and not np.isfinite(arr).all():
        raise _UserFunctionError(f"{name} returned a non-finite value")
    return arr


def _matrix(val: Any, shape: tuple, name: str, sparse: bool) -> Any:
    """Dense C-contiguous float64 ndarray or canonical CSR (int32 indices)."""
    if sp.issparse(val):
        if val.shape != shape:
            raise ValueError(f"{name} returned shape {val.shape}, expected {shape}")
        check_sparse_structure(val, f"the matrix that {name} returned")
        if not sparse:
            val = val.toarray()
        else:
            val = sp.csr_matrix(val, dtype=np.float64)
            val.sum_duplicates()
            val.sort_indices()
            if val.indptr.dtype != np.int32 or val.indices.dtype != np.int32:
                val.indptr = val.indptr.astype(np.int32)
                val.indices = val.indices.astype(np.int32)
            if not np.isfinite(val.data).all():
                raise _UserFunctionError(f"{name} returned a non-finite value")
            return val
    arr = np.asarray(val, dtype=np.float64)
    if arr.size == shape[0] * shape[1] and arr.shape != shape and arr.ndim <= 2 and (
        1 in shape or arr.ndim == 1
    ):
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"{name} returned shape {arr.shape}, expected {shape}")
    if not math.isfinite(arr.sum()) and not np.isfinite(arr).all():
        raise _UserFunctionError(f"{name} returned a non-finite value")
    if sparse:
        return _matrix(sp.csr_matrix(arr), shape, name, True)
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------------------
# constraints

_INEQ_MSG = (
    "only equality constraints (lb == ub) are supported by minimize_eq; for bounds and "
    "inequality constraints use adasolve.minimize_constrained (also reached through "
    "scipy.optimize.minimize(method=adasolve.optimize.sketch_sqp))"
)


class _Piece:
    """One block of equality constraints c_i(x) - lb_i = 0 with Jacobian jac_i(x)."""

    def __init__(self, fun, jac, lb, hess=None, linear_matrix=None):
        self.fun, self.jac, self.lb, self.hess = fun, jac, lb, hess
        self.linear_matrix = linear_matrix

    @property
    def linear(self) -> bool:
        return self.linear_matrix is not None


def _bounds_equal(lb: Any, ub: Any, what: str) -> np.ndarray:
    lb = np.atleast_1d(np.asarray(lb, dtype=np.float64))
    ub = np.atleast_1d(np.asarray(ub, dtype=np.float64))
    try:
        lb, ub = np.broadcast_arrays(lb, ub)
    except ValueError:
        raise ValueError(f"{what}: lb and ub have incompatible shapes {lb.shape}, {ub.shape}") from None
    if not np.array_equal(lb, ub) or not np.isfinite(lb).all():
        raise ValueError(f"{what} has lb != ub: {_INEQ_MSG}")
    return lb.copy()


def _is_pair(con: Any) -> bool:
    return isinstance(con, tuple) and len(con) == 2 and all(callable(f) for f in con)


def _parse_one(con: Any, args: tuple) -> _Piece:
    if _is_pair(con):
        return _Piece(con[0], con[1], np.zeros(0))
    if isinstance(con, LinearConstraint):
        A = con.A
        check_sparse_structure(A, "LinearConstraint.A")
        A = sp.csr_matrix(A, dtype=np.float64) if sp.issparse(A) else np.atleast_2d(
            np.asarray(A, dtype=np.float64))
        lb = _bounds_equal(con.lb, con.ub, "LinearConstraint")
        if lb.size == 1 and A.shape[0] != 1:
            lb = np.full(A.shape[0], lb[0])
        if lb.size != A.shape[0]:
            raise ValueError(f"LinearConstraint: A has {A.shape[0]} rows but lb has {lb.size} entries")
        return _Piece(lambda x, A=A: A @ x, lambda x, A=A: A, lb, linear_matrix=A)
    if isinstance(con, NonlinearConstraint):
        lb = _bounds_equal(con.lb, con.ub, "NonlinearConstraint")
        if not callable(con.jac):
            raise ValueError(
                "NonlinearConstraint.jac must be a callable returning the Jacobian "
                f"(got {con.jac!r}); finite-difference Jacobians are not supported")
        h = con.hess if callable(con.hess) else None
        return _Piece(con.fun, con.jac, lb, hess=h)
    if isinstance(con, dict):
        kind = con.get("type")
        if kind == "ineq":
            raise ValueError(f"constraint of type 'ineq': {_INEQ_MSG}")
        if kind != "eq":
            raise ValueError(f"constraint dict needs 'type': 'eq', got {kind!r}")
        if "fun" not in con or not callable(con["fun"]):
            raise ValueError("constraint dict needs a callable 'fun'")
        if not callable(con.get("jac")):
            raise ValueError("constraint dict needs a callable 'jac' (the constraint Jacobian)")
        # as scipy.optimize.minimize: a dict constraint gets its own 'args', never the
        # objective's
        a = tuple(con.get("args", ()))
        f, j = con["fun"], con["jac"]
        return _Piece(lambda x: f(x, *a), lambda x: j(x, *a), np.zeros(0))
    raise TypeError(
        "constraints must be a NonlinearConstraint, a LinearConstraint, a dict with "
        f"type 'eq', a (c, c_jac) pair of callables, or a list of these; got {type(con).__name__}")


def _parse_constraints(constraints: Any, args: tuple = ()) -> list:
    if constraints is None:
        return []
    if _is_pair(constraints):
        return [_Piece(constraints[0], constraints[1], np.zeros(0))]
    if isinstance(constraints, (list, tuple)):
        return [_parse_one(c, args) for c in constraints]
    return [_parse_one(constraints, args)]


def _x0_error(exc: "_UserFunctionError", n: int) -> Optional[ValueError]:
    """A user function that raised IndexError/ValueError at x0: most likely x0 has the wrong
    length for it. Returns the ValueError to raise (naming x0), or None."""
    if isinstance(exc.__cause__, (IndexError, ValueError)):
        return ValueError(f"{exc} when evaluated at x0 (x0 has {n} entries): check that x0 "
                          "has the length that fun, jac, hess and the constraints expect")
    return None


class _Constraints:
    def __init__(self, pieces: list, n: int, x0: np.ndarray, counter: _Counter):
        self.pieces = pieces
        self.n = n
        self.counter = counter
        sizes = []
        for i, p in enumerate(pieces):
            if p.linear and p.linear_matrix.shape[1] != n:
                raise ValueError(
                    f"constraint {i}: LinearConstraint.A has {p.linear_matrix.shape[1]} columns "
                    f"but x0 has {n} entries")
            val = np.atleast_1d(np.asarray(_call(p.fun, x0, f"constraint {i} fun"), dtype=np.float64))
            if val.ndim != 1:
                raise ValueError(f"constraint {i} fun must return a 1-D array, got shape {val.shape}")
            if p.lb.size == 0:
                p.lb = np.zeros(val.size)
            elif p.lb.size == 1 and val.size != 1:
                p.lb = np.full(val.size, p.lb[0])
            if p.lb.size != val.size:
                raise ValueError(
                    f"constraint {i}: fun returns {val.size} values but lb/ub have {p.lb.size}")
            sizes.append(val.size)
        self.sizes = sizes
        self.m = int(sum(sizes))

    def c(self, x: np.ndarray) -> np.ndarray:
        if len(self.pieces) == 1:  # the common case: no list, no concatenate
            p, s = self.pieces[0], self.sizes[0]
            return _finite_vector(_call(p.fun, x, "constraint 0 fun"), s,
                                  "constraint 0 fun") - p.lb
        out = [
            _finite_vector(_call(p.fun, x, f"constraint {i} fun"), s, f"constraint {i} fun") - p.lb
            for i, (p, s) in enumerate(zip(self.pieces, self.sizes))
        ]
        return np.concatenate(out) if out else np.zeros(0)

    def jac(self, x: np.ndarray, sparse: bool) -> Any:
        if len(self.pieces) == 1 and not sparse:
            p = self.pieces[0]
            return _matrix(_call(p.jac, x, "constraint 0 jac"), (self.m, self.n),
                           "constraint 0 jac", False)
        blocks = [
            _matrix(_call(p.jac, x, f"constraint {i} jac"), (s, self.n), f"constraint {i} jac", sparse)
            for i, (p, s) in enumerate(zip(self.pieces, self.sizes))
        ]
        if sparse:
            if not blocks:
                return sp.csr_matrix((0, self.n))
            out = sp.vstack(blocks, format="csr")
            return _matrix(out, (self.m, self.n), "constraint jac", True)
        if not blocks:
            return np.zeros((0, self.n))
        return np.ascontiguousarray(np.vstack(blocks))

    def any_sparse(self, x: np.ndarray) -> bool:
        return any(sp.issparse(_call(p.jac, x, f"constraint {i} jac")) for i, p in enumerate(self.pieces))



class Problem:
    """The user's problem: fun, its gradient and Hessian, and the equality constraints.

    ``hess`` is a callable ``hess(x, v)`` (matrix, sparse matrix or LinearOperator of the
    Lagrangian Hessian), ``"bfgs"`` or None; ``hessp`` a callable ``hessp(x, p, v)``
    returning ``H p``. A LinearOperator from ``hess`` is applied by products (as
    ``hessp``) when n is above ``dense_linear_operator_max``, else materialized.
    """

    def __init__(self, fun: Callable, jac: Any, hess: Any, hessp: Any, constraints: Any,
                 n: int, args: tuple, dense_linear_operator_max: int):
        if not callable(fun):
            raise TypeError("fun must be callable")
        self.n = n
        self.args = args
        self.counter = _Counter()
        self.lo_max = dense_linear_operator_max
        if jac is True:
            cache: dict = {}

            def _fg(x):
                key = x.tobytes()
                if cache.get("key") != key:
                    out = fun(x, *args)
                    cache["key"], cache["val"] = key, out
                return cache["val"]

            self._f = lambda x: _fg(x)[0]  # noqa: E731
            self._g = lambda x: _fg(x)[1]  # noqa: E731
        elif callable(jac):
            self._f = lambda x: fun(x, *args)  # noqa: E731
            self._g = lambda x: jac(x, *args)  # noqa: E731
        else:
            raise ValueError("jac must be a callable returning the gradient of fun (or True if "
                             "fun returns (f, grad)); finite differences are not supported")
        if hessp is not None and not callable(hessp):
            raise ValueError(f"hessp must be a callable hessp(x, p, v) returning the Lagrangian "
                             f"Hessian times p; got {hessp!r}")
        if hessp is not None and hess is not None:
            raise ValueError("give hess or hessp, not both")
        self._hessp = hessp
        self.use_bfgs = hessp is None and (
            hess is None or (isinstance(hess, str) and hess.lower() == "bfgs"))
        if not self.use_bfgs and hessp is None and not callable(hess):
            raise ValueError(f"hess must be a callable hess(x, v), 'bfgs' or None; got {hess!r}")
        self._hess = hess if callable(hess) else None
        self.pieces = _parse_constraints(constraints, args)
        self.cons: Optional[_Constraints] = None
        self.sparse = False
        self.matrix_free = hessp is not None  # may turn on for a LinearOperator hess

    # evaluations ------------------------------------------------------------------------
    def f(self, x: np.ndarray) -> float:
        self.counter.nfev += 1
        val = _call(self._f, x, "fun")
        try:
            val = float(np.asarray(val, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise ValueError(f"fun must return a scalar, got {np.shape(val)}") from None
        if not math.isfinite(val):
            raise _UserFunctionError("fun returned a non-finite value")
        return val

    def g(self, x: np.ndarray) -> np.ndarray:
        self.counter.njev += 1
        return _finite_vector(_call(self._g, x, "jac"), self.n, "jac")

    def c(self, x: np.ndarray) -> np.ndarray:
        return self.cons.c(x)

    def jac(self, x: np.ndarray) -> Any:
        return self.cons.jac(x, self.sparse)

    def gradl(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self.g(x) + self.jac(x).T @ v

    def hess(self, x: np.ndarray, v: np.ndarray, raw: Any = None) -> Any:
        """The Lagrangian Hessian as the KKT assembly takes it: a dense array or CSR; for
        a matrix-free Hessian, a callable p -> H p. ``raw``: an already evaluated value."""
        n = self.n
        if self._hessp is not None:
            self.counter.nhev += 1
            xx, vv = x.copy(), v.copy()
            return lambda p: _finite_vector(_call(self._hessp, xx, "hessp", p.copy(), vv), n,
                                            "hessp")
        if raw is None:
            self.counter.nhev += 1
            raw = _call(self._hess, x, "hess", v.copy())
        if isinstance(raw, LinearOperator):
            if self.matrix_free:
                if raw.shape != (n, n):
                    raise ValueError(f"hess returned shape {raw.shape}, expected {(n, n)}")
                op = raw
                return lambda p: _finite_vector(_call(op.matvec, p, "hess (LinearOperator)"),
                                                n, "hess (LinearOperator)")
            raw = raw @ np.eye(n)
        return _matrix(raw, (n, n), "hess", self.sparse)

    # start --------------------------------------------------------------------------------
    def start(self, x0: np.ndarray, v0: Any):
        """Evaluate everything at x0 and decide dense or sparse (once). Returns
        (v, fval, g, c, J, H0) with H0 the raw first Hessian (None for BFGS or hessp).
        Raises _UserFunctionError (user error at x0) or ValueError (bad shapes)."""
        n = self.n
        self.cons = _Constraints(self.pieces, n, x0, self.counter)
        m = self.cons.m
        if v0 is None:
            v = np.zeros(m)
        else:
            v = np.asarray(v0, dtype=np.float64).reshape(-1)
            if v.size != m or not np.isfinite(v).all():
                raise ValueError(f"options['v0'] must be {m} finite multipliers (one per "
                                 f"constraint), got {v.size} value(s)"
                                 + ("" if np.isfinite(v).all() else " with NaN or Inf"))
            v = v.copy()
        sparse = self.cons.any_sparse(x0)
        H0 = None
        if self._hess is not None and not self.use_bfgs:
            self.counter.nhev += 1
            H0 = _call(self._hess, x0, "hess", v.copy())
            if sp.issparse(H0):
                sparse = True
            if isinstance(H0, LinearOperator) and n > self.lo_max:
                self.matrix_free = True
        if self.matrix_free:
            sparse = True  # products with H, a sparse G and a sparse K without H
        if self.use_bfgs:
            sparse = False  # BFGS keeps a dense n x n approximation
        self.sparse = sparse
        fval = self.f(x0)
        g = self.g(x0)
        c = self.c(x0)
        J = self.jac(x0)
        return v, fval, g, c, J, H0
