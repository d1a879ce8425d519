"""SOR and SSOR: solvers, sweeps and preconditioners on sparse matrices.

The relaxation factor ``omega`` can be a number, ``"auto"`` (adaptive SOR for a
single system), or a tuner from :mod:`adasolve.tuning` that learns omega across a
sequence of systems (Khodak et al., "Learning to Relax", ICLR 2024).

All kernels run in C++ (``adasolve._core.sor``) with the GIL released. ``A`` is
converted once to canonical CSR (no copy if it already is one, with float32/float64
values and int32/int64 indices); ``b`` and ``x0`` are never modified.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .. import _core
from .._device import any_cuda_array
from .._validation import (
    as_csr,
    as_float_array,
    check_choice,
    check_maxiter,
    check_scalar,
    check_tol,
    check_vector,
)

__all__ = ["solve_sor", "ssor_cg", "ssor_preconditioner", "sor_sweep", "SolveStats"]

_DIRECTIONS = {"forward": 0, "backward": 1, "symmetric": 2}
_ORDERINGS = ("natural", "multicolor")


@dataclass
class SolveStats:
    """Diagnostics of one :func:`solve_sor` / :func:`ssor_cg` call (``full_output=True``).

    Attributes
    ----------
    iterations : int
        Sweeps (SOR) or CG iterations performed.
    residual_norm : float
        ``||b - A x||`` at the returned ``x`` (largest column norm for a 2-D ``b``).
    omega : float
        The relaxation factor used (the final one for ``omega="auto"``).
    converged : bool
        Whether the stopping test was met.
    elapsed : float
        Wall time of the call, in seconds.
    convergence_factor : float
        Average residual reduction per iteration, ``(r_k / r_0) ** (1 / k)``.
    initial_residual_norm : float
        ``||b - A x0||``.
    info : int
        SciPy-style code: 0 converged, >0 iterations done without converging,
        <0 breakdown (-1 divergence or non-finite values, -10 not positive definite).
    message : str
        A sentence describing ``info``.
    """

    iterations: int
    residual_norm: float
    omega: float
    converged: bool
    elapsed: float
    convergence_factor: float = float("nan")
    initial_residual_norm: float = float("nan")
    info: int = 0
    message: str = ""
    extra: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:  # dict-style access, as scipy results allow
        return getattr(self, key)


# --------------------------------------------------------------------------------------
# Input handling
#
# Each check happens once, where its data is read:
# - A is converted once per call (_as_csr; no copy for canonical CSR of float32/float64 with
#   int32/int64 indices). Its values (NaN/Inf) and its diagonal (zero or missing entries) are
#   checked only in C++, in the pass that computes the inverse diagonal (sor::inverse_diagonal,
#   called by the solvers and by the prepared matrix behind ssor_preconditioner / sor_sweep);
#   its index arrays are checked by the C++ view (check_compressed).
# - b and x0 are checked for finiteness in C++ while their norms are computed.
# - omega, tolerances, maxiter and ordering are checked here, in Python, before any work.
# - "Is this CUDA input?" is decided by adasolve._device.any_cuda_array alone.

_sor = _core.sor
_CSR_TYPES = (sp.csr_matrix, sp.csr_array)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INTS = (np.dtype(np.int32), np.dtype(np.int64))
_OMEGA_MSG = "omega must be a float in (0, 2), 'auto' or a tuner"


def _as_csr(A: Any) -> sp.csr_matrix:
    """``A`` as canonical CSR, without a copy when it already is one."""
    if type(A) in _CSR_TYPES:
        data, idx, ptr = A.data, A.indices, A.indptr
        shape = A.shape
        if (data.dtype in _FLOATS and idx.dtype in _INTS
                and ptr.dtype == idx.dtype and shape[0] == shape[1] and shape[0] > 0
                and data.flags.c_contiguous and idx.flags.c_contiguous and ptr.flags.c_contiguous
                and A.has_canonical_format):
            return A
    # Values are checked for NaN/Inf in C++, in the same pass that reads the diagonal; the
    # indices by the C++ view.
    return as_csr(A, "A", finite=False, check_indices=False)


def _with_dtype(A: sp.csr_matrix, dtype: np.dtype) -> sp.csr_matrix:
    """A canonical CSR ``A`` with its values in ``dtype`` (a copy of the values only if needed)."""
    return A if A.dtype == dtype else A.astype(dtype)


def _common_dtype(A_dtype: np.dtype, *arrays: Any) -> np.dtype:
    """float32 only when A and every given array are float32; else float64."""
    if A_dtype != np.float32:
        return np.dtype(np.float64)
    for a in arrays:
        if a is None:
            continue
        dt = a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype
        if dt.kind == "c":
            raise TypeError(f"complex dtype {dt} is not supported; adasolve solves real systems")
        if dt != np.float32:
            return np.dtype(np.float64)
    return np.dtype(np.float32)


def _prepare(A, b, x0, allow_2d):
    """(A as CSR, b, x) with x a fresh array (x0 copied, never modified)."""
    A = _as_csr(A)
    n = A.shape[0]
    if (type(b) is np.ndarray and b.dtype == A.dtype and b.flags.c_contiguous
            and (b.ndim == 1 or (allow_2d and b.ndim == 2)) and b.shape[0] == n and b.size
            and (x0 is None or (type(x0) is np.ndarray and x0.dtype == A.dtype))):
        b_arr = b
    else:
        if sp.issparse(b):
            b = b.toarray()
        b_arr = as_float_array(b, "b", ndim=(1, 2))
        dtype = _common_dtype(A.dtype, b_arr, x0)
        A = _with_dtype(A, dtype)
        b_arr = check_vector(b_arr, "b", n, dtype=dtype, allow_2d=allow_2d)
    if x0 is None:
        x = np.zeros(b_arr.shape, b_arr.dtype)
    else:
        x0_arr = check_vector(x0, "x0", n, dtype=b_arr.dtype, allow_2d=allow_2d)
        if x0_arr.shape != b_arr.shape:
            raise ValueError(f"x0 has shape {x0_arr.shape} but b has shape {b_arr.shape}")
        x = np.array(x0_arr, dtype=b_arr.dtype, order="C", copy=True)  # never modify the caller's x0
    return A, b_arr, x


def _coloring(A: sp.csr_matrix):
    """The multicolour ordering of A, cached on the matrix object (it depends on the pattern only)."""
    cached = getattr(A, "_adasolve_coloring", None)
    if cached is not None and cached[0] is A.indices and cached[1] is A.indptr:
        return cached[2]
    col = _sor.coloring(A.shape[0], A.indptr, A.indices)
    try:
        A._adasolve_coloring = (A.indices, A.indptr, col)
    except AttributeError:  # a subclass with __slots__: no cache
        pass
    return col


def _check_omega(omega: Any) -> float:
    return check_scalar(omega, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)


def _bind(A: sp.csr_matrix):
    """The C++ prepared matrix of a canonical CSR ``A``, for repeated kernel calls: its inverse
    diagonal is computed (and A's values and diagonal checked) once, its colouring on first use."""
    cls = getattr(_sor, f"Csr_{A.dtype.name}_{A.indptr.dtype.name}")
    return cls(A.shape[0], A.indptr, A.indices, A.data)


_WHY = {1: "diverged (the residual grew by 1e12 or became non-finite); try a smaller omega",
        2: "stopped at once: b - A x0 is not finite (entries near the largest doubles); scale the system",
        3: "broke down: A or the preconditioner is not positive definite"}


def _message(info: int, why: int, what: str) -> str:
    if info == 0:
        return f"{what} converged"
    if info > 0:
        return f"{what} did not converge in {info} iterations"
    return f"{what} {_WHY.get(why, 'broke down')}"


def _stats(rep: tuple, t0: float, what: str, extra: Optional[dict] = None) -> SolveStats:
    info, nit, resid, r0, w, factor, n_checks, mu, why = rep
    ext = {"n_checks": n_checks}
    if mu >= 0:
        ext["spectral_radius_jacobi"] = mu
    ext.update(extra or {})
    return SolveStats(iterations=nit, residual_norm=resid, omega=w, converged=info == 0,
                      elapsed=time.perf_counter() - t0, convergence_factor=factor,
                      initial_residual_norm=r0, info=info, message=_message(info, why, what), extra=ext)


def _is_tuner(omega: Any) -> bool:
    return hasattr(omega, "suggest") and hasattr(omega, "observe")


def _tuner_impl(omega: Any):
    """The C++ tuner behind one of adasolve's tuners (driven from C++), else None."""
    impl = getattr(omega, "_impl", None)
    return impl if isinstance(impl, _sor.Tuner) else None


def _solve_cuda(kind: str, A, b, x0, omega, rtol, atol, maxiter, symmetric, ordering, callback, context, full_output):
    """Run solve_sor / ssor_cg on CUDA input through adasolve.sor._cuda (multicolour kernels).

    What only the CPU path offers is refused here; omega, the tolerances and maxiter are
    checked once, by the GPU plan's solve.
    """
    from . import _cuda as cb
    from .._device import cuda_available

    ok, why = cuda_available(reason=True)
    if not ok:
        raise ValueError(f"b or x0 is a CUDA array but adasolve's CUDA backend is not usable: {why}")
    if callback is not None:
        raise ValueError("callback is not supported for CUDA input (the GPU loop runs without host syncs)")
    if kind == "sor" and ordering != "multicolor":
        raise ValueError("CUDA input needs ordering='multicolor' (the natural order is sequential)")
    if isinstance(omega, str):
        raise ValueError("omega='auto' is not available for CUDA input; pass a float or a tuner")
    tuner = omega if _is_tuner(omega) else None
    w = tuner.suggest(context=context) if tuner is not None else omega
    if kind == "sor":
        x, info, stats = cb.solve_sor_cuda(A, b, x0, omega=w, rtol=rtol, atol=atol, maxiter=maxiter,
                                           symmetric=symmetric, full_output=True)
    else:
        x, info, stats = cb.ssor_cg_cuda(A, b, x0, omega=w, rtol=rtol, atol=atol, maxiter=maxiter, full_output=True)
    what = ("SSOR" if symmetric else "SOR") if kind == "sor" else "SSOR-CG"
    stats = SolveStats(
        iterations=int(stats["iterations"]),
        residual_norm=float(stats["residual_norm"]),
        omega=float(stats["omega"]),
        converged=info == 0,
        elapsed=float(stats["elapsed"]),
        info=int(info),
        message=_message(int(info), 1, what + " (CUDA)"),
        extra={k: v for k, v in stats.items() if k not in {"iterations", "residual_norm", "omega", "converged", "elapsed"}},
    )
    if tuner is not None:
        tuner.observe(w, stats.iterations, context=context, rate=None)
    return (x, info, stats) if full_output else (x, info)


def _run(pcg, A, b, x, w, impl, context, rtol, atol, maxiter, symmetric, adaptive, coloring, callback):
    """The C++ solve in one call, or one iteration at a time for a callback."""
    if callback is None:
        if pcg:
            return _sor.ssor_cg(A.shape[0], A.indptr, A.indices, A.data, b, x, w, impl, context, rtol, atol,
                                maxiter)
        return _sor.solve_sor(A.shape[0], A.indptr, A.indices, A.data, b, x, w, impl, context, rtol, atol,
                              maxiter, symmetric, adaptive, coloring)
    it = _sor.iteration(pcg, A.shape[0], A.indptr, A.indices, A.data, b, x, w, impl, context, rtol, atol,
                        maxiter, symmetric, adaptive, coloring)
    rep = it.run(0)
    while not it.finished:
        rep = it.run(1)
        if rep[1] > 0:
            callback(x)
    return rep


def _solve(pcg, A, b, x0, omega, rtol, atol, maxiter, symmetric, ordering, callback, context, full_output,
           what):
    t0 = time.perf_counter()
    impl = None
    py_tuner = None
    adaptive = False
    if type(omega) is float and 0.0 < omega < 2.0:
        w = omega
    elif isinstance(omega, str):
        if pcg or omega != "auto":
            raise ValueError(f"{what}: {_OMEGA_MSG if not pcg else 'omega must be a float in (0, 2) or a tuner'}; "
                             f"got {omega!r}")
        if symmetric:
            raise ValueError("omega='auto' needs symmetric=False (Young's theory is for forward SOR)")
        adaptive, w = True, 1.0
    elif _is_tuner(omega):
        impl = _tuner_impl(omega)
        py_tuner = None if impl is not None else omega
        w = 1.0
    else:
        w = _check_omega(omega)
    rtol, atol = check_tol(rtol, atol, what)
    if ordering == "natural":
        multicolor = False
    else:
        multicolor = check_choice(ordering, "ordering", _ORDERINGS) == "multicolor"
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    A, b_arr, x = _prepare(A, b, x0, allow_2d=not pcg)
    maxiter = check_maxiter(maxiter, 10 * A.shape[0])
    if py_tuner is not None:  # a user-defined tuner: driven from Python
        w = _check_omega(py_tuner.suggest(context=context))
    coloring = _coloring(A) if multicolor else None
    rep = _run(pcg, A, b_arr, x, w, impl, context, rtol, atol, maxiter, symmetric, adaptive, coloring, callback)
    if py_tuner is not None:  # the same feedback the C++ loop gives adasolve's tuners
        cost, rate = _sor.tuner_feedback(rep[0], rep[1], rep[5], maxiter)
        py_tuner.observe(w, int(cost), context=context, rate=None if math.isnan(rate) else rate)
    if not full_output:
        return x, rep[0]
    return x, rep[0], _stats(rep, t0, "SSOR-CG" if pcg else ("SSOR" if symmetric else "SOR"),
                             None if pcg else {"ordering": ordering})


# --------------------------------------------------------------------------------------
# Public API


def solve_sor(
    A: Any,
    b: Any,
    x0: Any = None,
    *,
    omega: Union[float, str, Any] = 1.0,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: Optional[int] = None,
    symmetric: bool = False,
    ordering: str = "natural",
    callback: Optional[Callable[[np.ndarray], None]] = None,
    context: Any = None,
    full_output: bool = False,
):
    """Solve ``A x = b`` by successive over-relaxation (SOR or symmetric SOR).

    Parameters
    ----------
    A : sparse matrix or array_like, shape (n, n)
        Any SciPy sparse format or a dense array; converted to CSR (no copy when it
        already is canonical CSR). The diagonal must be nonzero.
    b : array_like, shape (n,) or (n, k)
        Right-hand side(s); the columns of a 2-D ``b`` are solved together.
    x0 : array_like, optional
        Initial guess (default zeros); never modified.
    omega : float in (0, 2), "auto", or a tuner
        Relaxation factor. ``"auto"`` runs adaptive SOR (Hageman and Young): omega
        starts at 1 and moves towards the optimum estimated from the observed
        convergence. A tuner (:class:`adasolve.OmegaTuner`,
        :class:`adasolve.ContextualOmegaTuner`) picks omega for this solve and learns
        from its iteration count.
    rtol, atol : float
        Stop when ``||b - A x|| <= max(rtol * ||b||, atol)`` (per column).
    maxiter : int, optional
        Maximum number of sweeps (default ``10 * n``).
    symmetric : bool
        SSOR: each iteration is a forward then a backward sweep.
    ordering : {"natural", "multicolor"}
        Natural (lexicographic) Gauss-Seidel order, or a multicolour order (red-black
        on 5-point stencils) whose colours are relaxed in parallel with OpenMP.
        Multicolour orderings change the iteration, and so the iteration counts.
    callback : callable, optional
        ``callback(xk)`` after every sweep (then the C++ loop runs one sweep at a time).
        Not available for CUDA input.
    context : array_like, optional
        Features of this system for a contextual tuner; ignored otherwise.
    full_output : bool
        Also return a :class:`SolveStats`.

    Returns
    -------
    x : ndarray
        The solution, same shape as ``b``; float32 only if ``A`` and ``b`` are float32.
    info : int
        0 converged; >0 not converged after that many sweeps; <0 diverged.
    stats : SolveStats
        Only with ``full_output=True``.

    Notes
    -----
    CUDA input (a CuPy array or PyTorch CUDA tensor for ``b``/``x0``) runs the
    multicolour kernels of :mod:`adasolve.sor._cuda` on the GPU (``ordering="multicolor"``
    required) and returns an array of the same framework, without host copies.

    The residual is not computed after every sweep: the C++ loop predicts from the
    observed convergence rate when the tolerance will be met and checks just before,
    so checks cost a few percent of the solve.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from adasolve import solve_sor
    >>> A = sp.diags([-1, 2.5, -1], [-1, 0, 1], shape=(50, 50), format="csr")
    >>> b = np.ones(50)
    >>> x, info = solve_sor(A, b, omega=1.2)
    >>> info, bool(np.linalg.norm(A @ x - b) <= 1e-8 * np.linalg.norm(b))
    (0, True)
    """
    if (x0 is not None or type(b) is not np.ndarray) and any_cuda_array(b, x0):  # NumPy b alone: no call
        return _solve_cuda("sor", A, b, x0, omega, rtol, atol, maxiter, symmetric, ordering, callback, context,
                           full_output)
    return _solve(False, A, b, x0, omega, rtol, atol, maxiter, symmetric, ordering, callback, context,
                  full_output, "solve_sor")


def ssor_cg(
    A: Any,
    b: Any,
    x0: Any = None,
    *,
    omega: Union[float, Any] = 1.0,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: Optional[int] = None,
    callback: Optional[Callable[[np.ndarray], None]] = None,
    context: Any = None,
    full_output: bool = False,
):
    """Conjugate gradients preconditioned by SSOR(omega), for symmetric positive definite A.

    Parameters
    ----------
    A : sparse matrix or array_like, shape (n, n)
        Symmetric positive definite; any SciPy sparse format or dense.
    b : array_like, shape (n,)
    x0 : array_like, optional
        Initial guess (warm start); never modified.
    omega : float in (0, 2) or a tuner
        SSOR relaxation factor. A tuner picks it per solve and learns from the
        iteration count.
    rtol, atol, maxiter, callback, context, full_output
        As in :func:`solve_sor` (SciPy's ``cg`` semantics; default ``maxiter = 10 n``).

    Returns
    -------
    x, info[, stats]
        ``info`` is 0 on convergence, >0 the iterations done without converging,
        -10 if A or the preconditioner is found not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve import ssor_cg
    >>> from adasolve.problems import poisson2d
    >>> A = poisson2d(20); b = np.ones(A.shape[0])
    >>> x, info = ssor_cg(A, b, omega=1.5)
    >>> info, bool(np.linalg.norm(A @ x - b) <= 1e-8 * np.linalg.norm(b))
    (0, True)
    """
    if (x0 is not None or type(b) is not np.ndarray) and any_cuda_array(b, x0):  # NumPy b alone: no call
        return _solve_cuda("cg", A, b, x0, omega, rtol, atol, maxiter, False, "multicolor", callback, context,
                           full_output)
    return _solve(True, A, b, x0, omega, rtol, atol, maxiter, False, "natural", callback, context,
                  full_output, "ssor_cg")


def ssor_preconditioner(A: Any, omega: float = 1.0) -> LinearOperator:
    """The SSOR preconditioner of ``A`` as a SciPy LinearOperator (applies ``M^{-1}``).

    ``M = (D + omega L) D^{-1} (D + omega U) / (omega (2 - omega))``; one application
    is a forward and a backward triangular pass in C++. The inverse diagonal is
    computed once, here. Use it as ``M=`` in ``scipy.sparse.linalg.cg``, ``gmres``,
    ``minres``. The operator keeps a reference to A's CSR arrays: do not modify A
    while it is in use.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import cg
    >>> from adasolve import ssor_preconditioner
    >>> from adasolve.problems import poisson2d
    >>> A = poisson2d(30); b = np.ones(A.shape[0])
    >>> x, info = cg(A, b, rtol=1e-8, M=ssor_preconditioner(A, omega=1.6))
    >>> info
    0
    """
    omega = _check_omega(omega)
    A = _as_csr(A)
    n = A.shape[0]
    prepared = {A.dtype: _bind(A)}

    def kernel(dtype):
        # A float32 matrix applied to float64 vectors: a float64 copy of A, made once, so the
        # preconditioner never rounds the caller's vectors to single precision.
        if dtype not in prepared:
            prepared[dtype] = _bind(_with_dtype(A, dtype))
        return prepared[dtype]

    def apply(r):
        r = np.asarray(r)
        if r.dtype.kind == "c":
            raise TypeError(f"ssor_preconditioner: complex vectors are not supported (got {r.dtype}); "
                            "adasolve solves real systems")
        dtype = np.dtype(np.float32) if (r.dtype == np.float32 and A.dtype == np.float32) else np.dtype(np.float64)
        r = np.ascontiguousarray(r, dtype=dtype)
        z = np.empty_like(r)
        kernel(dtype).ssor_apply(r, z, omega)
        return z

    return LinearOperator((n, n), matvec=apply, rmatvec=apply, matmat=apply, dtype=A.dtype)


def sor_sweep(
    A: Any,
    x: np.ndarray,
    b: Any,
    omega: float = 1.0,
    iterations: int = 1,
    direction: str = "forward",
    *,
    ordering: str = "natural",
) -> np.ndarray:
    """Apply SOR sweeps to ``x`` **in place** (a smoother for multigrid).

    Parameters
    ----------
    A : sparse matrix, shape (n, n)
    x : ndarray, shape (n,) or (n, k)
        Updated in place. Must be a writeable, C-contiguous array of A's dtype
        (float32 or float64): anything else raises TypeError rather than silently
        updating a copy.
    b : array_like, shape like x
    omega : float in (0, 2)
    iterations : int >= 1
    direction : {"forward", "backward", "symmetric"}
    ordering : {"natural", "multicolor"}

    Returns
    -------
    x : ndarray
        The same object, updated.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from adasolve import sor_sweep
    >>> A = sp.diags([-1, 4, -1], [-1, 0, 1], shape=(5, 5), format="csr")
    >>> x = np.zeros(5); _ = sor_sweep(A, x, np.ones(5), omega=1.0)
    >>> round(float(x[0]), 4)
    0.25
    """
    omega = _check_omega(omega)
    iterations = check_scalar(iterations, "iterations", kind=int, low=1)
    direction = check_choice(direction, "direction", _DIRECTIONS)
    ordering = check_choice(ordering, "ordering", _ORDERINGS)
    if not isinstance(x, np.ndarray):
        raise TypeError("x must be a NumPy array (it is updated in place)")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x must have dtype float32 or float64 to be updated in place, got {x.dtype}")
    if not x.flags.c_contiguous or not x.flags.writeable:
        raise TypeError("x must be a writeable C-contiguous array (it is updated in place)")
    A = _as_csr(A)
    if A.dtype != x.dtype:
        raise TypeError(f"x has dtype {x.dtype} but A has dtype {A.dtype}; x is updated in place, so it "
                        "must have A's dtype")
    M = _bind(A)
    n = A.shape[0]
    if x.shape[0] != n or x.ndim not in (1, 2):
        raise ValueError(f"x has shape {x.shape}, expected ({n},) or ({n}, k)")
    if sp.issparse(b):
        b = b.toarray()
    b_arr = as_float_array(b, "b", dtype=x.dtype, ndim=(1, 2))
    if b_arr.shape != x.shape:
        if b_arr.ndim == 2 and b_arr.shape[1] == 1 and x.ndim == 1 and b_arr.shape[0] == n:
            b_arr = np.ascontiguousarray(b_arr.reshape(-1))
        else:
            raise ValueError(f"b has shape {b_arr.shape} but x has shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or Inf")
    M.sweep(b_arr, x, omega, _DIRECTIONS[direction], iterations, ordering == "multicolor")
    return x
