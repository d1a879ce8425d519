"""PyTorch integration: the M-FAC optimizer on top of :class:`adasolve.SlidingIHVP`.

Importing this module needs PyTorch (``pip install "adasolve[torch]"``, which pins
``torch==2.13.0``); the rest of adasolve never imports torch.
"""

from __future__ import annotations

try:
    import torch
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "adasolve.torch needs PyTorch, which is not installed: pip install 'adasolve[torch]' "
        "(torch==2.13.0, CPU build); the rest of adasolve works without it"
    ) from _exc

from typing import Callable, Iterable, Optional

import numpy as np

from .._validation import check_scalar
from .ihvp import SlidingIHVP

__all__ = ["MFAC"]

_NP_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}


class MFAC(torch.optim.Optimizer):
    """The M-FAC optimizer: steps ``-lr * F^{-1} g`` with the sliding-window empirical Fisher.

    ``F = damp * I + (1/ngrads) sum g g^T`` over the last ``ngrads`` gradients (the current
    one included), as in Frantar et al. (NeurIPS 2021), with the IHVPs computed by
    :class:`adasolve.SlidingIHVP` in C++ on the CPU.

    Parameters
    ----------
    params : iterable
        Parameters (or one parameter group) to optimize; all must share one floating dtype
        (float32 or float64). Parameters on another device are handled on the CPU (copies).
    lr : float, default 1e-3
    momentum : float in [0, 1), default 0
        ``u <- momentum * u + (1 - momentum) * F^{-1} g`` (the reference's convention).
    weight_decay : float, default 0
        Added to the gradient before the IHVP (``g + weight_decay * p``).
    ngrads : int, default 1024
        Window size m.
    damp : float, default 1e-5
    block_size : int, optional
        Block-diagonal Fisher over the flattened parameter vector.
    process_group : torch.distributed.ProcessGroup, optional
        Shard the gradient window across the ranks of this group
        (``torch.distributed.group.WORLD`` for all): rank r keeps the window of its contiguous
        slice of the flattened parameters only (:class:`adasolve.mfac.ShardedSlidingIHVP`).
        The gradients must already be identical on every rank (as after
        ``DistributedDataParallel``'s averaging); a step costs one all-reduce of ``ngrads``
        numbers and one all-gather of the d-vector of updates, and equals the single-process
        step. Not combined with ``block_size``. None (default): one process.

    Notes
    -----
    Each step concatenates the gradients into one contiguous CPU tensor; its NumPy view goes
    to C++ without a copy and the update comes back as a NumPy array wrapped by
    ``torch.from_numpy`` (no copy). Memory: the ``ngrads x d`` ring buffer. A ``closure``,
    when given, is re-evaluated under ``torch.enable_grad()`` and its loss returned.
    Parameters without a gradient count as a zero gradient.

    Examples
    --------
    >>> import torch
    >>> from adasolve.torch import MFAC
    >>> model = torch.nn.Linear(4, 1)
    >>> opt = MFAC(model.parameters(), lr=1e-2, ngrads=8, damp=1e-3)
    >>> loss = model(torch.ones(2, 4)).pow(2).sum(); loss.backward(); opt.step()
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        ngrads: int = 1024,
        damp: float = 1e-5,
        *,
        block_size: Optional[int] = None,
        process_group=None,
    ) -> None:
        lr = check_scalar(lr, "lr", low=0.0)
        momentum = check_scalar(momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
        weight_decay = check_scalar(weight_decay, "weight_decay", low=0.0)
        ngrads = check_scalar(ngrads, "ngrads", kind=int, low=1)
        super().__init__(params, dict(lr=lr))
        plist = [p for group in self.param_groups for p in group["params"]]
        if not plist:
            raise ValueError("MFAC got an empty parameter list")
        dtypes = {p.dtype for p in plist}
        if len(dtypes) != 1 or next(iter(dtypes)) not in _NP_DTYPE:
            raise TypeError(f"MFAC needs parameters of one dtype, float32 or float64; got {sorted(map(str, dtypes))}")
        self._torch_dtype = next(iter(dtypes))
        self._params = plist
        self.nweights = sum(p.numel() for p in plist)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self._sharded = process_group is not None
        if self._sharded:
            if block_size is not None:
                raise ValueError("block_size cannot be combined with process_group")
            from ._sharded import _OptimizerShard

            self.hinv = _OptimizerShard(self.nweights, ngrads, damp, group=process_group,
                                        dtype=self._torch_dtype, device=plist[0].device)
        else:
            self.hinv = SlidingIHVP(self.nweights, ngrads, damp, block_size=block_size,
                                    dtype=_NP_DTYPE[self._torch_dtype])
        self._g = torch.empty(self.nweights, dtype=self._torch_dtype)  # reused gradient buffer
        self._u = np.empty(self.nweights, dtype=_NP_DTYPE[self._torch_dtype])
        self._v = torch.zeros(self.nweights, dtype=self._torch_dtype) if momentum > 0 else None

    def add_param_group(self, param_group: dict) -> None:
        """Only during construction: the window's dimension is fixed by the parameters then."""
        if hasattr(self, "hinv"):
            raise ValueError(
                "MFAC cannot take a new parameter group after construction: its gradient window "
                f"has a fixed dimension ({self.nweights} weights). Create a new MFAC with all the "
                "parameters (in one or several groups) instead"
            )
        super().add_param_group(param_group)

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], torch.Tensor]] = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        g = self._g
        off = 0
        for p in self._params:
            n = p.numel()
            dst = g[off:off + n]
            if p.grad is None:
                dst.zero_()
            else:
                dst.copy_(p.grad.reshape(-1))
                if self.weight_decay > 0:
                    dst.add_(p.detach().reshape(-1).to("cpu"), alpha=self.weight_decay)
            off += n
        if self._sharded:
            u = self.hinv(g)
        else:
            self.hinv.update_and_ihvp(g.numpy(), out=self._u)
            u = torch.from_numpy(self._u)
        if self._v is not None:
            self._v.mul_(self.momentum).add_(u, alpha=1.0 - self.momentum)
            u = self._v
        off = 0
        for group in self.param_groups:
            for p in group["params"]:
                n = p.numel()
                p.add_(u[off:off + n].view_as(p).to(p.device), alpha=-group["lr"])
                off += n
        return loss
