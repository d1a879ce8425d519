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
   over the last 256 estimates: with varying instances the best fixed omega
   leans towards the hardest instances, which the median ``w*`` would miss.
   While a model exists, ``"auto"`` searches the model arm and its neighbours
   (plus the empirical best); it falls back to the local search around the
   empirical best once that arm's upper confidence bound is below the model
   arm's lower bound, i.e. where the model does not hold (SSOR-CG, other
   orderings).
3. Statistics are discounted by 0.995 per solve (an effective window of ~200
   solves), because real sequences drift: in the heat equation the best
   omega is ~1 while the diffusion coefficient is near 0 and ~1.4-1.8 later.

``"tsallis-inf"`` is the paper's bandit (Khodak et al., ICLR 2024): 1/2-Tsallis-INF,
learning rate ``2/sqrt(t)``, losses ``(iterations - 1)`` divided by their running
mean, grid ``linspace(1, 1.95, 20)``.  ``"exp3"`` and ``"ucb"`` are classical
alternatives on the same normalized losses.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ._validation import check_choice, check_random_state

__all__ = ["OmegaTuner", "ContextualOmegaTuner", "young_omega"]

_ALGORITHMS = ("auto", "tsallis-inf", "exp3", "ucb")


def young_omega(mu: float) -> float:
    """Young's optimal SOR factor ``2 / (1 + sqrt(1 - mu^2))`` for Jacobi radius ``mu`` < 1.

    Examples
    --------
    >>> round(young_omega(0.0), 3)
    1.0
    """
    mu = min(max(float(mu), 0.0), 1.0 - 1e-15)
    return 2.0 / (1.0 + math.sqrt(1.0 - mu * mu))


def _young_mu2(omega: float, rate: Optional[float]) -> float:
    """Invert Young's relation for mu^2 from an observed factor; NaN when uninformative.

    For ``w >= w*`` the SOR factor is ``w - 1`` whatever ``mu`` is, so a rate
    close to ``w - 1`` says nothing about ``mu`` and is discarded.
    """
    if rate is None:
        return math.nan
    rho = float(rate)
    if not (0.0 < rho < 1.0) or rho <= (omega - 1.0) * 1.02 + 1e-3:
        return math.nan
    mu2 = (rho + omega - 1.0) ** 2 / (rho * omega * omega)
    return mu2 if 0.0 < mu2 < 1.0 else math.nan


def _check_omegas(omegas: Any) -> np.ndarray:
    if omegas is None:
        return np.linspace(1.0, 1.95, 20)
    try:
        w = np.asarray(omegas, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"omegas must be a 1-D array-like of floats, got {type(omegas).__name__}") from None
    if w.size == 0:
        raise ValueError("omegas must be non-empty")
    if not np.all(np.isfinite(w)):
        raise ValueError("omegas must be finite")
    if np.any(w <= 0.0) or np.any(w >= 2.0):
        raise ValueError("omegas must lie in the open interval (0, 2)")
    return np.unique(w)


def _check_cost(cost: Any) -> float:
    try:
        c = float(cost)
    except (TypeError, ValueError):
        raise TypeError(f"cost must be a real number, got {type(cost).__name__}") from None
    if not math.isfinite(c) or c < 0.0:
        raise ValueError(f"cost must be finite and >= 0, got {cost!r}")
    return c


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
        Seed for the randomized algorithms.

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
        self._rng = check_random_state(seed)
        d = self.omegas.size
        self._n = np.zeros(d)
        self._sum = np.zeros(d)
        self._sumsq = np.zeros(d)
        self._t = 0
        self._total = 0.0
        self._lhat = np.zeros(d)  # importance-weighted loss estimates (tsallis/exp3)
        self._prob = np.full(d, 1.0 / d)
        self._x = -1.0  # Tsallis normalizer, warm-started between rounds
        self._mu2: List[float] = []  # Young estimates of mu^2
        self._hint: Optional[float] = None  # external model omega (contextual use)
        self._model_cache: Optional[tuple] = None  # (number of mu samples, arm)
        self.history: List[tuple] = []

    # ------------------------------------------------------------------ public
    @property
    def best_omega(self) -> float:
        """The arm with the lowest mean cost so far (the model estimate before any data)."""
        seen = self._n > 0
        if self.algorithm == "auto" and np.any(seen):
            # Discounted counts never reach 0: judge only arms with recent, substantial use.
            seen = self._n >= 0.2 * self._n.max()
        if not np.any(seen):
            return float(self.omegas[self._model_arm()]) if self._mu2 else float(self.omegas[0])
        means = np.where(seen, self._sum / np.maximum(self._n, 1), np.inf)
        return float(self.omegas[int(np.argmin(means))])

    def suggest(self, context: Any = None) -> float:
        """The omega to use for the next solve (``context`` is ignored here)."""
        a = self.algorithm
        if a == "auto":
            i = self._suggest_auto()
        elif a == "ucb":
            i = self._suggest_ucb()
        else:
            i = self._suggest_prob()
        return float(self.omegas[i])

    def observe(self, omega: Any, cost: Any, *, context: Any = None, rate: Optional[float] = None) -> None:
        """Record the cost (e.g. iterations) of a solve made with ``omega``.

        ``rate`` is the observed convergence factor, used by ``"auto"``.
        """
        i = self._arm(omega)
        c = _check_cost(cost)
        self._update(i, c, rate)

    # --------------------------------------------------------------- internals
    def _arm(self, omega: Any) -> int:
        try:
            w = float(omega)
        except (TypeError, ValueError):
            raise TypeError(f"omega must be a real number, got {type(omega).__name__}") from None
        if not (0.0 < w < 2.0) or not math.isfinite(w):
            raise ValueError(f"omega must be in (0, 2), got {omega!r}")
        return int(np.argmin(np.abs(self.omegas - w)))

    def _scale(self) -> float:
        # The paper's normalization: running mean of (cost - 1).
        return max(self._total / max(self._t, 1) - 1.0, 1e-12)

    def _update(self, i: int, c: float, rate: Optional[float]) -> None:
        w = float(self.omegas[i])
        self.history.append((w, c))
        self._t += 1
        self._total += c
        if self.algorithm == "auto":
            # Discounted statistics (effective window ~200 solves): sequences drift (the heat
            # equation's best omega changes with kappa), and stale means would pin the search.
            self._n *= 0.995
            self._sum *= 0.995
            self._sumsq *= 0.995
        self._n[i] += 1
        self._sum[i] += c
        self._sumsq[i] += c * c
        if self.algorithm in ("tsallis-inf", "exp3"):
            self._lhat[i] += (c - 1.0) / max(self._prob[i], 1e-12)
        # A factor from a handful of iterations is transient, not asymptotic: skip it.
        if rate is not None and c >= 10 and math.isfinite(float(rate)):
            m = _young_mu2(w, rate)
            if math.isfinite(m):
                self._mu2.append(m)
                if len(self._mu2) > 256:
                    del self._mu2[0]

    def _model_arm(self) -> int:
        if self._hint is not None:
            return int(np.argmin(np.abs(self.omegas - self._hint)))
        k = len(self._mu2)
        if self._model_cache is not None and (k == self._model_cache[0] or self._t % 8):
            return self._model_cache[1]
        # Minimize Young's predicted mean iteration count over the sample of mu seen so far:
        # with varying instances the best fixed omega leans towards the hardest (largest mu),
        # which the median instance's w* would miss.
        mu = np.sqrt(np.asarray(self._mu2))[None, :]
        w = self.omegas[:, None]
        disc = np.maximum(w * w * mu * mu - 4.0 * (w - 1.0), 0.0)
        rho = np.where(w < 2.0 / (1.0 + np.sqrt(1.0 - mu * mu)), ((w * mu + np.sqrt(disc)) / 2.0) ** 2,
                       np.abs(w - 1.0))
        rho = np.clip(rho, 1e-12, 1.0 - 1e-12)
        arm = int(np.argmin(np.mean(1.0 / -np.log(rho), axis=1)))
        self._model_cache = (k, arm)
        return arm

    def _suggest_prob(self) -> int:
        d = self.omegas.size
        t = self._t + 1
        eta = 2.0 / math.sqrt(t)
        L = self._lhat / self._scale() if self._t else np.zeros(d)
        if self.algorithm == "tsallis-inf":
            L = L - L.min()
            x = self._x if self._x < 0 else -1.0
            x = min(x, -1e-9 / eta)
            for _ in range(20):
                base = eta * (L - x)
                p = 4.0 / (base * base)
                f = p.sum() - 1.0
                if abs(f) < 1e-9:
                    break
                x -= f / (eta * np.sum(p * np.sqrt(p)))
                x = min(x, -1e-12)
            p = 4.0 / (eta * (L - x)) ** 2
            self._x = x
        else:  # Exp3 for losses (no mixing needed), anytime rate sqrt(2 log d / (d t))
            eta = math.sqrt(2.0 * math.log(max(d, 2)) / (d * t))
            p = np.exp(-eta * (L - L.min()))
        p = np.maximum(p, 0.0)
        s = p.sum()
        p = p / s if s > 0 and math.isfinite(s) else np.full(d, 1.0 / d)
        self._prob = p
        # Inverse-CDF draw: one uniform, much cheaper than Generator.choice.
        return min(int(np.searchsorted(np.cumsum(p), self._rng.random() , side="right")), d - 1)

    def _suggest_ucb(self) -> int:
        if np.any(self._n == 0):
            return int(np.flatnonzero(self._n == 0)[0])
        means = self._sum / self._n / self._scale()
        lcb = means - np.sqrt(2.0 * math.log(self._t + 1) / self._n)
        return int(np.argmin(lcb))

    def _suggest_auto(self) -> int:
        # Pure-Python scalars: with ~3 candidates this is several times cheaper than NumPy.
        d = self.omegas.size
        n = self._n
        have_model = bool(self._mu2) or self._hint is not None
        if self._t == 0:
            return self._model_arm() if have_model else d // 2
        cand = set()
        if have_model:
            cand.add(self._model_arm())
        if not have_model and d >= 3:
            for j in (d // 2, d // 5, (4 * d) // 5):
                if n[j] == 0:
                    return j  # coarse probes bracket the minimum of a unimodal curve
        b, bm = -1, math.inf
        for j in range(d):
            nj = n[j]
            if nj:
                m = self._sum[j] / nj
                if m < bm:
                    b, bm = j, m
        logt = math.log(self._t + 1)
        if have_model:
            # Trust the model while it is not clearly beaten: search around the model arm and
            # keep the empirical best as a candidate; move the local search to the empirical best
            # only once its upper confidence bound is below the model arm's lower bound (the
            # model is wrong there, e.g. SSOR-CG or non-consistently-ordered matrices).
            mj = next(iter(cand))
            cand.update((max(mj - 1, 0), min(mj + 1, d - 1), b))
            if n[mj] and b != mj and self._bound(b, logt, +1) < self._bound(mj, logt, -1):
                cand.update((max(b - 1, 0), min(b + 1, d - 1)))
        else:
            cand.update((b, max(b - 1, 0), min(b + 1, d - 1)))
        best_j, best_v = -1, math.inf
        for j in sorted(cand):
            nj = float(n[j])
            if nj == 0:
                return j
            m = self._sum[j] / nj
            sd = math.sqrt(max(self._sumsq[j] / nj - m * m, 0.0))
            v = m - (sd + 0.05 * m + 1e-12) * math.sqrt(2.0 * logt / nj)
            if v < best_v:
                best_j, best_v = j, v
        return best_j

    def _bound(self, j: int, logt: float, sign: int) -> float:
        nj = float(self._n[j])
        m = self._sum[j] / nj
        sd = math.sqrt(max(self._sumsq[j] / nj - m * m, 0.0))
        return m + sign * (sd + 0.05 * m + 1e-12) * math.sqrt(2.0 * logt / nj)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(algorithm={self.algorithm!r}, arms={self.omegas.size}, "
                f"observations={self._t}, best_omega={self.best_omega:.3g})")


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
        if not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        if not isinstance(degree, (int, np.integer)) or degree < 0:
            raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
        self.bins = int(bins)
        self.degree = int(degree)
        if context_range is not None:
            lo, hi = (float(v) for v in context_range)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"context_range must be finite (low, high) with low < high, got {context_range!r}")
            self._range = [lo, hi]
            self._fixed_range = True
        else:
            self._range = [math.inf, -math.inf]
            self._fixed_range = False
        self._rng = check_random_state(seed)
        self._tuners = [OmegaTuner(self.omegas, algorithm=self.algorithm, seed=self._rng) for _ in range(self.bins)]
        self._G: Optional[np.ndarray] = None  # normal equations of the Young regression
        self._h: Optional[np.ndarray] = None
        self._nreg = 0
        self.history: List[tuple] = []

    def _ctx(self, context: Any) -> np.ndarray:
        if context is None:
            raise ValueError("context is required by ContextualOmegaTuner (pass context= to the solver)")
        try:
            z = np.asarray(context, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise TypeError(f"context must be a real scalar or 1-D array-like, got {type(context).__name__}") from None
        if z.size == 0 or not np.all(np.isfinite(z)):
            raise ValueError("context must be non-empty and finite")
        return z

    def _scaled(self, z: np.ndarray) -> np.ndarray:
        lo, hi = self._range
        if not hi > lo:
            return np.zeros_like(z)
        return np.clip(2.0 * (z - lo) / (hi - lo) - 1.0, -1.0, 1.0)

    def _bin(self, z: np.ndarray) -> int:
        s = float(self._scaled(z[:1])[0])
        return min(int((s + 1.0) / 2.0 * self.bins), self.bins - 1)

    def _features(self, z: np.ndarray) -> np.ndarray:
        s = self._scaled(z)
        # Chebyshev T_0..T_degree per coordinate (one shared constant).
        feats = [np.ones(1)]
        tkm1, tk = np.ones_like(s), s
        for k in range(1, self.degree + 1):
            feats.append(tk)
            tkm1, tk = tk, 2.0 * s * tk - tkm1
        return np.concatenate(feats)

    def _predict(self, z: np.ndarray) -> Optional[float]:
        if self._G is None or self._nreg < 2 * self._G.shape[0]:
            return None
        f = self._features(z)
        k = self._G.shape[0]
        theta = np.linalg.solve(self._G + 1e-6 * np.eye(k), self._h)
        return float(np.clip(f @ theta, 1e-3, 1.999))

    def suggest(self, context: Any = None) -> float:
        """The omega to use for an instance with features ``context``."""
        z = self._ctx(context)
        if not self._fixed_range and not (self._range[0] <= z[0] <= self._range[1]):
            self._range = [min(self._range[0], z[0]), max(self._range[1], z[0])]
        tuner = self._tuners[self._bin(z)]
        tuner._hint = self._predict(z)
        return tuner.suggest()

    def observe(self, omega: Any, cost: Any, *, context: Any = None, rate: Optional[float] = None) -> None:
        """Record the cost of a solve with ``omega`` on an instance with features ``context``."""
        z = self._ctx(context)
        c = _check_cost(cost)
        b = self._bin(z)
        tuner = self._tuners[b]
        i = tuner._arm(omega)
        tuner._update(i, c, None)
        self.history.append((float(tuner.omegas[i]), c, z.copy()))
        m = _young_mu2(float(tuner.omegas[i]), rate)
        if math.isfinite(m):
            f = self._features(z)
            if self._G is None or self._G.shape[0] != f.size:
                self._G = np.zeros((f.size, f.size))
                self._h = np.zeros(f.size)
                self._nreg = 0
            self._G += np.outer(f, f)
            self._h += f * young_omega(math.sqrt(m))
            self._nreg += 1

    def best_omega(self, context: Any) -> float:
        """Current best omega for features ``context``."""
        z = self._ctx(context)
        t = self._tuners[self._bin(z)]
        if t._t == 0:
            p = self._predict(z)
            return float(self.omegas[int(np.argmin(np.abs(self.omegas - p)))]) if p is not None else float(self.omegas[0])
        return t.best_omega

    def __repr__(self) -> str:
        return f"ContextualOmegaTuner(bins={self.bins}, degree={self.degree}, observations={len(self.history)})"
