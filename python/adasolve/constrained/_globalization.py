"""Globalization of :func:`minimize_eq`: penalty updates of the exact augmented Lagrangian,
the Armijo line search on it with a second-order correction, and the stopping tests at
the rounding level. The merit function's value and slope are computed in C++
(``merit_value``, ``KKTSystem.merit_directional``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp

from .. import _core
from ._functions import _UserFunctionError

_sn = _core.constrained


def targeted_penalties(d0: float, d1: float, d2: float, bnorm: float, eta1: float,
                       eta2: float, nu: float) -> tuple:
    """Penalty update when the descent test d0 + eta1 d1 + eta2 e2 <= 0 (e2 = d2 +
    ||b||^2 / 2) fails: move only the penalty that is at fault, and by what the test needs
    (twice, for a margin), not by a fixed factor for both. On nonconvex problems the eta2
    term (eta2 grad_x L^T H dx, with H of norm 1e4 on Elec) is the one that fails, and the
    paper's coupled update then drives eta1 to 1e8 while eta2 shrinks, after which the
    merit function is all ||c||^2 and the steps are tiny. Both move monotonically (eta1 up,
    eta2 down) and at least by the paper's factor, so the paper's stabilization argument
    holds."""
    e2 = d2 + 0.5 * bnorm ** 2
    rest = d0 + eta1 * d1
    if e2 > 0.0:
        if rest < 0.0:
            eta2 = min(eta2 / nu, 0.5 * -rest / e2)
        else:
            eta2 /= nu
    rest = d0 + eta2 * max(e2, 0.0)
    if d0 + eta1 * d1 + eta2 * e2 > 0.0:
        eta1 = max(eta1 * nu ** 2, 2.0 * rest / -d1) if d1 < 0.0 else eta1 * nu ** 2
    return eta1, eta2


def paper_penalties(eta1: float, eta2: float, nu: float) -> tuple:
    """The paper's coupled update: eta1 up by nu^2, eta2 down by nu."""
    return eta1 * nu ** 2, eta2 / nu


def paper_constants(sysk: Any, m: int, opts: dict, eta1: float, eta2: float,
                    delta: float) -> tuple:
    """options['accuracy'] = "paper": the paper's constants psi and upsilon, the inner
    accuracy they allow, and the scale 1 / (||K||_F psi) of its test.
    Returns (delta, (ups, psi, scale))."""
    xi_g = (sysk.jac_min_sv ** 2) if m else 1.0
    bn = sysk.hess_norm + sysk.shift
    psi = 20.0 * max(bn ** 2, 1.0) / (min(xi_g, 1.0) * min(opts["xi_B"], 1.0))
    ups = max(sysk.jac_max_sv if m else 0.0, sysk.hess_norm, 1.0)
    delta = max(min(delta, paper_delta(opts["beta"], eta1, eta2, ups, psi)), opts["delta_min"])
    return delta, (ups, psi, 1.0 / (sysk.kkt_fro_norm * psi))


def paper_delta(beta: float, eta1: float, eta2: float, ups: float, psi: float) -> float:
    return (0.5 - beta) * eta2 / ((1 + eta1 + eta2) * ups ** 2 * psi ** 2)


def soc_step(J: Any, ct: np.ndarray, sparse_mode: bool) -> Optional[np.ndarray]:
    """Minimum-norm correction -G^T (G G^T)^{-1} c_t, or None when it cannot be had cheaply."""
    try:
        if sparse_mode:
            if J.shape[0] > 20_000:
                return None
            from scipy.sparse.linalg import splu

            JJ = (J @ J.T).tocsc()
            y = splu(JJ + 1e-14 * max(1.0, abs(JJ).max()) * sp.identity(J.shape[0], format="csc")
                     ).solve(ct)
            out = -(J.T @ y)
        else:
            if J.shape[0] * J.shape[0] * J.shape[1] > 1e9:
                return None
            # normal equations (m x m): an SVD-based lstsq cost 50 ms at m = 100, n = 300
            JJ = J @ J.T
            JJ[np.diag_indices_from(JJ)] += 1e-14 * max(1.0, float(np.abs(JJ).max()))
            out = -(J.T @ np.linalg.solve(JJ, ct))
    except (ValueError, RuntimeError, np.linalg.LinAlgError):
        return None
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    return out if np.isfinite(out).all() else None


@dataclass
class Trial:
    """A point of the line search with everything evaluated at it."""

    x: np.ndarray
    v: np.ndarray
    f: float
    c: np.ndarray
    g: np.ndarray
    J: Any
    gl: np.ndarray
    merit: float


@dataclass
class LineSearch:
    accepted: bool
    alpha: float
    trial: Optional[Trial]
    fail_reason: Optional[str]  # a user function failed at a trial point
    soc: bool  # accepted after a second-order correction


def _evaluate(prob: Any, x: np.ndarray, v: np.ndarray, eta1: float, eta2: float) -> Trial:
    f, c = prob.f(x), prob.c(x)
    g, J = prob.g(x), prob.jac(x)
    gl = g + J.T @ v
    return Trial(x, v, f, c, g, J, gl, _sn.merit_value(f, v, c, gl, eta1, eta2))


def line_search(prob: Any, x: np.ndarray, v: np.ndarray, dx: np.ndarray, dv: np.ndarray,
                merit0: float, dd: float, eta1: float, eta2: float, J: Any, m: int,
                opts: dict) -> LineSearch:
    """Armijo backtracking (halving) on the exact augmented Lagrangian along (dx, dv); when
    the full step is rejected, one second-order correction (Maratos effect)."""
    beta = opts["beta"]
    alpha = 1.0
    fail_reason = None
    slack = 1e-14 * max(1.0, abs(merit0))  # roundoff near convergence
    for _ in range(opts["max_backtrack"]):
        try:
            t = _evaluate(prob, x + alpha * dx, v + alpha * dv, eta1, eta2)
        except _UserFunctionError as exc:
            fail_reason = str(exc)
            alpha *= 0.5
            continue
        if t.merit <= merit0 + alpha * beta * dd + slack:
            return LineSearch(True, alpha, t, fail_reason, False)
        if alpha == 1.0 and m and opts["soc"]:
            # Second-order correction: the full step is rejected because of the
            # constraints' curvature; add the minimum-norm step back to the linearized
            # constraints, -G^T (G G^T)^{-1} c(x + dx), and try once.
            soc = soc_step(J, t.c, prob.sparse)
            if soc is not None:
                try:
                    ts = _evaluate(prob, t.x + soc, t.v, eta1, eta2)
                except _UserFunctionError:
                    ts = None
                if ts is not None and ts.merit <= merit0 + beta * dd + slack:
                    return LineSearch(True, alpha, ts, fail_reason, True)
        alpha *= 0.5
    return LineSearch(False, alpha, None, fail_reason, False)


def rounding_floor(kkt: float, kkt0: float, tol: float, sysk: Any, g: np.ndarray,
                   x: np.ndarray, v: np.ndarray, J: Any, m: int, sparse: bool) -> float:
    """Rounding level of the KKT residual at this iterate: grad f + G^T v and c are sums of
    terms of size ||grad f||, ||H|| ||x||, ||G|| (||v|| + ||x||), each carrying relative
    rounding errors. At or below it the residual is noise and tol is out of reach (e.g. a
    problem scaled by 1e100). Computed only once the residual has fallen 8 orders or is
    near tol (it costs a few norms, a visible share of a tiny problem's iteration); 0
    otherwise."""
    if not (kkt <= 1e-8 * kkt0 or kkt <= 1e4 * tol):
        return 0.0
    if m:
        jn = sysk.jac_max_sv if math.isfinite(sysk.jac_max_sv) else float(
            np.sqrt(np.sum(J.data ** 2)) if sparse else np.linalg.norm(J))
    else:
        jn = 0.0
    return 16.0 * np.finfo(float).eps * (
        float(np.linalg.norm(g)) + sysk.hess_norm * float(np.linalg.norm(x))
        + jn * (float(np.linalg.norm(v)) + float(np.linalg.norm(x))))


def is_tiny_step(alpha: float, dx: np.ndarray, dv: np.ndarray, x: np.ndarray,
                 v: np.ndarray) -> bool:
    """A step below the rounding level of (x, v)."""
    eps4 = 4.0 * np.finfo(float).eps
    return (alpha * float(np.max(np.abs(dx), initial=0.0))
            <= eps4 * max(1.0, float(np.max(np.abs(x), initial=0.0)))
            and alpha * float(np.max(np.abs(dv), initial=0.0))
            <= eps4 * max(1.0, float(np.max(np.abs(v), initial=0.0))))
