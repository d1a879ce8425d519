"""A NumPy reference of the documented omega-tuner algorithms (adasolve.tuning), used only
to check, seed for seed, that the C++ tuners make the documented choices."""

from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed: int) -> None:
        self.s = seed & MASK

    def next(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53


def young_mu2(w, rho):
    if rho is None or not (0.0 < rho < 1.0) or rho <= (w - 1.0) * 1.02 + 1e-3:
        return math.nan
    m = (rho + w - 1.0) ** 2 / (rho * w * w)
    return m if 0.0 < m < 1.0 else math.nan


def young_cost(w, mu):
    disc = max(w * w * mu * mu - 4.0 * (w - 1.0), 0.0)
    rho = ((w * mu + math.sqrt(disc)) / 2.0) ** 2 if w < 2.0 / (1.0 + math.sqrt(1.0 - mu * mu)) else abs(w - 1.0)
    rho = min(max(rho, 1e-12), 1.0 - 1e-12)
    return 1.0 / -math.log(rho)


class ReferenceTuner:
    """The documented OmegaTuner, step by step (no running sums: Young's model is recomputed)."""

    def __init__(self, omegas, algorithm, seed64):
        self.w = np.asarray(omegas, float)
        self.alg = algorithm
        self.rng = SplitMix64(seed64)
        d = self.d = self.w.size
        self.n = np.zeros(d)
        self.sum = np.zeros(d)
        self.sumsq = np.zeros(d)
        self.lhat = np.zeros(d)
        self.prob = np.full(d, 1.0 / d)
        self.t = 0
        self.total = 0.0
        self.x = -1.0
        self.mu2 = []
        self.history = []

    def scale(self):
        return max(self.total / max(self.t, 1) - 1.0, 1e-12)

    def model_arm(self):
        mus = np.sqrt(self.mu2)
        costs = [sum(young_cost(w, m) for m in mus) for w in self.w]
        return int(np.argmin(costs))

    def bound(self, j, logt, sign):
        m = self.sum[j] / self.n[j]
        sd = math.sqrt(max(self.sumsq[j] / self.n[j] - m * m, 0.0))
        return m + sign * (sd + 0.05 * m + 1e-12) * 0.7 * math.sqrt(2.0 * logt / self.n[j])

    def suggest(self):
        if self.alg == "auto":
            return float(self.w[self._auto()])
        if self.alg == "ucb":
            return float(self.w[self._ucb()])
        return float(self.w[self._prob()])

    def _auto(self):
        d, n = self.d, self.n
        have_model = bool(self.mu2)
        if self.t == 0:
            return self.model_arm() if have_model else d // 2
        if not have_model and d >= 3:
            for j in (d // 2, d // 5, (4 * d) // 5):
                if n[j] == 0:
                    return j
        seen = np.flatnonzero(n > 0)
        means = self.sum[seen] / n[seen]
        b = int(seen[np.argmin(means)])
        logt = math.log(self.n.sum() + 1.0)
        cand = []
        if have_model:
            mj = self.model_arm()
            cand += [mj, max(mj - 1, 0), min(mj + 1, d - 1), b]
            if n[mj] > 0 and b != mj and self.bound(b, logt, 1) < self.bound(mj, logt, -1):
                cand += [max(b - 1, 0), min(b + 1, d - 1)]
        else:
            cand += [b, max(b - 1, 0), min(b + 1, d - 1)]
        best_j, best_v = -1, math.inf
        for j in sorted(set(cand)):
            if n[j] == 0:
                return j
            v = self.bound(j, logt, -1)
            if v < best_v:
                best_j, best_v = j, v
        return best_j

    def _ucb(self):
        if np.any(self.n == 0):
            return int(np.flatnonzero(self.n == 0)[0])
        v = self.sum / self.n / self.scale() - np.sqrt(2.0 * math.log(self.t + 1) / self.n)
        return int(np.argmin(v))

    def _prob(self):
        d, t = self.d, self.t + 1
        L = self.lhat / self.scale() if self.t else np.zeros(d)
        L = L - L.min()
        if self.alg == "tsallis-inf":
            eta = 2.0 / math.sqrt(t)
            x = self.x if self.x < 0 else -1.0
            x = min(x, -1e-9 / eta)
            for _ in range(20):
                p = 4.0 / (eta * (L - x)) ** 2
                f = p.sum() - 1.0
                if abs(f) < 1e-9:
                    break
                x -= f / (eta * np.sum(p * np.sqrt(p)))
                x = min(x, -1e-12)
            p = 4.0 / (eta * (L - x)) ** 2
            self.x = x
        else:
            eta = math.sqrt(2.0 * math.log(max(d, 2)) / (d * t))
            p = np.exp(-eta * L)
        p = p / p.sum()
        self.prob = p
        u = self.rng.uniform()
        c = np.cumsum(p)
        idx = np.flatnonzero(c > u)
        return int(idx[0]) if idx.size else d - 1

    def observe(self, omega, cost, rate=None):
        i = int(np.argmin(np.abs(self.w - omega)))
        w = float(self.w[i])
        self.history.append((w, float(cost)))
        self.t += 1
        self.total += cost
        if self.alg == "auto":
            self.n *= 0.99
            self.sum *= 0.99
            self.sumsq *= 0.99
        self.n[i] += 1
        self.sum[i] += cost
        self.sumsq[i] += cost * cost
        if self.alg in ("tsallis-inf", "exp3"):
            self.lhat[i] += (cost - 1.0) / max(self.prob[i], 1e-12)
        if rate is not None and cost >= 10 and math.isfinite(rate):
            m = young_mu2(w, rate)
            if math.isfinite(m):
                self.mu2.append(m)
                if len(self.mu2) > 256:
                    del self.mu2[0]
