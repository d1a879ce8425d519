"""Equality-constrained Hock-Schittkowski and Boggs-Tolle problems.

Sources: W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming
Codes* (Springer, 1981); P. T. Boggs and J. W. Tolle, "A strategy for global
convergence in a sequential quadratic programming algorithm", SINUM 26 (1989);
the CUTEst SIF files of the same names. Problems are written on scalars and
differentiated exactly by :mod:`._ad`.
"""

from __future__ import annotations

import math

from ._ad import sin
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
    from ._ad import log
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
     "(convex QP).")
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
    from ._ad import atan2, sqrt
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
