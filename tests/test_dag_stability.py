"""adasolve.dag.bootstrap_edges."""

import numpy as np
import pytest

from adasolve.dag import bootstrap_edges, simulate_dag, simulate_linear_sem, simulate_parameters, topo_swap


def make_data(d=6, n=400, seed=0):
    B = simulate_dag(d, d, "ER", seed=seed)
    X = simulate_linear_sem(simulate_parameters(B, seed=seed + 1), n, "gauss", seed=seed + 2)
    return B, X


def test_frequencies_match_a_loop_and_are_deterministic():
    B, X = make_data()
    freq = bootstrap_edges(X, n_bootstrap=12, seed=5, l1=0.01)
    # independent loop: the same resamples (children of one SeedSequence), counted by hand
    acc = np.zeros_like(freq)
    for child in np.random.SeedSequence(5).spawn(12):
        rng = np.random.default_rng(child)
        rows = rng.integers(X.shape[0], size=X.shape[0])
        acc += topo_swap(X[rows], l1=0.01).W != 0
    np.testing.assert_array_equal(freq, acc / 12)
    np.testing.assert_array_equal(freq, bootstrap_edges(X, n_bootstrap=12, seed=5, l1=0.01, n_jobs=2))
    assert freq.shape == (6, 6) and np.all((freq >= 0) & (freq <= 1))
    # the true edges of an easy problem are (nearly) always found, in one direction or the other
    for u, v in zip(*np.nonzero(B)):
        assert freq[u, v] + freq[v, u] >= 0.9


def test_bootstrap_passes_options_and_bad_input():
    B, X = make_data(d=5, seed=1)
    freq = bootstrap_edges(X, n_bootstrap=4, seed=0, forbidden=[(0, 1), (1, 0)])
    assert freq[0, 1] == 0 and freq[1, 0] == 0
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_edges(X, n_bootstrap=0)
    with pytest.raises(ValueError, match="n_jobs"):
        bootstrap_edges(X, n_bootstrap=2, n_jobs=0)
    with pytest.raises(ValueError, match="gram"):
        bootstrap_edges(X, n_bootstrap=2, gram=np.eye(5))
    with pytest.raises(ValueError, match="model"):
        bootstrap_edges(X, n_bootstrap=2, model="quadratic")
    with pytest.raises(TypeError, match="seed"):
        bootstrap_edges(X, n_bootstrap=2, seed="abc")
