"""Shared input validation for every adasolve family.

Every public function converts and checks its inputs here, before any call into
``adasolve._core``, so that bad input gets the same kind of message everywhere:
``TypeError`` for a type or dtype that cannot be used, ``ValueError`` for a bad
shape or value, each naming the argument. C++ assertions are not validation.

Copies: the helpers return the caller's array unchanged (no copy) when it already
has the requested dtype and memory layout; otherwise they convert, and the
conversion is a copy. Integer and boolean input is converted to float64.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_csr",
    "check_sparse_structure",
    "as_float_array",
    "check_vector",
    "check_matrix",
    "check_finite",
    "check_square",
    "check_diagonal",
    "check_scalar",
    "check_choice",
    "check_tol",
    "check_maxiter",
    "check_random_state",
    "seed_to_uint64",
    "FLOAT_DTYPES",
]

FLOAT_DTYPES = (np.float64, np.float32)

SeedLike = Union[None, int, np.integer, np.random.Generator, np.random.SeedSequence]


def _float_dtype(dtype: np.dtype, name: str, allowed: Sequence[type]) -> np.dtype:
    """Dtype the numerics will use for input of ``dtype``; raises TypeError if impossible."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(
            f"{name} has complex dtype {dtype}; adasolve solves real problems only "
            "(split real and imaginary parts, or use scipy.sparse.linalg for complex systems)"
        )
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f":
        for a in allowed:
            if dtype == np.dtype(a):
                return dtype
        # float16 or longdouble: compute in float64
        return np.dtype(np.float64)
    raise TypeError(f"{name} must hold numbers, got dtype {dtype}")


def as_float_array(
    x: Any,
    name: str,
    *,
    dtype: Optional[Union[type, np.dtype]] = None,
    allowed: Sequence[type] = FLOAT_DTYPES,
    ndim: Optional[Union[int, Tuple[int, ...]]] = None,
    order: str = "C",
    finite: bool = True,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a floating ndarray without copying when already suitable.

    Parameters
    ----------
    x : array_like
        Input (lists, NumPy arrays, anything ``np.asarray`` accepts).
    name : str
        Argument name used in error messages.
    dtype : dtype, optional
        Force this dtype. By default float32 and float64 are kept and integers
        are converted to float64.
    allowed : sequence of types
        Floating dtypes kept as they are when ``dtype`` is None.
    ndim : int or tuple of int, optional
        Required number of dimensions.
    order : {"C", "F", "A"}
        Required memory layout ("A": any).
    finite : bool
        Reject NaN and Inf.
    copy : bool
        Always return a fresh array (for outputs the caller will modify).

    Examples
    --------
    >>> as_float_array([1, 2, 3], "b").dtype
    dtype('float64')
    """
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array, got a SciPy sparse {x.format} matrix")
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold numbers, got dtype object") from None
    target = np.dtype(dtype) if dtype is not None else _float_dtype(arr.dtype, name, allowed)
    if dtype is not None and arr.dtype.kind == "c":
        _float_dtype(arr.dtype, name, allowed)  # raises the complex message
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if order == "A":
        arr = np.asarray(arr, dtype=target)
    else:
        arr = np.asarray(arr, dtype=target, order=order)
        if order == "C" and not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        elif order == "F" and not arr.flags.f_contiguous:
            arr = np.asfortranarray(arr)
    if copy and isinstance(x, np.ndarray) and np.shares_memory(arr, x):
        arr = arr.copy(order="K")
    if finite:
        check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError if ``arr`` holds NaN or Inf."""
    if arr.size and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "Inf"
        raise ValueError(f"{name} contains {bad}; all entries must be finite")


def check_vector(
    x: Any,
    name: str,
    n: Optional[int] = None,
    *,
    dtype: Optional[Union[type, np.dtype]] = None,
    allow_2d: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """Validate a vector of length ``n`` (or, with ``allow_2d``, an ``(n, k)`` block).

    An ``(n, 1)`` column is ravelled to ``(n,)`` as SciPy does.

    Examples
    --------
    >>> check_vector([[1.0], [2.0]], "b", 2).shape
    (2,)
    """
    arr = as_float_array(x, name, dtype=dtype, ndim=(1, 2) if allow_2d else (1, 2), finite=finite)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.reshape(-1)
    if arr.ndim == 2 and not allow_2d:
        raise ValueError(f"{name} must be 1-D or a single column, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n} (shape {arr.shape})")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return arr


def check_matrix(
    X: Any,
    name: str,
    *,
    dtype: Optional[Union[type, np.dtype]] = None,
    accept_sparse: bool = True,
    order: str = "C",
    finite: bool = True,
    min_rows: int = 1,
    min_cols: int = 1,
) -> Union[np.ndarray, sp.csr_matrix]:
    """A 2-D float matrix: dense ndarray (``order`` layout) or, if allowed, CSR."""
    if sp.issparse(X):
        if not accept_sparse:
            raise TypeError(f"{name} must be dense; got a sparse {X.format} matrix (use .toarray())")
        M = as_csr(X, name, dtype=dtype, square=False, finite=finite)
    else:
        M = as_float_array(X, name, dtype=dtype, ndim=2, order=order, finite=finite)
    if M.shape[0] < min_rows or M.shape[1] < min_cols:
        raise ValueError(
            f"{name} must have at least {min_rows} row(s) and {min_cols} column(s), got shape {M.shape}"
        )
    return M


def check_sparse_structure(A: Any, name: str, *, indices: bool = True) -> None:
    """Raise ValueError unless the index arrays of sparse ``A`` are valid; O(nnz), no copy.

    SciPy builds CSR/CSC/BSR matrices without checking the stored indices (and they can be
    mutated afterwards), and its own conversions (``tocsc``, products) index memory with them,
    so a bad index crashes the process. Every entry point that takes sparse input calls this
    before anything else touches the matrix: indices within the shape, ``indptr`` starting at
    0, non-decreasing, and ``indptr[-1]`` at most the number of stored entries. The check is
    the C++ one the bindings use (``adasolve::check_compressed``). Dense input is ignored.
    With ``indices=False`` only ``indptr`` is checked (O(rows)) for CSR/CSC/BSR input: enough for
    SciPy's canonicalisation (which never uses an index value as an address) when the C++ entry
    point checks the indices anyway.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_matrix((np.ones(2), np.array([0, 7]), np.array([0, 1, 2])), shape=(2, 2))
    >>> check_sparse_structure(A, "A")
    Traceback (most recent call last):
    ...
    ValueError: A has a column index out of range: indices[1] = 7, valid column indices are 0 to 1
    """
    if not sp.issparse(A):
        return
    fmt = A.format
    if fmt in ("csr", "csc", "bsr"):
        if fmt == "bsr":
            r, c = A.blocksize
            outer, inner, what = A.shape[0] // r, A.shape[1] // c, "block column"
        elif fmt == "csr":
            (outer, inner), what = A.shape, "column"
        else:
            (inner, outer), what = A.shape, "row"
        ip, ix = np.asarray(A.indptr), np.asarray(A.indices)
        if not (ip.dtype == ix.dtype and ip.dtype in (np.int32, np.int64)):
            if ip.dtype.kind not in "iu" or ix.dtype.kind not in "iu":
                raise TypeError(f"{name} has non-integer index arrays ({ip.dtype}, {ix.dtype})")
            ip, ix = ip.astype(np.int64), ix.astype(np.int64)
        from . import _core  # imported here: _validation is imported by _core's users first

        _core.check_compressed(name, what, int(outer), int(inner),
                               np.ascontiguousarray(ip), np.ascontiguousarray(ix), indices)
        if np.asarray(A.data).shape[0] < int(ip[-1]):
            raise ValueError(
                f"{name} has an invalid index pointer (indptr): indptr[-1] = {int(ip[-1])} exceeds "
                f"the number of stored values, {np.asarray(A.data).shape[0]}"
            )
    elif fmt == "coo":
        for axis, idx in enumerate((A.row, A.col)):
            idx = np.asarray(idx)
            if idx.size and (idx.min() < 0 or idx.max() >= A.shape[axis]):
                what = "row" if axis == 0 else "column"
                raise ValueError(f"{name} has a {what} index out of range (shape {A.shape})")


def as_csr(
    A: Any,
    name: str = "A",
    *,
    dtype: Optional[Union[type, np.dtype]] = None,
    square: bool = True,
    finite: bool = True,
    index_dtype: Optional[Union[type, np.dtype]] = None,
    check_indices: bool = True,
) -> sp.csr_matrix:
    """Convert ``A`` (any SciPy sparse format, dense array, list) to canonical CSR.

    Sparse input has its index arrays checked first (:func:`check_sparse_structure`), so that
    a malformed matrix is a ValueError naming ``name``; pass ``check_indices=False`` only when
    the result goes straight to a C++ entry point (which checks the indices itself).

    No copy is made when ``A`` is already a canonical CSR matrix (sorted indices,
    no duplicates) of the right dtype. Other formats are converted (a copy).
    Index arrays are int32 when they fit, else int64 (or ``index_dtype``).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> as_csr(sp.eye(3, format="coo")).format
    'csr'
    """
    if sp.issparse(A):
        # With check_indices=False (for a caller that hands the result straight to a C++ entry
        # point, which checks the indices in O(nnz)), CSR input with int32 indices, passed on
        # with these very index arrays, gets only its indptr checked here (O(rows)); anything
        # converted first (other formats, other index dtypes, which SciPy may narrow) is
        # checked fully.
        same_indices = A.format == "csr" and A.indices.dtype == np.int32 and A.indptr.dtype == np.int32
        check_sparse_structure(A, name, indices=check_indices or not same_indices)
        if A.dtype.kind == "c":
            _float_dtype(A.dtype, name, FLOAT_DTYPES)
        target = np.dtype(dtype) if dtype is not None else _float_dtype(A.dtype, name, FLOAT_DTYPES)
        M = A.tocsr() if A.format != "csr" else A
        if M.dtype != target:
            M = M.astype(target)
        if not isinstance(M, sp.csr_matrix):
            M = sp.csr_matrix(M)
    else:
        if hasattr(A, "shape") and hasattr(A, "matvec") and not isinstance(A, np.ndarray):
            raise TypeError(f"{name} must be a matrix (dense or SciPy sparse), got a {type(A).__name__}")
        dense = as_float_array(A, name, dtype=dtype, ndim=2, finite=finite, order="A")
        M = sp.csr_matrix(dense)
    if M.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {M.shape}")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {M.shape})")
    if square and M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square, got shape {M.shape}")
    if not M.has_canonical_format:
        M = M.copy()
        M.sum_duplicates()  # also sorts indices
    if finite:
        check_finite(M.data, name)
    if index_dtype is not None:
        idx = np.dtype(index_dtype)
    else:
        idx = np.dtype(np.int32) if max(M.nnz, M.shape[0], M.shape[1]) < 2**31 - 1 else np.dtype(np.int64)
    if M.indptr.dtype != idx or M.indices.dtype != idx:
        M = sp.csr_matrix((M.data, M.indices.astype(idx), M.indptr.astype(idx)), shape=M.shape)
    if not (M.data.flags.c_contiguous and M.indices.flags.c_contiguous and M.indptr.flags.c_contiguous):
        M = sp.csr_matrix(
            (np.ascontiguousarray(M.data), np.ascontiguousarray(M.indices), np.ascontiguousarray(M.indptr)),
            shape=M.shape,
        )
    return M


def check_square(A: Any, name: str = "A") -> None:
    """Raise ValueError unless ``A`` is a non-empty square matrix."""
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D matrix")
    if shape[0] != shape[1]:
        raise ValueError(f"{name} must be square, got shape {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {shape})")


def check_diagonal(A: sp.csr_matrix, name: str = "A") -> np.ndarray:
    """Return the diagonal of a CSR matrix; ValueError if an entry is zero or missing."""
    d = A.diagonal()
    bad = np.flatnonzero(d == 0)
    if bad.size:
        first = ", ".join(str(i) for i in bad[:5])
        more = "" if bad.size <= 5 else f" and {bad.size - 5} more"
        raise ValueError(
            f"{name} has zero or missing diagonal entries at rows {first}{more}; "
            "SOR-type methods divide by the diagonal"
        )
    return d


def check_scalar(
    x: Any,
    name: str,
    *,
    kind: type = float,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_none: bool = False,
    allow_inf: bool = False,
) -> Any:
    """Validate a real (``kind=float``) or integer (``kind=int``) scalar in a range.

    NaN is always refused; infinities only unless ``allow_inf``.

    Examples
    --------
    >>> check_scalar(1.5, "omega", low=0, high=2, low_inclusive=False, high_inclusive=False)
    1.5
    """
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a {'number' if kind is float else 'integer'}, got a bool")
    if kind is int:
        if not isinstance(x, numbers.Integral):
            if isinstance(x, numbers.Real) and float(x).is_integer():
                x = int(x)
            else:
                raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
        x = int(x)
    else:
        if not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
        x = float(x)
        if math.isnan(x) or (not allow_inf and math.isinf(x)):
            raise ValueError(f"{name} must be {'a number' if allow_inf else 'finite'}, got {x}")
    lo_ok = low is None or (x >= low if low_inclusive else x > low)
    hi_ok = high is None or (x <= high if high_inclusive else x < high)
    if not (lo_ok and hi_ok):
        lb = "-inf" if low is None else f"{low}"
        ub = "inf" if high is None else f"{high}"
        lbr = "[" if low_inclusive and low is not None else "("
        ubr = "]" if high_inclusive and high is not None else ")"
        raise ValueError(f"{name} must be in {lbr}{lb}, {ub}{ubr}, got {x}")
    return x


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Validate a string option; the message lists the valid ones.

    Examples
    --------
    >>> check_choice("GS", "rule", ["gs", "gsl"])
    'gs'
    """
    choices = list(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}; got {value!r}")
    v = value.lower()
    if v not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid values are: {', '.join(map(repr, choices))}")
    return v


def check_tol(rtol: Any, atol: Any, name: str = "solver") -> Tuple[float, float]:
    """SciPy's tolerance contract: non-negative numbers; infinity is allowed (stop at once).

    Plain non-negative floats, the common case, pass without further checks.
    """
    if type(rtol) is not float or not rtol >= 0.0:
        rtol = check_scalar(rtol, "rtol", low=0.0, allow_inf=True)
    if atol is None:
        raise ValueError(f"{name}: atol must be a non-negative number, not None")
    if type(atol) is not float or not atol >= 0.0:
        atol = check_scalar(atol, "atol", low=0.0, allow_inf=True)
    return rtol, atol


def check_maxiter(maxiter: Any, default: int, name: str = "maxiter") -> int:
    """``None`` gives ``default``; otherwise an integer >= 1."""
    if maxiter is None:
        return int(default)
    return check_scalar(maxiter, name, kind=int, low=1)


def check_random_state(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    """Turn ``seed`` (None, int, SeedSequence or Generator) into a Generator.

    A Generator is used as it is (and advanced); an int gives a reproducible one.

    Examples
    --------
    >>> g = check_random_state(0); isinstance(g, np.random.Generator)
    True
    """
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, (bool, np.bool_)):
            raise TypeError(f"{name} must be None, an int or a numpy Generator, got a bool")
        if isinstance(seed, numbers.Integral) and seed < 0:
            raise ValueError(f"{name} must be non-negative, got {seed}")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(f"{name} must be None, an int or a numpy Generator, got {type(seed).__name__}")


def seed_to_uint64(seed: SeedLike, name: str = "seed") -> int:
    """A 64-bit integer seed for the C++ generators, drawn from ``seed``.

    The same int seed always gives the same value, so C++ randomness is
    reproducible from the Python ``seed=`` argument.
    """
    rng = check_random_state(seed, name)
    return int(rng.integers(0, 2**63 - 1, dtype=np.int64))
