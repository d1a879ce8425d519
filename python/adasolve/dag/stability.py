"""Edge stability of :func:`~adasolve.dag.topo_swap` under resampling of the rows."""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from .._validation import check_matrix, check_scalar
from .topo import topo_swap

__all__ = ["bootstrap_edges"]


def bootstrap_edges(
    X: Any,
    n_bootstrap: int = 100,
    *,
    n_jobs: Optional[int] = None,
    seed: Any = None,
    **kwargs: Any,
) -> np.ndarray:
    """Frequency of every edge in :func:`topo_swap` fits on bootstrap resamples of ``X``.

    Each replicate draws ``n`` rows of ``X`` with replacement and runs
    ``topo_swap(X_b, **kwargs)``; the result is the fraction of replicates whose thresholded
    ``W`` holds each edge. Edges found in nearly every replicate are stable; edges near 0.5, or
    found in both directions, are the ones the data do not settle.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data, one sample per row. Not modified.
    n_bootstrap : int
        Number of replicates.
    n_jobs : int, optional
        Replicates run at once (joblib threads: the search releases the GIL). None or 1: one at
        a time, without joblib; -1: one per core. Needs joblib (it comes with scikit-learn, or
        ``pip install adasolve[dag]``) when above 1.
    seed : None, int or numpy.random.SeedSequence
        The resamples (and ``init="random"`` starts) derive from it: the result is the same
        for every ``n_jobs``.
    **kwargs
        Passed to :func:`topo_swap` (``loss``, ``model``, ``l1``, ``threshold``, ``required``,
        ``standardize``...). ``gram`` is not accepted: resampling needs the rows.

    Returns
    -------
    ndarray, shape (d, d)
        ``freq[i, j]``: fraction of replicates with the edge ``i -> j``.

    Examples
    --------
    >>> from adasolve.dag import simulate_dag, simulate_parameters, simulate_linear_sem
    >>> B = simulate_dag(6, 6, seed=0)
    >>> X = simulate_linear_sem(simulate_parameters(B, seed=1), 500, seed=2)
    >>> freq = bootstrap_edges(X, n_bootstrap=20, seed=0)
    >>> freq.shape, bool(freq.max() <= 1.0)
    ((6, 6), True)
    """
    X = check_matrix(X, "X", dtype=np.float64, accept_sparse=False, order="C")
    n, d = X.shape
    n_bootstrap = check_scalar(n_bootstrap, "n_bootstrap", kind=int, low=1)
    if n_jobs is not None:
        n_jobs = check_scalar(n_jobs, "n_jobs", kind=int)
        if n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs}")
    for bad in ("gram", "n_samples", "callback"):
        if bad in kwargs:
            raise ValueError(f"bootstrap_edges does not take {bad}= (it resamples the rows of X)")
    if seed is None or isinstance(seed, (int, np.integer)):
        ss = np.random.SeedSequence(None if seed is None else int(seed))
    elif isinstance(seed, np.random.SeedSequence):
        ss = seed
    elif isinstance(seed, np.random.Generator):
        ss = np.random.SeedSequence(int(seed.integers(2**63)))
    else:
        raise TypeError("seed must be None, an int, a numpy SeedSequence or Generator")
    children = ss.spawn(n_bootstrap)
    # validate the options once, on the full data, before spending replicates on them
    topo_swap(X, **{**kwargs, "max_iter": 1})

    def one(child: np.random.SeedSequence) -> np.ndarray:
        rng = np.random.default_rng(child)
        rows = rng.integers(n, size=n)
        Xb = X[rows]
        kw = dict(kwargs)
        kw.setdefault("seed", rng)
        with warnings.catch_warnings():
            # a resample can make a rare-valued column constant: it is then edgeless there
            warnings.filterwarnings("ignore", message="X has constant columns", category=RuntimeWarning)
            return topo_swap(Xb, **kw).W != 0

    if n_jobs is None or n_jobs == 1:
        masks = [one(c) for c in children]
    else:
        try:
            from joblib import Parallel, delayed
        except ImportError as exc:  # pragma: no cover - joblib ships with scikit-learn
            raise ImportError("bootstrap_edges(n_jobs > 1) needs joblib: pip install joblib "
                              "(or adasolve[dag]); n_jobs=None runs without it") from exc
        masks = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(one)(c) for c in children)
    return np.mean(np.stack(masks), axis=0)
