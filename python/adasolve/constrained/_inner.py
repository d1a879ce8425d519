"""Inner solve of :func:`minimize_eq`: which solver runs on the KKT system, and the
adaptive accuracy loop that runs it.

The user's ``sketch`` string and ``hessian_check`` option are resolved here once, into
the C++ enums ``Sketch`` and ``HessianCheck`` that the KKT system takes (:class:`InnerPlan`);
nothing downstream looks at the strings again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp

from .. import _core
from . import _globalization as glob

_sn = _core.constrained
Sketch = _sn.Sketch
HessianCheck = _sn.HessianCheck

#: values of ``sketch``
SKETCHES = ("auto", "gaussian", "countsketch", "kaczmarz", "exact", "minres")

# "auto": the direct solve wherever it is cheap, MINRES otherwise.
_DENSE_EXACT_MAX = 8000  # dense KKT matrices: LU up to this order (N^3 / 3 flops)
# Sparse LDL^T: allowed numeric work (sum of squared column counts of L, predicted by the
# symbolic analysis; ~1 s per 1e9 on one core for Eigen's simplicial factorization).
# Above it MINRES with the block-diagonal preconditioner runs instead.
_SPARSE_FLOPS_MAX = 2e9
# The symbolic analysis itself costs O(nnz(L)): on a large KKT matrix whose graph has a
# high average degree (a random coupling such as A^T A) the fill is catastrophic and even
# predicting it takes tens of seconds, so such matrices go to MINRES unanalysed. Grid-like
# graphs (PDE constraints: degree <= ~7) have little fill and are analysed.
_ANALYSE_MAX_N = 20_000
_LOW_DEGREE = 8.0


@dataclass
class InnerPlan:
    """The inner solver, decided once per solve."""

    name: str  # reported as result.sketch
    kind: Any  # Sketch enum
    size: int  # columns of a block sketch
    check: Any  # HessianCheck enum
    sparse: bool
    matrix_free: bool
    cache: Any  # SparseKKTCache of the exact sparse mode, else None
    warm: bool  # start each inner solve from the previous step
    reason: Optional[str]  # why "auto" chose it (None: chosen by the user)

    @property
    def direct(self) -> bool:
        return self.kind == Sketch.exact


def _csr_args(A: sp.csr_matrix) -> tuple:
    return A.indptr, A.indices, np.ascontiguousarray(A.data, dtype=np.float64)


def _empty_csr(n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.zeros(0), np.zeros(0, np.int32), np.zeros(n + 1, np.int32)),
                         shape=(n, n))


def _auto(H: Any, J: Any, n: int, m: int, sparse: bool, matrix_free: bool):
    """The rule of sketch="auto". Returns (name, reason, to_dense)."""
    N = n + m
    if matrix_free:
        return "minres", "the Hessian is given by products: MINRES (matrix-free)", False
    if not sparse:
        if N <= _DENSE_EXACT_MAX:
            return "exact", f"dense KKT matrix of order {N} (exact up to {_DENSE_EXACT_MAX})", False
        return "minres", f"dense KKT matrix of order {N} > {_DENSE_EXACT_MAX}: MINRES", False
    nnz_k = H.nnz + 2 * J.nnz + n
    if N <= 3000 and nnz_k >= 0.1 * N * N:
        # a "sparse" KKT matrix that is 10 % full (e.g. SciPy's Elec: a dense Hessian with a
        # csc Jacobian): the dense LU is several times faster than a simplicial LDL^T, and
        # the iterates are the same (the shift rule is shared)
        return "exact", (f"sparse input, but the KKT matrix of order {N} is "
                         f"{nnz_k / (N * N):.0%} full: dense LU"), True
    degree = nnz_k / N
    if N > _ANALYSE_MAX_N and degree > _LOW_DEGREE:
        return "minres", (f"sparse KKT matrix of order {N} with {degree:.0f} nonzeros per row "
                          "(random-like coupling: a factorization would fill in): MINRES"), False
    fill, flops = _sn.predict_kkt_fill(n, *_csr_args(H), m, *_csr_args(J))
    what = (f"sparse KKT matrix ({nnz_k} nonzeros) whose LDL^T factor would have "
            f"{fill:.3g} nonzeros and cost {flops:.3g} flops")
    if flops <= _SPARSE_FLOPS_MAX:
        return "exact", what + ": sparse LDL^T", False
    return "minres", what + f" (over {_SPARSE_FLOPS_MAX:.0e}): MINRES", False


def plan_inner(requested: str, sketch_size: Optional[int], H: Any, J: Any, n: int, m: int,
               sparse: bool, matrix_free: bool, opts: dict):
    """Resolve ``sketch``, ``sketch_size`` and ``hessian_check`` into an :class:`InnerPlan`.

    Returns (plan, H, J): H and J are converted to dense when "auto" takes the dense LU.
    """
    N = n + m
    reason = None
    name = requested
    if matrix_free and requested not in ("auto", "minres"):
        raise ValueError(f"sketch={requested!r} needs the Hessian as a matrix; with hessp (or "
                         "a LinearOperator Hessian) use sketch='minres' or 'auto'")
    if requested == "auto":
        name, why, to_dense = _auto(H, J, n, m, sparse, matrix_free)
        reason = f"sketch='auto' chose '{name}': {why}"
        if to_dense:
            sparse = False
            H, J = H.toarray(), np.ascontiguousarray(J.toarray())
    kind = Sketch.__members__[name]
    if sketch_size is None:
        # CountSketch: ~sqrt(N) columns, capped at 64: forming W^T W costs N k^2 per step
        # for ~k times the progress of one column, so beyond BLAS-3 efficiency (k ~ 64) a
        # larger block only costs more per unit of residual reduction
        size = 1 if kind == Sketch.gaussian else max(1, min(N, max(4, min(64, math.isqrt(N)))))
    else:
        size = min(sketch_size, N)
    check = opts["hessian_check"]
    direct = kind == Sketch.exact
    if check == "auto":
        # exact sparse mode: the inertia of the LDL^T factorization that also solves the
        # system (no separate test). MINRES or a matrix-free Hessian: the CG curvature test.
        # Otherwise a sparse Cholesky of H + rho G^T G is the reliable test; past ~2e4
        # unknowns its fill-in can cost more than the whole iterative solve, so use the CG
        # curvature test there.
        if sparse and direct:
            check = "inertia"
        elif matrix_free or kind == Sketch.minres:
            # MINRES is chosen where factorizations are expensive: the test must not be one
            check = "cg"
        elif sparse:
            # G^T G is as dense as the square of G's row counts: a few dense rows (e.g. the
            # gradient of ||w||^2) make the Cholesky test's matrix dense, so go matrix-free
            rows = np.diff(J.indptr).astype(np.float64)
            dense_rows = float(rows @ rows) > 20.0 * (H.nnz + n)
            if n > 20_000 or dense_rows:
                check = "cg"
            else:
                # the Cholesky test fills in like the KKT matrix's factor: where that is
                # predicted to be expensive, the test would cost more than the inner solve
                # (and is not bounded by its time budget)
                flops = _sn.predict_kkt_fill(n, *_csr_args(H), m, *_csr_args(J))[1]
                check = "cg" if flops > _SPARSE_FLOPS_MAX else "cholesky"
        else:
            check = "cholesky"
    if check == "inertia" and not (sparse and direct):
        check = "cholesky"  # inertia needs the sparse factorization of the exact mode
    if matrix_free and check in ("cholesky", "inertia"):
        check = "cg"  # the only test that needs products alone
    plan = InnerPlan(name=name, kind=kind, size=size, check=HessianCheck.__members__[check],
                     sparse=sparse, matrix_free=matrix_free,
                     cache=_sn.SparseKKTCache() if sparse and direct else None,
                     warm=opts["warm_start"] and not direct, reason=reason)
    return plan, H, J


def build_kkt(plan: InnerPlan, H: Any, J: Any, gl: np.ndarray, c: np.ndarray, opts: dict,
              seed: int, delta_c: float = 0.0, shift_hint: float = 0.0):
    """The C++ KKT system of one outer iteration (Hessian shift decided in its setup)."""
    n = gl.size
    if plan.sparse:
        hessp = None
        if plan.matrix_free:
            hessp, H = H, _empty_csr(n)
        return _sn.kkt_sparse(n, *_csr_args(H), J.shape[0], *_csr_args(J), gl, c, plan.kind,
                              plan.size, opts["xi_B"], opts["pd_threshold"], plan.check, seed,
                              delta_c=delta_c, cache=plan.cache, shift_hint=shift_hint,
                              hessp=hessp)
    return _sn.kkt_dense(H, J, gl, c, plan.kind, plan.size, opts["xi_B"], opts["pd_threshold"],
                         plan.check, seed, delta_c=delta_c, shift_hint=shift_hint)


@dataclass
class InnerOutcome:
    steps: int
    converged: bool
    tol_ratio: float
    dd: float  # directional derivative of the merit function along the step
    eta1: float
    eta2: float
    delta: float
    stopped: bool  # by the time budget or an overflow


def solve_adaptive(sysk: Any, hg: Optional[np.ndarray], kkt: float, kkt0: float, eta1: float,
                   eta2: float, delta: float, opts: dict, paper: Optional[tuple]) -> InnerOutcome:
    """The paper's adaptive inner loop: solve to ``||r|| <= delta ||b||`` (tightened by
    the forcing term), test the step for descent on the exact augmented Lagrangian, and
    while it fails update the penalties, tighten delta and resume the inner solver.

    ``paper``: (ups, psi, paper_scale) for options['accuracy'] = "paper", else None.
    """
    beta, nu = opts["beta"], opts["nu"]
    forcing_c, forcing_p = opts["forcing"] or (math.inf, 0.0)
    targeted = opts["penalty_update"] == "targeted"
    paper_scale = paper[2] if paper else 1.0
    bnorm = kkt
    steps_all, conv, dd = 0, False, 0.0
    while True:
        # Forcing term: a tighter inner tolerance than delta near a solution (still within
        # the paper's condition ||r|| <= delta ||b||) gives superlinear local convergence;
        # inner steps cost microseconds, an outer iteration user calls. (relative to the
        # first residual as well, so that a badly scaled problem also converges
        # superlinearly)
        tol_ratio = (delta if forcing_c == math.inf
                     else min(delta, forcing_c * min(kkt, kkt / kkt0) ** forcing_p)) * paper_scale
        steps, _resid, conv = sysk.solve(tol_ratio * bnorm, opts["max_inner"],
                                         opts["inner_max_seconds"])
        steps_all += steps
        if sysk.last_timed_out or sysk.last_overflow:
            return InnerOutcome(steps_all, conv, tol_ratio, dd, eta1, eta2, delta, True)
        if targeted:
            # grad L_eta^T z is linear in (eta1, eta2): d0 + eta1 d1 + eta2 d2
            d0 = sysk.merit_directional(0.0, 0.0, hg)
            d1 = sysk.merit_directional(1.0, 0.0, hg) - d0
            d2 = sysk.merit_directional(0.0, 1.0, hg) - d0
            dd = d0 + eta1 * d1 + eta2 * d2
        else:
            dd = sysk.merit_directional(eta1, eta2, hg)
        if dd <= -(eta2 / 2.0) * bnorm ** 2:
            break
        if eta1 > opts["eta1_max"] or eta2 < opts["eta2_min"]:
            break  # stop adapting (as the reference); the line search decides
        if targeted:
            eta1, eta2 = glob.targeted_penalties(d0, d1, d2, bnorm, eta1, eta2, nu)
        else:
            eta1, eta2 = glob.paper_penalties(eta1, eta2, nu)
        delta = max(delta / nu ** 4, opts["delta_min"])
        if paper:
            delta = max(min(delta, glob.paper_delta(beta, eta1, eta2, paper[0], paper[1])),
                        opts["delta_min"])
    return InnerOutcome(steps_all, conv, tol_ratio, dd, eta1, eta2, delta, False)


def stop_message(sysk: Any, plan: InnerPlan, nit: int, steps: int, seconds: float) -> str:
    """Message of status 9 (the inner solver stopped at its budget)."""
    if sysk.last_overflow:
        return (f"A {plan.name} sketch step overflowed at iteration {nit}: the KKT matrix's "
                "entries are too large for double precision (rescale the problem); returning "
                "the last iterate.")
    if plan.kind == Sketch.minres:
        return (f"MINRES did not reach the inner accuracy within options['inner_max_seconds'] "
                f"= {seconds:g} s at iteration {nit} ({steps} steps): the KKT system is badly "
                "conditioned for its block-diagonal preconditioner. Use sketch='exact' where "
                "the factorization fits, or raise options['inner_max_seconds']; returning the "
                "last iterate.")
    return (f"The {plan.name} sketch did not reach the inner accuracy within "
            f"options['inner_max_seconds'] = {seconds:g} s at iteration {nit} ({steps} steps; "
            "needs about ||K||_F^2 / sigma_min(K)^2). Use sketch='minres' (scalable), "
            "sketch='exact' (direct), or 'auto' (the default, which picks between them), or raise "
            "options['inner_max_seconds']; returning the last iterate.")


def merit_hg(plan: InnerPlan, H: Any, gl: np.ndarray, gradl_at: Callable, x: np.ndarray,
             v: np.ndarray, B: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """H grad_x L for the merit function's gradient where the KKT system cannot form it:
    a product for a matrix-free Hessian, a finite difference of grad_x L in BFGS mode (one
    extra gradient and Jacobian evaluation). None: the KKT system uses its own H."""
    if plan.matrix_free:
        return H(gl)
    if B is None:
        return None
    from ._functions import _UserFunctionError

    nrm = float(np.linalg.norm(gl))
    if not nrm > 0:
        return np.zeros(gl.size)
    h = math.sqrt(np.finfo(float).eps) * max(1.0, float(np.linalg.norm(x))) / nrm
    try:
        return (gradl_at(x + h * gl, v) - gl) / h
    except _UserFunctionError:
        return B @ gl
