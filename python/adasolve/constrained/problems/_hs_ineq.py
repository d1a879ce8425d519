"""Hock-Schittkowski problems with inequality constraints and bounds.

Source: W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming Codes*,
Lecture Notes in Economics and Mathematical Systems 187 (Springer, 1981). Each problem
is written once on scalars (``f``, the constraint functions, their limits, the bounds,
the published starting point and optimal value) and differentiated exactly by
:mod:`.._ad`. The published form ``g(x) >= 0`` is kept as ``0 <= g(x) <= inf``;
equalities as ``0 <= h(x) <= 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
from scipy.optimize import Bounds, NonlinearConstraint

from .._ad import exp, log, sin, sqrt
from ._base import EqualityProblem, from_scalar_code

__all__ = ["InequalityProblem", "HS_INEQ_NAMES", "hock_schittkowski_ineq"]

INF = math.inf
HS = "Hock & Schittkowski (1981)"


@dataclass(frozen=True, eq=False)
class InequalityProblem:
    """``min f(x)  s.t.  cl <= c(x) <= cu,  lb <= x <= ub`` with exact derivatives.

    ``fun``, ``jac``, ``hess(x, v)`` (Hessian of ``f + v^T c``), ``c``, ``c_jac``,
    ``c_hess(x, v)``; ``constraints`` (a ``NonlinearConstraint``, or ``[]`` when there are
    no general constraints) and ``bounds`` (``scipy.optimize.Bounds``) give what
    :func:`adasolve.minimize_constrained` and SciPy need. ``f_star`` is the published
    optimal value.
    """

    name: str
    base: EqualityProblem
    cl: np.ndarray
    cu: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    f_star: Optional[float] = None
    source: str = HS

    @property
    def n(self) -> int:
        return self.base.n

    @property
    def m(self) -> int:
        return self.base.m

    @property
    def x0(self) -> np.ndarray:
        return self.base.x0

    def fun(self, x):
        return self.base.fun(x)

    def jac(self, x):
        return self.base.jac(x)

    def hess(self, x, v):
        return self.base.hess(x, v)

    def obj_hess(self, x):
        """Hessian of f alone (SciPy's ``hess`` convention)."""
        return self.base.hess(x, np.zeros(self.m))

    def c(self, x):
        return self.base.c(x)

    def c_jac(self, x):
        return self.base.c_jac(x)

    def c_hess(self, x, v):
        return self.base.c_hess(x, v)

    @property
    def constraints(self):
        if self.m == 0:
            return []
        return NonlinearConstraint(self.c, self.cl.copy(), self.cu.copy(), jac=self.c_jac,
                                   hess=self.c_hess)

    @property
    def bounds(self):
        if np.isinf(self.lb).all() and np.isinf(self.ub).all():
            return None
        return Bounds(self.lb.copy(), self.ub.copy())

    def __repr__(self) -> str:
        return f"InequalityProblem({self.name!r}, n={self.n}, m={self.m}, f_star={self.f_star!r})"


DEFS: dict = {}


def _reg(name, n, f, cons, x0, f_star, lb=None, ub=None):
    """cons: list of (g, lo, hi) with lo <= g(x) <= hi (functions of the scalar list x)."""

    def build():
        fns = [g for g, _, _ in cons]
        base = from_scalar_code(name, f, lambda x: [g(x) for g in fns], x0, f_star=f_star,
                                source=HS)
        cl = np.array([lo for _, lo, _ in cons], dtype=float)
        cu = np.array([hi for _, _, hi in cons], dtype=float)
        lo = np.full(n, -INF) if lb is None else np.broadcast_to(np.asarray(lb, float), (n,)).copy()
        hi = np.full(n, INF) if ub is None else np.broadcast_to(np.asarray(ub, float), (n,)).copy()
        return InequalityProblem(name, base, cl, cu, lo, hi, float(f_star))

    DEFS[name] = build


def ge(g):
    return (g, 0.0, INF)


def eq(h):
    return (h, 0.0, 0.0)


def _rosen(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


S3 = math.sqrt(3.0)

# --- bounds only and problems 1-24 ---------------------------------------------------
_reg("HS1", 2, _rosen, [], [-2.0, 1.0], 0.0, lb=[-INF, -1.5])
_reg("HS2", 2, _rosen, [], [-2.0, 1.0], 0.0504261879, lb=[-INF, 1.5])
_reg("HS3", 2, lambda x: x[1] + 1e-5 * (x[1] - x[0]) ** 2, [], [10.0, 1.0], 0.0, lb=[-INF, 0.0])
_reg("HS4", 2, lambda x: (x[0] + 1) ** 3 / 3 + x[1], [], [1.125, 0.125], 8.0 / 3.0,
     lb=[1.0, 0.0])
_reg("HS5", 2, lambda x: sin(x[0] + x[1]) + (x[0] - x[1]) ** 2 - 1.5 * x[0] + 2.5 * x[1] + 1,
     [], [0.0, 0.0], -0.5 * S3 - math.pi / 3, lb=[-1.5, -3.0], ub=[4.0, 3.0])
_reg("HS10", 2, lambda x: x[0] - x[1],
     [ge(lambda x: -3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1)], [-10.0, 10.0], -1.0)
_reg("HS11", 2, lambda x: (x[0] - 5) ** 2 + x[1] ** 2 - 25, [ge(lambda x: -x[0] ** 2 + x[1])],
     [4.9, 0.1], -8.498464223)
_reg("HS12", 2, lambda x: 0.5 * x[0] ** 2 + x[1] ** 2 - x[0] * x[1] - 7 * x[0] - 7 * x[1],
     [ge(lambda x: 25 - 4 * x[0] ** 2 - x[1] ** 2)], [0.0, 0.0], -30.0)
_reg("HS13", 2, lambda x: (x[0] - 2) ** 2 + x[1] ** 2, [ge(lambda x: (1 - x[0]) ** 3 - x[1])],
     [-2.0, -2.0], 1.0, lb=[0.0, 0.0])
_reg("HS14", 2, lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2,
     [ge(lambda x: -0.25 * x[0] ** 2 - x[1] ** 2 + 1), eq(lambda x: x[0] - 2 * x[1] + 1)],
     [2.0, 2.0], 9 - 2.875 * math.sqrt(7.0))
_reg("HS15", 2, _rosen, [ge(lambda x: x[0] * x[1] - 1), ge(lambda x: x[0] + x[1] ** 2)],
     [-2.0, 1.0], 306.5, ub=[0.5, INF])
_reg("HS16", 2, _rosen, [ge(lambda x: x[0] + x[1] ** 2), ge(lambda x: x[0] ** 2 + x[1])],
     [-2.0, 1.0], 0.25, lb=[-2.0, -INF], ub=[0.5, 1.0])
_reg("HS17", 2, _rosen, [ge(lambda x: x[1] ** 2 - x[0]), ge(lambda x: x[0] ** 2 - x[1])],
     [-2.0, 1.0], 1.0, lb=[-2.0, -INF], ub=[0.5, 1.0])
_reg("HS18", 2, lambda x: 0.01 * x[0] ** 2 + x[1] ** 2,
     [ge(lambda x: x[0] * x[1] - 25), ge(lambda x: x[0] ** 2 + x[1] ** 2 - 25)],
     [2.0, 2.0], 5.0, lb=[2.0, 0.0], ub=[50.0, 50.0])
_reg("HS19", 2, lambda x: (x[0] - 10) ** 3 + (x[1] - 20) ** 3,
     [ge(lambda x: (x[0] - 5) ** 2 + (x[1] - 5) ** 2 - 100),
      ge(lambda x: -(x[1] - 5) ** 2 - (x[0] - 6) ** 2 + 82.81)],
     [20.1, 5.84], -6961.81381, lb=[13.0, 0.0], ub=[100.0, 100.0])
_reg("HS20", 2, _rosen,
     [ge(lambda x: x[0] + x[1] ** 2), ge(lambda x: x[0] ** 2 + x[1]),
      ge(lambda x: x[0] ** 2 + x[1] ** 2 - 1)],
     [-2.0, 1.0], 81.5 - 25 * S3, lb=[-0.5, -INF], ub=[0.5, INF])
_reg("HS21", 2, lambda x: 0.01 * x[0] ** 2 + x[1] ** 2 - 100, [ge(lambda x: 10 * x[0] - x[1] - 10)],
     [-1.0, -1.0], -99.96, lb=[2.0, -50.0], ub=[50.0, 50.0])
_reg("HS22", 2, lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2,
     [ge(lambda x: -x[0] - x[1] + 2), ge(lambda x: -x[0] ** 2 + x[1])], [2.0, 2.0], 1.0)
_reg("HS23", 2, lambda x: x[0] ** 2 + x[1] ** 2,
     [ge(lambda x: x[0] + x[1] - 1), ge(lambda x: x[0] ** 2 + x[1] ** 2 - 1),
      ge(lambda x: 9 * x[0] ** 2 + x[1] ** 2 - 9), ge(lambda x: x[0] ** 2 - x[1]),
      ge(lambda x: x[1] ** 2 - x[0])],
     [3.0, 1.0], 2.0, lb=[-50.0, -50.0], ub=[50.0, 50.0])
_reg("HS24", 2, lambda x: ((x[0] - 3) ** 2 - 9) * x[1] ** 3 / (27 * S3),
     [ge(lambda x: x[0] / S3 - x[1]), ge(lambda x: x[0] + S3 * x[1]),
      ge(lambda x: -x[0] - S3 * x[1] + 6)],
     [1.0, 0.5], -1.0, lb=[0.0, 0.0])

# --- 29-45 -----------------------------------------------------------------------------
_reg("HS29", 3, lambda x: -x[0] * x[1] * x[2],
     [ge(lambda x: -x[0] ** 2 - 2 * x[1] ** 2 - 4 * x[2] ** 2 + 48)], [1.0, 1.0, 1.0],
     -16 * math.sqrt(2.0))
_reg("HS30", 3, lambda x: x[0] ** 2 + x[1] ** 2 + x[2] ** 2, [ge(lambda x: x[0] ** 2 + x[1] ** 2 - 1)],
     [1.0, 1.0, 1.0], 1.0, lb=[1.0, -10.0, -10.0], ub=[10.0, 10.0, 10.0])
_reg("HS31", 3, lambda x: 9 * x[0] ** 2 + x[1] ** 2 + 9 * x[2] ** 2, [ge(lambda x: x[0] * x[1] - 1)],
     [1.0, 1.0, 1.0], 6.0, lb=[-10.0, 1.0, -10.0], ub=[10.0, 10.0, 1.0])
_reg("HS32", 3, lambda x: (x[0] + 3 * x[1] + x[2]) ** 2 + 4 * (x[0] - x[1]) ** 2,
     [ge(lambda x: 6 * x[1] + 4 * x[2] - x[0] ** 3 - 3), eq(lambda x: 1 - x[0] - x[1] - x[2])],
     [0.1, 0.7, 0.2], 1.0, lb=[0.0, 0.0, 0.0])
_reg("HS33", 3, lambda x: (x[0] - 1) * (x[0] - 2) * (x[0] - 3) + x[2],
     [ge(lambda x: x[2] ** 2 - x[1] ** 2 - x[0] ** 2),
      ge(lambda x: x[0] ** 2 + x[1] ** 2 + x[2] ** 2 - 4)],
     [0.0, 0.0, 3.0], math.sqrt(2.0) - 6, lb=[0.0, 0.0, 0.0], ub=[INF, INF, 5.0])
_reg("HS34", 3, lambda x: -x[0], [ge(lambda x: x[1] - exp(x[0])), ge(lambda x: x[2] - exp(x[1]))],
     [0.0, 1.05, 2.9], -math.log(math.log(10.0)), lb=[0.0, 0.0, 0.0], ub=[100.0, 100.0, 10.0])
_reg("HS35", 3, lambda x: 9 - 8 * x[0] - 6 * x[1] - 4 * x[2] + 2 * x[0] ** 2 + 2 * x[1] ** 2
     + x[2] ** 2 + 2 * x[0] * x[1] + 2 * x[0] * x[2],
     [ge(lambda x: 3 - x[0] - x[1] - 2 * x[2])], [0.5, 0.5, 0.5], 1.0 / 9.0, lb=[0.0, 0.0, 0.0])
_reg("HS36", 3, lambda x: -x[0] * x[1] * x[2], [ge(lambda x: 72 - x[0] - 2 * x[1] - 2 * x[2])],
     [10.0, 10.0, 10.0], -3300.0, lb=[0.0, 0.0, 0.0], ub=[20.0, 11.0, 42.0])
_reg("HS37", 3, lambda x: -x[0] * x[1] * x[2],
     [ge(lambda x: 72 - x[0] - 2 * x[1] - 2 * x[2]), ge(lambda x: x[0] + 2 * x[1] + 2 * x[2])],
     [10.0, 10.0, 10.0], -3456.0, lb=[0.0, 0.0, 0.0], ub=[42.0, 42.0, 42.0])
_reg("HS38", 4, lambda x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
     + 90 * (x[3] - x[2] ** 2) ** 2 + (1 - x[2]) ** 2
     + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2) + 19.8 * (x[1] - 1) * (x[3] - 1),
     [], [-3.0, -1.0, -3.0, -1.0], 0.0, lb=-10.0, ub=10.0)
_reg("HS41", 4, lambda x: 2 - x[0] * x[1] * x[2], [eq(lambda x: x[0] + 2 * x[1] + 2 * x[2] - x[3])],
     [2.0, 2.0, 2.0, 2.0], 52.0 / 27.0, lb=0.0, ub=[1.0, 1.0, 1.0, 2.0])
_reg("HS43", 4, lambda x: x[0] ** 2 + x[1] ** 2 + 2 * x[2] ** 2 + x[3] ** 2 - 5 * x[0] - 5 * x[1]
     - 21 * x[2] + 7 * x[3],
     [ge(lambda x: 8 - x[0] ** 2 - x[1] ** 2 - x[2] ** 2 - x[3] ** 2 - x[0] + x[1] - x[2] + x[3]),
      ge(lambda x: 10 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - 2 * x[3] ** 2 + x[0] + x[3]),
      ge(lambda x: 5 - 2 * x[0] ** 2 - x[1] ** 2 - x[2] ** 2 - 2 * x[0] + x[1] + x[3])],
     [0.0, 0.0, 0.0, 0.0], -44.0)
_reg("HS44", 4, lambda x: x[0] - x[1] - x[2] - x[0] * x[2] + x[0] * x[3] + x[1] * x[2]
     - x[1] * x[3],
     [ge(lambda x: 8 - x[0] - 2 * x[1]), ge(lambda x: 12 - 4 * x[0] - x[1]),
      ge(lambda x: 12 - 3 * x[0] - 4 * x[1]), ge(lambda x: 8 - 2 * x[2] - x[3]),
      ge(lambda x: 8 - x[2] - 2 * x[3]), ge(lambda x: 5 - x[2] - x[3])],
     [0.0, 0.0, 0.0, 0.0], -15.0, lb=0.0)
_reg("HS45", 5, lambda x: 2 - x[0] * x[1] * x[2] * x[3] * x[4] / 120, [], [2.0] * 5, 1.0,
     lb=0.0, ub=[1.0, 2.0, 3.0, 4.0, 5.0])

# --- 53-76 -----------------------------------------------------------------------------
_reg("HS53", 5, lambda x: (x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2
     + (x[4] - 1) ** 2,
     [eq(lambda x: x[0] + 3 * x[1]), eq(lambda x: x[2] + x[3] - 2 * x[4]),
      eq(lambda x: x[1] - x[4])],
     [2.0] * 5, 176.0 / 43.0, lb=-10.0, ub=10.0)
_reg("HS55", 6, lambda x: x[0] + 2 * x[1] + 4 * x[4] + exp(x[0] * x[3]),
     [eq(lambda x: x[0] + 2 * x[1] + 5 * x[4] - 6), eq(lambda x: x[0] + x[1] + x[2] - 3),
      eq(lambda x: x[3] + x[4] + x[5] - 2), eq(lambda x: x[0] + x[3] - 1),
      eq(lambda x: x[1] + x[4] - 2), eq(lambda x: x[2] + x[5] - 2)],
     [1.0, 2.0, 0.0, 0.0, 0.0, 2.0], 19.0 / 3.0, lb=0.0, ub=[1.0, INF, INF, 1.0, INF, INF])
_reg("HS60", 3, lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4,
     [eq(lambda x: x[0] * (1 + x[1] ** 2) + x[2] ** 4 - 4 - 3 * math.sqrt(2.0))],
     [2.0, 2.0, 2.0], 0.0325682003, lb=-10.0, ub=10.0)
_reg("HS62", 3, lambda x: -32.174 * (
    255 * log((x[0] + x[1] + x[2] + 0.03) / (0.09 * x[0] + x[1] + x[2] + 0.03))
    + 280 * log((x[1] + x[2] + 0.03) / (0.07 * x[1] + x[2] + 0.03))
    + 290 * log((x[2] + 0.03) / (0.13 * x[2] + 0.03))),
     [eq(lambda x: x[0] + x[1] + x[2] - 1)], [0.7, 0.2, 0.1], -26272.514, lb=0.0, ub=1.0)
_reg("HS63", 3, lambda x: 1000 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - x[0] * x[1] - x[0] * x[2],
     [eq(lambda x: 8 * x[0] + 14 * x[1] + 7 * x[2] - 56),
      eq(lambda x: x[0] ** 2 + x[1] ** 2 + x[2] ** 2 - 25)],
     [2.0, 2.0, 2.0], 961.7151721, lb=0.0)
_reg("HS64", 3, lambda x: 5 * x[0] + 50000 / x[0] + 20 * x[1] + 72000 / x[1] + 10 * x[2]
     + 144000 / x[2],
     [ge(lambda x: 1 - 4 / x[0] - 32 / x[1] - 120 / x[2])], [1.0, 1.0, 1.0], 6299.842428,
     lb=1e-5)
_reg("HS65", 3, lambda x: (x[0] - x[1]) ** 2 + (x[0] + x[1] - 10) ** 2 / 9 + (x[2] - 5) ** 2,
     [ge(lambda x: 48 - x[0] ** 2 - x[1] ** 2 - x[2] ** 2)], [-5.0, 5.0, 0.0], 0.9535288567,
     lb=[-4.5, -4.5, -5.0], ub=[4.5, 4.5, 5.0])
_reg("HS66", 3, lambda x: 0.2 * x[2] - 0.8 * x[0],
     [ge(lambda x: x[1] - exp(x[0])), ge(lambda x: x[2] - exp(x[1]))],
     [0.0, 1.05, 2.9], 0.5181632741, lb=0.0, ub=[100.0, 100.0, 10.0])
_reg("HS71", 4, lambda x: x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2],
     [ge(lambda x: x[0] * x[1] * x[2] * x[3] - 25),
      eq(lambda x: x[0] ** 2 + x[1] ** 2 + x[2] ** 2 + x[3] ** 2 - 40)],
     [1.0, 5.0, 5.0, 1.0], 17.0140173, lb=1.0, ub=5.0)
_reg("HS72", 4, lambda x: 1 + x[0] + x[1] + x[2] + x[3],
     [ge(lambda x: 0.0401 - 4 / x[0] - 2.25 / x[1] - 1 / x[2] - 0.25 / x[3]),
      ge(lambda x: 0.010085 - 0.16 / x[0] - 0.36 / x[1] - 0.64 / x[2] - 0.64 / x[3])],
     [1.0] * 4, 727.67937, lb=0.001, ub=[4e5, 3e5, 2e5, 1e5])
_reg("HS73", 4, lambda x: 24.55 * x[0] + 26.75 * x[1] + 39 * x[2] + 40.5 * x[3],
     [ge(lambda x: 2.3 * x[0] + 5.6 * x[1] + 11.1 * x[2] + 1.3 * x[3] - 5),
      ge(lambda x: 12 * x[0] + 11.9 * x[1] + 41.8 * x[2] + 52.1 * x[3] - 21 - 1.645 * sqrt(
          0.28 * x[0] ** 2 + 0.19 * x[1] ** 2 + 20.5 * x[2] ** 2 + 0.62 * x[3] ** 2)),
      eq(lambda x: x[0] + x[1] + x[2] + x[3] - 1)],
     [1.0] * 4, 29.894378, lb=0.0)


def _hs74(a):
    return [ge(lambda x: x[3] - x[2] + a), ge(lambda x: x[2] - x[3] + a),
            eq(lambda x: 1000 * sin(-x[2] - 0.25) + 1000 * sin(-x[3] - 0.25) + 894.8 - x[0]),
            eq(lambda x: 1000 * sin(x[2] - 0.25) + 1000 * sin(x[2] - x[3] - 0.25) + 894.8 - x[1]),
            eq(lambda x: 1000 * sin(x[3] - 0.25) + 1000 * sin(x[3] - x[2] - 0.25) + 1294.8)]


def _f74(x):
    return 3 * x[0] + 1e-6 * x[0] ** 3 + 2 * x[1] + 2e-6 / 3 * x[1] ** 3


_reg("HS74", 4, _f74, _hs74(0.55), [0.0] * 4, 5126.4981,
     lb=[0.0, 0.0, -0.55, -0.55], ub=[1200.0, 1200.0, 0.55, 0.55])
_reg("HS75", 4, _f74, _hs74(0.48), [0.0] * 4, 5174.4129,
     lb=[0.0, 0.0, -0.48, -0.48], ub=[1200.0, 1200.0, 0.48, 0.48])
_reg("HS76", 4, lambda x: x[0] ** 2 + 0.5 * x[1] ** 2 + x[2] ** 2 + 0.5 * x[3] ** 2 - x[0] * x[2]
     + x[2] * x[3] - x[0] - 3 * x[1] + x[2] - x[3],
     [ge(lambda x: 5 - x[0] - 2 * x[1] - x[2] - x[3]),
      ge(lambda x: 4 - 3 * x[0] - x[1] - 2 * x[2] + x[3]),
      ge(lambda x: x[1] + 4 * x[2] - 1.5)],
     [0.5] * 4, -4.681818181, lb=0.0)

# --- 80-113 ----------------------------------------------------------------------------


def _hs80_cons():
    return [eq(lambda x: x[0] ** 2 + x[1] ** 2 + x[2] ** 2 + x[3] ** 2 + x[4] ** 2 - 10),
            eq(lambda x: x[1] * x[2] - 5 * x[3] * x[4]),
            eq(lambda x: x[0] ** 3 + x[1] ** 3 + 1)]


_B80 = dict(lb=[-2.3, -2.3, -3.2, -3.2, -3.2], ub=[2.3, 2.3, 3.2, 3.2, 3.2])
_reg("HS80", 5, lambda x: exp(x[0] * x[1] * x[2] * x[3] * x[4]), _hs80_cons(),
     [-2.0, 2.0, 2.0, -1.0, -1.0], 0.0539498478, **_B80)
_reg("HS81", 5, lambda x: exp(x[0] * x[1] * x[2] * x[3] * x[4])
     - 0.5 * (x[0] ** 3 + x[1] ** 3 + 1) ** 2, _hs80_cons(),
     [-2.0, 2.0, 2.0, -1.0, -1.0], 0.0539498478, **_B80)
_reg("HS83", 5, lambda x: 5.3578547 * x[2] ** 2 + 0.8356891 * x[0] * x[4] + 37.293239 * x[0]
     - 40792.141,
     [(lambda x: 85.334407 + 0.0056858 * x[1] * x[4] + 0.0006262 * x[0] * x[3]
       - 0.0022053 * x[2] * x[4], 0.0, 92.0),
      (lambda x: 80.51249 + 0.0071317 * x[1] * x[4] + 0.0029955 * x[0] * x[1]
       + 0.0021813 * x[2] ** 2, 90.0, 110.0),
      (lambda x: 9.300961 + 0.0047026 * x[2] * x[4] + 0.0012547 * x[0] * x[2]
       + 0.0019085 * x[2] * x[3], 20.0, 25.0)],
     [78.0, 33.0, 27.0, 27.0, 27.0], -30665.53867,
     lb=[78.0, 33.0, 27.0, 27.0, 27.0], ub=[102.0, 45.0, 45.0, 45.0, 45.0])
_reg("HS93", 6, lambda x: 0.0204 * x[0] * x[3] * (x[0] + x[1] + x[2])
     + 0.0187 * x[1] * x[2] * (x[0] + 1.57 * x[1] + x[3])
     + 0.0607 * x[0] * x[3] * x[4] ** 2 * (x[0] + x[1] + x[2])
     + 0.0437 * x[1] * x[2] * x[5] ** 2 * (x[0] + 1.57 * x[1] + x[3]),
     [ge(lambda x: 0.001 * x[0] * x[1] * x[2] * x[3] * x[4] * x[5] - 2.07),
      ge(lambda x: 1 - 0.00062 * x[0] * x[3] * x[4] ** 2 * (x[0] + x[1] + x[2])
         - 0.00058 * x[1] * x[2] * x[5] ** 2 * (x[0] + 1.57 * x[1] + x[3]))],
     [5.54, 4.4, 12.02, 11.82, 0.702, 0.852], 135.075961, lb=0.0)
_reg("HS100", 7, lambda x: (x[0] - 10) ** 2 + 5 * (x[1] - 12) ** 2 + x[2] ** 4
     + 3 * (x[3] - 11) ** 2 + 10 * x[4] ** 6 + 7 * x[5] ** 2 + x[6] ** 4 - 4 * x[5] * x[6]
     - 10 * x[5] - 8 * x[6],
     [ge(lambda x: 127 - 2 * x[0] ** 2 - 3 * x[1] ** 4 - x[2] - 4 * x[3] ** 2 - 5 * x[4]),
      ge(lambda x: 282 - 7 * x[0] - 3 * x[1] - 10 * x[2] ** 2 - x[3] + x[4]),
      ge(lambda x: 196 - 23 * x[0] - x[1] ** 2 - 6 * x[5] ** 2 + 8 * x[6]),
      ge(lambda x: -4 * x[0] ** 2 - x[1] ** 2 + 3 * x[0] * x[1] - 2 * x[2] ** 2 - 5 * x[5]
         + 11 * x[6])],
     [1.0, 2.0, 0.0, 4.0, 0.0, 1.0, 1.0], 680.6300573)


def _f104(x):
    return (0.4 * x[0] ** 0.67 * x[6] ** -0.67 + 0.4 * x[1] ** 0.67 * x[7] ** -0.67
            + 10 - x[0] - x[1])


_reg("HS104", 8, _f104,
     [ge(lambda x: 1 - 0.0588 * x[4] * x[6] - 0.1 * x[0]),
      ge(lambda x: 1 - 0.0588 * x[5] * x[7] - 0.1 * x[0] - 0.1 * x[1]),
      ge(lambda x: 1 - 4 * x[2] / x[4] - 2 * x[2] ** -0.71 / x[4]
         - 0.0588 * x[2] ** -1.3 * x[6]),
      ge(lambda x: 1 - 4 * x[3] / x[5] - 2 * x[3] ** -0.71 / x[5]
         - 0.0588 * x[3] ** -1.3 * x[7]),
      (_f104, 0.1, 4.2)],
     [6.0, 3.0, 0.4, 0.2, 6.0, 6.0, 1.0, 0.5], 3.9511634396, lb=0.1, ub=10.0)
_reg("HS106", 8, lambda x: x[0] + x[1] + x[2],
     [ge(lambda x: 1 - 0.0025 * (x[3] + x[5])),
      ge(lambda x: 1 - 0.0025 * (x[4] + x[6] - x[3])),
      ge(lambda x: 1 - 0.01 * (x[7] - x[4])),
      ge(lambda x: x[0] * x[5] - 833.33252 * x[3] - 100 * x[0] + 83333.333),
      ge(lambda x: x[1] * x[6] - 1250 * x[4] - x[1] * x[3] + 1250 * x[3]),
      ge(lambda x: x[2] * x[7] - 1250000 - x[2] * x[4] + 2500 * x[4])],
     # the 1981 book prints 7049.330923; feasible points with f = 7049.2480205 exist (the
     # value of Schittkowski's later, corrected listings), so that is the optimum used
     [5000.0, 5000.0, 5000.0, 200.0, 350.0, 150.0, 225.0, 425.0], 7049.2480205,
     lb=[100.0, 1000.0, 1000.0, 10.0, 10.0, 10.0, 10.0, 10.0],
     ub=[10000.0, 10000.0, 10000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0])
_reg("HS108", 9, lambda x: -0.5 * (x[0] * x[3] - x[1] * x[2] + x[2] * x[8] - x[4] * x[8]
                                   + x[4] * x[7] - x[5] * x[6]),
     [ge(lambda x: 1 - x[2] ** 2 - x[3] ** 2), ge(lambda x: 1 - x[8] ** 2),
      ge(lambda x: 1 - x[4] ** 2 - x[5] ** 2), ge(lambda x: 1 - x[0] ** 2 - (x[1] - x[8]) ** 2),
      ge(lambda x: 1 - (x[0] - x[4]) ** 2 - (x[1] - x[5]) ** 2),
      ge(lambda x: 1 - (x[0] - x[6]) ** 2 - (x[1] - x[7]) ** 2),
      ge(lambda x: 1 - (x[2] - x[4]) ** 2 - (x[3] - x[5]) ** 2),
      ge(lambda x: 1 - (x[2] - x[6]) ** 2 - (x[3] - x[7]) ** 2),
      ge(lambda x: 1 - x[6] ** 2 - (x[7] - x[8]) ** 2),
      ge(lambda x: x[0] * x[3] - x[1] * x[2]), ge(lambda x: x[2] * x[8]),
      ge(lambda x: -x[4] * x[8]), ge(lambda x: x[4] * x[7] - x[5] * x[6])],
     [1.0] * 9, -0.5 * S3, lb=[-INF] * 8 + [0.0])
_reg("HS110", 10, lambda x: sum(log(x[i] - 2) ** 2 + log(10 - x[i]) ** 2 for i in range(10))
     - (x[0] * x[1] * x[2] * x[3] * x[4] * x[5] * x[6] * x[7] * x[8] * x[9]) ** 0.2,
     [], [9.0] * 10, -45.77846971, lb=2.001, ub=9.999)

_C111 = [-6.089, -17.164, -34.054, -5.914, -24.721, -14.986, -24.1, -10.708, -26.662, -22.179]


def _f111(x):
    e = [exp(t) for t in x]
    lse = log(sum(e))
    return sum(e[j] * (_C111[j] + x[j] - lse) for j in range(10))


_reg("HS111", 10, _f111,
     [eq(lambda x: exp(x[0]) + 2 * exp(x[1]) + 2 * exp(x[2]) + exp(x[5]) + exp(x[9]) - 2),
      eq(lambda x: exp(x[3]) + 2 * exp(x[4]) + exp(x[5]) + exp(x[6]) - 1),
      eq(lambda x: exp(x[2]) + exp(x[6]) + exp(x[7]) + 2 * exp(x[8]) + exp(x[9]) - 1)],
     [-2.3] * 10, -47.76109026, lb=-100.0, ub=100.0)


def _f112(x):
    s = sum(x)
    return sum(x[j] * (_C111[j] + log(x[j] / s)) for j in range(10))


_reg("HS112", 10, _f112,
     [eq(lambda x: x[0] + 2 * x[1] + 2 * x[2] + x[5] + x[9] - 2),
      eq(lambda x: x[3] + 2 * x[4] + x[5] + x[6] - 1),
      eq(lambda x: x[2] + x[6] + x[7] + 2 * x[8] + x[9] - 1)],
     [0.1] * 10, -47.76109026, lb=1e-6)
_reg("HS113", 10, lambda x: x[0] ** 2 + x[1] ** 2 + x[0] * x[1] - 14 * x[0] - 16 * x[1]
     + (x[2] - 10) ** 2 + 4 * (x[3] - 5) ** 2 + (x[4] - 3) ** 2 + 2 * (x[5] - 1) ** 2
     + 5 * x[6] ** 2 + 7 * (x[7] - 11) ** 2 + 2 * (x[8] - 10) ** 2 + (x[9] - 7) ** 2 + 45,
     [ge(lambda x: 105 - 4 * x[0] - 5 * x[1] + 3 * x[6] - 9 * x[7]),
      ge(lambda x: -10 * x[0] + 8 * x[1] + 17 * x[6] - 2 * x[7]),
      ge(lambda x: 8 * x[0] - 2 * x[1] - 5 * x[8] + 2 * x[9] + 12),
      ge(lambda x: -3 * (x[0] - 2) ** 2 - 4 * (x[1] - 3) ** 2 - 2 * x[2] ** 2 + 7 * x[3] + 120),
      ge(lambda x: -5 * x[0] ** 2 - 8 * x[1] - (x[2] - 6) ** 2 + 2 * x[3] + 40),
      ge(lambda x: -0.5 * (x[0] - 8) ** 2 - 2 * (x[1] - 4) ** 2 - 3 * x[4] ** 2 + x[5] + 30),
      ge(lambda x: -x[0] ** 2 - 2 * (x[1] - 2) ** 2 + 2 * x[0] * x[1] - 14 * x[4] + 6 * x[5]),
      ge(lambda x: 3 * x[0] - 6 * x[1] - 12 * (x[8] - 8) ** 2 + 7 * x[9])],
     [2.0, 3.0, 5.0, 5.0, 1.0, 2.0, 7.0, 3.0, 6.0, 10.0], 24.3062091)

#: names of the collection, in numeric order
HS_INEQ_NAMES = tuple(DEFS)


def hock_schittkowski_ineq() -> Dict[str, InequalityProblem]:
    """Hock-Schittkowski problems with inequality constraints and/or bounds.

    Returns a dict name -> :class:`InequalityProblem` in numeric order; ``f_star`` is the
    published optimal value.

    Examples
    --------
    >>> from adasolve.problems import hock_schittkowski_ineq
    >>> p = hock_schittkowski_ineq()["HS35"]
    >>> p.n, p.m, round(p.f_star, 6)
    (3, 1, 0.111111)
    """
    return {k: DEFS[k]() for k in HS_INEQ_NAMES}
