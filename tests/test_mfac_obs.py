"""OBS pruning patterns (unstructured, N:M, block) against a dense NumPy OBS."""

import numpy as np
import pytest

from adasolve import obs_prune


def dense_finv(G, damp):
    m, d = G.shape
    return np.linalg.inv(damp * np.eye(d) + G.T @ G / m)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    G = rng.standard_normal((10, 24))
    W = rng.standard_normal((3, 8))
    return W, G, 0.05


def test_two_four_against_dense(data):
    W, G, damp = data
    got = obs_prune(W, G, damp=damp, pattern="2:4")
    Finv = dense_finv(G, damp)
    w = W.reshape(-1).copy()
    scores = (w ** 2 / (2 * np.diag(Finv))).reshape(-1, 4)
    new = (np.arange(6)[:, None] * 4 + np.argsort(scores, axis=1)[:, :2]).reshape(-1)
    u = np.zeros_like(w)
    u[new] = w[new] / np.diag(Finv)[new]
    ref = w - Finv @ u
    ref[new] = 0
    np.testing.assert_allclose(got.reshape(-1), ref, rtol=1e-9, atol=1e-12)
    assert ((got.reshape(-1, 4) == 0).sum(axis=1) == 2).all()
    # two steps: one weight per group each, rescoring in between: still 2:4, different weights
    two = obs_prune(W, G, 0.5, damp=damp, pattern="2:4", steps=2)
    assert ((two.reshape(-1, 4) == 0).sum(axis=1) == 2).all()
    # 1:4 keeps one of four
    assert ((obs_prune(W, G, damp=damp, pattern="1:4").reshape(-1, 4) == 0).sum(axis=1) == 3).all()


def test_block_pattern_against_dense_group_obs(data):
    W, G, damp = data
    b, s = 2, 0.5
    got = obs_prune(W, G, s, damp=damp, pattern="block", group_size=b)
    Finv = dense_finv(G, damp)
    w = W.reshape(-1).copy()
    ng = w.size // b
    scores, cs = [], []
    for q in range(ng):
        Q = slice(q * b, (q + 1) * b)
        c = np.linalg.solve(Finv[Q, Q], w[Q])
        scores.append(0.5 * w[Q] @ c)
        cs.append(c)
    k = int(round(s * ng))
    chosen = np.argsort(scores)[:k]
    u = np.zeros_like(w)
    for q in chosen:
        u[q * b:(q + 1) * b] = cs[q]
    ref = w - Finv @ u
    for q in chosen:
        ref[q * b:(q + 1) * b] = 0
    np.testing.assert_allclose(got.reshape(-1), ref, rtol=1e-8, atol=1e-11)
    # groups of one are the unstructured method
    np.testing.assert_allclose(obs_prune(W, G, 0.4, damp=damp, pattern="block", group_size=1),
                               obs_prune(W, G, 0.4, damp=damp), rtol=1e-8, atol=1e-11)


def test_gradual_with_fresh_gradients(data):
    W, G, damp = data
    seen = []

    def grads_at(w):
        seen.append(w.copy())
        return G + 0.1 * np.outer(np.ones(G.shape[0]), w.reshape(-1))  # depends on the weights

    got = obs_prune(W, G, 0.5, damp=damp, steps=3, gradient_fn=grads_at)
    assert len(seen) == 2 and seen[0].shape == W.shape
    # dense reference of the same schedule
    w = W.reshape(-1).copy()
    pruned = np.zeros(w.size, bool)
    Gs = G
    for s in range(1, 4):
        if s > 1:
            Gs = G + 0.1 * np.outer(np.ones(G.shape[0]), w)
        Finv = dense_finv(Gs, damp)
        dg = np.diag(Finv)
        sc = w ** 2 / (2 * dg)
        sc[pruned] = np.inf
        k = int(round(12 * s / 3)) - pruned.sum()
        new = np.argsort(sc)[:k]
        u = np.zeros_like(w)
        u[new] = w[new] / dg[new]
        w = w - Finv @ u
        pruned[new] = True
        w[pruned] = 0
    np.testing.assert_allclose(got.reshape(-1), w, rtol=1e-8, atol=1e-11)


def test_pattern_bad_input(data):
    W, G, damp = data
    with pytest.raises(ValueError, match="pattern must be"):
        obs_prune(W, G, 0.5, pattern="2-4")
    with pytest.raises(ValueError, match="N < M"):
        obs_prune(W, G, pattern="4:4")
    with pytest.raises(ValueError, match="multiple of 3"):
        obs_prune(W, G, pattern="1:3")
    with pytest.raises(ValueError, match="has sparsity 0.5"):
        obs_prune(W, G, 0.7, pattern="2:4")
    with pytest.raises(ValueError, match="sparsity is required"):
        obs_prune(W, G, pattern="block")
    with pytest.raises(ValueError, match="group_size=3 must divide"):
        obs_prune(W, G, 0.5, pattern="block", group_size=3)
    with pytest.raises(TypeError, match="gradient_fn must be callable"):
        obs_prune(W, G, 0.5, steps=2, gradient_fn=3)
    with pytest.raises(TypeError, match="pattern must be a string"):
        obs_prune(W, G, 0.5, pattern=None)
