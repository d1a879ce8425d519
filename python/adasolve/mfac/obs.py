"""Optimal Brain Surgeon pruning with the M-FAC inverse Fisher: unstructured, N:M and blocks.

The saliency of removing weight q alone is ``w_q^2 / (2 [F^{-1}]_qq)`` and the OBS update that
compensates it is ``dw = -F^{-1} e_q w_q / [F^{-1}]_qq`` (Hassibi and Stork, 1993), with F the
damped empirical Fisher of :class:`~adasolve.mfac.ihvp.StaticIHVP`. For a group Q of weights
removed together (``pattern="block"``) the exact OBS quantities are
``w_Q^T ([F^{-1}]_QQ)^{-1} w_Q / 2`` and ``dw = -F^{-1}_{:,Q} ([F^{-1}]_QQ)^{-1} w_Q``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional, Tuple

import numpy as np

from .._validation import as_float_array, check_finite, check_scalar

__all__ = ["obs_scores", "obs_prune"]


def _fisher(grads: Any, d: int, damp: float, block_size: Optional[int], damp_growth: Optional[float]):
    from .ihvp import StaticIHVP, _check_finite_rows

    G = as_float_array(grads, "grads", ndim=2, finite=False)
    _check_finite_rows(G, "grads")
    if G.shape[1] != d:
        raise ValueError(f"weights has {d} entries but grads has d={G.shape[1]} columns (grads shape {G.shape})")
    return StaticIHVP(G, damp, block_size=block_size, damp_growth=damp_growth)


def _weights(weights: Any) -> np.ndarray:
    return as_float_array(weights, "weights").reshape(-1).astype(np.float64, copy=True)


def obs_scores(weights: Any, grads: Any, damp: float = 1e-5, *, block_size: Optional[int] = None) -> np.ndarray:
    """Optimal Brain Surgeon saliencies ``w_i^2 / (2 [F^{-1}]_ii)`` with the M-FAC Fisher.

    Parameters
    ----------
    weights : array_like
        The weights (any shape; flattened to d entries in C order).
    grads : array_like, shape (m, d)
        Gradients (e.g. per-sample or per-mini-batch loss gradients) at ``weights``.
    damp : float, default 1e-5
    block_size : int, optional
        Block-diagonal Fisher (see :class:`StaticIHVP`).

    Returns
    -------
    scores : ndarray, shape (d,), float64
        The predicted loss increase of removing each weight alone; prune the smallest.

    Examples
    --------
    >>> import numpy as np
    >>> G = np.random.default_rng(0).standard_normal((8, 20))
    >>> obs_scores(np.ones(20), G, damp=0.1).shape
    (20,)
    """
    w = _weights(weights)
    H = _fisher(grads, w.shape[0], damp, block_size, 10.0)
    return w * w / (2.0 * H.diag())


def _parse_pattern(pattern: Any) -> Tuple[str, int, int]:
    """("unstructured", 0, 0), ("nm", N, M) or ("block", 0, 0)."""
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string ('unstructured', 'N:M' such as '2:4', or 'block'), got {type(pattern).__name__}")
    if pattern in ("unstructured", "block"):
        return pattern, 0, 0
    mt = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", pattern)
    if mt is None:
        raise ValueError(f"pattern must be 'unstructured', 'N:M' (such as '2:4') or 'block', got {pattern!r}")
    n, m = int(mt.group(1)), int(mt.group(2))
    if not 0 <= n < m:
        raise ValueError(f"pattern {pattern!r}: N:M needs 0 <= N < M (keep N of every M weights)")
    return "nm", n, m


def obs_prune(
    weights: Any,
    grads: Any,
    sparsity: Optional[float] = None,
    damp: float = 1e-5,
    *,
    pattern: str = "unstructured",
    group_size: int = 4,
    block_size: Optional[int] = None,
    steps: int = 1,
    gradient_fn: Optional[Callable[[np.ndarray], Any]] = None,
    damp_growth: Optional[float] = 10.0,
) -> np.ndarray:
    """Prune ``weights`` with OBS scores and the OBS weight update, in a given sparsity pattern.

    Parameters
    ----------
    weights : array_like
        The weights (any shape; the result has the same shape). Groups (``"N:M"``, ``"block"``)
        run along the last axis, as in ``torch.nn.Linear.weight`` (output x input).
    grads : array_like, shape (m, d)
        Gradients at ``weights`` (one per row; d = ``weights.size``).
    sparsity : float in [0, 1], optional
        Fraction of the weights set to zero. Required for ``"unstructured"`` (``round(sparsity*d)``
        weights) and ``"block"`` (that fraction of the groups); for ``"N:M"`` it is ``1 - N/M``
        and may be omitted.
    damp : float, default 1e-5
    pattern : {"unstructured", "N:M", "block"}, default "unstructured"
        ``"unstructured"``: any weights. ``"N:M"`` (e.g. ``"2:4"``): in every run of M consecutive
        weights along the last axis, keep N (the last axis must be a multiple of M); the 2:4
        pattern is the one sparse tensor cores accelerate. ``"block"``: remove whole groups of
        ``group_size`` consecutive weights along the last axis, scored and compensated by the
        exact group OBS formulas (needs ``[F^{-1}]_QQ``: the one-time O(d m^2) element
        precomputation of :meth:`StaticIHVP.element`, a d x m float64 array).
    group_size : int, default 4
        Width of a group for ``pattern="block"``.
    block_size : int, optional
        Block-diagonal Fisher (the paper prunes with blocks, e.g. 128 or 2000).
    steps : int, default 1
        Prune in this many equal increments, rescoring after each with the updated weights;
        1 is one-shot. With ``"N:M"`` at most M - N steps are used (one weight per group each).
    gradient_fn : callable, optional
        ``gradient_fn(w) -> grads``: fresh gradients (m', d) at the current weights ``w`` (same
        shape as ``weights``, pruned entries zero), called before every step after the first
        (gradual pruning: the Fisher follows the weights). None: one Fisher for all steps.
    damp_growth : float > 1 or None, default 10
        Automatic damping of the Fisher (see :class:`StaticIHVP`).

    Returns
    -------
    pruned : ndarray
        New array (float64, or float32 for float32 weights) with exactly the pruned entries zero.

    Notes
    -----
    Removing a set Q of weights at once exactly would need ``[F^{-1}]_{QQ}^{-1}`` over all of
    Q; like the M-FAC reference pruner we add the updates of the single weights
    (``"unstructured"``, ``"N:M"``) or of the single groups (``"block"``):
    ``dw = -F^{-1} sum_q (w_q / [F^{-1}]_qq) e_q``, exact when the pruned weights' inverse-Fisher
    cross terms vanish, and then set the pruned weights exactly to zero. More ``steps`` reduce
    the error of that sum. Weights pruned in an earlier step stay zero. A 2:4 result can be
    turned into a semi-structured sparse tensor with
    ``torch.sparse.to_sparse_semi_structured`` where PyTorch supports it (CUDA, half precision).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w = rng.standard_normal(48); G = rng.standard_normal((16, 48))
    >>> int((obs_prune(w, G, 0.5, damp=0.1) == 0).sum())
    24
    >>> p = obs_prune(w.reshape(4, 12), G, damp=0.1, pattern="2:4")
    >>> bool(((p.reshape(-1, 4) == 0).sum(axis=1) == 2).all())
    True
    >>> p = obs_prune(w.reshape(4, 12), G, 0.5, damp=0.1, pattern="block", group_size=3)
    >>> int((np.abs(p.reshape(-1, 3)).sum(axis=1) == 0).sum())
    8
    """
    shape = np.shape(weights)
    out_dtype = np.float32 if np.asarray(weights).dtype == np.float32 else np.float64
    kind, n_keep, m_group = _parse_pattern(pattern)
    steps = check_scalar(steps, "steps", kind=int, low=1)
    if gradient_fn is not None and not callable(gradient_fn):
        raise TypeError(f"gradient_fn must be callable, got {type(gradient_fn).__name__}")
    w = _weights(weights)
    d = w.shape[0]
    last = shape[-1] if len(shape) >= 1 else 1
    if kind == "nm":
        if sparsity is not None:
            sparsity = check_scalar(sparsity, "sparsity", low=0.0, high=1.0)
            if abs(sparsity - (1 - n_keep / m_group)) > 1e-12:
                raise ValueError(f"pattern {pattern!r} has sparsity {1 - n_keep / m_group:g}; got sparsity={sparsity:g} "
                                 "(omit sparsity for N:M patterns)")
        if last % m_group:
            raise ValueError(f"pattern {pattern!r} needs the last axis of weights (length {last}) to be a multiple of {m_group}")
        steps = min(steps, m_group - n_keep) if m_group > n_keep else 1
        group = m_group
    else:
        if sparsity is None:
            raise ValueError(f"sparsity is required for pattern={pattern!r}")
        sparsity = check_scalar(sparsity, "sparsity", low=0.0, high=1.0)
        group = 1
        if kind == "block":
            group = check_scalar(group_size, "group_size", kind=int, low=1)
            if last % group:
                raise ValueError(f"group_size={group} must divide the last axis of weights (length {last})")
    ngroups = d // group
    H = _fisher(grads, d, damp, block_size, damp_growth)
    pruned = np.zeros(d, dtype=bool)
    if kind == "nm":
        per_group = m_group - n_keep
    else:
        target = int(round(sparsity * ngroups))  # groups (weights when unstructured) to remove
    for s in range(1, steps + 1):
        if s > 1 and gradient_fn is not None:
            H = _fisher(gradient_fn(w.reshape(shape).astype(out_dtype)), d, damp, block_size, damp_growth)
        u = np.zeros(d, dtype=np.float64)
        if kind == "block":
            Qinv = _group_inverse_blocks(H, ngroups, group)             # (ngroups, b, b)
            W = w.reshape(ngroups, group)
            c = np.einsum("gij,gj->gi", Qinv, W)                        # ([F^-1]_QQ)^-1 w_Q
            scores = 0.5 * np.einsum("gi,gi->g", W, c)
            gpruned = pruned.reshape(ngroups, group).all(axis=1)
            k = int(round(target * s / steps)) - int(gpruned.sum())
            if k <= 0:
                continue
            scores[gpruned] = np.inf
            new_g = np.argpartition(scores, k - 1)[:k] if k < ngroups else np.arange(ngroups)
            U = u.reshape(ngroups, group)
            U[new_g] = c[new_g]
            new = (new_g[:, None] * group + np.arange(group)[None, :]).reshape(-1)
        else:
            dg = H.diag()
            scores = w * w / (2.0 * dg)
            scores[pruned] = np.inf
            if kind == "nm":
                want = int(round(per_group * s / steps))
                have = pruned.reshape(ngroups, group).sum(axis=1)
                k = want - int(have.min()) if ngroups else 0
                if k <= 0:
                    continue
                order = np.argsort(scores.reshape(ngroups, group), axis=1, kind="stable")
                # every group takes its lowest-scoring unpruned weights until it holds `want`
                rank = np.arange(group)[None, :]
                take = rank < (want - have)[:, None]
                new = (np.arange(ngroups)[:, None] * group + order)[take]
            else:
                k = int(round(target * s / steps)) - int(pruned.sum())
                if k <= 0:
                    continue
                new = np.argpartition(scores, k - 1)[:k] if k < d else np.arange(d)
            u[new] = w[new] / dg[new]
        w -= H.ihvp(u.astype(H.dtype, copy=False)).astype(np.float64, copy=False)
        pruned[new] = True
        w[pruned] = 0.0
    check_finite(w, "pruned weights")
    return w.astype(out_dtype, copy=False).reshape(shape)


def _group_inverse_blocks(H: Any, ngroups: int, b: int) -> np.ndarray:
    """``([F^{-1}]_QQ)^{-1}`` for every group Q of b consecutive coordinates, (ngroups, b, b)."""
    base = (np.arange(ngroups, dtype=np.int64) * b)[:, None, None]
    r = np.arange(b, dtype=np.int64)
    I = np.ascontiguousarray(np.broadcast_to(base + r[None, :, None], (ngroups, b, b)).reshape(-1))
    J = np.ascontiguousarray(np.broadcast_to(base + r[None, None, :], (ngroups, b, b)).reshape(-1))
    vals = np.empty(I.shape[0], dtype=np.float64)
    with H._lock:
        H._impl.elements(I, J, vals)
    B = vals.reshape(ngroups, b, b)
    B = 0.5 * (B + np.swapaxes(B, 1, 2))
    return np.linalg.inv(B)
