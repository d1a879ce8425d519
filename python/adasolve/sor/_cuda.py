"""Multicolour SOR and SSOR-CG on the GPU; see :mod:`adasolve._device`.

The plan is built on the host by the CPU library (``adasolve::sor``): the same greedy
colouring as ``solve_sor(..., ordering="multicolor")`` on the CPU, and the same one-pass
check of A's values and diagonal (NaN/Inf, zero or missing diagonal entries) while the
inverse diagonal is computed. Python converts A to CSR once and checks the scalar arguments.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np

from .._validation import as_csr, check_choice, check_maxiter, check_scalar, check_tol
from .._device import _empty, _float_input, _module, device_array
from .solve import _DIRECTIONS, _check_omega

__all__ = ["CudaSorPlan", "solve_sor_cuda", "ssor_cg_cuda"]


# ---------------------------------------------------------------------------------------------
# Multicolour SOR and SSOR-CG
# ---------------------------------------------------------------------------------------------
def _host_csr(A: Any):
    """Host CSR (int32 indices) of any SciPy/NumPy matrix or a cupyx.scipy.sparse matrix.

    Values are not checked here: the plan checks them (and the diagonal) in C++ while it
    computes the inverse diagonal.
    """
    mod = type(A).__module__
    if mod.startswith("cupyx"):
        A = A.tocsr().get()  # one-time copy to the host: the colouring is computed there
    elif mod.startswith("torch"):
        A = A.to_sparse_csr().cpu() if A.layout != getattr(__import__("torch"), "sparse_csr") else A.cpu()
        import scipy.sparse as sp

        A = sp.csr_matrix((A.values().numpy(), A.col_indices().numpy(), A.crow_indices().numpy()), shape=tuple(A.shape))
    csr = as_csr(A, "A", finite=False)
    if csr.indptr.dtype != np.int32:
        raise ValueError(f"A has too many rows or non-zeros ({csr.nnz}) for the GPU kernels' 32-bit indices")
    return csr


class CudaSorPlan:
    """A CSR matrix prepared for multicolour SOR / SSOR-CG on the GPU.

    Building the plan colours the symmetrized pattern greedily on the host (red-black for the
    5-point Laplacian), permutes the matrix so that each colour is a contiguous block of rows
    and uploads it: one host pass over the matrix. Reuse the plan for many right-hand sides.

    Parameters
    ----------
    A : sparse matrix or ndarray, shape (n, n)
        SciPy sparse (any format), dense NumPy, or ``cupyx.scipy.sparse`` (copied to the host
        once for the colouring). float32 stays float32; other real dtypes become float64.
    device : int
        CUDA device that holds the plan.
    """

    def __init__(self, A: Any, *, device: int = 0) -> None:
        cu = _module()
        device = check_scalar(device, "device", kind=int, low=0)
        csr = _host_csr(A)  # square, non-empty, float32/float64, canonical, int32 indices
        self.shape = csr.shape
        self.dtype = csr.dtype
        self.device = device
        t0 = time.perf_counter()
        self._impl = cu.SorPlan(csr.shape[0], csr.indptr, csr.indices, csr.data, self.device)
        self.setup_time = time.perf_counter() - t0

    @property
    def ncolors(self) -> int:
        return int(self._impl.ncolors)

    @property
    def perm(self) -> np.ndarray:
        """Row order of the permuted matrix (new -> old)."""
        return np.asarray(self._impl.perm)

    def _prepare(self, b: Any, x0: Any):
        n = self.shape[0]
        B = _float_input(b, "b", self.dtype)
        if B.shape not in ((n,), (n, 1)):
            raise ValueError(f"b must have shape ({n},), got {B.shape}")
        x = _empty(B, (n,), self.dtype, zero=True)
        X = device_array(x)
        if x0 is not None:
            X0 = _float_input(x0, "x0", self.dtype)
            if X0.shape not in ((n,), (n, 1)):
                raise ValueError(f"x0 must have shape ({n},), got {X0.shape}")
            if B.framework == "torch":
                x.copy_(X0.obj.reshape(n))
            else:
                import cupy

                x[...] = cupy.asarray(X0.obj).reshape(n)
        return B, x, X

    def solve_sor(self, b: Any, x0: Any = None, *, omega: float = 1.0, rtol: float = 1e-8,
                  atol: float = 0.0, maxiter: Optional[int] = None, symmetric: bool = False,
                  check_every: int = 5):
        """Multicolour SOR (or SSOR with ``symmetric=True``) from ``x0`` (zeros by default).

        Returns ``(x, info, stats)`` with SciPy's ``info`` convention; the residual is checked
        every ``check_every`` sweeps (one SpMV each), so ``stats["iterations"]`` is a multiple
        of it unless ``maxiter`` stops first.
        """
        omega = _check_omega(omega)
        rtol, atol = check_tol(rtol, atol, "solve_sor")
        maxiter = check_maxiter(maxiter, 10 * self.shape[0])
        check_every = check_scalar(check_every, "check_every", kind=int, low=1)
        B, x, X = self._prepare(b, x0)
        t0 = time.perf_counter()
        nit, info, resid, bnorm = self._impl.sor(B.ptr, X.ptr, omega, rtol, atol, maxiter,
                                                 bool(symmetric), check_every, B.stream)
        return x, int(info), {"iterations": int(nit), "residual_norm": float(resid), "omega": omega,
                              "converged": info == 0, "elapsed": time.perf_counter() - t0,
                              "b_norm": float(bnorm), "ncolors": self.ncolors}

    def ssor_cg(self, b: Any, x0: Any = None, *, omega: float = 1.0, rtol: float = 1e-8,
                atol: float = 0.0, maxiter: Optional[int] = None):
        """CG preconditioned by one multicolour SSOR sweep; returns ``(x, info, stats)``."""
        omega = _check_omega(omega)
        rtol, atol = check_tol(rtol, atol, "ssor_cg")
        maxiter = check_maxiter(maxiter, 10 * self.shape[0])
        B, x, X = self._prepare(b, x0)
        t0 = time.perf_counter()
        nit, info, resid, bnorm = self._impl.ssor_cg(B.ptr, X.ptr, omega, rtol, atol, maxiter, B.stream)
        return x, int(info), {"iterations": int(nit), "residual_norm": float(resid), "omega": omega,
                              "converged": info == 0, "elapsed": time.perf_counter() - t0,
                              "b_norm": float(bnorm), "ncolors": self.ncolors}

    def sweep(self, x: Any, b: Any, omega: float = 1.0, iterations: int = 1, direction: str = "forward") -> None:
        """In-place multicolour sweeps on the CUDA vector ``x`` (forward, backward, symmetric)."""
        omega = _check_omega(omega)
        iterations = check_scalar(iterations, "iterations", kind=int, low=1)
        direction = check_choice(direction, "direction", _DIRECTIONS)
        n = self.shape[0]
        X = device_array(x)
        if X.dtype != self.dtype or not X.c_contiguous or X.shape != (n,):
            raise ValueError(f"x must be a contiguous ({n},) {self.dtype} CUDA array (updated in place)")
        B = _float_input(b, "b", self.dtype)
        self._impl.sweep(X.ptr, B.ptr, omega, iterations, _DIRECTIONS[direction], X.stream)


def _finish(x, info, stats, full_output):
    return (x, info, stats) if full_output else (x, info)


def solve_sor_cuda(A: Any, b: Any, x0: Any = None, *, omega: float = 1.0, rtol: float = 1e-8,
                   atol: float = 0.0, maxiter: Optional[int] = None, symmetric: bool = False,
                   check_every: int = 5, full_output: bool = False):
    """Multicolour SOR on the GPU: ``A`` a matrix or a :class:`CudaSorPlan`, ``b`` a CUDA array."""
    plan = A if isinstance(A, CudaSorPlan) else CudaSorPlan(A, device=device_array(b).device)
    x, info, stats = plan.solve_sor(b, x0, omega=omega, rtol=rtol, atol=atol, maxiter=maxiter,
                                    symmetric=symmetric, check_every=check_every)
    return _finish(x, info, stats, full_output)


def ssor_cg_cuda(A: Any, b: Any, x0: Any = None, *, omega: float = 1.0, rtol: float = 1e-8,
                 atol: float = 0.0, maxiter: Optional[int] = None, full_output: bool = False):
    """SSOR-preconditioned CG on the GPU: ``A`` a matrix or a :class:`CudaSorPlan`."""
    plan = A if isinstance(A, CudaSorPlan) else CudaSorPlan(A, device=device_array(b).device)
    x, info, stats = plan.ssor_cg(b, x0, omega=omega, rtol=rtol, atol=atol, maxiter=maxiter)
    return _finish(x, info, stats, full_output)


