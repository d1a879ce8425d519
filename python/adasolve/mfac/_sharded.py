"""M-FAC with the gradient window sharded by columns across ``torch.distributed`` ranks.

Each rank holds a column block ``G_r`` (m x d_r) of the m x d gradient matrix: its slice of
the parameters, as FSDP shards parameters. With ``K = m*damp*I + G G^T`` and
``G G^T = sum_r G_r G_r^T``, Woodbury gives, on each rank,

    (F^{-1} v)_r = (v_r - G_r^T K^{-1} G v) / damp,        G v = sum_r G_r v_r,

so one all-reduce of the m x m partial Gram matrices (static build) and one all-reduce of the
m-vector of partial dot products ``G_r v_r`` (each IHVP, each sliding-window update) make every
rank's slice of the result exact. Everything m-sized is accumulated in float64, as in the
single-process classes.

The computation stays in PyTorch on the device of the shard (gloo on CPU, NCCL on GPU): the
m-sized reductions are PyTorch collectives, and moving the shard to the CPU C++ core between
them would cost more than the work itself.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import check_scalar
from .._device import check_damp  # the one damp rule, shared with the CPU and GPU classes

__all__ = ["ShardedStaticIHVP", "ShardedSlidingIHVP"]

# float32 blocks: each chunk of this many columns is reduced in float32 by BLAS (on a strided
# view, no copy) and the chunks' partial sums are accumulated in float64, so the m-sized
# results carry float64 accumulation over d_r at the speed of a float32 pass.
_CHUNK = 16384


def _torch():
    try:
        import torch
        import torch.distributed  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised where torch is absent
        raise ImportError("the sharded M-FAC classes need PyTorch: pip install 'adasolve[torch]'") from exc
    return torch


def _check_dtype(dtype: Any):
    torch = _torch()
    if dtype in (torch.float32, np.float32, "float32") or (isinstance(dtype, np.dtype) and dtype == np.float32):
        return torch.float32
    if dtype in (torch.float64, np.float64, "float64", float) or (isinstance(dtype, np.dtype) and dtype == np.float64):
        return torch.float64
    raise TypeError(f"dtype must be float32 or float64 (torch or numpy), got {dtype!r}")


def _active(group: Any) -> bool:
    """True when collectives must be issued (an initialized process group of > 1 rank)."""
    torch = _torch()
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        if group is not None:
            raise ValueError("group was given but torch.distributed is not initialized "
                             "(call torch.distributed.init_process_group first)")
        return False
    return dist.get_world_size(group) > 1


class _Comm:
    """All-reduces (sum) over ``group``, counted: calls and numbers reduced since construction."""

    def __init__(self, group: Any) -> None:
        self.group = group
        self.active = _active(group)
        self.calls = 0
        self.numbers = 0
        self.bytes = 0

    def all_reduce(self, t):
        if self.active:
            torch = _torch()
            # Looked up at call time so that a wrapped all_reduce (tests, profilers) sees it.
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM, group=self.group)
            self.calls += 1
            self.numbers += t.numel()
            self.bytes += t.numel() * t.element_size()
        return t

    def stats(self) -> dict:
        return {"all_reduce_calls": self.calls, "numbers": self.numbers, "bytes": self.bytes}


def _as_tensor(x: Any, name: str, dtype, device, ndim) -> Any:
    torch = _torch()
    if isinstance(x, np.ndarray) or not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a tensor or array of real numbers, got {type(x).__name__}") from None
    if x.dtype.is_complex or x.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {tuple(x.shape)}")
    x = x.to(device=device if device is not None else x.device, dtype=dtype)
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.contiguous()


def _gram64(G):
    """``G G^T`` with float64 accumulation (float32: chunk products summed in float64)."""
    torch = _torch()
    m, d = G.shape
    if G.dtype == torch.float64 or d <= _CHUNK:
        return (G @ G.T).double()
    out = torch.zeros((m, m), dtype=torch.float64, device=G.device)
    for j in range(0, d, _CHUNK):
        C = G[:, j:j + _CHUNK]
        out += (C @ C.T).double()
    return out


def _matvec64(G, V):
    """``G V`` (V: (d,) or (d, k)) with float64 accumulation over the columns."""
    torch = _torch()
    m, d = G.shape
    if G.dtype == torch.float64 or d <= _CHUNK:
        return (G @ V).double()
    out = torch.zeros((m,) + tuple(V.shape[1:]), dtype=torch.float64, device=G.device)
    for j in range(0, d, _CHUNK):
        out += (G[:, j:j + _CHUNK] @ V[j:j + _CHUNK]).double()
    return out


class _ShardBase:
    _G: Any
    _L: Any
    _damp: float
    _comm: _Comm

    @property
    def m(self) -> int:
        """Number of gradients (window size)."""
        return int(self._G.shape[0])

    @property
    def dim(self) -> int:
        """Local dimension d_r (this rank's columns)."""
        return int(self._G.shape[1])

    @property
    def global_dim(self) -> int:
        """Total dimension d over all ranks."""
        return int(self._sizes.sum())

    @property
    def offset(self) -> int:
        """Index of this rank's first column in the global vector (ranks in order)."""
        return int(self._sizes[:self._rank].sum())

    @property
    def damp(self) -> float:
        return self._damp

    @property
    def dtype(self):
        return self._G.dtype

    @property
    def device(self):
        return self._G.device

    @property
    def comm_stats(self) -> dict:
        """All-reduces issued since construction: ``all_reduce_calls``, ``numbers``, ``bytes``."""
        return self._comm.stats()

    def _setup_group(self, group: Any, m: int, d_local: int) -> None:
        """One small all-reduce: checks that m agrees and gathers every rank's shard size."""
        torch = _torch()
        self._comm = _Comm(group)
        if self._comm.active:
            dist = torch.distributed
            world, rank = dist.get_world_size(group), dist.get_rank(group)
        else:
            world, rank = 1, 0
        info = torch.zeros(2 + world, dtype=torch.float64, device=self._device)
        info[0], info[1], info[2 + rank] = m, m * m, d_local
        self._comm.all_reduce(info)
        info = info.cpu().numpy()
        # sum(m) = world*m and sum(m^2) = world*m^2 hold only when every rank has the same m.
        if info[0] != world * m or info[1] != world * m * m:
            raise ValueError(f"every rank must use the same m; rank {rank} has m={m}, "
                             f"mean over ranks {info[0] / world:g}")
        self._sizes = info[2:].astype(np.int64)
        self._rank = rank
        self._world = world

    def _vectors(self, v: Any, name: str):
        V = _as_tensor(v, name, self.dtype, self.device, (1, 2))
        if V.shape[-1] != self.dim:
            raise ValueError(f"{name} must have {self.dim} entries (this rank's slice) along its last "
                             f"axis, got shape {tuple(V.shape)}")
        return V

    def _solve(self, GV):
        torch = _torch()
        col = GV.ndim == 1
        C = torch.cholesky_solve(GV.reshape(self.m, -1), self._L)
        return C.reshape(-1) if col else C

    def _apply(self, V, GV):
        """``(V - G^T K^{-1} GV) / damp`` for V (d_r,) or (k, d_r), GV (m,) or (m, k)."""
        C = self._solve(GV).to(self.dtype)
        if V.ndim == 1:
            return (V - self._G.T @ C) / self._damp
        return (V - (self._G.T @ C).T) / self._damp

    def ihvp(self, v: Any):
        """This rank's slice of ``F^{-1} v`` for its slice ``v`` (d_r,) or batch (k, d_r).

        Collective: every rank of the group must call it (one all-reduce of m numbers per
        vector).
        """
        V = self._vectors(v, "v")
        GV = _matvec64(self._G, V.T if V.ndim == 2 else V)
        self._comm.all_reduce(GV)
        return self._apply(V, GV)

    def quad(self, v: Any):
        """``v^T F^{-1} v`` over the whole vector (float, or (k,) float64 for a batch).

        Collective: one all-reduce of m + 1 numbers per vector.
        """
        torch = _torch()
        V = self._vectors(v, "v")
        Vt = V.T if V.ndim == 2 else V
        GV = _matvec64(self._G, Vt)
        vv = (V.double() * V.double()).sum(-1)
        buf = torch.cat([GV.reshape(self.m, -1), vv.reshape(1, -1)], 0)
        self._comm.all_reduce(buf)
        GV, vv = buf[:self.m], buf[self.m]
        q = (vv - (GV * torch.cholesky_solve(GV, self._L)).sum(0)) / self._damp
        return q if V.ndim == 2 else float(q[0])


class ShardedStaticIHVP(_ShardBase):
    """:class:`adasolve.StaticIHVP` with the gradients sharded by columns across ranks.

    Each rank passes its column block of the m x d gradient matrix; the methods take and return
    this rank's slice of vectors and are collective (every rank of ``group`` calls them, in the
    same order).

    Parameters
    ----------
    local_grads : tensor or array_like, shape (m, d_r)
        This rank's columns of the m gradients (same m on every rank; d_r may differ, and
        may be 0). A contiguous tensor of the right dtype is used without a copy.
    damp : float, default 1e-5
    group : torch.distributed.ProcessGroup, optional
        The ranks that share the gradients; None: the default group when
        ``torch.distributed`` is initialized, else this process alone (no communication).
    dtype : {None, torch.float32, torch.float64}
        Storage and result dtype; None keeps float32/float64 input.

    Notes
    -----
    Construction: the local ``G_r G_r^T`` (O(d_r m^2)), one all-reduce of m x m numbers, and
    a Cholesky factorization of ``m*damp*I + G G^T`` (O(m^3), the same on every rank).
    :meth:`ihvp`: one all-reduce of m numbers per vector, O(d_r m) work. :meth:`diag`: local,
    no communication. :meth:`element` takes global indices: one all-reduce of 2m numbers.
    The block-diagonal Fisher (``block_size``) needs no sharded class: when every block lies
    inside one rank's slice, use :class:`adasolve.StaticIHVP` with ``block_size`` on the slice.

    Examples
    --------
    >>> import torch
    >>> from adasolve.mfac import ShardedStaticIHVP
    >>> G = torch.randn(8, 50, dtype=torch.float64)
    >>> H = ShardedStaticIHVP(G, damp=1e-2)      # without torch.distributed: one shard
    >>> H.ihvp(torch.ones(50)).shape
    torch.Size([50])
    """

    def __init__(self, local_grads: Any, damp: float = 1e-5, *, group: Any = None, dtype: Any = None) -> None:
        torch = _torch()
        dt = None if dtype is None else _check_dtype(dtype)
        if dt is None:
            src = local_grads.dtype if isinstance(local_grads, torch.Tensor) else np.asarray(local_grads).dtype
            dt = torch.float32 if src in (torch.float32, np.float32) else torch.float64
        G = _as_tensor(local_grads, "local_grads", dt, None, (2,))
        m, d = G.shape
        if m == 0:
            raise ValueError(f"local_grads must hold at least one gradient (m >= 1), got shape {tuple(G.shape)}")
        self._damp = check_damp(damp)
        self._G = G
        self._device = G.device
        self._setup_group(group, m, d)
        gram = self._comm.all_reduce(_gram64(G))
        gram.diagonal().add_(m * self._damp)
        self._L = torch.linalg.cholesky(gram)
        self._diag = None

    @property
    def grads(self):
        """This rank's gradient block (m, d_r)."""
        return self._G

    def diag(self):
        """This rank's slice of the diagonal of ``F^{-1}``, float64 (local; cached)."""
        torch = _torch()
        if self._diag is None:
            out = torch.empty(self.dim, dtype=torch.float64, device=self.device)
            for j in range(0, self.dim, _CHUNK):
                W = torch.linalg.solve_triangular(self._L, self._G[:, j:j + _CHUNK].double(), upper=False)
                out[j:j + _CHUNK] = (1.0 - (W * W).sum(0)) / self._damp
            self._diag = out
        return self._diag.clone()

    def element(self, i: int, j: int) -> float:
        """``[F^{-1}]_{ij}`` for global indices i, j (collective: all-reduce of 2m numbers)."""
        torch = _torch()
        d, off = self.global_dim, self.offset
        idx = []
        for name, k in (("i", i), ("j", j)):
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {type(k).__name__}")
            k = int(k)
            if not -d <= k < d:
                raise IndexError(f"{name}={k} is out of range for dimension {d}")
            idx.append(k % d)
        buf = torch.zeros((self.m, 2), dtype=torch.float64, device=self.device)
        for c, k in enumerate(idx):
            if off <= k < off + self.dim:
                buf[:, c] = self._G[:, k - off].double()
        self._comm.all_reduce(buf)
        a, b = buf[:, 0], buf[:, 1]
        delta = 1.0 if idx[0] == idx[1] else 0.0
        return float((delta - a @ torch.cholesky_solve(b.reshape(-1, 1), self._L).reshape(-1)) / self._damp)

    def __repr__(self) -> str:
        return (f"ShardedStaticIHVP(m={self.m}, dim={self.dim}, global_dim={self.global_dim}, "
                f"damp={self.damp:g}, dtype={self.dtype}, rank={self._rank}/{self._world})")


class ShardedSlidingIHVP(_ShardBase):
    """:class:`adasolve.SlidingIHVP` with the ring buffer sharded by columns across ranks.

    Each rank keeps the m x d_r window of its slice of the gradients. Methods take and return
    this rank's slice and are collective (every rank of ``group`` calls them in the same order).

    Parameters
    ----------
    local_dim : int
        d_r, the number of coordinates this rank holds (may differ between ranks, may be 0).
    m : int
        Window size (the same on every rank).
    damp : float, default 1e-5
    group : torch.distributed.ProcessGroup, optional
        None: the default group when ``torch.distributed`` is initialized, else this process
        alone.
    dtype : {torch.float32, torch.float64}, default torch.float32
    device : torch.device or str, optional
        Where the window lives (default CPU; "cuda" for NCCL groups).

    Notes
    -----
    The window semantics are those of :class:`adasolve.SlidingIHVP`: zero slots before m
    updates, slot order, ``F = damp*I + (1/m) sum g g^T``. :meth:`update` and
    :meth:`update_and_ihvp` (v = g) cost one all-reduce of m numbers (the new Gram row);
    ``update_and_ihvp(g, v)`` one all-reduce of 2m; :meth:`ihvp` one of m per vector. Each
    update refactorizes the m x m matrix ``m*damp*I + G G^T`` (O(m^3), identical on every
    rank, no communication), so the state never drifts between ranks.

    Examples
    --------
    >>> import torch
    >>> from adasolve.mfac import ShardedSlidingIHVP
    >>> H = ShardedSlidingIHVP(30, m=4, damp=1e-2, dtype=torch.float64)
    >>> for _ in range(6):
    ...     u = H.update_and_ihvp(torch.randn(30, dtype=torch.float64))
    >>> H.count, tuple(u.shape)
    (6, (30,))
    """

    def __init__(self, local_dim: int, m: int, damp: float = 1e-5, *, group: Any = None,
                 dtype: Any = None, device: Any = None) -> None:
        torch = _torch()
        d = check_scalar(local_dim, "local_dim", kind=int, low=0)
        m = check_scalar(m, "m", kind=int, low=1)
        self._damp = check_damp(damp)
        dt = torch.float32 if dtype is None else _check_dtype(dtype)
        self._device = torch.device(device) if device is not None else torch.device("cpu")
        try:
            self._G = torch.zeros((m, d), dtype=dt, device=self._device)
        except RuntimeError as exc:
            raise MemoryError(f"ShardedSlidingIHVP: cannot allocate the {m} x {d} window "
                              f"({m * d * (4 if dt == torch.float32 else 8) / 2**30:.2f} GiB)") from exc
        self._setup_group(group, m, d)
        self.reset()

    @property
    def count(self) -> int:
        """Number of gradients added since construction or :meth:`reset`."""
        return self._count

    @property
    def grads(self):
        """This rank's window (m, d_r), slot order (a view: do not modify)."""
        return self._G

    def reset(self) -> None:
        """Forget all gradients (local: no communication)."""
        torch = _torch()
        self._G.zero_()
        self._gram = torch.zeros((self.m, self.m), dtype=torch.float64, device=self._device)
        self._count = 0
        self._refactor()

    def _refactor(self) -> None:
        torch = _torch()
        K = self._gram.clone()
        K.diagonal().add_(self.m * self._damp)
        self._L = torch.linalg.cholesky(K)

    def _insert(self, g):
        slot = self._count % self.m
        self._G[slot] = g
        return slot

    def _set_row(self, slot: int, row) -> None:
        self._gram[slot, :] = row
        self._gram[:, slot] = row
        self._count += 1
        self._refactor()

    def update(self, g: Any) -> None:
        """Add this rank's slice ``g`` (d_r,) of a gradient (collective: all-reduce of m)."""
        g = self._vectors(g, "g")
        if g.ndim != 1:
            raise ValueError(f"g must be a vector of shape ({self.dim},), got {tuple(g.shape)}")
        slot = self._insert(g)
        row = self._comm.all_reduce(_matvec64(self._G, g))
        self._set_row(slot, row)

    def update_and_ihvp(self, g: Any, v: Any = None):
        """:meth:`update` with ``g``, then this rank's slice of ``F^{-1} v`` (v=None: v = g).

        One all-reduce: m numbers for v = g (the Gram row of the new gradient is ``G g``
        itself), 2m otherwise.
        """
        torch = _torch()
        g = self._vectors(g, "g")
        if g.ndim != 1:
            raise ValueError(f"g must be a vector of shape ({self.dim},), got {tuple(g.shape)}")
        if v is not None:
            v = self._vectors(v, "v")
            if v.ndim != 1:
                raise ValueError(f"v must be a vector of shape ({self.dim},), got {tuple(v.shape)}")
        slot = self._insert(g)
        if v is None:
            row = self._comm.all_reduce(_matvec64(self._G, g))
            self._set_row(slot, row)
            return self._apply(g, row)
        both = self._comm.all_reduce(_matvec64(self._G, torch.stack([g, v], 1)))
        self._set_row(slot, both[:, 0].contiguous())
        return self._apply(v, both[:, 1].contiguous())

    def __repr__(self) -> str:
        return (f"ShardedSlidingIHVP(dim={self.dim}, global_dim={self.global_dim}, m={self.m}, "
                f"damp={self.damp:g}, dtype={self.dtype}, count={self.count}, "
                f"rank={self._rank}/{self._world})")


def _shard_bounds(d: int, world: int, rank: int) -> tuple:
    """Contiguous, nearly equal column blocks: rank r holds [r*c, min(d, (r+1)*c)), c = ceil(d/world)."""
    c = -(-d // world)
    lo = min(d, rank * c)
    return lo, min(d, lo + c), c


class _OptimizerShard:
    """The sharded window behind ``adasolve.torch.MFAC(process_group=...)``.

    Rank r keeps the window of parameters [lo, hi) of the flattened parameter vector; a step
    is one all-reduce of m numbers (the IHVP) and one all-gather of the d-vector of updates
    (parameters are replicated, so every rank needs the whole step).
    """

    def __init__(self, d: int, m: int, damp: float, *, group: Any, dtype, device) -> None:
        torch = _torch()
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            raise ValueError("process_group was given but torch.distributed is not initialized "
                             "(call torch.distributed.init_process_group first)")
        self.group = group
        self.world = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        self.lo, self.hi, self.chunk = _shard_bounds(d, self.world, self.rank)
        self.d = d
        self.window = ShardedSlidingIHVP(self.hi - self.lo, m, damp, group=group, dtype=dtype, device=device)
        self._gathered = torch.empty(self.chunk * self.world, dtype=dtype, device=device)
        self._local = torch.zeros(self.chunk, dtype=dtype, device=device)
        self.gather_calls = 0
        self.gather_numbers = 0

    def __call__(self, g):
        """The full update ``F^{-1} g`` (d,) from the full gradient g (identical on every rank)."""
        torch = _torch()
        u = self.window.update_and_ihvp(g[self.lo:self.hi].to(self.window.device))
        n = self.hi - self.lo
        self._local[:n] = u
        if self.world > 1:
            torch.distributed.all_gather_into_tensor(self._gathered, self._local, group=self.group)
            self.gather_calls += 1
            self.gather_numbers += self._gathered.numel()
        else:
            self._gathered.copy_(self._local)
        return self._gathered[:self.d].to(g.device)

    @property
    def m(self) -> int:
        return self.window.m

    @property
    def count(self) -> int:
        return self.window.count
