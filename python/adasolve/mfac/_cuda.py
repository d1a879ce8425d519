"""M-FAC on the GPU (CUDA arrays in, the same kind out); see :mod:`adasolve._device`."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._validation import check_scalar
from .._device import (
    DeviceArray, _astype, _empty, _float_input, _module, _new_array, _on_device_of, _FLOATS, _device_index, device_array, to_device, check_damp as _check_damp,
)

__all__ = ["CudaStaticIHVP", "CudaSlidingIHVP"]


# ---------------------------------------------------------------------------------------------
# M-FAC
# ---------------------------------------------------------------------------------------------
def _vectors(v: Any, d: int, dtype: np.dtype) -> DeviceArray:
    arr = _float_input(v, "v", dtype)
    if arr.ndim not in (1, 2) or arr.shape[-1] != d:
        raise ValueError(f"v must have shape ({d},) or (k, {d}), got {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] == 0:
        raise ValueError(f"v is an empty batch (shape {arr.shape})")
    return arr


class CudaStaticIHVP:
    """M-FAC on the GPU for a fixed set of gradients (see :class:`adasolve.StaticIHVP`).

    ``grads`` is an (m, d) CUDA array (CuPy, PyTorch, ...) of float32 or float64 with unit
    column stride; it is used without a copy and must not change while the object is in use.
    The precomputation forms ``G G^T`` (cuBLAS SYRK; float32 chunks summed in float64) and its
    Cholesky factor on the device; :meth:`ihvp` is two cuBLAS GEMV/GEMM passes over ``grads``.

    Examples
    --------
    >>> import torch                                   # doctest: +SKIP
    >>> G = torch.randn(64, 10**6, device="cuda")      # doctest: +SKIP
    >>> H = CudaStaticIHVP(G, damp=1e-3)               # doctest: +SKIP
    >>> x = H.ihvp(G[0])                               # doctest: +SKIP
    """

    def __init__(self, grads: Any, damp: float = 1e-5, *, block_size: Optional[int] = None,
                 dtype: Any = None, device: Any = None) -> None:
        cu = _module()
        G = _float_input(to_device(grads, device=_device_index(device)), "grads",
                         None if dtype is None else np.dtype(dtype))
        if G.ndim != 2:
            raise ValueError(f"grads must be 2-D (m, d), got shape {G.shape}")
        m, d = G.shape
        if m == 0 or d == 0:
            raise ValueError(f"grads must have m >= 1 and d >= 1, got shape {G.shape}")
        if G.strides[1] != 1 or G.strides[0] < d:
            G = _astype(device_array(G.obj.contiguous() if G.framework == "torch" else G.obj.copy()), G.dtype)
        if block_size is not None and int(block_size) < d:
            raise NotImplementedError("block_size is not supported by the CUDA backend yet (use the CPU classes)")
        self._damp = _check_damp(damp)
        self._G = G
        self._impl = cu.MfacStatic(G.ptr, m, d, G.strides[0], G.dtype == np.float64, self._damp,
                                   G.device, G.stream)

    m = property(lambda self: int(self._G.shape[0]), doc="Number of gradients.")
    dim = property(lambda self: int(self._G.shape[1]), doc="Dimension d.")
    damp = property(lambda self: self._damp)
    dtype = property(lambda self: self._G.dtype)
    grads = property(lambda self: self._G.obj, doc="The gradient array in use (the caller's).")

    def ihvp(self, v: Any):
        """``F^{-1} v`` for (d,) or (k, d) CUDA input; a new array of the caller's framework
        (host input is first copied to the device of ``grads``)."""
        V = _vectors(_on_device_of(v, self._G), self.dim, self.dtype)
        out = _empty(V, V.shape, self.dtype)
        X = device_array(out)
        self._impl.ihvp(V.ptr, 1 if V.ndim == 1 else V.shape[0], X.ptr, V.stream)
        return out

    def quad(self, v: Any):
        """``v^T F^{-1} v``: a float for one vector, a float64 device array (k,) for a batch."""
        V = _vectors(_on_device_of(v, self._G), self.dim, self.dtype)
        k = 1 if V.ndim == 1 else V.shape[0]
        out = _empty(V, (k,), np.float64)
        self._impl.quad(V.ptr, k, device_array(out).ptr, V.stream)
        return float(out[0].item()) if V.ndim == 1 else out

    def diag(self):
        """diag(F^{-1}) as a float64 device array (d,) (O(d m^2), chunked triangular solves)."""
        out = _empty(self._G, (self.dim,), np.float64)
        self._impl.diag(device_array(out).ptr, self._G.stream if self._G.framework == "cai" else device_array(out).stream)
        return out

    def element(self, i: int, j: int) -> float:
        """``[F^{-1}]_{ij}`` (negative indices count from the end)."""
        d = self.dim
        idx = []
        for name, k in (("i", i), ("j", j)):
            k = check_scalar(k, name, kind=int)
            if not -d <= k < d:
                raise IndexError(f"{name}={k} is out of range for dimension {d}")
            idx.append(k % d)
        return float(self._impl.element(idx[0], idx[1], device_array(self._G.obj).stream))


class CudaSlidingIHVP:
    """M-FAC sliding window on the GPU (see :class:`adasolve.SlidingIHVP`).

    The ring buffer (m x d) is allocated by ``framework`` ("torch" or "cupy"; default: torch
    when importable) on ``device``; ``update_and_ihvp`` is two passes over it (one GEMM with
    the new gradient and ``v`` side by side, one GEMV) plus an O(m^3) device Cholesky.
    """

    def __init__(self, dim: int, m: int, damp: float = 1e-5, *, dtype: Any = np.float32,
                 framework: Optional[str] = None, device: Any = 0, block_size: Optional[int] = None) -> None:
        if not isinstance(device, int):
            device = _device_index(device)
        cu = _module()
        self._d = check_scalar(dim, "dim", kind=int, low=1)
        self._m = check_scalar(m, "m", kind=int, low=1)
        self._damp = _check_damp(damp)
        self._dtype = np.dtype(dtype)
        if self._dtype not in _FLOATS:
            raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {self._dtype}")
        if block_size is not None and int(block_size) < self._d:
            raise NotImplementedError("block_size is not supported by the CUDA backend yet (use the CPU classes)")
        if framework is None:
            try:
                import torch  # noqa: F401

                framework = "torch"
            except ImportError:
                framework = "cupy"
        self._buf = _new_array(framework, device, (self._m, self._d), self._dtype)
        B = device_array(self._buf)
        self._B = B
        self._impl = cu.MfacSliding(B.ptr, self._m, self._d, self._dtype == np.float64, self._damp,
                                    B.device, B.stream)

    m = property(lambda self: self._m)
    dim = property(lambda self: self._d)
    damp = property(lambda self: self._damp)
    dtype = property(lambda self: self._dtype)
    count = property(lambda self: int(self._impl.count), doc="Gradients added since the last reset.")
    grads = property(lambda self: self._buf, doc="The ring buffer (m, d) on the device.")

    def _vec(self, v: Any, name: str) -> DeviceArray:
        arr = _float_input(_on_device_of(v, self._B), name, self._dtype)
        if arr.shape != (self._d,):
            raise ValueError(f"{name} must have shape ({self._d},), got {arr.shape}")
        return arr

    def update(self, g: Any) -> None:
        """Replace the oldest gradient by ``g`` (d,)."""
        G = self._vec(g, "g")
        self._impl.update(G.ptr, G.stream)

    def ihvp(self, v: Any):
        """``F^{-1} v`` with the current window, for (d,) or (k, d) CUDA input."""
        V = _vectors(_on_device_of(v, self._B), self._d, self._dtype)
        out = _empty(V, V.shape, self._dtype)
        self._impl.ihvp(V.ptr, 1 if V.ndim == 1 else V.shape[0], device_array(out).ptr, V.stream)
        return out

    def update_and_ihvp(self, g: Any, v: Any = None):
        """``update(g)`` then ``F^{-1} v`` (``v = g`` when None), fused: two passes over the buffer."""
        G = self._vec(g, "g")
        V = self._vec(v, "v") if v is not None else None
        out = _empty(G, (self._d,), self._dtype)
        self._impl.update_and_ihvp(G.ptr, 0 if V is None else V.ptr, device_array(out).ptr, G.stream)
        return out

    def set_window(self, grads: Any) -> None:
        """Start from the k <= m gradients in the rows of ``grads`` (k, d) (one copy into the
        buffer and one SYRK): the state that k calls of :meth:`update` would leave."""
        G = _float_input(grads, "grads", self._dtype)
        if G.ndim != 2 or G.shape[1] != self._d or not 1 <= G.shape[0] <= self._m:
            raise ValueError(f"grads must have shape (k, {self._d}) with 1 <= k <= {self._m}, got {G.shape}")
        k = G.shape[0]
        if self._B.framework == "torch":
            self._buf.zero_()
            self._buf[:k].copy_(G.obj)
        else:
            import cupy

            self._buf.fill(0)
            self._buf[:k] = cupy.asarray(G.obj)
        self._impl.load(k, device_array(self._buf).stream)

    def reset(self) -> None:
        """Forget every gradient (the buffer is zeroed)."""
        self._buf.zero_() if self._B.framework == "torch" else self._buf.fill(0)
        self._impl.reset(device_array(self._buf).stream)


