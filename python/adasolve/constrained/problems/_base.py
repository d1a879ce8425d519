"""The problem object shared by the constrained collections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from scipy.optimize import NonlinearConstraint

from .. import _ad

__all__ = ["EqualityProblem"]


@dataclass(frozen=True, eq=False)
class EqualityProblem:
    """``min f(x) s.t. c(x) = 0`` with exact derivatives.

    Attributes
    ----------
    name : str
    n, m : int
        Numbers of variables and of equality constraints.
    f_star : float or None
        Published optimal (or best known local) objective value; ``None`` when
        unknown (see ``notes``).
    x_star : ndarray or None
        A published solution, when one is known.
    source : str
        Where the definition comes from.
    notes : str

    Methods ``fun``, ``jac`` (gradient of f), ``hess(x, v)`` (Hessian of the
    Lagrangian ``f + v^T c``), ``c``, ``c_jac`` (dense (m, n) or sparse) and the
    ``constraints`` property (a ``scipy.optimize.NonlinearConstraint`` with
    ``lb == ub == 0``) give everything ``minimize_eq`` and SciPy need.
    """

    name: str
    n: int
    m: int
    _x0: np.ndarray
    _fun: Callable
    _jac: Callable
    _hess: Callable
    _c: Callable
    _c_jac: Callable
    _c_hess: Callable
    f_star: Optional[float] = None
    x_star: Optional[np.ndarray] = None
    source: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def x0(self) -> np.ndarray:
        """Starting point (a fresh copy each access)."""
        return np.array(self._x0, dtype=float, copy=True)

    def fun(self, x) -> float:
        return float(self._fun(np.asarray(x, dtype=float)))

    def jac(self, x) -> np.ndarray:
        return self._jac(np.asarray(x, dtype=float))

    def hess(self, x, v):
        """Hessian in x of ``L(x, v) = f(x) + v^T c(x)``."""
        return self._hess(np.asarray(x, dtype=float), np.asarray(v, dtype=float))

    def c(self, x) -> np.ndarray:
        return self._c(np.asarray(x, dtype=float))

    def c_jac(self, x):
        return self._c_jac(np.asarray(x, dtype=float))

    def c_hess(self, x, v):
        """``sum_i v_i * Hessian(c_i)(x)``."""
        return self._c_hess(np.asarray(x, dtype=float), np.asarray(v, dtype=float))

    @property
    def constraints(self) -> NonlinearConstraint:
        z = np.zeros(self.m)
        return NonlinearConstraint(self.c, z, z.copy(), jac=self.c_jac, hess=self.c_hess)

    def __repr__(self) -> str:
        return f"EqualityProblem({self.name!r}, n={self.n}, m={self.m}, f_star={self.f_star!r})"


def from_scalar_code(name: str, f: Callable, c: Callable, x0, *, f_star=None,
                     x_star=None, source: str = "", notes: str = "") -> EqualityProblem:
    """Build a problem from ``f(xs)`` and ``c(xs) -> list`` written on scalars.

    Derivatives come from :mod:`._ad` (second-order forward mode), so they are
    exact up to rounding.
    """
    x0 = np.asarray(x0, dtype=float)
    x0.setflags(write=False)
    n = x0.size
    m = len(c([float(t) for t in x0]))

    def fun(x):
        return float(f([float(t) for t in x]))

    # One second-order pass gives value, gradient and Hessian together; solvers ask for
    # jac, c_jac and hess at the same point, so the last pass of f and of c is kept (a
    # cache of one point each, keyed by the bytes of x).
    last_f: dict = {}
    last_c: dict = {}

    def _fd(x):
        key = x.tobytes()
        if last_f.get("key") != key:
            last_f["val"] = _ad.as_dual(f(_ad.variables(x)), n)
            last_f["key"] = key
        return last_f["val"]

    def _cd(x):
        key = x.tobytes()
        if last_c.get("key") != key:
            last_c["val"] = [_ad.as_dual(ci, n) for ci in c(_ad.variables(x))]
            last_c["key"] = key
        return last_c["val"]

    def jac(x):
        return _fd(x).grad()

    def cval(x):
        return np.array([float(ci) for ci in c([float(t) for t in x])], dtype=float)

    def cjac(x):
        J = np.zeros((m, n))
        for r, ci in enumerate(_cd(x)):
            for j, t in ci.g.items():
                J[r, j] = t
        return J

    def chess(x, v):
        H = np.zeros((n, n))
        for vi, ci in zip(v, _cd(x)):
            if ci.H:
                vi = float(vi)
                for (i, j), t in ci.H.items():
                    H[i, j] += vi * t
                    if i != j:
                        H[j, i] += vi * t
        return H

    def hess(x, v):
        return _fd(x).hessian() + chess(x, v)

    xs = None if x_star is None else np.asarray(x_star, dtype=float)
    return EqualityProblem(name, n, m, x0, fun, jac, hess, cval, cjac, chess,
                           None if f_star is None else float(f_star), xs, source, notes)
