"""Online learning of the SOR relaxation factor omega across a sequence of systems.

Two learners, both usable by hand (``suggest`` / ``observe``) or passed as
``omega=`` to :func:`adasolve.solve_sor` and :func:`adasolve.ssor_cg`, which
call ``w = tuner.suggest(context=ctx)``, solve with ``w`` and then
``tuner.observe(w, iterations, context=ctx, rate=factor)``, where ``factor`` is
the observed convergence factor ``(||r_k|| / ||r_0||) ** (1 / k)`` (or NaN).

- :class:`OmegaTuner`: one omega for the whole sequence (bandit feedback).
- :class:`ContextualOmegaTuner`: omega as a function of instance features.

``algorithm="auto"`` (the default) exploits two facts a generic bandit ignores:

1. The cost (iterations) is a smooth, in practice unimodal, function of omega.
   So after three coarse probes it only compares the current best arm with its
   two grid neighbours (a local lower-confidence-bound rule): it never pays for
   exploring all 20 arms, and noise is handled by confidence bounds.
2. A solve reveals its convergence factor ``rho``.  For consistently ordered
   matrices Young's theory gives ``(rho + w - 1)^2 = rho w^2 mu^2`` with ``mu``
   the Jacobi spectral radius, so every solve with ``w`` below its optimum
   yields an estimate of ``mu`` (solves past the optimum, where ``rho ~ w - 1``,
   carry no information and are skipped).  The model arm is the grid arm that
   minimizes Young's predicted mean iteration count ``mean(1 / -log rho(w, mu))``
   over the last 256 estimates (kept as running sums, so the model is refreshed at every
   solve in O(arms)): with varying instances the best fixed omega
   leans towards the hardest instances, which the median ``w*`` would miss.
   While a model exists, ``"auto"`` searches the model arm and its neighbours
   (plus the empirical best); it falls back to the local search around the
   empirical best once that arm's upper confidence bound is below the model
   arm's lower bound, i.e. where the model does not hold (SSOR-CG, other
   orderings).
3. Statistics are discounted by 0.99 per solve (an effective window of ~100
   solves), because real sequences drift: in the heat equation the best
   omega is ~1 while the diffusion coefficient is near 0 and ~1.4-1.8 later.

All state and the suggest/observe logic live in C++ (``adasolve._core.sor``), so a
tuner costs about a microsecond per solve, and a tuner passed as ``omega=`` is driven
from C++ without returning to Python between the solve and the learning. Randomized
algorithms draw from a SplitMix64 generator seeded from ``seed``: the same seed gives the
same choices on every platform. Tuners pickle (their whole state) and are safe to share
between threads (calls are serialized), though concurrent solves then interleave their
observations.

``"tsallis-inf"`` is the paper's bandit (Khodak et al., ICLR 2024): 1/2-Tsallis-INF,
learning rate ``2/sqrt(t)``, losses ``(iterations - 1)`` divided by their running
mean, grid ``linspace(1, 1.95, 20)``.  ``"exp3"`` and ``"ucb"`` are classical
alternatives on the same normalized losses.
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence

import numpy as np

from .. import _core
from .._validation import check_choice, seed_to_uint64

__all__ = ["OmegaTuner", "ContextualOmegaTuner", "young_omega"]

_ALGORITHMS = ("auto", "tsallis-inf", "exp3", "ucb")
_ALG_ENUM = {
    "auto": _core.sor.TunerAlgorithm.auto,
    "tsallis-inf": _core.sor.TunerAlgorithm.tsallis_inf,
    "exp3": _core.sor.TunerAlgorithm.exp3,
    "ucb": _core.sor.TunerAlgorithm.ucb,
}


def young_omega(mu: float) -> float:
    """Young's optimal SOR factor ``2 / (1 + sqrt(1 - mu^2))`` for Jacobi radius ``mu`` < 1.

    Examples
    --------
    >>> round(young_omega(0.0), 3)
    1.0
    """
    return _core.sor.young_omega(float(mu))


def _check_omegas(omegas: Any) -> np.ndarray:
    if omegas is None:
        return np.linspace(1.0, 1.95, 20)
    try:
        w = np.asarray(omegas, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"omegas must be a 1-D array-like of floats, got {type(omegas).__name__}") from None
    # Sorted and without repeats, as the C++ tuner wants them; it checks the values (non-empty,
    # finite, inside (0, 2)) when it is built or loaded, with the messages users see.
    return np.unique(w)


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None


def _rate(rate: Any) -> Optional[float]:
    return None if rate is None else _number(rate, "rate")


class OmegaTuner:
    """Learn one relaxation factor omega online from the cost of each solve.

    Parameters
    ----------
    omegas : array-like, optional
        Grid of candidate values in (0, 2); default ``linspace(1, 1.95, 20)``
        (the paper's grid).
    algorithm : {"auto", "tsallis-inf", "exp3", "ucb"}
        ``"auto"`` (default): structure-aware local search plus Young's model
        (see the module docstring); ``"tsallis-inf"``: the paper's bandit.
    seed : int or numpy.random.Generator, optional
        Seed for the randomized algorithms (a Generator is advanced by one draw).

    Attributes
    ----------
    history : list of (omega, cost)
        Every observation in order.

    Examples
    --------
    >>> t = OmegaTuner(seed=0)
    >>> for _ in range(200):
    ...     w = t.suggest()
    ...     t.observe(w, 10 + 100 * (w - 1.6) ** 2)
    >>> abs(t.best_omega - 1.6) < 0.06
    True
    """

    def __init__(self, omegas: Any = None, *, algorithm: str = "auto", seed: Any = None) -> None:
        self.omegas = _check_omegas(omegas)
        self.algorithm = check_choice(algorithm, "algorithm", _ALGORITHMS)
        self._impl = _core.sor.OmegaTuner(self.omegas, _ALG_ENUM[self.algorithm], seed_to_uint64(seed))

    @property
    def best_omega(self) -> float:
        """The arm with the lowest mean cost so far (the model estimate before any data)."""
        return self._impl.best_omega

    @property
    def history(self) -> List[tuple]:
        w, c = self._impl.history()
        return list(zip(w.tolist(), c.tolist()))

    def suggest(self, context: Any = None) -> float:
        """The omega to use for the next solve (``context`` is ignored here)."""
        return self._impl.suggest()

    def observe(self, omega: Any, cost: Any, *, context: Any = None, rate: Optional[float] = None) -> None:
        """Record the cost (e.g. iterations) of a solve made with ``omega``.

        ``rate`` is the observed convergence factor, used by ``"auto"``.
        """
        try:
            self._impl.observe(omega, cost, rate)
        except TypeError:
            self._impl.observe(_number(omega, "omega"), _number(cost, "cost"), _rate(rate))

    def __getstate__(self) -> dict:
        return {"omegas": self.omegas, "algorithm": self.algorithm, "state": self._impl.save()}

    def __setstate__(self, state: dict) -> None:
        self.omegas = state["omegas"]
        self.algorithm = state["algorithm"]
        self._impl = _core.sor.OmegaTuner(self.omegas, _ALG_ENUM[self.algorithm], 0)
        self._impl.load(state["state"])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(algorithm={self.algorithm!r}, arms={self.omegas.size}, "
                f"observations={self._impl.observations}, best_omega={self.best_omega:.3g})")


class ContextualOmegaTuner:
    """Learn omega as a function of instance features (the paper's contextual setting).

    Contexts are binned as in the paper's Tsallis-INF-CB (equal-width bins over
    the context range, one learner per bin; for a 1-D array context of length
    > 1 the bin is chosen from its first coordinate and the remaining
    coordinates are ignored for binning).  Each bin runs an ``algorithm``
    :class:`OmegaTuner`.  In addition, when solves report their convergence
    factor, Young's estimate of the instance-optimal omega is regressed on
    Chebyshev features ``T_0..T_degree`` of the (scaled) context, as the
    paper's ChebCB does with costs; the prediction for the new context is
    offered to the bin's learner as a candidate arm, which it keeps only if
    its observed cost is competitive.

    Parameters
    ----------
    omegas : array-like, optional
        Candidate grid (default ``linspace(1, 1.95, 20)``).
    seed : int or Generator, optional
    bins : int
        Number of context bins (paper: 5 or 6).
    context_range : (float, float), optional
        Range of the (first) context coordinate; by default the running
        min/max of the contexts seen.
    degree : int
        Degree of the Chebyshev features of each context coordinate.
    algorithm : str
        Per-bin learner, as in :class:`OmegaTuner`.

    Examples
    --------
    >>> t = ContextualOmegaTuner(seed=0, context_range=(0, 1))
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(600):
    ...     c = rng.random()
    ...     w = t.suggest(context=c)
    ...     t.observe(w, 10 + 100 * (w - 1.2 - 0.6 * c) ** 2, context=c)
    >>> abs(t.best_omega(0.9) - 1.74) < 0.1
    True
    """

    def __init__(self, omegas: Any = None, *, seed: Any = None, bins: int = 6,
                 context_range: Optional[Sequence[float]] = None, degree: int = 5,
                 algorithm: str = "auto") -> None:
        self.omegas = _check_omegas(omegas)
        self.algorithm = check_choice(algorithm, "algorithm", _ALGORITHMS)
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 1 <= bins <= 10**6:
            raise ValueError(f"bins must be a positive integer (at most 10**6), got {bins!r}")
        if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 0 <= degree <= 64:
            raise ValueError(f"degree must be a non-negative integer (at most 64), got {degree!r}")
        self.bins = int(bins)
        self.degree = int(degree)
        if context_range is not None:
            try:
                lo, hi = (float(v) for v in context_range)
            except (TypeError, ValueError):
                raise ValueError(f"context_range must be (low, high), got {context_range!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"context_range must be finite (low, high) with low < high, got {context_range!r}")
            fixed = True
        else:
            lo, hi, fixed = 0.0, 1.0, False
        self._impl = _core.sor.ContextualOmegaTuner(self.omegas, _ALG_ENUM[self.algorithm], self.bins,
                                                    self.degree, lo, hi, fixed, seed_to_uint64(seed))

    @property
    def history(self) -> List[tuple]:
        w, c, ptr, z = self._impl.history()
        return [(float(w[k]), float(c[k]), z[ptr[k]:ptr[k + 1]].copy()) for k in range(len(w))]

    def suggest(self, context: Any = None) -> float:
        """The omega to use for an instance with features ``context``."""
        return self._impl.suggest(context)

    def observe(self, omega: Any, cost: Any, *, context: Any = None, rate: Optional[float] = None) -> None:
        """Record the cost of a solve with ``omega`` on an instance with features ``context``."""
        try:
            self._impl.observe(omega, cost, context, rate)
        except TypeError:
            self._impl.observe(_number(omega, "omega"), _number(cost, "cost"), context, _rate(rate))

    def best_omega(self, context: Any) -> float:
        """Current best omega for features ``context``."""
        return self._impl.best_omega(context)

    def _predict(self, context: Any) -> Optional[float]:
        """The Young regression's omega for ``context`` (None until it has enough samples)."""
        p = self._impl.predict(context)
        return None if math.isnan(p) else p

    def __getstate__(self) -> dict:
        return {"omegas": self.omegas, "algorithm": self.algorithm, "bins": self.bins,
                "degree": self.degree, "state": self._impl.save()}

    def __setstate__(self, state: dict) -> None:
        self.omegas = state["omegas"]
        self.algorithm = state["algorithm"]
        self.bins = state["bins"]
        self.degree = state["degree"]
        self._impl = _core.sor.ContextualOmegaTuner(self.omegas, _ALG_ENUM[self.algorithm], self.bins,
                                                    self.degree, 0.0, 1.0, False, 0)
        self._impl.load(state["state"])

    def __repr__(self) -> str:
        return (f"ContextualOmegaTuner(bins={self.bins}, degree={self.degree}, "
                f"observations={self._impl.observations})")
