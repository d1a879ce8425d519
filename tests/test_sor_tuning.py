"""Tests for the omega tuners and the SOR problem generators."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from adasolve.problems import heat_equation_sequence, poisson2d, shifted_laplacian_sequence
from adasolve.tuning import ContextualOmegaTuner, OmegaTuner, young_omega

ALGOS = ["auto", "tsallis-inf", "exp3", "ucb"]
GRID = np.linspace(1.0, 1.95, 20)


def quad_cost(w, rng):
    # Smooth, unimodal, noisy; minimum at the grid point 1.6.
    return 20.0 + 1000.0 * (w - 1.6) ** 2 + rng.normal(0, 2.0)


def young_rate(w, mu):
    """Exact SOR convergence factor for a consistently ordered matrix (Young)."""
    wopt = young_omega(mu)
    if w >= wopt:
        return w - 1.0
    s = w * mu + math.sqrt(w * w * mu * mu - 4.0 * (w - 1.0))
    return (s / 2.0) ** 2


def young_cost(w, mu):
    return math.ceil(math.log(1e-8) / math.log(young_rate(w, mu)))


@pytest.mark.parametrize("algo", ALGOS)
def test_converges_to_best_arm_and_sublinear_regret(algo):
    rng = np.random.default_rng(1)
    t = OmegaTuner(algorithm=algo, seed=0)
    T = 4000
    expected = 20.0 + 1000.0 * (GRID - 1.6) ** 2
    regret = np.empty(T)
    for k in range(T):
        w = t.suggest()
        regret[k] = 20.0 + 1000.0 * (w - 1.6) ** 2 - expected.min()
        t.observe(w, max(quad_cost(w, rng), 0.0))
    assert t.best_omega == pytest.approx(1.6)
    R = np.cumsum(regret)
    # Uniform play would cost ~T * 100 (the mean gap); require regret below 30 T^0.8.
    assert R[-1] < 30.0 * T ** 0.8
    assert R[-1] < 4 ** 0.8 * max(R[T // 4 - 1], 1.0)
    assert R[-1] / T < R[T // 4 - 1] / (T // 4)  # average regret decreases


def test_auto_beats_tsallis_on_young_model():
    rng = np.random.default_rng(3)
    mus = 0.95 + 0.02 * rng.random(800)
    totals = {}
    for algo in ("auto", "tsallis-inf"):
        t = OmegaTuner(algorithm=algo, seed=0)
        tot = 0
        for mu in mus:
            w = t.suggest()
            c = young_cost(w, mu)
            t.observe(w, c, rate=young_rate(w, mu))
            tot += c
        totals[algo] = tot
    best_fixed = min(sum(young_cost(w, mu) for mu in mus) for w in GRID)
    assert totals["auto"] < totals["tsallis-inf"]
    assert totals["auto"] <= 1.10 * best_fixed


def test_auto_without_rate_is_robust():
    # No rate: the local search alone must still find the minimum quickly.
    rng = np.random.default_rng(0)
    t = OmegaTuner(seed=0)
    tot = 0.0
    for _ in range(300):
        w = t.suggest()
        c = quad_cost(w, rng)
        tot += c
        t.observe(w, c)
    assert t.best_omega == pytest.approx(1.6)
    assert tot / 300 < 1.25 * 20.0


@pytest.mark.parametrize("algo", ALGOS)
def test_pickle_round_trip_continues_identically(algo):
    rng = np.random.default_rng(0)
    t = OmegaTuner(algorithm=algo, seed=5)
    for _ in range(50):
        w = t.suggest()
        t.observe(w, quad_cost(w, rng), rate=0.9)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.history == t.history and t2.best_omega == t.best_omega
    for _ in range(30):
        w1, w2 = t.suggest(), t2.suggest()
        assert w1 == w2
        c = quad_cost(w1, rng)
        t.observe(w1, c)
        t2.observe(w2, c)


def test_contextual_approaches_instance_optimum():
    rng = np.random.default_rng(0)
    t = ContextualOmegaTuner(seed=0, context_range=(0.0, 1.0))
    T = 1500
    costs = []
    for _ in range(T):
        c = rng.random()
        wstar = 1.2 + 0.6 * c
        w = t.suggest(context=c)
        cost = 10 + 300 * (w - wstar) ** 2
        costs.append(cost)
        t.observe(w, cost, context=c)
    # Best fixed omega for c ~ U(0,1): 1.5, expected cost 10 + 300 * 0.36/12 = 19.
    late = np.mean(costs[-500:])
    assert late < 0.7 * 19.0
    assert abs(t.best_omega(0.95) - 1.77) < 0.1


def test_contextual_young_regression_with_vector_context():
    t = ContextualOmegaTuner(seed=0, bins=1)
    rng = np.random.default_rng(0)
    tot = 0
    for _ in range(400):
        c = rng.random()
        mu = 0.9 + 0.09 * c
        w = t.suggest(context=[c, c * c])
        k = young_cost(w, mu)
        tot += k
        t.observe(w, k, context=[c, c * c], rate=young_rate(w, mu))
    pred = t._predict(np.array([0.5, 0.25]))
    assert pred == pytest.approx(young_omega(0.945), abs=0.03)


def test_validation_errors():
    with pytest.raises(ValueError, match="algorithm"):
        OmegaTuner(algorithm="magic")
    with pytest.raises(ValueError, match="'auto'"):
        OmegaTuner(algorithm="magic")
    with pytest.raises(ValueError, match="omegas"):
        OmegaTuner(omegas=[])
    with pytest.raises(ValueError, match="omegas"):
        OmegaTuner(omegas=[1.0, 2.0])
    with pytest.raises(ValueError, match="omegas"):
        OmegaTuner(omegas=[1.0, np.nan])
    t = OmegaTuner()
    with pytest.raises(ValueError, match="cost"):
        t.observe(1.0, -1)
    with pytest.raises(ValueError, match="cost"):
        t.observe(1.0, np.inf)
    with pytest.raises(ValueError, match="omega"):
        t.observe(2.5, 3)
    ct = ContextualOmegaTuner()
    with pytest.raises(ValueError, match="context"):
        ct.suggest()
    with pytest.raises(ValueError, match="context"):
        ct.observe(1.2, 3)
    with pytest.raises(ValueError, match="context"):
        ct.suggest(context=[np.nan])
    with pytest.raises(ValueError, match="bins"):
        ContextualOmegaTuner(bins=0)


def test_observe_by_hand_ignores_context():
    t = OmegaTuner(omegas=[1.2, 1.5])
    t.observe(1.21, 5, context=[1, 2])
    t.observe(1.5, 3)
    assert t.best_omega == 1.5 and t.history == [(1.2, 5.0), (1.5, 3.0)]


def test_poisson2d_matches_kron_sum():
    n = 5
    T = np.diag(2 * np.ones(n)) - np.diag(np.ones(n - 1), 1) - np.diag(np.ones(n - 1), -1)
    ref = np.kron(np.eye(n), T) + np.kron(T, np.eye(n))
    A = poisson2d(n)
    assert sp.issparse(A) and A.format == "csr"
    np.testing.assert_array_equal(A.toarray(), ref)
    with pytest.raises(ValueError, match="n"):
        poisson2d(0)


def test_shifted_laplacian_sequence():
    seq = list(shifted_laplacian_sequence(200, variance="low", seed=0))
    L = poisson2d(10).toarray()
    cs = []
    for A, b, c in seq[:3]:
        np.testing.assert_allclose(A.toarray(), L + c * np.eye(100))
        assert b @ b <= 100
    cs = np.array([c for _, _, c in seq])
    assert np.all((cs >= -0.15) & (cs <= 0.45))
    assert abs(cs.mean() - (-0.15 + 0.6 * 0.25)) < 0.02  # Beta(2,6) mean 1/4
    again = [c for _, _, c in shifted_laplacian_sequence(200, variance="low", seed=0)]
    np.testing.assert_array_equal(cs, again)
    with pytest.raises(ValueError, match="variance"):
        next(shifted_laplacian_sequence(1, variance="mid"))


def test_heat_step_matches_dense_crank_nicolson():
    nx, dt = 6, 1e-3
    seq = heat_equation_sequence(nx=nx, steps=300, dt=dt)
    m = nx - 1
    T = np.diag(2 * np.ones(m)) - np.diag(np.ones(m - 1), 1) - np.diag(np.ones(m - 1), -1)
    Ld = -(np.kron(np.eye(m), T) + np.kron(T, np.eye(m))) * nx * nx
    for k, (A, b, kap) in enumerate(seq):
        th = (k + 0.5) * dt
        assert kap == pytest.approx(max(0.1 * np.sin(2 * np.pi * th), -10 * np.sin(2 * np.pi * th)))
        u = seq.u
        f = seq.forcing(th)
        Aref = np.eye(m * m) - 0.5 * kap * dt * Ld
        bref = (np.eye(m * m) + 0.5 * kap * dt * Ld) @ u + dt * f
        np.testing.assert_allclose(A.toarray(), Aref, atol=1e-12)
        np.testing.assert_allclose(b, bref, rtol=1e-12, atol=1e-12)
        if k % 2:
            seq.step(np.linalg.solve(Aref, bref))  # else: the sequence solves it itself
    assert seq.k == 300
    assert np.all(np.isfinite(seq.u))
