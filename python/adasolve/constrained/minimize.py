"""Equality-constrained optimization by sketched Newton steps (AdaSketch-Newton).

``minimize_eq`` solves ``min f(x)  s.t.  c(x) = 0`` with the method of Hong, Na,
Mahoney and Kolar (ICML 2023): each outer iteration solves the Newton (KKT) system

    [[B, G^T], [G, 0]] [dx; dv] = -[grad_x L; c]

only inexactly, by an inner solver (randomized iterative sketches, preconditioned MINRES
or a direct factorization) that runs until an accuracy condition relative to the current
KKT residual holds, and the step is accepted by an Armijo line search on the exact
augmented Lagrangian

    L_eta = f + v^T c + (eta1/2) ||c||^2 + (eta2/2) ||grad_x L||^2.

The solver is split along the method's parts: setup (``_functions``: the user's functions
and constraints), inner solve (``_inner``: choice of the solver and the adaptive accuracy
loop), globalization (``_globalization``: penalties, line search) and history
(``_history``). The user's functions are called in Python; the KKT assembly, Hessian
modification, inner solvers, merit pieces and BFGS update are C++
(``adasolve._core.constrained``).
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult
from scipy.sparse.linalg import LinearOperator

from .. import _core
from .._validation import (
    as_float_array,
    check_choice,
    check_maxiter,
    check_scalar,
    seed_to_uint64,
)
from . import _globalization as glob
from ._functions import (
    Problem,
    _Constraints,
    _Counter,
    _parse_constraints,
    _UserFunctionError,
    _x0_error,
)
from ._history import History
from ._inner import SKETCHES, build_kkt, merit_hg, plan_inner, solve_adaptive, stop_message

__all__ = ["minimize_eq"]

_sn = _core.constrained

#: status codes of :func:`minimize_eq`
STATUS_MESSAGES = {
    0: "Optimization terminated successfully: KKT residual below tol.",
    1: "Maximum number of outer iterations reached.",
    2: "Line search failed to decrease the exact augmented Lagrangian.",
    3: "More constraints than variables (m > n): the KKT matrix is singular.",
    4: "The constraint Jacobian is rank-deficient at the current iterate.",
    5: "A user function raised or returned a non-finite value.",
    6: "Stopped by the callback.",
    7: "The KKT system could not be factorized (out of memory).",
    8: "No progress: the KKT residual or the steps are at the rounding level.",
    9: "The inner solver stopped at its budget.",
}

_DEFAULT_OPTIONS = dict(
    eta1=1.0,  # penalty on ||c||^2 (reference default)
    eta2=0.1,  # penalty on ||grad_x L||^2
    delta=0.1,  # inner accuracy: ||r|| <= delta ||b|| (tightened when descent fails)
    beta=0.1,  # Armijo constant
    nu=1.5,  # penalty adaptation factor
    xi_B=0.1,  # target smallest eigenvalue of the modified reduced Hessian
    pd_threshold=1e-6,  # reduced Hessian below this is "not PD"
    delta_min=1e-6,  # floor of delta (as the reference)
    eta1_max=1e8,  # stop adapting the penalties beyond these (as the reference)
    eta2_min=1e-8,
    max_inner=100_000,  # cap on sketch steps per outer iteration (as the reference)
    max_backtrack=40,
    accuracy="relative",  # "relative" or "paper" (paper's psi/||K|| constants, dense only)
    rank_tol=1e-10,  # sigma_min(G) <= rank_tol * max(1, sigma_max(G)): rank-deficient
    forcing=(1.0, 1.0),  # (c, p): inner tolerance min(delta, c * kkt^p); None = the paper's delta
    delta_c=0.1,  # rank-deficient G: (2,2) block -delta_c ||G||^2 min(1, kkt) I; 0 = stop
    v0=None,  # initial multipliers (zeros, as the reference)
    dense_linear_operator_max=4000,  # LinearOperator Hessians up to this n are materialized,
    # larger ones are applied by products (MINRES inner solver)
    hessian_check="auto",  # reduced-Hessian PD test: auto | cholesky | cg | inertia | none
    warm_start=True,  # start each inner solve from the previous outer step
    penalty_update="targeted",  # "targeted" (only the failing penalty) or "paper"
    inner_max_seconds=10.0,  # time budget of one inner sketch solve (status 9); None: none
    soc=True,  # second-order correction when the full step is rejected (Maratos effect)
)




def _wants_intermediate(callback: Callable) -> bool:
    try:
        return "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False


def minimize_eq(
    fun: Callable,
    x0: Any,
    *,
    jac: Any,
    constraints: Any,
    hess: Any = None,
    hessp: Any = None,
    sketch: str = "auto",
    sketch_size: Optional[int] = None,
    tol: float = 1e-6,
    maxiter: int = 1000,
    seed: Any = None,
    callback: Optional[Callable] = None,
    options: Optional[dict] = None,
) -> OptimizeResult:
    """Minimize ``fun(x)`` subject to equality constraints ``c(x) = 0`` (AdaSketch-Newton).

    Each outer iteration builds the KKT system of Newton's method for the Lagrangian
    ``L(x, v) = f(x) + v^T c(x)``, solves it inexactly with a randomized iterative
    sketching solver that stops once ``||r|| <= delta ||b||`` (``b`` the current KKT
    vector), and accepts the step by an Armijo line search on the exact augmented
    Lagrangian ``f + v^T c + (eta1/2)||c||^2 + (eta2/2)||grad_x L||^2``. When the
    sketched direction fails the descent test, ``eta1`` grows, ``eta2`` shrinks and the
    accuracy ``delta`` tightens, and sketching resumes from the current direction.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x) -> float``.
    x0 : array_like, shape (n,)
        Starting point (must be finite).
    jac : callable or True
        Gradient of ``fun``; ``True`` means ``fun`` returns ``(f, grad)``.
    constraints : NonlinearConstraint, LinearConstraint, dict, (c, c_jac) or list
        Equality constraints. ``NonlinearConstraint`` / ``LinearConstraint`` need
        ``lb == ub`` (the constraint is ``c(x) = lb``); dicts need ``type='eq'``.
        Jacobians may be dense or SciPy sparse; a sparse Jacobian (or Hessian) selects
        the sparse path, on which everything stays sparse.
    hess : callable, "bfgs" or None
        ``hess(x, v)``: Hessian of the Lagrangian in ``x`` (dense, sparse or a
        ``LinearOperator``; a LinearOperator is materialized densely for n <= 4000 and
        applied by products beyond). ``"bfgs"`` or ``None``: a damped BFGS approximation
        (dense).
    hessp : callable, optional
        ``hessp(x, p, v)``: the Lagrangian Hessian at ``(x, v)`` times ``p`` (instead of
        ``hess``). The KKT system is then solved matrix-free by MINRES.
    sketch : {"auto", "exact", "minres", "gaussian", "countsketch", "kaczmarz"}
        Inner solver of the KKT system. ``"auto"`` (default): the direct solve where it
        fits (dense LU up to order 8000; sparse LDL^T when the fill-in predicted by its
        symbolic analysis is affordable, or the dense LU where that is cheaper), else
        ``"minres"``; the choice and its reason are reported in ``sketch`` and
        ``sketch_choice`` of the result. ``"exact"``: direct solve (dense LU; sparse:
        LDL^T of the regularized KKT matrix, whose inertia also decides the Hessian shift,
        with the symbolic analysis reused across iterations). ``"minres"``: MINRES with a
        block-diagonal preconditioner (diagonal of the Hessian, Cholesky of the Schur
        complement), stopped by the same accuracy test as the sketches; matrix-free in the
        Hessian. The paper's randomized sketches: ``"gaussian"`` (vector sketches;
        ``sketch_size`` > 1: block Gaussian sketches of that many columns),
        ``"countsketch"`` (``sketch_size`` columns), ``"kaczmarz"`` (rows).
    sketch_size : int, optional
        Columns of a block sketch. Default 1 for "gaussian" and
        ``min(n + m, max(4, min(64, sqrt(n + m))))`` for "countsketch".
    tol : float
        Stop when the KKT residual ``||(grad_x L, c)||_2 <= tol``.
    maxiter : int
        Maximum outer iterations.
    seed : None, int or numpy.random.Generator
        Seed of the sketches.
    callback : callable, optional
        ``callback(xk)`` or ``callback(intermediate_result=OptimizeResult)`` after each
        outer iteration; raising ``StopIteration`` stops the solver (status 6).
    options : dict, optional
        ``eta1`` (1.0), ``eta2`` (0.1), ``delta`` (0.1), ``beta`` (0.1), ``nu`` (1.5),
        ``xi_B`` (0.1), ``delta_min`` (1e-6), ``max_inner`` (1e5), ``max_backtrack``
        (40), ``accuracy`` ("relative" or "paper"), ``rank_tol`` (1e-10), ``delta_c``
        (0.1: a rank-deficient Jacobian gets the KKT block ``-delta_c ||G||^2 min(1, kkt) I``,
        as IPOPT regularizes degenerate constraints; 0: stop with status 4), ``forcing``
        ((1.0, 1.0): the inner tolerance is ``min(delta, c kkt^p)``, which tightens near a
        solution for superlinear local convergence and stays within the paper's condition;
        None: the paper's ``delta``), ``v0``,
        ``warm_start`` (True: start each inner solve from the previous step), ``soc``
        (True: a second-order correction is tried when the full step is rejected),
        ``penalty_update`` ("targeted": only the penalty that fails the descent test
        moves, by what the test needs; "paper": the paper's coupled update),
        ``inner_max_seconds`` (10.0: wall-time budget of one inner sketch solve, status 9
        when hit; None: no limit),
        ``hessian_check`` ("auto", "cholesky", "cg", "inertia" or "none").

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``v`` (multipliers, sign of ``L = f + v^T c``), ``nit``,
        ``nfev``, ``njev``, ``nhev``, ``kkt_residual``, ``constr_violation``
        (max abs of ``c``), ``inner_iterations`` (total sketch steps), ``success``,
        ``status`` (see ``STATUS_MESSAGES``), ``message``, and ``history`` (per outer
        iteration: KKT residual, inner steps, achieved and required inner accuracy,
        step length, penalties, Hessian shift).

    Raises
    ------
    ValueError
        Inconsistent shapes, non-finite ``x0``, inequality constraints, bad options.

    References
    ----------
    I. Hong, S. Na, M. W. Mahoney, M. Kolar, "Constrained Optimization via Exact
    Augmented Lagrangian and Randomized Iterative Sketching", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import NonlinearConstraint
    >>> from adasolve import minimize_eq
    >>> con = NonlinearConstraint(lambda x: [x @ x], 1.0, 1.0, jac=lambda x: 2 * x[None, :])
    >>> res = minimize_eq(lambda x: x[0] + x[1], [1.0, 0.0], jac=lambda x: np.ones(2),
    ...                   constraints=con, hess=lambda x, v: 2 * v[0] * np.eye(2), seed=0)
    >>> res.success, np.round(res.x, 6)
    (True, array([-0.707107, -0.707107]))
    """
    return _minimize_eq(fun, x0, jac=jac, constraints=constraints, hess=hess, hessp=hessp,
                        sketch=sketch, sketch_size=sketch_size, tol=tol, maxiter=maxiter,
                        seed=seed, callback=callback, options=options, args=())


_VALID_DEFAULTS: dict = {}


def _check_options(options: Optional[dict]) -> dict:
    if not options and _VALID_DEFAULTS:
        # the defaults were validated once; re-validating them costs ~60 us per call, a
        # noticeable share of a small problem's solve
        return dict(_VALID_DEFAULTS)
    opts = _validate_options(options)
    if not options:
        _VALID_DEFAULTS.update(opts)
    return opts


def _validate_options(options: Optional[dict]) -> dict:
    opts = dict(_DEFAULT_OPTIONS)
    if options is not None:
        if not isinstance(options, dict):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        unknown = set(options) - set(opts)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; valid: {sorted(opts)}")
        opts.update(options)
    for k in ("eta1", "eta2", "delta", "xi_B", "eta1_max"):
        opts[k] = check_scalar(opts[k], k, low=0.0, low_inclusive=False)
    opts["beta"] = check_scalar(opts["beta"], "beta", low=0.0, high=0.5, low_inclusive=False,
                                high_inclusive=False)
    opts["nu"] = check_scalar(opts["nu"], "nu", low=1.0, low_inclusive=False)
    opts["delta_min"] = check_scalar(opts["delta_min"], "delta_min", low=0.0)
    opts["eta2_min"] = check_scalar(opts["eta2_min"], "eta2_min", low=0.0)
    opts["pd_threshold"] = check_scalar(opts["pd_threshold"], "pd_threshold")
    opts["rank_tol"] = check_scalar(opts["rank_tol"], "rank_tol", low=0.0)
    opts["delta_c"] = check_scalar(opts["delta_c"], "delta_c", low=0.0)
    fc = opts["forcing"]
    if fc is not None:
        if not (isinstance(fc, (tuple, list)) and len(fc) == 2):
            raise ValueError(f"options['forcing'] must be None or a pair (c, p), got {fc!r}")
        opts["forcing"] = (check_scalar(fc[0], "forcing[0]", low=0.0, low_inclusive=False),
                           check_scalar(fc[1], "forcing[1]", low=0.0))
    opts["max_inner"] = check_scalar(opts["max_inner"], "max_inner", kind=int, low=1)
    opts["max_backtrack"] = check_scalar(opts["max_backtrack"], "max_backtrack", kind=int, low=1)
    opts["accuracy"] = check_choice(opts["accuracy"], "accuracy", ["relative", "paper"])
    opts["hessian_check"] = check_choice(opts["hessian_check"], "hessian_check",
                                         ["auto", "cholesky", "cg", "inertia", "none"])
    opts["warm_start"] = bool(opts["warm_start"])
    opts["soc"] = bool(opts["soc"])
    opts["inner_max_seconds"] = (math.inf if opts["inner_max_seconds"] is None else check_scalar(
        opts["inner_max_seconds"], "inner_max_seconds", low=0.0, low_inclusive=False))
    opts["penalty_update"] = check_choice(opts["penalty_update"], "penalty_update",
                                          ["targeted", "paper"])
    return opts


def _check_inputs(x0, sketch, tol, maxiter, sketch_size, options, seed, callback):
    x0 = as_float_array(x0, "x0", dtype=np.float64, finite=False).reshape(-1)
    if x0.size == 0:
        raise ValueError("x0 must have at least one entry")
    if not np.isfinite(x0).all():
        raise ValueError("x0 must be finite (it contains NaN or Inf)")
    sketch = check_choice(sketch, "sketch", SKETCHES)
    tol = check_scalar(tol, "tol", low=0.0, low_inclusive=False)
    maxiter = check_maxiter(maxiter, 1000)
    if sketch_size is not None:
        sketch_size = check_scalar(sketch_size, "sketch_size", kind=int, low=1)
    opts = _check_options(options)
    seed64 = seed_to_uint64(seed)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    return x0, sketch, tol, maxiter, sketch_size, opts, seed64


def _factorize(plan, H, J, gl, c, opts, kseed, kkt, last_shift, nit):
    """Build the KKT system, regularizing a rank-deficient Jacobian.
    Returns (sysk, delta_c, None) or (None, 0, (status, message))."""
    try:
        sysk = build_kkt(plan, H, J, gl, c, opts, kseed, shift_hint=last_shift)
    except MemoryError:
        # typically a direct solve whose fill-in does not fit: report, keep the iterate
        hint = (" The direct solve (the sparse LDL^T factor's fill-in, or the dense KKT "
                "matrix) does not fit in memory; use sketch='minres' (or a sketch), which "
                "never factorizes K." if plan.direct else "")
        return None, 0.0, (7, f"{STATUS_MESSAGES[7]}{hint} Returning the last iterate.")
    # sigma(G) is known on the dense path and, for n <= 100, on the sparse one
    if not (c.size and math.isfinite(sysk.jac_min_sv)):
        return sysk, 0.0, None
    smin, smax = sysk.jac_min_sv, sysk.jac_max_sv
    if smin > opts["rank_tol"] * max(1.0, smax):
        return sysk, 0.0, None
    if opts["delta_c"] == 0.0:
        return None, 0.0, (4, f"{STATUS_MESSAGES[4]} (iteration {nit}: sigma_min(G) = "
                              f"{smin:.3g}, sigma_max(G) = {smax:.3g}); returning the last "
                              "iterate.")
    # Singular KKT matrix: regularize its (2,2) block with -delta_c I, as IPOPT does for
    # degenerate constraints. delta_c shrinks with the KKT residual so that the step tends
    # to the Newton step near a solution; the multiplier step stays O(inconsistency /
    # delta_c) where the linearization is inconsistent (scaled by ||G||^2 so that the
    # penalty is balanced).
    delta_c = opts["delta_c"] * max(1.0, smax ** 2) * min(1.0, kkt)
    delta_c = max(delta_c, 1e-8 * max(1.0, smax ** 2))
    return build_kkt(plan, H, J, gl, c, opts, kseed, delta_c, last_shift), delta_c, None


def _minimize_eq(fun, x0, *, jac, constraints, hess, sketch, sketch_size, tol, maxiter, seed,
                 callback, options, args, hessp=None):
    t_start = time.perf_counter()
    x0, requested, tol, maxiter, sketch_size, opts, seed64 = _check_inputs(
        x0, sketch, tol, maxiter, sketch_size, options, seed, callback)
    n = x0.size
    prob = Problem(fun, jac, hess, hessp, constraints, n, args,
                   opts["dense_linear_operator_max"])
    hist = History(t_start)

    def result(x, v, fval, gl, c, status, message, nit, inner, name=requested):
        return hist.result(prob.counter, x, v, fval, gl, c, status, message, nit, inner, name)

    # ---- setup: evaluate at x0, choose the inner solver ---------------------------------
    x = x0.copy()
    try:
        v, fval, g, c, J, H0 = prob.start(x0, opts["v0"])
    except _UserFunctionError as exc:
        err = _x0_error(exc, n)
        if err is not None:
            raise err from exc.__cause__
        v0 = np.zeros(prob.cons.m if prob.cons is not None else 0)
        return result(x, v0, float("nan"), None, None, 5, f"{STATUS_MESSAGES[5]} At x0: {exc}",
                      0, 0)
    m = prob.cons.m
    if m > n:
        return result(x, v, fval, g + J.T @ v, c, 3,
                      f"{STATUS_MESSAGES[3]} (m = {m}, n = {n}); nothing was done.", 0, 0)
    B = None
    try:
        if prob.use_bfgs:
            H = B = np.eye(n)
        else:
            H = prob.hess(x, v, raw=H0)
    except _UserFunctionError as exc:
        return result(x, v, fval, g + J.T @ v, c, 5, f"{STATUS_MESSAGES[5]} At x0: {exc}", 0, 0)
    plan, H, J = plan_inner(requested, sketch_size, H, J, n, m, prob.sparse, prob.matrix_free,
                            opts)
    prob.sparse = plan.sparse

    # ---- outer iterations -----------------------------------------------------------------
    eta1, eta2, delta = opts["eta1"], opts["eta2"], opts["delta"]
    nu = opts["nu"]
    gl = g + J.T @ v
    inner_total = nit = n_soc = n_tiny = 0
    regularized: list = []  # iterations whose KKT matrix got the -delta_c I block
    status, message = 1, STATUS_MESSAGES[1]
    # per-iteration seeds of the C++ sketches: a Weyl sequence from seed64 (distinct and
    # reproducible; a numpy Generator draw costs more than a small problem's sketch solve)
    kseed = seed64 % (1 << 64)
    z_prev = None
    last_shift = 0.0  # the Hessian shift of the previous iteration (IPOPT-style memory)
    while True:
        kkt = math.sqrt(float(gl @ gl) + float(c @ c))
        if nit == 0:
            hist.start(kkt)
            kkt0 = max(kkt, np.finfo(float).tiny)
        if kkt <= tol:
            status, message = 0, STATUS_MESSAGES[0]
            break
        if nit >= maxiter:
            status, message = 1, STATUS_MESSAGES[1]
            break
        kseed = (kseed + 0x9E3779B97F4A7C15) % (1 << 64)
        sysk, delta_c, stop = _factorize(plan, H, J, gl, c, opts, kseed, kkt, last_shift, nit)
        if stop is not None:
            status, message = stop
            break
        if delta_c:
            regularized.append(nit)
        last_shift = float(sysk.shift)
        floor = glob.rounding_floor(kkt, kkt0, tol, sysk, g, x, v, J, m, plan.sparse)
        if kkt <= floor:
            status = 8
            message = (f"{STATUS_MESSAGES[8]} (iteration {nit}: KKT residual {kkt:.3g} is at "
                       f"the rounding level {floor:.3g} of this problem's values, above tol = "
                       f"{tol:g}: rescale the problem or loosen tol.)")
            break

        # ---- inner solve with the adaptive accuracy test ---------------------------------
        hg = merit_hg(plan, H, gl, prob.gradl, x, v, B)
        paper = None
        if opts["accuracy"] == "paper" and not plan.sparse:
            delta, paper = glob.paper_constants(sysk, m, opts, eta1, eta2, delta)
        if plan.warm and z_prev is not None:
            sysk.warm_start(z_prev)  # kept only if it beats z = 0
        out = solve_adaptive(sysk, hg, kkt, kkt0, eta1, eta2, delta, opts, paper)
        eta1, eta2, delta = out.eta1, out.eta2, out.delta
        inner_total += out.steps
        if out.stopped:
            status = 9
            message = (f"{STATUS_MESSAGES[9]} "
                       + stop_message(sysk, plan, nit, out.steps, opts["inner_max_seconds"]))
            break
        dx, dv = sysk.dx, sysk.dv
        if plan.warm:
            z_prev = np.concatenate([dx, dv])

        # ---- globalization: line search on the exact augmented Lagrangian ----------------
        merit0 = _sn.merit_value(fval, v, c, gl, eta1, eta2)
        ls = glob.line_search(prob, x, v, dx, dv, merit0, out.dd, eta1, eta2, J, m, opts)
        if (not ls.accepted or ls.alpha < 2.0 ** -20) and ls.fail_reason is None and (
                eta1 <= opts["eta1_max"] and eta2 >= opts["eta2_min"]):
            # The line search stalls: the merit function does not decrease along the step
            # although its predicted slope is negative (an inexact step, or a Hessian that
            # does not quite match the derivative of grad_x L). Treat it as a failed descent
            # test (the paper's update: eta1 up, eta2 down, delta tighter) and solve again
            # instead of taking a negligible step or giving up. eta1 only grows and eta2
            # only shrinks, so this happens a bounded number of times.
            eta1, eta2 = glob.paper_penalties(eta1, eta2, nu)
            delta = max(delta / nu ** 4, opts["delta_min"])
            z_prev = None
            continue
        if not ls.accepted:
            if ls.fail_reason is not None:
                status = 5
                message = (f"{STATUS_MESSAGES[5]} During the line search: {ls.fail_reason}; "
                           "returning the last good iterate.")
            else:
                status, message = 2, STATUS_MESSAGES[2]
            break
        n_soc += ls.soc
        # Steps below the rounding level of (x, v): tol cannot be reached in floating point
        # (typically a badly scaled problem); stop instead of iterating on rounding noise.
        n_tiny = n_tiny + 1 if glob.is_tiny_step(ls.alpha, dx, dv, x, v) else 0
        if n_tiny >= 3:
            status = 8
            message = (f"{STATUS_MESSAGES[8]} (KKT residual {kkt:.3g} against tol = "
                       f"{tol:g}; the problem's scale, ||grad f|| = "
                       f"{float(np.linalg.norm(g)):.3g}, may put tol below the rounding "
                       "level: rescale the problem or loosen tol.)")
            break
        t = ls.trial
        x_old, gl_old_vnew = x, (g + J.T @ t.v if B is not None else None)
        x, v, fval, c, g, J, gl = t.x, t.v, t.f, t.c, t.g, t.J, t.gl
        nit += 1
        try:
            if B is not None:
                _sn.damped_bfgs_update(B, x - x_old, gl - gl_old_vnew)
                H = B
            else:
                H = prob.hess(x, v)
        except _UserFunctionError as exc:
            status = 5
            message = f"{STATUS_MESSAGES[5]} {exc}"
            hist.kkt(gl, c)
            break

        # ---- history and callback --------------------------------------------------------
        hist.kkt(gl, c)
        hist.record(steps=out.steps, resid_ratio=sysk.resid_norm / kkt, tol_ratio=out.tol_ratio,
                    converged=out.converged, alpha=ls.alpha, eta1=eta1, eta2=eta2, delta=delta,
                    shift=sysk.shift, delta_c=delta_c)
        if callback is not None:
            try:
                if _wants_intermediate(callback):
                    callback(intermediate_result=OptimizeResult(
                        x=x.copy(), fun=fval, v=v.copy(), nit=nit,
                        kkt_residual=hist.data["kkt"][-1]))
                else:
                    callback(x.copy())
            except StopIteration:
                status, message = 6, STATUS_MESSAGES[6]
                break

    if regularized:
        message += (f" The constraint Jacobian was rank-deficient at {len(regularized)} "
                    f"iteration(s) (first: {regularized[0]}); those KKT systems were "
                    "regularized with a -delta_c I block.")
    res = result(x, v, fval, gl, c, status, message, nit, inner_total, plan.name)
    res.regularized_iterations = regularized
    res.soc_steps = n_soc
    res.sketch_requested = requested
    res.sketch_choice = plan.reason
    return res


# --------------------------------------------------------------------------------------
# scipy.optimize.minimize custom method


def _lagrangian_hess_from_scipy(hess, pieces, args, n):
    """hess(x, *args) of the objective + constraint Hessians -> hess(x, v) of L, or None."""
    if not callable(hess):
        return None
    for p in pieces:
        if not p.linear and p.hess is None:
            return None

    def lag_hess(x, v):
        Hf = hess(x, *args)
        Hf = Hf @ np.eye(n) if isinstance(Hf, LinearOperator) else Hf
        out = Hf.copy() if not sp.issparse(Hf) else sp.csr_matrix(Hf, dtype=np.float64)
        off = 0
        for p in pieces:
            size = p.lb.size
            if not p.linear:
                Hc = p.hess(x, v[off:off + size])
                Hc = Hc @ np.eye(n) if isinstance(Hc, LinearOperator) else Hc
                out = out + Hc
            off += size
        return out

    return lag_hess


def _lagrangian_hessp_from_scipy(hessp, pieces, args):
    """hessp(x, p, *args) of the objective + constraint Hessians -> hessp(x, p, v) of L."""
    if not callable(hessp):
        return None
    for p in pieces:
        if not p.linear and p.hess is None:
            return None

    def lag_hessp(x, p, v):
        out = np.asarray(hessp(x, p, *args), dtype=np.float64).reshape(-1)
        off = 0
        for piece in pieces:
            size = piece.lb.size
            if not piece.linear:
                out = out + np.asarray(piece.hess(x, v[off:off + size]) @ p).reshape(-1)
            off += size
        return out

    return lag_hessp


def sketch_sqp(fun: Callable, x0: Any, args: tuple = (), jac: Any = None, hess: Any = None,
               hessp: Any = None, bounds: Any = None, constraints: Any = (),
               callback: Optional[Callable] = None, **options: Any) -> OptimizeResult:
    """AdaSketch-Newton as a custom method of :func:`scipy.optimize.minimize`.

    ``scipy.optimize.minimize(fun, x0, method=sketch_sqp, jac=..., hess=...,
    constraints=...)`` runs :func:`minimize_eq`. ``hess`` is SciPy's *objective*
    Hessian ``hess(x, *args)``; it is combined with each ``NonlinearConstraint.hess(x,
    v)`` into the Lagrangian Hessian when every nonlinear constraint has one (linear
    constraints need none), and damped BFGS is used otherwise; ``hessp(x, p, *args)``
    likewise gives Lagrangian Hessian-vector products (matrix-free MINRES inner solves). Constraints may be
    ``NonlinearConstraint``, ``LinearConstraint`` (``lb == ub``) or dicts with
    ``type='eq'``. ``options``: ``tol``, ``maxiter``, ``sketch``, ``sketch_size``,
    ``seed`` and any key of ``minimize_eq``'s ``options``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, LinearConstraint
    >>> from adasolve.optimize import sketch_sqp
    >>> res = minimize(lambda x: x @ x, [1.0, 2.0], method=sketch_sqp, jac=lambda x: 2 * x,
    ...                hess=lambda x: 2 * np.eye(2),
    ...                constraints=LinearConstraint([[1.0, 1.0]], 1.0, 1.0),
    ...                options={"seed": 0})
    >>> np.round(res.x, 6)
    array([0.5, 0.5])
    """
    from .interior import _has_inequalities, _scipy_interior  # bounds/inequalities: IPM
    if _has_inequalities(bounds, constraints):
        return _scipy_interior(fun, x0, args, jac, hess, hessp, bounds, constraints, callback,
                               **options)
    if hessp is not None and hess is not None:
        raise ValueError("give hess or hessp, not both")
    opts = dict(options)
    kw = {k: opts.pop(k) for k in ("tol", "maxiter", "sketch", "sketch_size", "seed") if k in opts}
    opts.pop("disp", None)
    args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    pieces_probe = _parse_constraints(constraints, args)
    x0a = as_float_array(x0, "x0", dtype=np.float64, finite=False).reshape(-1)
    lag_hess = lag_hessp = None
    if np.isfinite(x0a).all() and x0a.size:
        # lb sizes are known only after one evaluation; _Constraints fills them in. A user
        # error here is reported by _minimize_eq, which evaluates the same functions again.
        try:
            _Constraints(pieces_probe, x0a.size, x0a, _Counter())
            lag_hess = _lagrangian_hess_from_scipy(hess, pieces_probe, args, x0a.size)
            lag_hessp = _lagrangian_hessp_from_scipy(hessp, pieces_probe, args)
        except _UserFunctionError:
            pass
    if callback is not None and not _wants_intermediate(callback):
        user_cb = callback
        callback = lambda xk: user_cb(xk)  # noqa: E731
    if jac is None or not (callable(jac) or jac is True):
        raise ValueError("sketch_sqp needs jac= (a callable gradient, or True)")
    return _minimize_eq(fun, x0, jac=jac, constraints=constraints,
                        hess=lag_hess if lag_hess is not None else (
                            None if lag_hessp is not None else "bfgs"),
                        hessp=lag_hessp,
                        sketch=kw.get("sketch", "auto"), sketch_size=kw.get("sketch_size"),
                        tol=kw.get("tol", 1e-6), maxiter=kw.get("maxiter", 1000),
                        seed=kw.get("seed"), callback=callback, options=opts or None, args=args)
