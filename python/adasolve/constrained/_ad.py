"""Second-order forward-mode differentiation (sparse) for the small test problems.

Each problem is written once, as plain arithmetic on scalars; evaluating it on
:class:`Dual2` numbers (value, gradient, Hessian) yields exact first and second
derivatives (to rounding), so no derivative is typed by hand. Cost is O(n^2)
per operation, which is fine for the small collection problems (n <= ~100);
the scalable problems carry hand-written sparse derivatives instead.
"""

from __future__ import annotations

import math

import numpy as np


def _lin(a, x, b, y):
    """a x + b y for sparse vectors/matrices stored as dicts (None = zero)."""
    if not y or b == 0.0:
        return {k: a * t for k, t in x.items()} if x else None
    if not x or a == 0.0:
        return {k: b * t for k, t in y.items()}
    out = {k: a * t for k, t in x.items()}
    for k, t in y.items():
        out[k] = out.get(k, 0.0) + b * t
    return out


def _scaled_outer(d, g):
    """Upper triangle of d * g g^T as a dict {(i, j): value}, i <= j."""
    items = sorted(g.items())
    out = {}
    for a, (i, gi) in enumerate(items):
        s = d * gi
        for j, gj in items[a:]:
            out[(i, j)] = s * gj
    return out


def _sym_outer(g, h):
    """Upper triangle of g h^T + h g^T as a dict."""
    out = {}
    for i, gi in g.items():
        for j, hj in h.items():
            key = (i, j) if i <= j else (j, i)
            val = gi * hj
            if i == j:
                val += val
            out[key] = out.get(key, 0.0) + val
    return out


class Dual2:
    """A scalar with its gradient and Hessian, both sparse (dicts).

    ``g`` maps variable index -> derivative, ``H`` maps (i, j), i <= j, -> second
    derivative (None or empty: zero). The small problems' intermediate values depend on a
    few variables each, so dict arithmetic is several times cheaper than n x n arrays.
    Use :meth:`grad` and :meth:`hessian` for dense arrays.
    """

    __slots__ = ("v", "g", "H", "n")
    __array_priority__ = 100
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    def __init__(self, v, g, H, n):
        self.v = float(v)
        self.g = g
        self.H = H
        self.n = n

    def grad(self):
        out = np.zeros(self.n)
        for i, t in self.g.items():
            out[i] = t
        return out

    def hessian(self):
        out = np.zeros((self.n, self.n))
        if self.H:
            for (i, j), t in self.H.items():
                out[i, j] = t
                out[j, i] = t
        return out

    # chain rule for a unary function with derivatives d1, d2 at self.v
    def _un(self, f0, d1, d2):
        H = _scaled_outer(d2, self.g) if d2 != 0.0 else None
        if self.H:
            H = _lin(1.0, H, d1, self.H)
        return Dual2(f0, {k: d1 * t for k, t in self.g.items()}, H, self.n)

    def __neg__(self):
        return Dual2(-self.v, {k: -t for k, t in self.g.items()},
                     {k: -t for k, t in self.H.items()} if self.H else None, self.n)

    def __pos__(self):
        return self

    def __add__(self, o):
        if isinstance(o, Dual2):
            return Dual2(self.v + o.v, _lin(1.0, self.g, 1.0, o.g) or {},
                         _lin(1.0, self.H, 1.0, o.H), self.n)
        return Dual2(self.v + float(o), self.g, self.H, self.n)

    __radd__ = __add__

    def __sub__(self, o):
        if isinstance(o, Dual2):
            return Dual2(self.v - o.v, _lin(1.0, self.g, -1.0, o.g) or {},
                         _lin(1.0, self.H, -1.0, o.H), self.n)
        return Dual2(self.v - float(o), self.g, self.H, self.n)

    def __rsub__(self, o):
        return Dual2(float(o), {}, None, self.n) - self

    def __mul__(self, o):
        if isinstance(o, Dual2):
            H = _sym_outer(self.g, o.g)
            if o.H:
                H = _lin(1.0, H, self.v, o.H)
            if self.H:
                H = _lin(1.0, H, o.v, self.H)
            return Dual2(self.v * o.v, _lin(self.v, o.g, o.v, self.g) or {}, H, self.n)
        o = float(o)
        return Dual2(self.v * o, {k: o * t for k, t in self.g.items()},
                     {k: o * t for k, t in self.H.items()} if self.H else None, self.n)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, Dual2):
            return self * o._un(1.0 / o.v, -1.0 / o.v**2, 2.0 / o.v**3)
        return self * (1.0 / float(o))

    def __rtruediv__(self, o):
        return float(o) * self._un(1.0 / self.v, -1.0 / self.v**2, 2.0 / self.v**3)

    def __pow__(self, p):
        if isinstance(p, Dual2):
            return exp(p * log(self))
        if p == 0:
            return Dual2(1.0, {}, None, self.n)
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
    return [Dual2(x[i], {i: 1.0}, None, n) for i in range(n)]


def as_dual(y, n):
    if isinstance(y, Dual2):
        return y
    return Dual2(float(y), {}, None, n)
