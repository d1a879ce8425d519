"""adasolve.bcd.datasets generators and the LabelPropagation estimator."""

import numpy as np
import pytest

from adasolve import bcd_minimize
from adasolve.bcd import datasets
from adasolve.semi_supervised import LabelPropagation


def test_generators_shapes_and_seeds():
    a = datasets.make_A(50, 120, seed=1)
    assert a.X.shape == (50, 120)
    np.testing.assert_array_equal(a.X, datasets.make_A(50, 120, seed=1).X)
    assert datasets.make_A_nonneg_l1(50, 120, l1=10.0).nonneg
    b = datasets.make_B(50, 120)
    assert set(np.unique(b.y)) == {-1.0, 1.0}
    c = datasets.make_C(60, 20, k=5)
    assert c.n_vars == 100
    d = datasets.make_D(10, 8)
    assert d.n_vars == 100 - 8 or d.n_vars < 100
    e = datasets.make_E(200, 10)
    assert e.A.shape[0] == e.n_vars


@pytest.mark.parametrize("make", [lambda: datasets.make_D(12, 10), lambda: datasets.make_E(300, 20)])
def test_greedy_tree_message_passing_solves_D_E(make):
    prob = make()
    ref = np.linalg.solve(prob.A.toarray(), prob.b)
    res = bcd_minimize(prob, rule="gsl", blocks="tree", update="message-passing",
                       block_size=prob.n_vars, tol=1e-8 * np.abs(prob.b).max(), maxiter=20000)
    assert res.success
    np.testing.assert_allclose(res.x, ref, atol=1e-6 * np.abs(ref).max())


def test_greedy_beats_random_on_A_small():
    prob = datasets.make_A(100, 300, seed=0)
    out = {}
    for rule in ("random", "gsl"):
        out[rule] = bcd_minimize(prob, rule=rule, blocks="variable", update="gradient", block_size=5,
                                 maxiter=200, tol=0, seed=0).fun
    assert out["gsl"] < 0.5 * out["random"], out


def test_label_propagation_estimator_two_moons():
    from sklearn.datasets import make_moons
    from sklearn.semi_supervised import LabelPropagation as SkLP

    X, ytrue = make_moons(300, noise=0.05, random_state=0)
    y = np.full(300, -1)
    rng = np.random.default_rng(0)
    lab = rng.choice(300, 10, replace=False)
    y[lab] = ytrue[lab]
    ours = LabelPropagation(n_neighbors=7).fit(X, y)
    ref = SkLP(kernel="knn", n_neighbors=7, max_iter=100000, tol=1e-10).fit(X, y)
    assert (ours.transduction_ == ytrue).mean() > 0.95
    assert (ours.transduction_ == ref.transduction_).mean() > 0.95
    assert ours.predict(X[:5]).shape == (5,)
    with pytest.raises(ValueError, match="kernel"):
        LabelPropagation(kernel="poly").fit(X, y)
