"""adasolve's device dispatch: CuPy / PyTorch arrays in, the same kind of arrays out.

This module is the Python side of the optional extension ``adasolve._cuda`` (``cpp/cuda``) and
the one place that decides whether input is on a GPU (:func:`any_cuda_array`).
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

Each family keeps its GPU code beside it and dispatches through this module:

- :mod:`adasolve.mfac._cuda`: :class:`CudaStaticIHVP`, :class:`CudaSlidingIHVP`;
- :mod:`adasolve.sor._cuda`: :class:`CudaSorPlan`, :func:`solve_sor_cuda`, :func:`ssor_cg_cuda`;
- :mod:`adasolve.constrained._cuda`: :func:`gaussian_sketch`, :func:`countsketch`,
  :func:`sketch_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

from ._validation import check_scalar, seed_to_uint64

__all__ = [
    "cuda_available",
    "DeviceArray",
    "is_cuda_array",
    "any_cuda_array",
    "device_array",
    "parse_cuda_array_interface",
    "wants_cuda",
    "to_device",
]

_DLPACK_CUDA = (2, 13)  # kDLCUDA, kDLCUDAManaged
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def cuda_available(reason: bool = False):
    """Tell whether adasolve's CUDA backend can be used.

    Parameters
    ----------
    reason : bool
        If True, return ``(available, message)`` instead of a bool.

    Examples
    --------
    >>> import adasolve
    >>> isinstance(adasolve.cuda_available(), bool)
    True
    """
    ok, why = _probe()
    return (ok, why) if reason else ok


def _probe() -> Tuple[bool, str]:
    try:
        from . import _cuda  # type: ignore[attr-defined]
    except ImportError as exc:
        return False, (
            "adasolve was built without its CUDA module (no nvcc/cuBLAS found at build time, "
            f"or ADASOLVE_CUDA=0): {exc}"
        )
    try:
        n = _cuda.device_count()
    except Exception as exc:  # driver missing or broken
        return False, f"the CUDA module is built but the driver failed: {exc}"
    if n < 1:
        return False, "the CUDA module is built but no CUDA device is visible"
    return True, f"{n} CUDA device(s) visible"


def _module():
    """The compiled module, or a RuntimeError that says why it cannot be used."""

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


def any_cuda_array(*arrays: Any) -> bool:
    """True when one of ``arrays`` lives on a CUDA device: the one "is this GPU input?" test
    of every family. ``None`` and NumPy arrays cost one type test each (the CPU call path)."""
    for a in arrays:
        if a is not None and type(a) is not np.ndarray and is_cuda_array(a):
            return True
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
    on_gpu = any_cuda_array(*arrays)
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


def check_damp(damp: Any) -> float:
    """``damp`` > 0 (one rule for CPU and GPU M-FAC)."""
    return check_scalar(damp, "damp", low=0.0, low_inclusive=False)


def _seed(seed: Any) -> int:
    """64-bit seed: an int is used as is (so the NumPy reference reproduces S), else drawn."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return int(seed) & (2**64 - 1)
    return seed_to_uint64(seed)
