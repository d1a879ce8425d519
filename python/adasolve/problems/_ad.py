"""Second-order forward-mode differentiation for the small test problems.

Each problem is written once, as plain arithmetic on scalars; evaluating it on
:class:`Dual2` numbers (value, gradient, Hessian) yields exact first and second
derivatives (to rounding), so no derivative is typed by hand. Cost is O(n^2)
per operation, which is fine for the small collection problems (n <= ~100);
the scalable problems carry hand-written sparse derivatives instead.
"""

from __future__ import annotations

import math

import numpy as np


class Dual2:
    """A scalar with its gradient ``g`` (n,) and Hessian ``H`` (n, n)."""

    __slots__ = ("v", "g", "H")
    __array_priority__ = 100

    def __init__(self, v, g, H):
        self.v = float(v)
        self.g = g
        self.H = H

    # chain rule for a unary function with derivatives d1, d2 at self.v
    def _un(self, f0, d1, d2):
        return Dual2(f0, d1 * self.g, d1 * self.H + d2 * np.outer(self.g, self.g))

    def __neg__(self):
        return Dual2(-self.v, -self.g, -self.H)

    def __pos__(self):
        return self

    def __add__(self, o):
        if isinstance(o, Dual2):
            return Dual2(self.v + o.v, self.g + o.g, self.H + o.H)
        return Dual2(self.v + o, self.g, self.H)

    __radd__ = __add__

    def __sub__(self, o):
        if isinstance(o, Dual2):
            return Dual2(self.v - o.v, self.g - o.g, self.H - o.H)
        return Dual2(self.v - o, self.g, self.H)

    def __rsub__(self, o):
        return Dual2(o - self.v, -self.g, -self.H)

    def __mul__(self, o):
        if isinstance(o, Dual2):
            go = np.outer(self.g, o.g)
            return Dual2(self.v * o.v, self.v * o.g + o.v * self.g,
                         self.v * o.H + o.v * self.H + go + go.T)
        return Dual2(self.v * o, self.g * o, self.H * o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, Dual2):
            return self * o._un(1.0 / o.v, -1.0 / o.v**2, 2.0 / o.v**3)
        return Dual2(self.v / o, self.g / o, self.H / o)

    def __rtruediv__(self, o):
        return o * self._un(1.0 / self.v, -1.0 / self.v**2, 2.0 / self.v**3)

    def __pow__(self, p):
        if isinstance(p, Dual2):
            return exp(p * log(self))
        if p == 0:
            return Dual2(1.0, 0 * self.g, 0 * self.H)
        if p == 1:
            return self
        if float(p).is_integer() and p > 0:
            # integer powers stay defined for negative bases
            p = int(p)
            v = self.v
            return self._un(v**p, p * v ** (p - 1), p * (p - 1) * v ** (p - 2) if p >= 2 else 0.0)
        v = self.v
        return self._un(v**p, p * v ** (p - 1), p * (p - 1) * v ** (p - 2))

    def __rpow__(self, base):
        return exp(self * math.log(base))

    def __float__(self):
        return self.v


def _lift(fv, d1, d2):
    def f(x):
        if isinstance(x, Dual2):
            v = x.v
            return x._un(fv(v), d1(v), d2(v))
        return fv(x)

    return f


sin = _lift(math.sin, math.cos, lambda v: -math.sin(v))
cos = _lift(math.cos, lambda v: -math.sin(v), lambda v: -math.cos(v))
exp = _lift(math.exp, math.exp, math.exp)
log = _lift(math.log, lambda v: 1.0 / v, lambda v: -1.0 / v**2)
sqrt = _lift(math.sqrt, lambda v: 0.5 / math.sqrt(v), lambda v: -0.25 / v**1.5)
atan = _lift(math.atan, lambda v: 1.0 / (1.0 + v * v), lambda v: -2.0 * v / (1.0 + v * v) ** 2)


def _tanh_d1(v):
    t = math.tanh(v)
    return 1.0 - t * t


def _tanh_d2(v):
    t = math.tanh(v)
    return -2.0 * t * (1.0 - t * t)


tanh = _lift(math.tanh, _tanh_d1, _tanh_d2)


def atan2(y, x):
    """``atan2`` whose derivatives are those of ``atan(y / x)`` (branch-free)."""
    if not isinstance(y, Dual2) and not isinstance(x, Dual2):
        return math.atan2(y, x)
    v = math.atan2(float(y), float(x))
    t = atan(y / x) if abs(float(x)) >= abs(float(y)) else -atan(x / y)
    return t - float(t) + v


def variables(x):
    """Seed ``x`` as independent Dual2 variables."""
    n = len(x)
    eye = np.eye(n)
    zero = np.zeros((n, n))
    return [Dual2(x[i], eye[i], zero) for i in range(n)]


def as_dual(y, n):
    if isinstance(y, Dual2):
        return y
    return Dual2(float(y), np.zeros(n), np.zeros((n, n)))
