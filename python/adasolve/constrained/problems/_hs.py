"""Equality-constrained Hock-Schittkowski and Boggs-Tolle problems.

Sources: W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming
Codes* (Springer, 1981); P. T. Boggs and J. W. Tolle, "A strategy for global
convergence in a sequential quadratic programming algorithm", SINUM 26 (1989);
the CUTEst SIF files of the same names. Problems are written on scalars and
differentiated exactly by :mod:`._ad`.
"""

from __future__ import annotations

import math

from .._ad import sin
from ._base import from_scalar_code

S2 = math.sqrt(2.0)
HS = "Hock & Schittkowski (1981) / CUTEst SIF"
BT = "Boggs & Tolle (1989) / CUTEst SIF"


def _p(name, f, c, x0, f_star, x_star=None, source=HS, notes=""):
    return lambda: from_scalar_code(name, f, c, x0, f_star=f_star, x_star=x_star,
                                    source=source, notes=notes)


DEFS = {}


def _reg(name, *a, **k):
    DEFS[name] = _p(name, *a, **k)


_reg("HS6", lambda x: (1 - x[0]) ** 2, lambda x: [10 * (x[1] - x[0] ** 2)],
     [-1.2, 1.0], 0.0, [1.0, 1.0])
_reg("HS7", lambda x: _log(1 + x[0] ** 2) - x[1],
     lambda x: [(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4], [2.0, 2.0], -math.sqrt(3.0),
     [0.0, math.sqrt(3.0)])
_reg("HS26", lambda x: (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4,
     lambda x: [(1 + x[1] ** 2) * x[0] + x[2] ** 4 - 3], [-2.6, 2.0, 2.0], 0.0,
     [1.0, 1.0, 1.0])
_reg("HS27", lambda x: 0.01 * (x[0] - 1) ** 2 + (x[1] - x[0] ** 2) ** 2,
     lambda x: [x[0] + x[2] ** 2 + 1], [2.0, 2.0, 2.0], 0.04, [-1.0, 1.0, 0.0])
_reg("HS28", lambda x: (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2,
     lambda x: [x[0] + 2 * x[1] + 3 * x[2] - 1], [-4.0, 1.0, 1.0], 0.0, [0.5, -0.5, 0.5])
_reg("HS39", lambda x: -x[0],
     lambda x: [x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2],
     [2.0] * 4, -1.0, [1.0, 1.0, 0.0, 0.0])
_reg("HS40", lambda x: -x[0] * x[1] * x[2] * x[3],
     lambda x: [x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]],
     [0.8] * 4, -0.25,
     [2 ** (-1 / 3), 2 ** (-0.5), 2 ** (-11 / 12), 2 ** (-0.25)])
_reg("HS42", lambda x: (x[0] - 1) ** 2 + (x[1] - 2) ** 2 + (x[2] - 3) ** 2 + (x[3] - 4) ** 2,
     lambda x: [x[0] - 2, x[2] ** 2 + x[3] ** 2 - 2], [1.0] * 4, 28 - 10 * S2,
     [2.0, 2.0, 0.6 * S2, 0.8 * S2])
_reg("HS46", lambda x: (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6,
     lambda x: [x[0] ** 2 * x[3] + sin(x[3] - x[4]) - 1, x[1] + x[2] ** 4 * x[3] ** 2 - 2],
     [0.5 * S2, 1.75, 0.5, 2.0, 2.0], 0.0, [1.0] * 5)
_reg("HS47", lambda x: (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3 + (x[2] - x[3]) ** 4
     + (x[3] - x[4]) ** 4,
     lambda x: [x[0] + x[1] ** 2 + x[2] ** 3 - 3, x[1] - x[2] ** 2 + x[3] - 1, x[0] * x[4] - 1],
     [2.0, S2, -1.0, 2 - S2, 0.5], 0.0, [1.0] * 5)
_reg("HS48", lambda x: (x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2,
     lambda x: [x[0] + x[1] + x[2] + x[3] + x[4] - 5, x[2] - 2 * (x[3] + x[4]) + 3],
     [3.0, 5.0, -3.0, 2.0, -2.0], 0.0, [1.0] * 5)
_reg("HS49", lambda x: (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6,
     lambda x: [x[0] + x[1] + x[2] + 4 * x[3] - 7, x[2] + 5 * x[4] - 6],
     [10.0, 7.0, 2.0, -3.0, 0.8], 0.0, [1.0] * 5)
_reg("HS50", lambda x: (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4
     + (x[3] - x[4]) ** 2,
     lambda x: [x[0] + 2 * x[1] + 3 * x[2] - 6, x[1] + 2 * x[2] + 3 * x[3] - 6,
                x[2] + 2 * x[3] + 3 * x[4] - 6],
     [35.0, -31.0, 11.0, 5.0, -5.0], 0.0, [1.0] * 5)
_reg("HS51", lambda x: (x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2
     + (x[4] - 1) ** 2,
     lambda x: [x[0] + 3 * x[1] - 4, x[2] + x[3] - 2 * x[4], x[1] - x[4]],
     [2.5, 0.5, 2.0, -1.0, 0.5], 0.0, [1.0] * 5)
_reg("HS52", lambda x: (4 * x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2
     + (x[4] - 1) ** 2,
     lambda x: [x[0] + 3 * x[1], x[2] + x[3] - 2 * x[4], x[1] - x[4]],
     [2.0] * 5, 1859 / 349,
     [-33 / 349, 11 / 349, 180 / 349, -158 / 349, 11 / 349])
_A56 = math.asin(math.sqrt(1 / 4.2))
_B56 = math.asin(math.sqrt(5 / 7.2))
_reg("HS56", lambda x: -x[0] * x[1] * x[2],
     lambda x: [x[0] - 4.2 * sin(x[3]) ** 2, x[1] - 4.2 * sin(x[4]) ** 2,
                x[2] - 4.2 * sin(x[5]) ** 2, x[0] + 2 * x[1] + 2 * x[2] - 7.2 * sin(x[6]) ** 2],
     [1.0, 1.0, 1.0, _A56, _A56, _A56, _B56], -3.456,
     [2.4, 1.2, 1.2, math.asin(math.sqrt(2.4 / 4.2)), math.asin(math.sqrt(1.2 / 4.2)),
      math.asin(math.sqrt(1.2 / 4.2)), 0.5 * math.pi])
_reg("HS61", lambda x: 4 * x[0] ** 2 + 2 * x[1] ** 2 + 2 * x[2] ** 2 - 33 * x[0] + 16 * x[1]
     - 24 * x[2],
     lambda x: [3 * x[0] - 2 * x[1] ** 2 - 7, 4 * x[0] - x[2] ** 2 - 11],
     [0.0, 0.0, 0.0], -143.6461422, [5.32677016, -2.11899864, 3.21046424])
_reg("HS77", lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4
     + (x[4] - 1) ** 6,
     lambda x: [x[0] ** 2 * x[3] + sin(x[3] - x[4]) - 2 * S2, x[1] + x[2] ** 4 * x[3] ** 2 - 8 - S2],
     [2.0] * 5, 0.24150513,
     [1.166172, 1.182111, 1.380257, 1.506036, 0.6109203])
_reg("HS78", lambda x: x[0] * x[1] * x[2] * x[3] * x[4],
     lambda x: [x[0] ** 2 + x[1] ** 2 + x[2] ** 2 + x[3] ** 2 + x[4] ** 2 - 10,
                x[1] * x[2] - 5 * x[3] * x[4], x[0] ** 3 + x[1] ** 3 + 1],
     [-2.0, 1.5, 2.0, -1.0, -1.0], -2.91970041,
     [-1.717143, 1.595709, 1.827247, -0.7636413, -0.7636450])
_reg("HS79", lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2
     + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4,
     lambda x: [x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * S2, x[1] - x[2] ** 2 + x[3] + 2 - 2 * S2,
                x[0] * x[4] - 2],
     [2.0] * 5, 0.0787768209,
     [1.191127, 1.362603, 1.472818, 1.635017, 1.679081])
_reg("HS100LNP", lambda x: (x[0] - 10) ** 2 + 5 * (x[1] - 12) ** 2 + x[2] ** 4
     + 3 * (x[3] - 11) ** 2 + 10 * x[4] ** 6 + 7 * x[5] ** 2 + x[6] ** 4 - 4 * x[5] * x[6]
     - 10 * x[5] - 8 * x[6],
     lambda x: [2 * x[0] ** 2 + 3 * x[1] ** 4 + x[2] + 4 * x[3] ** 2 + 5 * x[4] - 127,
                -4 * x[0] ** 2 - x[1] ** 2 + 3 * x[0] * x[1] - 2 * x[2] ** 2 - 5 * x[5]
                + 11 * x[6]],
     [1.0, 2.0, 0.0, 4.0, 0.0, 1.0, 1.0], 680.630057374,
     [2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131, 1.594227],
     notes="HS100 with its first and fourth inequalities as equalities (CUTEst HS100LNP).")

# Boggs & Tolle
_reg("BT2", lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4,
     lambda x: [x[0] * (1 + x[1] ** 2) + x[2] ** 4 - 8.2426407],
     [10.0, 10.0, 10.0], 0.032568200, source=BT)
_reg("BT3", lambda x: (x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2
     + (x[4] - 1) ** 2,
     lambda x: [x[0] + 3 * x[1], x[2] + x[3] - 2 * x[4], x[1] - x[4]],
     [20.0] * 5, 176 / 43, source=BT,
     notes="Convex QP; exact optimum 176/43 = 4.0930232558 (the SIF comment prints 4.09301056).")
_reg("BT5", lambda x: 1000 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - x[0] * x[1] - x[0] * x[2],
     lambda x: [x[0] ** 2 + x[1] ** 2 + x[2] ** 2 - 25, 8 * x[0] + 14 * x[1] + 7 * x[2] - 56],
     [2.0, 2.0, 2.0], 961.715172, [3.512118, 0.2169879, 3.552171], source=BT)
_reg("BT9", lambda x: -x[0],
     lambda x: [x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2],
     [2.0] * 4, -1.0, [1.0, 1.0, 0.0, 0.0], source=BT)
_reg("BT10", lambda x: -x[0], lambda x: [x[1] - x[0] ** 3, x[0] ** 2 - x[1]],
     [2.0, 2.0], -1.0, [1.0, 1.0], source=BT)


def _log(t):
    from .._ad import log
    return log(t)


# ------------------------------------------------------------------ CUTEst SIF problems
SIF = "CUTEst SIF file (S2MPJ transcription, GrattonToint/S2MPJ sif/{})"


def _sif(name, f, c, x0, f_star, x_star=None, notes=""):
    _reg(name, f, c, x0, f_star, x_star, source=SIF.format(name + ".SIF"), notes=notes)


def _zero(x):
    return 0.0


_NE = "Nonlinear-equations variant: zero objective, f_star = 0."

_sif("BT6", lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4
     + (x[4] - 1) ** 6,
     lambda x: [x[3] * x[0] ** 2 + sin(x[3] - x[4]) - 2 * S2, x[1] + x[2] ** 4 * x[3] ** 2 - 8 - S2],
     [2.0] * 5, 0.24150513,
     notes="Same as HS77; the SIF comment quotes 0.277044924 (the BT paper's point, called "
           "infeasible there); from x0 the local minimum is HS77's 0.24150513.")
_sif("BT11", lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2
     + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4,
     lambda x: [x[0] + x[1] ** 2 + x[2] ** 3 - (-2 + math.sqrt(18.0)),
                x[1] + x[3] - x[2] ** 2 - (-2 + math.sqrt(8.0)), x[0] - x[4] - 2],
     [2.0] * 5, 0.824891647)
_sif("BT12", lambda x: 0.01 * x[0] ** 2 + x[1] ** 2,
     lambda x: [x[0] + x[1] - x[2] ** 2 - 25, x[0] ** 2 + x[1] ** 2 - x[3] ** 2 - 25,
                x[0] - x[4] ** 2 - 2],
     [15.811, 1.5811, 0.0, 15.083, 3.7164], 6.18811881)
_sif("HIMMELBA", _zero, lambda x: [(x[0] - 5) / 0.25, x[1] - 6], [8.0, 9.0], 0.0, [5.0, 6.0],
     notes=_NE)
_sif("BOOTH", _zero, lambda x: [x[0] + 2 * x[1] - 7, 2 * x[0] + x[1] - 5], [0.0, 0.0], 0.0,
     [1.0, 3.0], notes=_NE)
_sif("CUBENE", _zero, lambda x: [x[0] - 1, (x[1] - x[0] ** 3) / 0.1], [-1.2, 1.0], 0.0,
     [1.0, 1.0], notes=_NE + " Default N = 2.")
_sif("GENHS28", lambda x: sum((x[i] + x[i + 1]) ** 2 for i in range(9)),
     lambda x: [x[i] + 2 * x[i + 1] + 3 * x[i + 2] - 1 for i in range(8)],
     [-4.0] + [1.0] * 9, 0.927173692, notes="Default N = 10; f_star from an exact KKT solve "
     "(convex QP). The SIF's SOLTN line says 0.0, which is only a lower bound: f = 0 needs "
     "x_(i+1) = -x_i, which the constraints forbid.")
_sif("WAYSEA1NE", _zero, lambda x: [x[1] ** 4 + x[0] ** 6 - 17, 2 * x[0] + x[1] - 4],
     [1.0, 5.0], 0.0, notes=_NE)
_sif("WAYSEA2NE", _zero,
     lambda x: [2.5 * x[0] + 13 * x[1] - 4 * x[0] ** 2 - 4 * x[1] ** 2 - 9.340125, x[1] - 1],
     [1.0, 5.0], 0.0, [0.424861025, 1.0], notes=_NE)
_sif("RSNBRNE", _zero, lambda x: [(x[1] - x[0] ** 2) / 0.1, x[0] - 1], [-1.2, 1.0], 0.0,
     [1.0, 1.0], notes=_NE)
_sif("MWRIGHT", lambda x: x[0] ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3
     + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4,
     lambda x: [x[0] + x[1] ** 2 + x[2] ** 2 - (3 * S2 + 2), x[1] - x[2] ** 2 + x[3] - (2 * S2 - 2),
                x[0] * x[4] - 2],
     [-1.0, 2.0, 1.0, -2.0, -2.0], 24.9788095,
     notes="Several local minima (the SIF comment quotes 32.851791437); f_star "
           "is the one reached from x0 by SLSQP/trust-constr.")
_sif("ZANGWIL3", _zero, lambda x: [x[0] - x[1] + x[2], -x[0] + x[1] + x[2], x[0] + x[1] - x[2]],
     [100.0, -1.0, 2.5], 0.0, [0.0, 0.0, 0.0], notes=_NE)


def _helix(x):
    from .._ad import atan2, sqrt
    theta = atan2(x[1], x[0]) / (2 * math.pi)
    return [(x[2] - 10 * theta) / 0.1, (sqrt(x[0] ** 2 + x[1] ** 2) - 1) / 0.1, x[2]]


_sif("HELIXNE", _zero, _helix, [-1.0, 0.0, 0.0], 0.0, [1.0, 0.0, 0.0], notes=_NE)
_sif("GOTTFR", _zero, lambda x: [x[0] - 0.1136 * (x[0] + 3 * x[1]) * (1 - x[0]),
                                 x[1] + 7.5 * (2 * x[0] - x[1]) * (1 - x[1])],
     [0.5, 0.5], 0.0, notes=_NE)
_sif("HIMMELBC", _zero, lambda x: [x[0] ** 2 + x[1] - 11, x[0] + x[1] ** 2 - 7], [1.0, 1.0], 0.0,
     [3.0, 2.0], notes=_NE)
_sif("PRICE4NE", _zero, lambda x: [2 * x[0] ** 3 * x[1] - x[1] ** 3, 6 * x[0] - x[1] ** 2 + x[1]],
     [1.0, 5.0], 0.0, notes=_NE)
_sif("DENSCHNFNE", _zero, lambda x: [2 * (x[0] + x[1]) ** 2 + (x[0] - x[1]) ** 2 - 8,
                                     5 * x[0] ** 2 + (x[1] - 3) ** 2 - 9],
     [2.0, 0.0], 0.0, notes=_NE)

_sif("DENSCHNCNE", _zero, lambda x: [x[0] ** 2 + x[1] ** 2 - 2,
                                     _exp(x[0] - 1) + x[1] ** 3 - 2],
     [2.0, 3.0], 0.0, [1.0, 1.0], notes=_NE + " Residuals of DENSCHNC.SIF.")
_sif("SINVALNE", _zero, lambda x: [10.0 * (x[1] - sin(x[0])), 0.5 * x[0]],
     [4.712389, -1.0], 0.0, [0.0, 0.0],
     notes=_NE + " SINVALNE.SIF (F. Facchinei, M. Roma, Ph. Toint 1994) scales its groups by "
     "C = 0.1 and 2, so CUTEst evaluates c = (10 (x2 - sin x1), x1 / 2); checked against the "
     "sif2jax transcription (johannahaffner/sif2jax, _nonlinear_equations/sinvalne.py, "
     "tested there against pycutest). The SIF itself was not in the searchable copies.")


def _trigon1(x):
    n = len(x)
    cs = [_cos(t) for t in x]
    tot = sum(cs)
    return [tot - cs[i] + (i + 2) * cs[i] + (i + 1) * sin(x[i]) - (n + i + 1) for i in range(n)]


_sif("TRIGON1NE", _zero, _trigon1, [0.1] * 10, 0.0, [0.0] * 10,
     notes=_NE + " Checked against TRIGON1NE.SIF (ralna/SIF; N. Gould 2020): "
     "F(i) = sum_{j != i} cos x_j + (i + 1) cos x_i + i sin x_i - (N + i), default N = 10, "
     "x0 = 0.1, objective bound 0.")


def _morebv(x):
    n = len(x)
    h = 1.0 / (n + 1)
    xs = [0.0] + list(x) + [0.0]
    return [2 * xs[i] - xs[i - 1] - xs[i + 1] + 0.5 * h * h * (xs[i] + i * h + 1) ** 3
            for i in range(1, n + 1)]


_N_MB = 10
_sif("MOREBVNE", _zero, _morebv,
     [(i / (_N_MB + 1)) * (i / (_N_MB + 1) - 1) for i in range(1, _N_MB + 1)], 0.0,
     notes=_NE + " Checked against MOREBVNE.SIF (ralna/SIF; N. Gould 2015): default N = 10, "
     "h = 1/(N+1), x0_i = t_i (t_i - 1), G(i) = 2 x_i - x_(i-1) - x_(i+1) + h^2/2 "
     "(x_i + t_i + 1)^3. The SIF's last group reads X(I) where MOREBV.SIF has X(N); we code "
     "X(N) (the More-Garbow-Hillstrom equation), which SIFDecode may decode differently.")


def _inteq(x):
    n = len(x) - 2
    h = 1.0 / (n + 1)
    t = [j * h for j in range(n + 2)]
    a = [None] + [(x[j] + 1 + t[j]) ** 3 for j in range(1, n + 1)]
    out = [x[0]]
    for i in range(1, n + 1):
        s = x[i]
        for j in range(1, i + 1):
            s = s + 0.5 * h * (1 - t[i]) * t[j] * a[j]
        for j in range(i + 1, n + 1):
            s = s + 0.5 * h * t[i] * (1 - t[j]) * a[j]
        out.append(s)
    out.append(x[n + 1])
    return out


_N_IE = 10
_sif("INTEQNE", _zero, _inteq,
     [0.0] + [(i / (_N_IE + 1)) * (i / (_N_IE + 1) - 1) for i in range(1, _N_IE + 1)] + [0.0],
     0.0, notes=_NE + " INTEQNE.SIF with N = 10 (n = N + 2 = 12, boundary variables included).")


def _orthregb_data():
    a, b, c, cx, cy, cz = 9.0, 6.0, 7.0, 0.5, 0.5, 0.5
    return [(cx + a, cy + a, cz), (cx + b, cy - b, cz), (cx - a, cy - a, cz),
            (cx - b, cy + b, cz), (cx, cy, cz + c), (cx, cy, cz - c)]


_ORTH = _orthregb_data()


def _orth_f(x):
    s = 0.0
    for k, (xd, yd, zd) in enumerate(_ORTH):
        X, Y, Z = x[9 + 3 * k: 12 + 3 * k]
        s = s + (X - xd) ** 2 + (Y - yd) ** 2 + (Z - zd) ** 2
    return s


def _orth_c(x):
    h11, h12, h13, h22, h23, h33, g1, g2, g3 = x[:9]
    out = []
    for k in range(len(_ORTH)):
        X, Y, Z = x[9 + 3 * k: 12 + 3 * k]
        out.append(h11 * X * X + 2 * h12 * X * Y + h22 * Y * Y - 2 * g1 * X - 2 * g2 * Y
                   + 2 * h13 * X * Z + 2 * h23 * Y * Z + h33 * Z * Z - 2 * g3 * Z - 1)
    return out


_sif("ORTHREGB", _orth_f, _orth_c,
     [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0] + [t for p in _ORTH for t in p], 0.0,
     notes="Variables H11 H12 H13 H22 H23 H33 G1 G2 G3 then (X, Y, Z) of the 6 points; "
     "f_star = 0 from the SIF comment (an ellipsoid through the 6 data points).")


def _exp(t):
    from .._ad import exp
    return exp(t)


def _cos(t):
    from .._ad import cos
    return cos(t)


def mancinone(N: int = 100, alpha: int = 5, beta: float = 14.0, gamma: int = 3):
    """MANCINONE (CUTEst): c_i(x) = beta N x_i + sum_{j != i} e_ij(x_i) - (i - N/2)^gamma.

    ``e_ij(x) = v (sin^alpha(log v) + cos^alpha(log v))``, ``v = sqrt(x^2 + i/j)``. Each
    c_i depends on x_i only (diagonal Jacobian); derivatives are written out in closed
    form and vectorized over (i, j) because the dense forward mode would cost O(N^4).
    """
    import numpy as np

    from ._base import EqualityProblem

    n = int(N)
    idx = np.arange(1, n + 1, dtype=float)
    K = idx[:, None] / idx[None, :]            # i / j
    off = ~np.eye(n, dtype=bool)
    ci = (idx - n / 2.0) ** gamma
    bn = beta * n

    def _elems(x):
        q = x[:, None] ** 2 + K
        u = 0.5 * np.log(q)
        s, c = np.sin(u), np.cos(u)
        ev = np.exp(u)
        P = s**alpha + c**alpha
        P1 = alpha * (s ** (alpha - 1) * c - c ** (alpha - 1) * s)
        P2 = alpha * ((alpha - 1) * s ** (alpha - 2) * c * c - s**alpha
                      + (alpha - 1) * c ** (alpha - 2) * s * s - c**alpha)
        u1 = x[:, None] / q
        u2 = (K - x[:, None] ** 2) / q**2
        e = ev * P
        e_u = ev * (P + P1)
        e_uu = ev * (P + 2 * P1 + P2)
        return (np.where(off, e, 0).sum(1), np.where(off, e_u * u1, 0).sum(1),
                np.where(off, e_uu * u1**2 + e_u * u2, 0).sum(1))

    def cval(x):
        return bn * x + _elems(x)[0] - ci

    def cjac(x):
        return np.diag(bn + _elems(x)[1])

    def chess(x, v):
        return np.diag(v * _elems(x)[2])

    # starting point of the SIF file: x0_i = A (H_i + c_i) with H_i = sum_{j!=i} e_ij(0)
    A = -bn / (bn**2 - (alpha + 1) ** 2 * (n - 1) ** 2)
    x0 = A * (_elems(np.zeros(n))[0] + ci)
    x0.setflags(write=False)
    zero_n = np.zeros(n)
    return EqualityProblem(
        "MANCINONE", n, n, x0, lambda x: 0.0, lambda x: zero_n.copy(),
        lambda x, v: chess(x, v), cval, cjac, chess, 0.0, None,
        SIF.format("MANCINONE.SIF"),
        _NE + f" N = {n} (CUTEst's MANCINO default; S2MPJ's copy sets N = 10).")


DEFS["MANCINONE"] = mancinone

_reg("HIMMELBE", _zero, lambda x: [0.25 * (x[0] + x[1]) ** 2 - x[2], 1 - x[0], 1 - x[1]],
     [-1.2, 2.0, 0.0], 0.0, [1.0, 1.0, 1.0],
     source="Himmelblau (1972) problem 30 / CUTEst HIMMELBE.SIF (Ph. Toint 1989)",
     notes=_NE + " Checked against the sif2jax transcription of HIMMELBE.SIF "
     "(johannahaffner/sif2jax, _constrained_minimisation/himmelbe.py): same three equations, "
     "x0 = (-1.2, 2, 0), solution (1, 1, 1); the SIF itself was not in the searchable copies.")


# BA-L1: one Ladybug point (Bundle Adjustment in the Large) seen by 6 cameras; variables are
# the point (X, Y, Z) then per camera (RX, RY, RZ, TX, TY, TZ, KA, KB, F).
_BA_OBS = [(-332.65, 262.09), (-199.76, 166.7), (-253.06, 202.27), (58.13, 271.89),
           (238.22, 237.37), (317.55, 221.15)]
_BA_X0 = [-0.6120001572, 0.57175904776, -1.847081276,
          0.01574151594, -0.0127909362, -0.0044008498, -0.0340938396, -0.107513871,
          1.1202240291, -3.177064e-7, 5.882049e-13, 399.75152639,
          0.01597732412, -0.0252244646, -0.0094001416, -0.0085667661, -0.1218804907,
          0.7190133075, -3.780477e-7, 9.307431e-13, 402.01753386,
          0.01484625118, -0.0210628994, -0.001166948, -0.0249509707, -0.1139847055,
          0.92166020737, -3.295265e-7, 6.732885e-13, 400.40175368,
          0.01991666998, -1.22433082, 0.0119988756, -1.411897512, -0.1148065151,
          0.44915582738, 5.95875e-8, -2.48391e-13, 407.03024568,
          0.02082242153, -1.238434791, 0.01389314763, -1.049686225, -0.1299513286,
          0.33798380231, 4.5673127e-8, -1.79243e-13, 405.91764962,
          0.01658816461, -1.247226838, 0.01846788123, -0.8617315756, -0.1321089362,
          0.28256800868, 4.7465711e-8, -1.50881e-13, 404.73590637]


def _ba_residuals(x):
    from .._ad import cos, sqrt
    P = x[0:3]
    out = []
    for k, (uo, vo) in enumerate(_BA_OBS):
        w = x[3 + 9 * k: 6 + 9 * k]
        t = x[6 + 9 * k: 9 + 9 * k]
        ka, kb, f = x[9 + 9 * k: 12 + 9 * k]
        th = sqrt(w[0] ** 2 + w[1] ** 2 + w[2] ** 2)
        kv = [wi / th for wi in w]
        ct, st = cos(th), sin(th)
        kxp = [kv[1] * P[2] - kv[2] * P[1], kv[2] * P[0] - kv[0] * P[2],
               kv[0] * P[1] - kv[1] * P[0]]
        kdp = kv[0] * P[0] + kv[1] * P[1] + kv[2] * P[2]
        Q = [P[i] * ct + kxp[i] * st + kv[i] * kdp * (1 - ct) + t[i] for i in range(3)]
        px, py = -Q[0] / Q[2], -Q[1] / Q[2]
        r2 = px * px + py * py
        d = 1 + ka * r2 + kb * r2 * r2
        out += [f * d * px - uo, f * d * py - vo]
    return out


_BA_NOTE = (_NE + " Data (6 observations of one Ladybug point, cameras 1 2 4 27 30 37) and "
            "the BAL projection model (Rodrigues rotation, p = -Q_xy / Q_z, radial distortion "
            "1 + KA r^2 + KB r^4, focal F) as in BA-L1.SIF; checked against the sif2jax transcription "
            "(_nonlinear_equations/ba_l1.py), which notes that the SIF's BA element leaves the "
            "Y residuals of cameras 27, 30, 37 undefined in CUTEst; we code the model's values. x0 has nonzero rotation vectors (required: the "
            "exact Rodrigues formula divides by ||w||).")
_reg("BA-L1", _zero, _ba_residuals, _BA_X0, 0.0, source="CUTEst BA-L1.SIF (N. Gould, 2016)",
     notes=_BA_NOTE)


# BA-L1SP (ralna/SIF BA-L1SP.SIF, N. Gould 2016): "a small undetermined set of quadratic
# equations from a bundle adjustment subproblem", 12 equations in 57 variables, unrelated to
# BA-L1's projection model. Group C_k has linear coefficients a_ki on its 12 variables S_k and
# uses, with the same coefficient a_ki, every element P(i, j), j = i..57, where
# P(i, i) = x_i^2 / 2 and P(i, j) = x_i x_j: c_k(x) = sum_{i in S_k} a_ki q_i(x) - b_k with
# q_i = x_i + x_i^2 / 2 + x_i sum_{j > i} x_j. No START POINT section: x0 = 0.
_BASP_GROUPS = [
    ([4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 11, 12],
     [-283.5120115, -1296.338862, -320.6033515, 545.11792729, -5.058282413, -478.0666573,
      551.17734728, .00020463888, -471.0948965, -409.2809619, -490.2705298, -.8547064923]),
    ([4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 11, 12],
     [1234.7454956, 227.79935236, -347.0888335, 2.44930593, 556.94489983, 368.0324789,
      .00020463888, 551.17743945, 376.80482466, 327.36300527, 392.14243755, .68363621076]),
    ([13, 14, 15, 1, 2, 3, 16, 17, 18, 19, 20, 21],
     [-107.0193513, -758.7948959, -207.8248083, 350.08946365, .39982371752, -186.7535887,
      354.69032045, 5.7520864E-5, -177.8608216, -87.5738398, -38.04282609, -.5014538225]),
    ([13, 14, 15, 1, 2, 3, 16, 17, 18, 19, 20, 21],
     [740.42840621, 92.188824988, -222.1616016, .52655531437, 356.88663624, 145.9511661,
      5.7520864E-5, 354.69033883, 151.71150127, 74.698624396, 32.449722244, .42772945465]),
    ([22, 23, 24, 1, 2, 3, 25, 26, 27, 28, 29, 30],
     [-168.2771917, -958.0774748, -249.6325723, 424.98400393, -3.679913168, -285.9919818,
      430.9113597, 9.5401875E-5, -277.0049802, -176.6544282, -121.2420785, -.6428351473]),
    ([22, 23, 24, 1, 2, 3, 25, 26, 27, 28, 29, 30],
     [921.07415044, 136.05794576, -271.6835835, 4.2853403082, 434.04620563, 218.70892251,
      9.5401875E-5, 430.9113995, 225.18412985, 143.60670941, 98.560653819, .52257642872]),
    ([31, 32, 33, 1, 2, 3, 34, 35, 36, 37, 38, 39],
     [-144.7289642, -770.5881534, -272.9493307, 257.01763205, -10.17665712, -485.335462,
      543.87077184, 1.1685922E-6, 76.920229468, 2.0869983072, .07566110172, .14143107787]),
    ([31, 32, 33, 1, 2, 3, 34, 35, 36, 37, 38, 39],
     [620.43380046, 194.45316484, -289.1623446, 70.320803231, 179.34148777, 15.269871971,
      1.1685922E-6, 543.8707716, 69.331903641, 1.8811119849, .06819699123, .12747863508]),
    ([40, 41, 42, 1, 2, 3, 43, 44, 45, 46, 47, 48],
     [-32.98148952, -1001.73529, -309.2254094, 422.1912571, -8.291703599, -366.5398322,
      484.30591161, 2.2083578E-6, 279.48782165, 79.76578597, 27.161405788, .57708943686]),
    ([40, 41, 42, 1, 2, 3, 43, 44, 45, 46, 47, 48],
     [536.26711278, 204.18278149, -250.6380806, 44.828047187, 152.76507038, 6.0272627364,
      2.2083578E-6, 484.30589721, 41.892546625, 11.956127062, 4.0712344877, .08650017735]),
    ([49, 50, 51, 1, 2, 3, 52, 53, 54, 55, 56, 57],
     [5.7198974673, -1082.833992, -318.8938606, 480.66081245, -9.700408082, -321.955117,
      458.16637265, 2.2305592E-6, 353.36608051, 187.06511552, 112.10170813, .77126151439]),
    ([49, 50, 51, 1, 2, 3, 52, 53, 54, 55, 56, 57],
     [499.62967221, 205.63088192, -232.6571585, 35.371625137, 141.48851847, 3.9687026816,
      2.2305592E-6, 458.16634697, 30.465184316, 16.127674776, 9.6647623772, .06649371711]),
]
_BASP_B = [9.020224572, -11.194618482, 1.83322914, -5.254740578, 4.332320525, -6.9705186587,
           .5632735813, 220.0023398, 3.969211949, 202.2580513, 5.392772211, 194.2376052]


def ba_l1sp():
    """BA-L1SP: 12 quadratic equations in 57 unknowns (vectorized, exact derivatives)."""
    import numpy as np

    from ._base import EqualityProblem

    n, m = 57, 12
    A = np.zeros((m, n))
    for k, (idx, coef) in enumerate(_BASP_GROUPS):
        A[k, np.asarray(idx) - 1] = coef
    b = np.asarray(_BASP_B)
    imin = np.minimum.outer(np.arange(n), np.arange(n))

    def tails(x):  # T_i = sum_{j > i} x_j
        return np.cumsum(x[::-1])[::-1] - x

    def cval(x):
        return A @ (x + 0.5 * x * x + x * tails(x)) - b

    def cjac(x):
        # dq_i/dx_l = (1 + x_i + T_i) [l = i] + x_i [l > i]
        Jq = np.triu(np.broadcast_to(x[:, None], (n, n)), 1)
        Jq[np.diag_indices(n)] = 1.0 + x + tails(x)
        return A @ Jq

    def chess(x, v):
        # Hessian of q_i: 1 at (i, i) and at (i, l), (l, i) for l > i, so sum_i w_i Hess(q_i)
        # has entry w_min(i, l) at (i, l), with w = A^T v.
        return (A.T @ np.asarray(v, dtype=float))[imin]

    x0 = np.zeros(n)
    x0.setflags(write=False)
    zero_n = np.zeros(n)
    return EqualityProblem(
        "BA-L1SP", n, m, x0, lambda x: 0.0, lambda x: zero_n.copy(), chess, cval, cjac, chess,
        0.0, None, "CUTEst BA-L1SP.SIF (N. Gould, Nov 2016; ralna/SIF)",
        _NE + " Checked against BA-L1SP.SIF (ralna/SIF): quadratic equations from a bundle "
        "adjustment subproblem, not BA-L1's projection model; x0 = 0 (the SIF has no start "
        "point), objective bound 0.")


DEFS["BA-L1SP"] = ba_l1sp
