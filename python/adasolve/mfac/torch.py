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

from typing import Any, Callable, Iterable, List, Optional

import numpy as np

from .._validation import check_scalar
from .ihvp import SlidingIHVP

__all__ = ["MFAC"]

_NP_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}


def _check_group_value(group: dict, key: str, **kw: Any) -> None:
    group[key] = check_scalar(group[key], key, **kw)


class MFAC(torch.optim.Optimizer):
    """The M-FAC optimizer: steps ``-lr * F^{-1} g`` with the sliding-window empirical Fisher.

    ``F = damp * I + (1/ngrads) sum g g^T`` over the last ``ngrads`` gradients (the current
    one included), as in Frantar et al. (NeurIPS 2021), with the IHVPs computed by
    :class:`adasolve.SlidingIHVP` in C++ on the CPU.

    Parameters
    ----------
    params : iterable
        Parameters, or parameter groups (dicts) with their own ``lr``, ``weight_decay`` and
        ``momentum``; all parameters must share one floating dtype (float32 or float64).
        Parameters on another device are handled on the CPU (copies).
    lr : float, default 1e-3
        Learning rate (per group; learning-rate schedulers change ``group["lr"]`` as usual).
    momentum : float in [0, 1), default 0
        ``u <- momentum * u + (1 - momentum) * F^{-1} g`` (the reference's convention), per group.
    weight_decay : float, default 0
        L2 penalty, per group: ``weight_decay * p`` is added to the gradient before the IHVP
        (so it is preconditioned too, as the reference does).
    ngrads : int, default 1024
        Window size m.
    damp : float, default 1e-5
    blocks : None, int, "layer", "group" or list of lists of parameters
        Block-diagonal Fisher: None, one block (the full Fisher); an int, contiguous blocks of
        that many coordinates of the flattened parameters; ``"layer"``, one block per parameter
        tensor; ``"group"``, one block per parameter group; a list of parameter lists, one
        block per list (every parameter exactly once). Each block is an independent M-FAC
        problem with the same window of steps: cheaper (O(m^2) per block instead of coupling
        all layers) and often better conditioned.
    block_size : int, optional
        Same as an integer ``blocks`` (kept for compatibility).
    damp_growth : float > 1 or None, default 10
        Automatic damping (see :class:`adasolve.SlidingIHVP`): if the factorization fails,
        ``damp`` is raised by this factor and a ``DampingRaisedWarning`` is issued;
        :attr:`damp` reports the damping in use.
    process_group : torch.distributed.ProcessGroup, optional
        Shard the gradient window across the ranks of this group
        (``torch.distributed.group.WORLD`` for all): rank r keeps the window of its contiguous
        slice of the flattened parameters only (:class:`adasolve.mfac.ShardedSlidingIHVP`).
        The gradients must already be identical on every rank (as after
        ``DistributedDataParallel``'s averaging); a step costs one all-reduce of ``ngrads``
        numbers and one all-gather of the d-vector of updates, and equals the single-process
        step. Not combined with ``blocks`` nor with checkpointing. None (default): one process.

    Notes
    -----
    Each step concatenates the gradients into one contiguous CPU tensor (in block order); its
    NumPy view goes to C++ without a copy and the update comes back as a NumPy array wrapped by
    ``torch.from_numpy`` (no copy). Memory: the ``ngrads x d`` ring buffer. A ``closure``,
    when given, is re-evaluated under ``torch.enable_grad()`` and its loss returned.
    Parameters without a gradient count as a zero gradient.

    Checkpoints: :meth:`state_dict` holds, besides the parameter groups, the whole window
    (ring buffer, its factors and counters, the damping in use) and the momentum buffer, so
    that ``load_state_dict`` resumes a run bit for bit (on the CPU, with the same number of
    threads). It works with ``torch.save`` / ``torch.load`` (tensors only, ``weights_only``
    loading included).

    Examples
    --------
    >>> import torch
    >>> from adasolve.torch import MFAC
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    >>> opt = MFAC(model.parameters(), lr=1e-2, ngrads=8, damp=1e-3, blocks="layer")
    >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    >>> loss = model(torch.ones(2, 4)).pow(2).sum(); loss.backward(); opt.step(); sched.step()
    >>> opt.block_sizes
    [12, 3, 3, 1]
    >>> checkpoint = {"model": model.state_dict(), "opt": opt.state_dict()}
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
        blocks: Any = None,
        block_size: Optional[int] = None,
        damp_growth: Optional[float] = 10.0,
        process_group=None,
    ) -> None:
        ngrads = check_scalar(ngrads, "ngrads", kind=int, low=1)
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
        for key, kw in self._GROUP_RULES.items():  # the defaults themselves, named clearly
            check_scalar(defaults[key], key, **kw)
        super().__init__(params, defaults)
        plist = [p for group in self.param_groups for p in group["params"]]
        if not plist:
            raise ValueError("MFAC got an empty parameter list")
        dtypes = {p.dtype for p in plist}
        if len(dtypes) != 1 or next(iter(dtypes)) not in _NP_DTYPE:
            raise TypeError(f"MFAC needs parameters of one dtype, float32 or float64; got {sorted(map(str, dtypes))}")
        self._torch_dtype = next(iter(dtypes))
        if block_size is not None:
            if blocks is not None:
                raise ValueError("give either blocks or block_size, not both")
            blocks = check_scalar(block_size, "block_size", kind=int, low=1)
        order, sizes, uniform = self._layout(blocks, plist)
        self._params = order                  # parameters in the order of the flat vector
        self._group_of = {id(p): g for g in self.param_groups for p in g["params"]}
        self.nweights = sum(p.numel() for p in order)
        self._sharded = process_group is not None
        if self._sharded:
            if blocks is not None:
                raise ValueError("blocks/block_size cannot be combined with process_group")
            from ._sharded import _OptimizerShard

            self.hinv = _OptimizerShard(self.nweights, ngrads, damp, group=process_group,
                                        dtype=self._torch_dtype, device=plist[0].device)
        else:
            self.hinv = SlidingIHVP(self.nweights, ngrads, damp, block_size=uniform, blocks=sizes,
                                    dtype=_NP_DTYPE[self._torch_dtype], damp_growth=damp_growth)
        self._g = torch.empty(self.nweights, dtype=self._torch_dtype)  # reused gradient buffer
        self._u = np.empty(self.nweights, dtype=_NP_DTYPE[self._torch_dtype])
        self._v: Optional[torch.Tensor] = None  # momentum buffer, created on first use

    _GROUP_RULES = {
        "lr": dict(low=0.0),
        "momentum": dict(low=0.0, high=1.0, high_inclusive=False),
        "weight_decay": dict(low=0.0),
    }

    def _layout(self, blocks: Any, plist: List[torch.Tensor]):
        """(parameters in flat order, block sizes or None, uniform block size or None)."""
        if blocks is None:
            return plist, None, None
        if isinstance(blocks, str):
            if blocks == "layer":
                return plist, [p.numel() for p in plist], None
            if blocks == "group":
                return plist, [sum(p.numel() for p in g["params"]) for g in self.param_groups], None
            raise ValueError(f"blocks must be None, an int, 'layer', 'group' or a list of parameter lists, got {blocks!r}")
        if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
            return plist, None, check_scalar(blocks, "blocks", kind=int, low=1)
        try:
            lists = [list(b) for b in blocks]
        except TypeError:
            raise TypeError(f"blocks must be None, an int, 'layer', 'group' or a list of parameter lists, "
                            f"got {type(blocks).__name__}") from None
        known = {id(p) for p in plist}
        seen: set = set()
        order = []
        for b in lists:
            if not b:
                raise ValueError("blocks: every parameter list must hold at least one parameter")
            for p in b:
                if id(p) not in known:
                    raise ValueError("blocks: a parameter is not among the optimizer's parameters")
                if id(p) in seen:
                    raise ValueError("blocks: a parameter appears in more than one block")
                seen.add(id(p))
                order.append(p)
        if len(seen) != len(known):
            raise ValueError(f"blocks: {len(known) - len(seen)} of the optimizer's parameters are in no block")
        return order, [sum(p.numel() for p in b) for b in lists], None

    def add_param_group(self, param_group: dict) -> None:
        """Only during construction: the window's dimension is fixed by the parameters then."""
        if hasattr(self, "hinv"):
            raise ValueError(
                "MFAC cannot take a new parameter group after construction: its gradient window "
                f"has a fixed dimension ({self.nweights} weights). Create a new MFAC with all the "
                "parameters (in one or several groups) instead"
            )
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for key, kw in self._GROUP_RULES.items():
            _check_group_value(group, key, **kw)

    # -- properties ----------------------------------------------------------------------
    @property
    def damp(self) -> float:
        """The damping in use (raised from the given one by automatic damping, if needed)."""
        return float(self.hinv.damp) if not self._sharded else float(self.hinv.window.damp)

    @property
    def block_sizes(self) -> List[int]:
        """Width of every block of the Fisher, in the order of the flat parameter vector."""
        return [self.nweights] if self._sharded else self.hinv.block_sizes

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """torch.optim's state dict plus ``"mfac"``: the window's exact state and the momentum buffer."""
        sd = super().state_dict()
        if self._sharded:
            raise NotImplementedError("MFAC(process_group=...) cannot save its sharded window yet; "
                                      "checkpoint a single-process MFAC instead")
        st = self.hinv.state_dict()
        sd["mfac"] = {
            "nweights": self.nweights, "block_sizes": st["block_sizes"], "dtype": st["dtype"],
            "m": st["m"], "slot": st["slot"], "count": st["count"], "damp": st["damp"],
            "damp_raises": st["damp_raises"], "damp_growth": st["damp_growth"],
            "buffer": torch.from_numpy(st["buffer"]),
            "grams": [torch.from_numpy(a) for a in st["grams"]],
            "factors": [torch.from_numpy(a) for a in st["factors"]],
            "drift": torch.from_numpy(st["drift"]),
            "momentum_buffer": None if self._v is None else self._v.clone(),
        }
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict` (an optimizer over the same parameters and blocks)."""
        state_dict = dict(state_dict)
        mf = state_dict.pop("mfac", None)
        if mf is not None:
            # check before changing anything
            if int(mf["nweights"]) != self.nweights or list(mf["block_sizes"]) != self.block_sizes:
                raise ValueError(f"the state is for an MFAC over {mf['nweights']} weights in blocks "
                                 f"{list(mf['block_sizes'])}, this one has {self.nweights} in {self.block_sizes}")
        super().load_state_dict(state_dict)
        # torch.optim rebuilds the group dicts on load
        self._group_of = {id(p): g for g in self.param_groups for p in g["params"]}
        for group in self.param_groups:
            for key, kw in self._GROUP_RULES.items():
                _check_group_value(group, key, **kw)
        if mf is None:
            return
        self.hinv.load_state_dict({
            "dim": self.nweights, "m": mf["m"], "dtype": mf["dtype"], "block_sizes": mf["block_sizes"],
            "buffer": mf["buffer"].numpy(), "slot": mf["slot"], "count": mf["count"], "damp": mf["damp"],
            "damp_raises": mf["damp_raises"], "grams": [t.numpy() for t in mf["grams"]],
            "factors": [t.numpy() for t in mf["factors"]], "drift": mf["drift"].numpy(),
        })
        mb = mf.get("momentum_buffer")
        self._v = None if mb is None else mb.to(dtype=self._torch_dtype, device="cpu").clone()

    # -- the step ------------------------------------------------------------------------
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
                wd = self._group_of[id(p)]["weight_decay"]
                if wd > 0:
                    dst.add_(p.detach().reshape(-1).to("cpu"), alpha=wd)
            off += n
        if self._sharded:
            u = self.hinv(g)
        else:
            self.hinv.update_and_ihvp(g.numpy(), out=self._u)
            u = torch.from_numpy(self._u)
        if any(group["momentum"] > 0 for group in self.param_groups):
            if self._v is None:
                self._v = torch.zeros(self.nweights, dtype=self._torch_dtype)
            off = 0
            for p in self._params:
                n = p.numel()
                mu = self._group_of[id(p)]["momentum"]
                if mu > 0:
                    self._v[off:off + n].mul_(mu).add_(u[off:off + n], alpha=1.0 - mu)
                else:
                    self._v[off:off + n].copy_(u[off:off + n])
                off += n
            u = self._v
        off = 0
        for p in self._params:
            n = p.numel()
            p.add_(u[off:off + n].view_as(p).to(p.device), alpha=-self._group_of[id(p)]["lr"])
            off += n
        return loss
