"""Multicolour SOR and SSOR-CG on the GPU; see :mod:`adasolve._device`."""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np

from .._validation import as_csr, check_scalar, check_tol
from .._device import (
    _empty, _float_input, _module, _FLOATS, device_array,
)

__all__ = ["CudaSorPlan", "solve_sor_cuda", "ssor_cg_cuda"]


# ---------------------------------------------------------------------------------------------
# Multicolour SOR and SSOR-CG
# ---------------------------------------------------------------------------------------------
def _host_csr(A: Any):
    """Host CSR (int32 indices) of any SciPy/NumPy matrix or a cupyx.scipy.sparse matrix."""
    mod = type(A).__module__
    if mod.startswith("cupyx"):
        A = A.tocsr().get()  # one-time copy to the host: the colouring is computed there
    elif mod.startswith("torch"):
        A = A.to_sparse_csr().cpu() if A.layout != getattr(__import__("torch"), "sparse_csr") else A.cpu()
        import scipy.sparse as sp

        A = sp.csr_matrix((A.values().numpy(), A.col_indices().numpy(), A.crow_indices().numpy()), shape=tuple(A.shape))
    return as_csr(A, "A", index_dtype=np.int32)


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
        csr = _host_csr(A)
        n = csr.shape[0]
        if csr.shape[0] != csr.shape[1]:
            raise ValueError(f"A must be square, got shape {csr.shape}")
        if n == 0:
            raise ValueError("A is empty")
        if csr.dtype not in _FLOATS:
            csr = csr.astype(np.float64)
        if not np.all(np.isfinite(csr.data)):
            raise ValueError("A contains NaN or Inf")
        if csr.nnz >= 2**31:
            raise ValueError("A has too many non-zeros for 32-bit indices")
        self.shape = csr.shape
        self.dtype = csr.dtype
        self.device = int(device)
        t0 = time.perf_counter()
        self._impl = cu.SorPlan(n, np.ascontiguousarray(csr.indptr, dtype=np.int32),
                                np.ascontiguousarray(csr.indices, dtype=np.int32),
                                np.ascontiguousarray(csr.data), self.device)
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
        omega = check_scalar(omega, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)
        rtol, atol = check_tol(rtol, atol, "solve_sor")
        maxiter = 10 * self.shape[0] if maxiter is None else check_scalar(maxiter, "maxiter", kind=int, low=1)
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
        omega = check_scalar(omega, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)
        rtol, atol = check_tol(rtol, atol, "ssor_cg")
        maxiter = 10 * self.shape[0] if maxiter is None else check_scalar(maxiter, "maxiter", kind=int, low=1)
        B, x, X = self._prepare(b, x0)
        t0 = time.perf_counter()
        nit, info, resid, bnorm = self._impl.ssor_cg(B.ptr, X.ptr, omega, rtol, atol, maxiter, B.stream)
        return x, int(info), {"iterations": int(nit), "residual_norm": float(resid), "omega": omega,
                              "converged": info == 0, "elapsed": time.perf_counter() - t0,
                              "b_norm": float(bnorm), "ncolors": self.ncolors}

    def sweep(self, x: Any, b: Any, omega: float = 1.0, iterations: int = 1, direction: str = "forward") -> None:
        """In-place multicolour sweeps on the CUDA vector ``x`` (forward, backward, symmetric)."""
        codes = {"forward": 0, "backward": 1, "symmetric": 2}
        if direction not in codes:
            raise ValueError(f"direction must be one of {sorted(codes)}, got {direction!r}")
        n = self.shape[0]
        X = device_array(x)
        if X.dtype != self.dtype or not X.c_contiguous or X.shape != (n,):
            raise ValueError(f"x must be a contiguous ({n},) {self.dtype} CUDA array (updated in place)")
        B = _float_input(b, "b", self.dtype)
        self._impl.sweep(X.ptr, B.ptr, float(omega), int(iterations), codes[direction], X.stream)


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


