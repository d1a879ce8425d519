"""SOR, SSOR and SSOR-preconditioned CG with C++ kernels.

Public functions: :func:`solve_sor`, :func:`ssor_cg`, :func:`ssor_preconditioner`,
:func:`sor_sweep`. The numerics (sweeps, solve loop, adaptive omega, CG) live in
``adasolve._core.sor``; this module validates, converts and presents.

Per-matrix preprocessing: the inverse diagonal is recomputed on every call
(O(n) from ``A.diagonal()``, which validation needs anyway), so changing
``A.data`` in place between calls is always safe. The multicolour ordering
depends only on the sparsity pattern and is cached per CSR matrix object
(weak reference, keyed also on the identity and length of its index arrays).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from . import _core
from ._validation import (
    as_csr,
    check_choice,
    check_diagonal,
    check_maxiter,
    check_scalar,
    check_tol,
    check_vector,
)

__all__ = ["solve_sor", "ssor_cg", "ssor_preconditioner", "sor_sweep", "SorStats"]

_k = _core.sor


@dataclass
class SorStats:
    """What a solve did (returned with ``full_output=True``).

    Attributes
    ----------
    iterations : int
        Sweeps (SOR; a symmetric sweep counts once) or CG iterations performed.
    residual_norm : float
        ``||b - A x||`` at the last check (largest over columns for a 2-D ``b``;
        CG: the recurrence residual).
    omega : float
        Relaxation factor used (the final one for ``omega="auto"``).
    converged : bool
    elapsed : float
        Wall-clock seconds of the solve.
    convergence_factor : float
        ``(residual_norm / initial_residual_norm) ** (1 / iterations)``; nan for 0 iterations.
    initial_residual_norm : float
    info : int
    """

    iterations: int
    residual_norm: float
    omega: float
    converged: bool
    elapsed: float
    convergence_factor: float
    initial_residual_norm: float
    info: int


# ---------------------------------------------------------------- helpers

_color_cache: "weakref.WeakKeyDictionary[Any, Tuple[Any, Any]]" = weakref.WeakKeyDictionary()


def _coloring(A: sp.csr_matrix):
    key = (id(A.indptr), id(A.indices), A.indptr.__array_interface__["data"][0],
           A.indices.__array_interface__["data"][0], A.shape, A.nnz)
    try:
        hit = _color_cache.get(A)
    except TypeError:
        hit = None
    if hit is not None and hit[0] == key:
        return hit[1]
    col = _k.greedy_coloring(A.shape[0], A.indptr, A.indices)
    try:
        _color_cache[A] = (key, col)
    except TypeError:
        pass
    return col


def _prepare_matrix(A: Any, name: str = "A") -> Tuple[sp.csr_matrix, np.ndarray]:
    """Canonical CSR (no copy when already suitable) and its inverse diagonal."""
    M = as_csr(A, name)
    d = check_diagonal(M, name)
    return M, (1.0 / d).astype(M.dtype, copy=False)


def _check_omega_value(omega: Any) -> float:
    return check_scalar(omega, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)


def _is_tuner(omega: Any) -> bool:
    return hasattr(omega, "suggest") and hasattr(omega, "observe")


def _rhs(b: Any, M: sp.csr_matrix) -> np.ndarray:
    n = M.shape[0]
    bb = check_vector(b, "b", allow_2d=True)
    if bb.shape[0] != n:
        raise ValueError(f"b has {bb.shape[0]} rows but A has shape {M.shape}")
    return bb


def _common_dtype(M: sp.csr_matrix, b: np.ndarray) -> np.dtype:
    return np.result_type(M.dtype, b.dtype)


def _x0(x0: Any, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if x0 is None:
        return np.zeros(b.shape, dtype=dtype)
    x = check_vector(x0, "x0", allow_2d=True)
    if x.shape != b.shape:
        raise ValueError(f"x0 has shape {x.shape}, expected {b.shape} (the shape of b)")
    return np.array(x, dtype=dtype, order="C", copy=True)  # the solver's own iterate


def _factor(r: float, r0: float, it: int) -> float:
    if it <= 0 or not np.isfinite(r0) or r0 <= 0:
        return float("nan")
    return float((r / r0) ** (1.0 / it))


def _finish(x, info, it, resid, r0, omega, t0, full_output, b_shape):
    stats = SorStats(
        iterations=int(it), residual_norm=float(resid), omega=float(omega), converged=info == 0,
        elapsed=time.perf_counter() - t0, convergence_factor=_factor(resid, r0, it),
        initial_residual_norm=float(r0), info=int(info),
    )
    x = x.reshape(b_shape)
    return (x, int(info), stats) if full_output else (x, int(info))


# ---------------------------------------------------------------- public API


def solve_sor(
    A: Any,
    b: Any,
    x0: Any = None,
    *,
    omega: Any = 1.0,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: Optional[int] = None,
    symmetric: bool = False,
    ordering: str = "natural",
    callback: Optional[Callable[[np.ndarray], None]] = None,
    context: Any = None,
    full_output: bool = False,
):
    """Solve ``A x = b`` by SOR (or SSOR with ``symmetric=True``).

    Parameters
    ----------
    A : sparse matrix/array (any SciPy format) or dense ndarray, shape (n, n)
        Non-zero diagonal required. float32 stays float32 (with a float32 ``b``).
    b : array_like, shape (n,) or (n, k)
        Right-hand side(s); a 2-D ``b`` solves k systems at once (columns).
    x0 : array_like, optional
        Initial guess (zeros by default); never modified.
    omega : float in (0, 2), "auto", or a tuner
        Relaxation factor. ``"auto"``: adaptive SOR (Hageman & Young): start at 1,
        estimate the Jacobi spectral radius from the observed per-sweep reduction
        and move omega up towards ``2 / (1 + sqrt(1 - mu**2))``. A tuner (an object
        with ``suggest`` and ``observe``, e.g. :class:`adasolve.OmegaTuner`) picks
        omega and is told the iteration count and convergence factor afterwards.
    rtol, atol : float
        Stop when ``||b - A x|| <= max(rtol * ||b||, atol)`` (per column).
    maxiter : int, optional
        Maximum number of sweeps (default ``10 * n``).
    symmetric : bool
        Forward then backward sweep per iteration (SSOR).
    ordering : {"natural", "multicolor"}
        ``"natural"``: classical lexicographic Gauss-Seidel/SOR order (sequential).
        ``"multicolor"``: greedy colouring (red-black on 5-point stencils), colours
        swept in parallel with OpenMP; iteration counts differ from natural order.
    callback : callable, optional
        ``callback(xk)`` after every sweep (the C++ loop then runs one sweep per call).
    context : array_like, optional
        Features passed to a contextual tuner; otherwise ignored.
    full_output : bool
        Also return a :class:`SorStats`.

    Returns
    -------
    x : ndarray
    info : int
        0 converged; >0 sweeps done without converging; -1 divergence (overflow,
        non-finite values or a residual grown by 1e10).
    stats : SorStats
        Only with ``full_output=True``.

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> A = sp.diags([-1, 2.5, -1], [-1, 0, 1], shape=(50, 50))
    >>> x, info = solve_sor(A, np.ones(50), omega=1.2)
    >>> info
    0
    """
    if _is_tuner(omega):
        w = omega.suggest(context=context)
        out = solve_sor(A, b, x0, omega=w, rtol=rtol, atol=atol, maxiter=maxiter,
                        symmetric=symmetric, ordering=ordering, callback=callback, full_output=True)
        omega.observe(w, out[2].iterations, context=context, rate=out[2].convergence_factor)
        return out if full_output else out[:2]
    t0 = time.perf_counter()
    adaptive = isinstance(omega, str)
    if adaptive:
        if omega.lower() != "auto":
            raise ValueError(f"omega must be a float in (0, 2), 'auto' or a tuner, got {omega!r}")
        if symmetric:
            raise ValueError("omega='auto' is implemented for symmetric=False only (Young's relation "
                             "holds for forward SOR)")
        w0 = 1.0
    else:
        w0 = _check_omega_value(omega)
    rtol, atol = check_tol(rtol, atol, "solve_sor")
    ordering = check_choice(ordering, "ordering", ["natural", "multicolor"])
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    M, inv = _prepare_matrix(A)
    bb = _rhs(b, M)
    dtype = _common_dtype(M, bb)
    if M.dtype != dtype:
        M, inv = M.astype(dtype), inv.astype(dtype)
    bb = np.ascontiguousarray(bb, dtype=dtype)
    n = M.shape[0]
    maxiter = check_maxiter(maxiter, 10 * n)
    x = _x0(x0, bb, dtype)
    bnorm = np.linalg.norm(bb, axis=0).astype(np.float64).reshape(-1)
    if not np.any(bnorm) and x0 is None:
        return _finish(np.zeros_like(bb), 0, 0, 0.0, 0.0, w0, t0, full_output, bb.shape)
    target = np.ascontiguousarray(np.maximum(rtol * bnorm, atol), dtype=np.float64)
    col = _coloring(M) if ordering == "multicolor" else None
    state = _k.SolveState(w0, adaptive)
    args = (n, M.indptr, M.indices, M.data, inv, x, bb, bool(symmetric), col)
    if callback is None:
        it, info, resid = _k.solve(*args, maxiter, target, state)
    else:
        it = 0
        while True:
            nit, info, resid = _k.solve(*args, 1, target, state)
            it += nit
            if nit:
                callback(x)
            if info <= 0 or it >= maxiter:
                break
        if info > 0:
            info = it
    return _finish(x, info, it, resid, state.r0, state.omega, t0, full_output, bb.shape)


def ssor_cg(
    A: Any,
    b: Any,
    x0: Any = None,
    *,
    omega: Any = 1.0,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: Optional[int] = None,
    callback: Optional[Callable[[np.ndarray], None]] = None,
    context: Any = None,
    full_output: bool = False,
):
    """Conjugate gradients preconditioned by SSOR, for symmetric positive definite ``A``.

    The preconditioner is ``M = (D + wL) D^{-1} (D + wU) / (w (2 - w))``. The loop runs
    in C++; the stopping test is SciPy's, ``||r|| <= max(rtol * ||b||, atol)`` on the
    recurrence residual. ``b`` must be 1-D. Other parameters as in :func:`solve_sor`
    (``omega``: a float in (0, 2) or a tuner).

    Returns
    -------
    x, info[, stats]
        info: 0 converged, >0 iterations without converging, -1 breakdown
        (``p^T A p <= 0``: A not positive definite, or non-finite values).

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> A = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(100, 100))
    >>> x, info = ssor_cg(A, np.ones(100), omega=1.5)
    >>> info
    0
    """
    if _is_tuner(omega):
        w = omega.suggest(context=context)
        out = ssor_cg(A, b, x0, omega=w, rtol=rtol, atol=atol, maxiter=maxiter,
                      callback=callback, full_output=True)
        omega.observe(w, out[2].iterations, context=context, rate=out[2].convergence_factor)
        return out if full_output else out[:2]
    t0 = time.perf_counter()
    w = _check_omega_value(omega)
    rtol, atol = check_tol(rtol, atol, "ssor_cg")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    M, inv = _prepare_matrix(A)
    n = M.shape[0]
    bb = check_vector(b, "b", n)
    dtype = _common_dtype(M, bb)
    if M.dtype != dtype:
        M, inv = M.astype(dtype), inv.astype(dtype)
    bb = np.ascontiguousarray(bb, dtype=dtype)
    maxiter = check_maxiter(maxiter, 10 * n)
    x = _x0(x0, bb, dtype)
    bnorm = float(np.linalg.norm(bb))
    if bnorm == 0 and x0 is None:
        return _finish(np.zeros_like(bb), 0, 0, 0.0, 0.0, w, t0, full_output, bb.shape)
    target = max(rtol * bnorm, atol)
    state = _k.CgState64() if dtype == np.float64 else _k.CgState32()
    args = (n, M.indptr, M.indices, M.data, inv, w, bb, x)
    if callback is None:
        it, info, resid, r0 = _k.pcg(*args, maxiter, target, state)
    else:
        it = 0
        while True:
            nit, info, resid, r0 = _k.pcg(*args, 1, target, state)
            it += nit
            if nit:
                callback(x)
            if info <= 0 or it >= maxiter:
                break
        if info > 0:
            info = it
    return _finish(x, info, it, resid, r0, w, t0, full_output, bb.shape)


def ssor_preconditioner(A: Any, omega: float = 1.0) -> LinearOperator:
    """SSOR preconditioner as a :class:`scipy.sparse.linalg.LinearOperator`.

    Applies ``M^{-1}`` with ``M = (D + wL) D^{-1} (D + wU) / (w (2 - w))`` (one symmetric
    SOR sweep from zero) in C++; usable as ``M=`` in ``scipy.sparse.linalg.cg``,
    ``gmres`` or ``minres``. ``M`` is symmetric positive definite when ``A`` is.
    The operator keeps a reference to the CSR form of ``A`` (a copy only if ``A``
    was not already canonical CSR).

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> from scipy.sparse.linalg import cg
    >>> A = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(100, 100), format="csr")
    >>> x, info = cg(A, np.ones(100), M=ssor_preconditioner(A, omega=1.5))
    >>> info
    0
    """
    w = _check_omega_value(omega)
    M, inv = _prepare_matrix(A)
    n = M.shape[0]
    dtype = M.dtype

    def apply(r):
        r = np.ascontiguousarray(np.asarray(r, dtype=dtype).reshape(n, -1) if np.ndim(r) == 2
                                 else np.asarray(r, dtype=dtype).reshape(n))
        z = np.empty_like(r)
        _k.ssor_apply(n, M.indptr, M.indices, M.data, inv, w, r, z)
        return z

    return LinearOperator((n, n), matvec=apply, matmat=apply, rmatvec=apply, dtype=dtype)


_DIRECTIONS = {"forward": 0, "backward": 1, "symmetric": 2}


def sor_sweep(A: Any, x: np.ndarray, b: Any, omega: float = 1.0, iterations: int = 1,
              direction: str = "forward") -> None:
    """Run ``iterations`` SOR sweeps **in place on x** (natural order).

    For multigrid smoothers and other building blocks. ``x`` must be a writeable
    C-contiguous ndarray of A's dtype (float32 or float64), shape (n,) or (n, k);
    it is updated in place and never copied (TypeError otherwise). ``b`` is
    converted to A's dtype if needed. ``direction``: "forward", "backward" or
    "symmetric" (forward then backward).

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> A = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(5, 5), format="csr")
    >>> x = np.zeros(5)
    >>> sor_sweep(A, x, np.ones(5), omega=1.0)   # x now holds one Gauss-Seidel sweep
    >>> float(x[0])
    0.5
    """
    d = check_choice(direction, "direction", list(_DIRECTIONS))
    w = _check_omega_value(omega)
    iterations = check_scalar(iterations, "iterations", kind=int, low=1)
    M, inv = _prepare_matrix(A)
    n = M.shape[0]
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy ndarray (updated in place), got {type(x).__name__}")
    if x.dtype != M.dtype:
        raise TypeError(f"x must have A's dtype {M.dtype} (it is updated in place), got {x.dtype}")
    if not x.flags.c_contiguous or not x.flags.writeable:
        raise TypeError("x must be a writeable C-contiguous array (it is updated in place)")
    if x.ndim not in (1, 2) or x.shape[0] != n:
        raise ValueError(f"x has shape {x.shape}, expected ({n},) or ({n}, k)")
    bb = check_vector(b, "b", n, allow_2d=True)
    bb = np.ascontiguousarray(bb, dtype=M.dtype).reshape(x.shape) if bb.size == x.size else None
    if bb is None:
        raise ValueError(f"b must have the shape of x {x.shape}")
    _k.sweep(n, M.indptr, M.indices, M.data, inv, x, bb, w, iterations, _DIRECTIONS[d], None)
