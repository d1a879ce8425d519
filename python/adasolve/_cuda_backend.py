"""adasolve's CUDA backend: CuPy / PyTorch arrays in, the same kind of arrays out.

This module is the Python side of the optional extension ``adasolve._cuda`` (``cpp/cuda``).
It imports without CuPy, PyTorch or a GPU; what needs them fails only when called, with a
message saying what is missing (see :func:`adasolve.cuda_available`).

Arrays
------
Device arrays are taken **without a copy** through ``__cuda_array_interface__`` (CuPy, Numba,
PyTorch) or DLPack (any ``__dlpack__`` producer, viewed through PyTorch or CuPy). Results are
allocated by the caller's framework (a ``torch.Tensor`` for tensors, a ``cupy.ndarray``
otherwise) on the caller's device, and every kernel runs on the caller's current stream
(``torch.cuda.current_stream().cuda_stream`` / ``cupy.cuda.get_current_stream().ptr``), so
results are ordered with the caller's other work and no host synchronization happens except
where a number has to come back (``element``, ``quad`` of one vector, the solvers' residuals).

Contents
--------
- :class:`CudaStaticIHVP`, :class:`CudaSlidingIHVP`: M-FAC (same math as :mod:`adasolve.mfac`).
- :class:`CudaSorPlan`, :func:`solve_sor_cuda`, :func:`ssor_cg_cuda`: multicolour SOR and
  SSOR-preconditioned CG on CSR matrices.
- :func:`gaussian_sketch`, :func:`countsketch`, :func:`sketch_matrix`: sketch application.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

from ._validation import as_csr, check_scalar, check_tol, seed_to_uint64

__all__ = [
    "DeviceArray",
    "is_cuda_array",
    "device_array",
    "parse_cuda_array_interface",
    "CudaStaticIHVP",
    "CudaSlidingIHVP",
    "CudaSorPlan",
    "solve_sor_cuda",
    "ssor_cg_cuda",
    "gaussian_sketch",
    "countsketch",
    "sketch_matrix",
    "wants_cuda",
    "to_device",
]

_DLPACK_CUDA = (2, 13)  # kDLCUDA, kDLCUDAManaged
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _module():
    """The compiled module, or a RuntimeError that says why it cannot be used."""
    from ._gpu import cuda_available

    ok, why = cuda_available(reason=True)
    if not ok:
        raise RuntimeError(f"adasolve's CUDA backend is not available: {why}")
    from . import _cuda  # type: ignore[attr-defined]

    return _cuda


# ---------------------------------------------------------------------------------------------
# Array interchange
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceArray:
    """A device array seen through its pointer: what the kernels need, and who owns it."""

    ptr: int
    shape: Tuple[int, ...]
    dtype: np.dtype
    strides: Tuple[int, ...]  # in elements
    device: int
    framework: str  # "torch", "cupy" or "cai" (another __cuda_array_interface__ producer)
    stream: int
    obj: Any  # keeps the owner alive

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def c_contiguous(self) -> bool:
        expect = 1
        for n, s in zip(reversed(self.shape), reversed(self.strides)):
            if n != 1 and s != expect:
                return False
            expect *= n
        return True


def parse_cuda_array_interface(iface: dict) -> Tuple[int, Tuple[int, ...], np.dtype, Tuple[int, ...], Optional[int]]:
    """``(ptr, shape, dtype, strides_in_elements, stream)`` from a ``__cuda_array_interface__``.

    Raises ValueError on a malformed or unsupported interface (misaligned strides, version < 0).
    ``stream`` follows the protocol: None when absent, 1 = legacy default, 2 = per-thread default.
    """
    try:
        shape = tuple(int(n) for n in iface["shape"])
        dtype = np.dtype(iface["typestr"])
        ptr = int(iface["data"][0] or 0)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"malformed __cuda_array_interface__: {iface!r}") from exc
    if dtype.byteorder == ">":
        raise ValueError("big-endian device arrays are not supported")
    if any(n < 0 for n in shape):
        raise ValueError(f"negative extent in shape {shape}")
    raw = iface.get("strides")
    if raw is None:
        strides, acc = [], 1
        for n in reversed(shape):
            strides.append(acc)
            acc *= n
        strides = tuple(reversed(strides))
    else:
        if len(raw) != len(shape):
            raise ValueError("strides and shape have different lengths")
        if any(int(s) % dtype.itemsize for s in raw):
            raise ValueError(f"strides {tuple(raw)} are not multiples of the item size {dtype.itemsize}")
        strides = tuple(int(s) // dtype.itemsize for s in raw)
    stream = iface.get("stream")
    return ptr, shape, dtype, strides, (None if stream is None else int(stream))


def is_cuda_array(x: Any) -> bool:
    """True for arrays that live on a CUDA device (CuPy, PyTorch CUDA tensors, DLPack CUDA)."""
    if type(x).__module__.startswith("torch"):
        return bool(getattr(x, "is_cuda", False))
    try:
        if hasattr(x, "__cuda_array_interface__"):
            return True
    except Exception:  # some producers raise instead of lacking the attribute
        return False
    dev = getattr(x, "__dlpack_device__", None)
    if dev is not None and not isinstance(x, np.ndarray):
        try:
            return int(dev()[0]) in _DLPACK_CUDA
        except Exception:
            return False
    return False


def _torch_stream(t) -> int:
    import torch

    return int(torch.cuda.current_stream(t.device).cuda_stream)


def device_array(x: Any) -> DeviceArray:
    """View a CUDA array without a copy. TypeError for host arrays."""
    mod = type(x).__module__
    if mod.startswith("torch"):
        import torch

        if not x.is_cuda:
            raise TypeError("expected a CUDA tensor, got a tensor on the CPU")
        t = x.detach() if x.requires_grad else x
        dtype = {torch.float32: np.float32, torch.float64: np.float64, torch.int32: np.int32,
                 torch.int64: np.int64}.get(t.dtype)
        if dtype is None:
            raise TypeError(f"unsupported tensor dtype {t.dtype}")
        return DeviceArray(int(t.data_ptr()), tuple(t.shape), np.dtype(dtype), tuple(t.stride()),
                           int(t.device.index or 0), "torch", _torch_stream(t), t)
    if mod.startswith("cupy"):
        import cupy

        ptr, shape, dtype, strides, _ = parse_cuda_array_interface(x.__cuda_array_interface__)
        return DeviceArray(ptr, shape, dtype, strides, int(x.device.id), "cupy",
                           int(cupy.cuda.get_current_stream().ptr), x)
    if hasattr(x, "__cuda_array_interface__"):
        ptr, shape, dtype, strides, stream = parse_cuda_array_interface(x.__cuda_array_interface__)
        # Protocol: 1 is the legacy default stream (handle 0), 2 the per-thread default stream.
        handle = 0 if stream in (None, 1) else stream
        return DeviceArray(ptr, shape, dtype, strides, 0, "cai", handle, x)
    if is_cuda_array(x):  # DLPack only: view it through a framework that speaks DLPack
        try:
            import torch

            return device_array(torch.from_dlpack(x))
        except ImportError:
            import cupy

            return device_array(cupy.from_dlpack(x))
    raise TypeError(f"expected a CUDA array (CuPy, PyTorch, __cuda_array_interface__ or DLPack), got {type(x).__name__}")


def _empty(like: DeviceArray, shape: Tuple[int, ...], dtype: Any, zero: bool = False):
    """A new device array of the caller's framework, on the caller's device."""
    dtype = np.dtype(dtype)
    if like.framework == "torch":
        import torch

        tdt = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[dtype]
        f = torch.zeros if zero else torch.empty
        return f(shape, dtype=tdt, device=like.obj.device)
    import cupy

    with cupy.cuda.Device(like.device):
        return (cupy.zeros if zero else cupy.empty)(shape, dtype=dtype)


def _new_array(framework: str, device: int, shape, dtype, zero: bool = True):
    if framework == "torch":
        import torch

        tdt = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]
        return (torch.zeros if zero else torch.empty)(shape, dtype=tdt, device=f"cuda:{device}")
    import cupy

    with cupy.cuda.Device(device):
        return (cupy.zeros if zero else cupy.empty)(shape, dtype=np.dtype(dtype))


def _astype(arr: DeviceArray, dtype: np.dtype) -> DeviceArray:
    """Same data in ``dtype`` and C order (a copy, by the owning framework) unless already so."""
    if arr.dtype == dtype and arr.c_contiguous:
        return arr
    x = arr.obj
    if arr.framework == "torch":
        import torch

        tdt = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[dtype]
        return device_array(x.to(tdt).contiguous())
    import cupy

    return device_array(cupy.ascontiguousarray(cupy.asarray(x), dtype=dtype))


def _all_finite(arr: DeviceArray) -> bool:
    """One pass over a C-contiguous float array by a kernel (no temporary array)."""
    return bool(_module().all_finite(arr.ptr, arr.size, arr.dtype == np.float64, arr.stream))


def _float_input(x: Any, name: str, dtype: Optional[np.dtype] = None, check_finite: bool = True) -> DeviceArray:
    arr = device_array(x)
    if dtype is None:
        dtype = arr.dtype if arr.dtype in _FLOATS else np.dtype(np.float64)
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} must be real, got complex {arr.dtype}")
    arr = _astype(arr, np.dtype(dtype))
    if check_finite and arr.size and not _all_finite(arr):
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def wants_cuda(device: Any, *arrays: Any) -> bool:
    """Dispatch rule of the public classes: ``device="cuda"`` (or ``"cuda:N"``) or CUDA input."""
    if device is not None and not isinstance(device, str):
        raise TypeError(f"device must be None, 'cpu' or 'cuda', got {type(device).__name__}")
    on_gpu = any(a is not None and is_cuda_array(a) for a in arrays)
    if device is None:
        return on_gpu
    if device == "cpu":
        if on_gpu:
            raise ValueError("device='cpu' was given CUDA arrays: copy them to the host first, or use device='cuda'")
        return False
    if device == "cuda" or device.startswith("cuda:"):
        return True
    raise ValueError(f"device must be None, 'cpu' or 'cuda', got {device!r}")


def _device_index(device: Any) -> int:
    return int(device.split(":", 1)[1]) if isinstance(device, str) and device.startswith("cuda:") else 0


def to_device(x: Any, framework: Optional[str] = None, device: int = 0):
    """``x`` as a CUDA array: CUDA arrays pass unchanged; host data is copied to the device as a
    ``torch.Tensor`` (default when PyTorch is importable) or a ``cupy.ndarray``."""
    if is_cuda_array(x):
        return x
    arr = np.asarray(x)
    if framework is None:
        try:
            import torch  # noqa: F401

            framework = "torch"
        except ImportError:
            framework = "cupy"
    if framework == "torch":
        import torch

        return torch.as_tensor(arr, device=f"cuda:{device}")
    import cupy

    with cupy.cuda.Device(device):
        return cupy.asarray(arr)


def _on_device_of(x: Any, ref: DeviceArray):
    """Host input of a method of a CUDA object goes to that object's framework and device."""
    return to_device(x, "torch" if ref.framework == "torch" else "cupy", ref.device)


# ---------------------------------------------------------------------------------------------
# M-FAC
# ---------------------------------------------------------------------------------------------
def _check_damp(damp: Any) -> float:
    return check_scalar(damp, "damp", low=0.0, low_inclusive=False)


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


# ---------------------------------------------------------------------------------------------
# Sketches
# ---------------------------------------------------------------------------------------------
def _sketch_input(A: Any):
    arr = _float_input(A, "A")
    if arr.ndim not in (1, 2):
        raise ValueError(f"A must be 1-D or 2-D, got shape {arr.shape}")
    n = arr.shape[0]
    p = 1 if arr.ndim == 1 else arr.shape[1]
    lda = 1 if arr.ndim == 1 else arr.strides[0]
    if arr.ndim == 2 and arr.strides[1] != 1:
        arr = _astype(device_array(arr.obj.contiguous() if arr.framework == "torch" else arr.obj.copy()), arr.dtype)
        lda = arr.strides[0]
    return arr, n, p, lda


def gaussian_sketch(A: Any, sketch_size: int, seed: Any = None):
    """``S A`` for a Gaussian ``S`` (sketch_size x n, entries N(0, 1/sketch_size)).

    ``A`` is a CUDA array (n,) or (n, p); the result has shape (sketch_size,) or
    (sketch_size, p). The same ``seed`` gives the same ``S`` (see :func:`sketch_matrix`).
    """
    cu = _module()
    s = check_scalar(sketch_size, "sketch_size", kind=int, low=1)
    arr, n, p, lda = _sketch_input(A)
    out = _empty(arr, (s,) if arr.ndim == 1 else (s, p), arr.dtype)
    cu.gaussian_sketch(arr.ptr, n, p, lda, device_array(out).ptr, s, _seed(seed), arr.dtype == np.float64, arr.stream)
    return out


def countsketch(A: Any, sketch_size: int, seed: Any = None):
    """``S A`` for a CountSketch ``S``: row j of A is added, with a random sign, to one of
    ``sketch_size`` buckets. ``A``: a CUDA array (n,) / (n, p), or a ``cupyx.scipy.sparse``
    CSR matrix (the result is dense). One pass over A with atomic additions, so float results
    may differ from run to run in the last bits.
    """
    cu = _module()
    s = check_scalar(sketch_size, "sketch_size", kind=int, low=1)
    seed = _seed(seed)
    if type(A).__module__.startswith("cupyx"):
        import cupy

        A = A.tocsr()
        dtype = np.dtype(A.dtype) if np.dtype(A.dtype) in _FLOATS else np.dtype(np.float64)
        data = cupy.ascontiguousarray(A.data, dtype=dtype)
        ip = cupy.ascontiguousarray(A.indptr, dtype=np.int32)
        ix = cupy.ascontiguousarray(A.indices, dtype=np.int32)
        n, p = A.shape
        out = cupy.empty((s, p), dtype=dtype)
        stream = int(cupy.cuda.get_current_stream().ptr)
        cu.countsketch_csr(ip.data.ptr, ix.data.ptr, data.data.ptr, n, p, out.data.ptr, s, seed,
                           dtype == np.float64, stream)
        return out
    arr, n, p, lda = _sketch_input(A)
    out = _empty(arr, (s,) if arr.ndim == 1 else (s, p), arr.dtype)
    cu.countsketch_dense(arr.ptr, n, p, lda, device_array(out).ptr, s, seed, arr.dtype == np.float64, arr.stream)
    return out


def sketch_matrix(kind: str, sketch_size: int, n: int, seed: Any = None, *, like: Any = None,
                  dtype: Any = np.float64):
    """The sketch ``S`` itself (sketch_size x n) as a device array, for tests and small problems.

    ``like``: a CUDA array whose framework and device the result uses (default: torch if
    importable, else CuPy, on device 0).
    """
    cu = _module()
    codes = {"gaussian": 0, "countsketch": 1}
    if kind not in codes:
        raise ValueError(f"kind must be one of {sorted(codes)}, got {kind!r}")
    s = check_scalar(sketch_size, "sketch_size", kind=int, low=1)
    n = check_scalar(n, "n", kind=int, low=1)
    dtype = np.dtype(dtype)
    if like is not None:
        out = _empty(device_array(like), (s, n), dtype)
    else:
        try:
            import torch  # noqa: F401

            out = _new_array("torch", 0, (s, n), dtype, zero=False)
        except ImportError:
            out = _new_array("cupy", 0, (s, n), dtype, zero=False)
    O = device_array(out)
    cu.sketch_matrix(codes[kind], s, n, _seed(seed), O.ptr, dtype == np.float64, O.stream)
    return out


def _seed(seed: Any) -> int:
    """64-bit seed: an int is used as is (so the NumPy reference reproduces S), else drawn."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return int(seed) & (2**64 - 1)
    return seed_to_uint64(seed)
