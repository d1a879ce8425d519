"""M-FAC: matrix-free inverse-Hessian-vector products with the damped empirical Fisher.

For m gradients ``g_1, ..., g_m`` of dimension d (the rows of ``G``),

    F = damp * I + (1/m) * sum_i g_i g_i^T = damp * I + G^T G / m,

and this module computes ``F^{-1} v``, the diagonal and single entries of ``F^{-1}``, and
``v^T F^{-1} v`` without ever forming a d x d matrix (Frantar, Kurtic and Alistarh, "M-FAC:
Efficient Matrix-Free Approximations of Second-Order Information", NeurIPS 2021).

- :class:`StaticIHVP`: a fixed set of gradients (pruning, one-shot second-order scores).
- :class:`SlidingIHVP`: the last m gradients in a ring buffer (the M-FAC optimizer;
  :class:`adasolve.torch.MFAC` wraps it as a ``torch.optim.Optimizer``).
- :func:`obs_scores`, :func:`obs_prune`: Optimal Brain Surgeon saliencies and pruning
  (in :mod:`adasolve.mfac.obs`, re-exported here).

How it is computed: with ``K = m*damp*I + G G^T = L L^T`` (an m x m Cholesky factor),
``F^{-1} v = (v - G^T K^{-1} G v) / damp`` (Woodbury). The precomputation forms ``G G^T`` by
blocked GEMMs over column chunks (O(d m^2) work, O(m^2) extra memory) and factorizes K
(O(m^3)); an IHVP is two streaming passes over G (``G v`` then ``v - G^T c``) around two
triangular solves. With ``block_size=b`` the Fisher is replaced by its block-diagonal part
over contiguous blocks of b coordinates (the last block may be shorter), each an independent
problem; blocks narrower than m are solved in their primal b x b form. Everything m-sized is
accumulated in float64, also for float32 gradients.
"""

from __future__ import annotations

import numbers
import threading
from typing import Any, Optional, Union

import numpy as np

from .. import _core
from .._validation import as_float_array, check_finite, check_scalar

__all__ = ["StaticIHVP", "SlidingIHVP", "obs_scores", "obs_prune", "ShardedStaticIHVP", "ShardedSlidingIHVP",
           "DampingRaisedWarning"]

_cm = _core.mfac
_IMPL = {
    np.dtype(np.float32): (_cm.StaticF32, _cm.SlidingF32),
    np.dtype(np.float64): (_cm.StaticF64, _cm.SlidingF64),
}


def _check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be numpy.float32 or numpy.float64, got {dtype!r}") from None
    if dt not in _IMPL:
        raise TypeError(f"{name} must be numpy.float32 or numpy.float64, got {dt}")
    return dt


from .._device import check_damp as _check_damp  # noqa: E402  (one rule for CPU and GPU)


def _check_block_size(block_size: Any, d: int) -> int:
    """0 means one block (C++ convention); a size >= d is one block too."""
    if block_size is None:
        return 0
    b = check_scalar(block_size, "block_size", kind=int, low=1)
    return 0 if b >= d else b


def _check_blocks(blocks: Any, block_size: Any, d: int) -> Optional[np.ndarray]:
    """Sizes of consecutive blocks (int64 array summing to d), or None for ``block_size``."""
    if blocks is None:
        return None
    if block_size is not None:
        raise ValueError("give either block_size (uniform blocks) or blocks (their sizes), not both")
    try:
        sizes = [check_scalar(b, "blocks[i]", kind=int, low=1) for b in blocks]
    except TypeError as exc:
        if not np.iterable(blocks):
            raise TypeError(f"blocks must be a sequence of block sizes, got {type(blocks).__name__}") from None
        raise TypeError(f"blocks must hold integer block sizes: {exc}") from None
    if not sizes or sum(sizes) != d:
        raise ValueError(f"blocks must be sizes >= 1 summing to the dimension {d}, got {len(sizes)} "
                         f"sizes summing to {sum(sizes)}")
    return np.asarray(sizes, dtype=np.int64)


class DampingRaisedWarning(RuntimeWarning):
    """The Cholesky factorization failed with the given ``damp``, which was raised (see ``damp_growth``)."""


def _check_damp_growth(damp_growth: Any) -> float:
    """None: no automatic damping (C++ convention 0)."""
    if damp_growth is None:
        return 0.0
    return check_scalar(damp_growth, "damp_growth", low=1.0, low_inclusive=False)


def _warn_raised(obj: Any, before: int) -> None:
    import warnings

    n = int(obj._impl.damp_raises)
    if n > before:
        warnings.warn(
            f"{type(obj).__name__}: the Cholesky factorization of m*damp*I + G G^T failed (damp too "
            f"small for the scale of the gradients); damp raised {n - before} time(s) by "
            f"damp_growth to {obj._impl.damp:g} (see .damp, .damp_raises)",
            DampingRaisedWarning, stacklevel=3)


def _check_finite_rows(G: np.ndarray, name: str) -> None:
    """check_finite over row blocks: a temporary of ~16 MB instead of an (m, d) bool array."""
    rows = max(1, (1 << 24) // max(1, G.shape[1]))
    for i in range(0, G.shape[0], rows):
        check_finite(G[i:i + rows], name)


def _as_vectors(v: Any, name: str, d: int, dtype: np.dtype) -> np.ndarray:
    """(d,) or (k, d) C-contiguous array of ``dtype`` (a copy only if dtype/layout differ)."""
    arr = as_float_array(v, name, dtype=dtype, ndim=(1, 2))
    if arr.shape[-1] != d:
        raise ValueError(f"{name} must have {d} entries along its last axis, got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {arr.shape})")
    return arr


def _cuda_dispatch(device: Any, *arrays: Any):
    """The CUDA backend module when the call asks for the GPU (device="cuda" or CUDA input)."""
    from .. import _device  # the one "is this GPU input?" rule of every family

    if not _device.wants_cuda(device, *arrays):
        return None
    from . import _cuda

    return _cuda


class _FisherState:
    """What both CPU operators read from their C++ object: damping and block layout."""

    _impl: Any

    @property
    def damp(self) -> float:
        """The damping in use (the one given, unless automatic damping raised it)."""
        return float(self._impl.damp)

    @property
    def damp_raises(self) -> int:
        """How many times automatic damping multiplied ``damp`` by ``damp_growth`` (0: never)."""
        return int(self._impl.damp_raises)

    @property
    def block_size(self) -> int:
        """Block size in use (d when not blocked; the widest block with ``blocks=``)."""
        return int(self._impl.block_size)

    @property
    def block_sizes(self) -> list:
        """The width of every block, in order."""
        return list(self._impl.block_sizes)


class StaticIHVP(_FisherState):
    """Inverse of the damped empirical Fisher of a fixed set of gradients.

    ``F = damp * I + G^T G / m`` for the m gradients in the rows of ``grads``.

    Device dispatch: with ``device="cuda"`` or CUDA ``grads`` (a CuPy array or a CUDA
    ``torch.Tensor``), ``StaticIHVP(...)`` returns an
    :class:`adasolve.mfac._cuda.CudaStaticIHVP` instead (same methods, results on the GPU;
    see docs/gpu.md). The choice is made by :meth:`__new__` below, from the arguments alone;
    CPU input never imports the CUDA module.

    Parameters
    ----------
    grads : array_like, shape (m, d)
        One gradient per row. A C-contiguous float32 or float64 array is used **without a
        copy**: the object keeps a reference to it, so do not modify it while the object is in
        use (results would silently refer to the new values). Other input is converted (a copy).
    damp : float, default 1e-5
        Damping ``damp > 0`` (the paper's lambda).
    block_size : int, optional
        Use the block-diagonal part of F over contiguous blocks of ``block_size`` coordinates
        (the last block holds the remainder when it does not divide d). None: one block.
    dtype : {None, numpy.float32, numpy.float64}
        Storage and result dtype; None keeps float32/float64 input (integers become float64).
        A dtype different from the input's forces a converted copy.
    blocks : sequence of int, optional
        Sizes of consecutive blocks (summing to d), e.g. one block per layer of a network;
        instead of ``block_size``.
    damp_growth : float > 1 or None, default 10
        Automatic damping: if the Cholesky factorization fails (``damp`` too small for the scale
        of the gradients), ``damp`` is multiplied by ``damp_growth`` until it succeeds, a
        :class:`DampingRaisedWarning` is issued and :attr:`damp` / :attr:`damp_raises` report
        the damping in use. None: raise ``ValueError`` instead.

    Notes
    -----
    Precomputation (in the constructor): ``G G^T`` per block by blocked GEMMs and a Cholesky
    factorization of ``m*damp*I + G G^T``: O(d m^2) time, O(m^2) memory per block beyond
    ``grads``. :meth:`ihvp` and :meth:`quad` cost O(d m) (two resp. one pass over ``grads``).
    :meth:`diag` costs O(d m^2) on its first call (blocked triangular solves, no d x m
    temporary) and is cached (Ctrl-C interrupts these precomputations). :meth:`ihvp` and
    :meth:`quad` may run from several threads at once. Pickling and ``copy.deepcopy`` store the
    gradients and refactorize on load. :meth:`element` costs O(m) (one length-m dot product) after a
    one-time precomputation on its first call: ``w_t = L^{-1} g_t`` for every coordinate t
    (``K = L L^T``), O(d m^2) time and a d x m float64 array kept by the object (twice the
    size of a float32 ``grads``), so that ``[F^{-1}]_{ij} = (delta_ij - w_i . w_j) / damp``.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve import StaticIHVP
    >>> G = np.random.default_rng(0).standard_normal((16, 100))
    >>> H = StaticIHVP(G, damp=1e-2)
    >>> v = np.ones(100)
    >>> F = 1e-2 * np.eye(100) + G.T @ G / 16
    >>> bool(np.allclose(H.ihvp(v), np.linalg.solve(F, v)))
    True
    """

    def __new__(cls, grads: Any = None, *args: Any, device: Optional[str] = None, **kwargs: Any) -> Any:
        """Device dispatch: a :class:`~adasolve.mfac._cuda.CudaStaticIHVP` for CUDA input or
        ``device="cuda"`` (``__init__`` is then not run, the CUDA class initializes itself),
        otherwise a new CPU :class:`StaticIHVP`."""
        cuda = _cuda_dispatch(device, grads)
        if cuda is not None:
            return cuda.CudaStaticIHVP(grads, *args, device=device, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        grads: Any,
        damp: float = 1e-5,
        *,
        block_size: Optional[int] = None,
        dtype: Optional[Union[type, np.dtype]] = None,
        device: Optional[str] = None,
        blocks: Optional[Any] = None,
        damp_growth: Optional[float] = 10.0,
    ) -> None:
        if dtype is not None:
            dtype = _check_dtype(dtype)
        G = as_float_array(grads, "grads", dtype=dtype, ndim=2, finite=False)
        _check_finite_rows(G, "grads")
        m, d = G.shape
        if m == 0:
            raise ValueError(f"grads must hold at least one gradient (m >= 1), got shape {G.shape}")
        if d == 0:
            raise ValueError(f"grads must have dimension d >= 1, got shape {G.shape}")
        damp = _check_damp(damp)
        sizes = _check_blocks(blocks, block_size, d)
        self._grads = G
        self._impl = _IMPL[G.dtype][0](G, damp, _check_block_size(block_size, d), sizes,
                                       _check_damp_growth(damp_growth))
        self._damp0 = damp
        self._growth = damp_growth
        _warn_raised(self, 0)
        # diag() and element() fill caches on their first call: one thread at a time there
        self._lock = threading.Lock()

    def __reduce__(self):
        # pickle / copy.deepcopy: the gradients and the settings; the factorization is redone
        # on load (the caches of diag() and element() too, on demand)
        return (_rebuild_static, (self._grads, self._damp0, self.block_sizes, self._growth))

    # -- properties ------------------------------------------------------------------
    @property
    def m(self) -> int:
        """Number of gradients."""
        return int(self._grads.shape[0])

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(self._grads.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self._grads.dtype

    @property
    def grads(self) -> np.ndarray:
        """The gradient matrix in use (the caller's array when no copy was needed)."""
        return self._grads

    # -- operations ------------------------------------------------------------------
    def ihvp(self, v: Any) -> np.ndarray:
        """``F^{-1} v`` for a vector (d,) or each row of a batch (k, d); result in ``dtype``."""
        V = _as_vectors(v, "v", self.dim, self.dtype)
        out = np.empty(V.shape, dtype=self.dtype)
        self._impl.ihvp(V, out)
        return out

    def quad(self, v: Any) -> Union[float, np.ndarray]:
        """``v^T F^{-1} v`` (a float, or an array (k,) for a batch (k, d)); float64."""
        V = _as_vectors(v, "v", self.dim, self.dtype)
        out = np.empty(V.shape[0] if V.ndim == 2 else 1, dtype=np.float64)
        self._impl.quad(V, out)
        return out if V.ndim == 2 else float(out[0])

    def diag(self) -> np.ndarray:
        """The diagonal of ``F^{-1}``, shape (d,), float64 (cached after the first call)."""
        out = np.empty(self.dim, dtype=np.float64)
        with self._lock:
            self._impl.diag(out)
        return out

    def element(self, i: int, j: int) -> float:
        """``[F^{-1}]_{ij}`` (zero across blocks); negative indices count from the end.

        O(m) per call; the first call precomputes ``L^{-1} g_t`` for every coordinate
        (O(d m^2) time, a d x m float64 array kept by the object; see the class notes).
        """
        d = self.dim
        idx = []
        for name, k in (("i", i), ("j", j)):
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {type(k).__name__}")
            k = int(k)
            if not -d <= k < d:
                raise IndexError(f"{name}={k} is out of range for dimension {d}")
            idx.append(k % d)
        with self._lock:
            return float(self._impl.element(idx[0], idx[1]))

    def as_linear_operator(self):
        """``F^{-1}`` as a :class:`scipy.sparse.linalg.LinearOperator` (e.g. as ``M=`` in CG)."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(
            (self.dim, self.dim), matvec=lambda x: self.ihvp(np.ravel(x)),
            matmat=lambda X: self.ihvp(np.asarray(X).T).T, rmatvec=lambda x: self.ihvp(np.ravel(x)),
            dtype=self.dtype,
        )

    def __repr__(self) -> str:
        return (f"StaticIHVP(m={self.m}, dim={self.dim}, damp={self.damp:g}, "
                f"block_size={self.block_size}, dtype={self.dtype})")


def _rebuild_static(grads: np.ndarray, damp: float, blocks: list, damp_growth) -> "StaticIHVP":
    import warnings

    with warnings.catch_warnings():  # the original already warned about a raised damp
        warnings.simplefilter("ignore", DampingRaisedWarning)
        return StaticIHVP(grads, damp, blocks=blocks, damp_growth=damp_growth)


def _rebuild_sliding(state: dict) -> "SlidingIHVP":
    H = SlidingIHVP(state["dim"], state["m"], state["damp"], blocks=state["block_sizes"],
                    dtype=np.dtype(state["dtype"]), damp_growth=state["damp_growth"])
    H.load_state_dict(state)
    return H


class SlidingIHVP(_FisherState):
    """Inverse damped empirical Fisher of the last ``m`` gradients (sliding window).

    Parameters
    ----------
    dim : int
        Dimension d of the gradients.
    m : int
        Window size: the number of most recent gradients kept.
    damp : float, default 1e-5
        Damping ``damp > 0``.
    block_size : int, optional
        Block-diagonal approximation over contiguous blocks (ragged last block allowed).
    dtype : {numpy.float32, numpy.float64}, default numpy.float32
        Dtype of the ring buffer (m x d, owned by the object) and of the results.
    blocks : sequence of int, optional
        Sizes of consecutive blocks summing to ``dim`` (e.g. one per layer); instead of
        ``block_size``.
    damp_growth : float > 1 or None, default 10
        Automatic damping: when a factorization fails after an update, ``damp`` is multiplied
        by ``damp_growth`` (for every block) until it succeeds, and stays raised; a
        :class:`DampingRaisedWarning` says so and :attr:`damp` / :attr:`damp_raises` report it.
        None: raise ``ValueError`` instead.

    Notes
    -----
    ``F = damp * I + (1/m) sum g g^T`` over the window. Before m gradients have been added the
    empty slots are zero, so F uses the gradients seen so far with the same 1/m scaling (the
    reference implementation's behaviour: its buffer starts as zeros). After more than m
    updates the oldest gradients are overwritten; the result equals
    ``StaticIHVP(last_m_gradients, damp)``.

    Costs per block of width w > m: :meth:`update` one pass over the buffer (O(d m)) plus an
    O(m^2) rank-2 update and downdate of the Cholesky factor of ``m*damp*I + G G^T`` (the
    Gram row of the new gradient comes from that pass; a full O(m^3) refactorization whenever
    the rounding of the updates could reach 1e-12 relative, and every 32 steps in any case, so
    the window equals a rebuild); :meth:`ihvp` two passes plus O(m^2); :meth:`update_and_ihvp` fuses
    the update with the first IHVP pass (two passes over the buffer in all). Blocks of width
    w <= m keep ``G_b^T G_b`` up to date by rank-2 changes (recomputed exactly whenever the ring
    wraps) and factorize it in O(w^3).

    Inputs ``g``/``v`` already of ``dtype`` and C-contiguous are read in place (no copy).

    Thread safety: the methods hold a lock of the object, so threads may share it (updates and
    IHVPs run one at a time). :meth:`state_dict` / :meth:`load_state_dict` save and restore the
    exact state (ring buffer, factors, counters), so that a restored window continues bit for
    bit like the original; pickling and ``copy.deepcopy`` use them.

    Examples
    --------
    >>> import numpy as np
    >>> from adasolve import SlidingIHVP
    >>> H = SlidingIHVP(100, m=8, damp=1e-2, dtype=np.float64)
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(20):
    ...     step = H.update_and_ihvp(rng.standard_normal(100))
    >>> H.count, step.shape
    (20, (100,))
    """

    def __init__(
        self,
        dim: int,
        m: int,
        damp: float = 1e-5,
        *,
        block_size: Optional[int] = None,
        dtype: Union[type, np.dtype] = np.float32,
        device: Optional[str] = None,
        blocks: Optional[Any] = None,
        damp_growth: Optional[float] = 10.0,
    ) -> None:
        d = check_scalar(dim, "dim", kind=int, low=1)
        m = check_scalar(m, "m", kind=int, low=1)
        self._dtype = _check_dtype(dtype)
        damp = _check_damp(damp)
        sizes = _check_blocks(blocks, block_size, d)
        growth = _check_damp_growth(damp_growth)
        self._growth = damp_growth
        nbytes = m * d * self._dtype.itemsize
        if nbytes >= 2**62:
            raise ValueError(f"SlidingIHVP: the ring buffer of m x dim = {m} x {d} entries "
                             f"({nbytes / 2**30:.3g} GiB) cannot be addressed; reduce dim or m")
        # update/update_and_ihvp/reset change the buffer and the factors in C++ with the GIL
        # released; the lock serialises them against each other and against ihvp()
        self._lock = threading.Lock()
        try:
            self._impl = _IMPL[self._dtype][1](d, m, damp, _check_block_size(block_size, d), sizes, growth)
        except MemoryError:
            raise MemoryError(f"SlidingIHVP: cannot allocate the {m} x {d} ring buffer "
                              f"({nbytes / 2**30:.2f} GiB)") from None

    @property
    def m(self) -> int:
        """Window size."""
        return int(self._impl.m)

    @property
    def dim(self) -> int:
        return int(self._impl.dim)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def count(self) -> int:
        """Number of gradients added since construction or :meth:`reset`."""
        return int(self._impl.count)

    @property
    def grads(self) -> np.ndarray:
        """Read-only view (m, d) of the ring buffer (slot order, not time order)."""
        return self._impl.buffer()

    def _vec(self, x: Any, name: str) -> np.ndarray:
        arr = as_float_array(x, name, dtype=self._dtype, ndim=1)
        if arr.shape[0] != self.dim:
            raise ValueError(f"{name} must have shape ({self.dim},), got {arr.shape}")
        return arr

    def _out(self, out: Optional[np.ndarray], shape) -> np.ndarray:
        if out is None:
            return np.empty(shape, dtype=self._dtype)
        if not isinstance(out, np.ndarray) or out.dtype != self._dtype or out.shape != tuple(shape) \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"out must be a writeable C-contiguous {self._dtype} array of shape {tuple(shape)}")
        return out

    def __new__(cls, dim: Any = None, m: Any = None, *args: Any, device: Optional[str] = None,
                **kwargs: Any) -> Any:
        """Device dispatch: a :class:`~adasolve.mfac._cuda.CudaSlidingIHVP` for
        ``device="cuda"``, otherwise a new CPU :class:`SlidingIHVP`."""
        cuda = _cuda_dispatch(device)
        if cuda is not None:
            return cuda.CudaSlidingIHVP(dim, m, *args, device=device, **kwargs)
        return super().__new__(cls)

    def update(self, g: Any) -> None:
        """Add gradient ``g`` (d,), replacing the oldest one once the window is full."""
        G = self._vec(g, "g")
        with self._lock:
            before = self._impl.damp_raises
            self._impl.update(G)
        _warn_raised(self, before)

    def ihvp(self, v: Any, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """``F^{-1} v`` for a vector (d,) or a batch (k, d), with the current window."""
        V = _as_vectors(v, "v", self.dim, self._dtype)
        res = self._out(out, V.shape)
        with self._lock:
            self._impl.ihvp(V, res)
        return res

    def update_and_ihvp(self, g: Any, v: Any = None, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """:meth:`update` with ``g``, then ``F^{-1} v`` (``v=None``: ``v = g``, the optimizer step).

        The dot products of the update and of the IHVP's first pass share one pass over the
        buffer; ``out`` (optional) receives the result without allocating.
        """
        G = self._vec(g, "g")
        V = None if v is None else self._vec(v, "v")
        res = self._out(out, (self.dim,))
        with self._lock:
            before = self._impl.damp_raises
            self._impl.update_and_ihvp(G, V, res)
        _warn_raised(self, before)
        return res

    def reset(self) -> None:
        """Forget all gradients."""
        with self._lock:
            self._impl.reset()

    def state_dict(self) -> dict:
        """The exact state as a dict of plain values and NumPy arrays (copies).

        Keys: the settings (``dim``, ``m``, ``dtype``, ``block_sizes``, ``damp_growth``), the
        ring buffer ``buffer`` (m, d) in slot order, ``slot`` (next slot written), ``count``,
        ``damp`` and ``damp_raises`` (the damping in use), and per block its Gram matrix,
        factor and rounding budget (``grams``, ``factors``, ``drift``). Restoring it with
        :meth:`load_state_dict` gives a window that continues bit for bit like this one.
        Memory: the buffer plus O(m^2) per block.
        """
        with self._lock:
            buf, slot, count, damp, raises, grams, factors, drift = self._impl.get_state()
        return {"dim": self.dim, "m": self.m, "dtype": self._dtype.str, "block_sizes": self.block_sizes,
                "damp_growth": self._growth, "buffer": buf, "slot": int(slot), "count": int(count),
                "damp": float(damp), "damp_raises": int(raises), "grams": list(grams),
                "factors": list(factors), "drift": np.asarray(drift)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` of a window with the same ``dim``, ``m``, dtype and blocks."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from SlidingIHVP.state_dict(), got {type(state).__name__}")
        missing = {"dim", "m", "dtype", "block_sizes", "buffer", "slot", "count", "damp", "damp_raises",
                   "grams", "factors", "drift"} - set(state)
        if missing:
            raise ValueError(f"state is missing {sorted(missing)} (not from SlidingIHVP.state_dict()?)")
        mine = (self.dim, self.m, self._dtype.str, self.block_sizes)
        theirs = (int(state["dim"]), int(state["m"]), np.dtype(state["dtype"]).str, list(state["block_sizes"]))
        if mine != theirs:
            raise ValueError(f"state is for a window with (dim, m, dtype, block sizes) = {theirs}, "
                             f"this one has {mine}")
        buf = as_float_array(state["buffer"], "state['buffer']", dtype=self._dtype, ndim=2)
        if buf.shape != (self.m, self.dim):
            raise ValueError(f"state['buffer'] must have shape ({self.m}, {self.dim}), got {buf.shape}")
        damp = _check_damp(state["damp"])
        with self._lock:
            self._impl.set_state(buf, int(state["slot"]), int(state["count"]), damp, int(state["damp_raises"]),
                                 [np.asarray(a, dtype=np.float64) for a in state["grams"]],
                                 [np.asarray(a, dtype=np.float64) for a in state["factors"]],
                                 np.asarray(state["drift"], dtype=np.float64))

    def __reduce__(self):
        # pickle / copy.deepcopy: the exact state (the copy continues bit for bit)
        return (_rebuild_sliding, (self.state_dict(),))

    def __repr__(self) -> str:
        return (f"SlidingIHVP(dim={self.dim}, m={self.m}, damp={self.damp:g}, "
                f"block_size={self.block_size}, dtype={self.dtype}, count={self.count})")


from .obs import obs_prune, obs_scores  # noqa: E402  (OBS pruning lives in obs.py)
from ._sharded import ShardedSlidingIHVP, ShardedStaticIHVP  # noqa: E402  (torch imported lazily)
