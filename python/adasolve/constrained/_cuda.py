"""Sketch application on the GPU; see :mod:`adasolve._device`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_scalar
from .._device import (
    _astype, _empty, _float_input, _module, _new_array, _seed,
    _FLOATS, device_array,
)

__all__ = ["gaussian_sketch", "countsketch", "sketch_matrix"]


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
