"""M-FAC: blocks of given sizes, automatic damping and exact window state, against dense NumPy."""

import copy
import pickle
import warnings

import numpy as np
import pytest

from adasolve import SlidingIHVP, StaticIHVP
from adasolve.mfac import DampingRaisedWarning


def blockdiag_fisher(G, damp, sizes):
    G = np.asarray(G, dtype=np.float64)
    m, d = G.shape
    F = np.zeros((d, d))
    s = 0
    for w in sizes:
        F[s:s + w, s:s + w] = damp * np.eye(w) + G[:, s:s + w].T @ G[:, s:s + w] / m
        s += w
    return F


def rel(a, b):
    return np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b)


@pytest.mark.parametrize("sizes", [[3, 20, 7], [30], [1, 1, 28], [12, 5, 13]])
def test_static_blocks_of_given_sizes(sizes):
    rng = np.random.default_rng(1)
    m, d, damp = 6, 30, 0.05
    G = rng.standard_normal((m, d))
    H = StaticIHVP(G, damp, blocks=sizes)
    F = blockdiag_fisher(G, damp, sizes)
    V = rng.standard_normal((3, d))
    assert H.block_sizes == sizes
    assert rel(H.ihvp(V), np.linalg.solve(F, V.T).T) < 1e-10
    Finv = np.linalg.inv(F)
    assert rel(H.diag(), np.diag(Finv)) < 1e-10
    for i, j in [(0, 0), (2, 3), (3, 22), (29, 25), (22, 23)]:
        assert abs(H.element(i, j) - Finv[i, j]) < 1e-9 * np.abs(Finv).max()
    np.testing.assert_allclose(H.quad(V), np.einsum("ij,ij->i", V, np.linalg.solve(F, V.T).T), rtol=1e-10)


def test_sliding_blocks_of_given_sizes_equal_static():
    rng = np.random.default_rng(2)
    m, d, sizes = 4, 25, [2, 15, 8]
    H = SlidingIHVP(d, m, 0.1, blocks=sizes, dtype=np.float64)
    stream = rng.standard_normal((11, d))
    for g in stream[:-1]:
        H.update(g)
    x = H.update_and_ihvp(stream[-1])
    F = blockdiag_fisher(stream[-m:], 0.1, sizes)
    assert rel(x, np.linalg.solve(F, stream[-1])) < 1e-10
    assert H.block_sizes == sizes


def test_blocks_bad_input():
    G = np.ones((2, 10))
    with pytest.raises(ValueError, match="summing to the dimension 10"):
        StaticIHVP(G, 0.1, blocks=[3, 3])
    with pytest.raises(ValueError, match="blocks"):
        StaticIHVP(G, 0.1, blocks=[])
    with pytest.raises(ValueError, match="blocks\\[i\\] must be"):
        StaticIHVP(G, 0.1, blocks=[0, 10])
    with pytest.raises(TypeError, match="blocks must"):
        SlidingIHVP(10, 2, 0.1, blocks=5)
    with pytest.raises(ValueError, match="not both"):
        SlidingIHVP(10, 2, 0.1, blocks=[5, 5], block_size=5)
    with pytest.raises(ValueError, match="damp_growth must be"):
        SlidingIHVP(10, 2, 0.1, damp_growth=1.0)


def _rank_one_grads(m=4, d=50, scale=1e3):
    # identical rows: G G^T is rank one with entries d*scale^2; with m*damp below its rounding,
    # the Cholesky factorization of m*damp*I + G G^T breaks down
    return np.full((m, d), scale)


def test_static_automatic_damping():
    G = _rank_one_grads()
    with pytest.raises(ValueError, match="Cholesky"):
        StaticIHVP(G, 1e-20, damp_growth=None)
    with pytest.warns(DampingRaisedWarning, match="damp raised"):
        H = StaticIHVP(G, 1e-20)
    assert H.damp_raises > 0
    assert H.damp == pytest.approx(1e-20 * 10.0 ** H.damp_raises, rel=1e-12)
    # the smallest power that works: one growth step less fails
    with pytest.raises(ValueError, match="Cholesky"):
        StaticIHVP(G, H.damp / 10, damp_growth=None)
    # and the result is the IHVP with the raised damp (backward error of the solve)
    F = H.damp * np.eye(50) + G.T @ G / 4
    v = np.random.default_rng(0).standard_normal(50)
    x = H.ihvp(v)
    assert np.linalg.norm(F @ x - v) <= 1e-6 * np.linalg.norm(F, 2) * np.linalg.norm(x)
    # blocks: one damp for all of them, raised as far as the worst block needs
    with pytest.warns(DampingRaisedWarning):
        Hb = StaticIHVP(G, 1e-20, blocks=[10, 40])
    assert Hb.damp >= 1e-20 and Hb.damp_raises >= 1


def test_sliding_automatic_damping_matches_static_at_raised_damp():
    rng = np.random.default_rng(3)
    d, m = 40, 4
    H = SlidingIHVP(d, m, 1e-20, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H.update(rng.standard_normal(d))  # one gradient: fine
    big = np.full(d, 1e3)
    with pytest.warns(DampingRaisedWarning):
        for _ in range(m):
            H.update(big)
    assert H.damp_raises > 0
    v = rng.standard_normal(d)
    ref = StaticIHVP(np.tile(big, (m, 1)), H.damp, damp_growth=None)
    assert rel(H.ihvp(v), ref.ihvp(v)) < 1e-6
    H2 = SlidingIHVP(d, m, 1e-20, dtype=np.float64, damp_growth=None)
    with pytest.raises(ValueError, match="Cholesky"):
        for _ in range(m):
            H2.update(big)


@pytest.mark.parametrize("kw", [{}, {"blocks": [7, 30, 3]}, {"block_size": 5}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sliding_state_roundtrip_is_exact(kw, dtype):
    rng = np.random.default_rng(4)
    d, m = 40, 6
    stream = rng.standard_normal((30, d)).astype(dtype)
    stream[9] *= 1e3  # a large gradient: exact refactorizations on arrival and departure
    A = SlidingIHVP(d, m, 1e-2, dtype=dtype, **kw)
    for g in stream[:13]:
        A.update_and_ihvp(g)
    state = A.state_dict()
    B = SlidingIHVP(d, m, 1e-2, dtype=dtype, **kw)
    B.load_state_dict(state)
    C = pickle.loads(pickle.dumps(A))
    D = copy.deepcopy(A)
    for g in stream[13:]:
        xa = A.update_and_ihvp(g)
        for other in (B, C, D):
            assert np.array_equal(other.update_and_ihvp(g), xa)
    assert B.count == A.count == 30
    with pytest.raises(ValueError, match="dim, m, dtype"):
        SlidingIHVP(d + 1, m, 1e-2, dtype=dtype).load_state_dict(state)
    with pytest.raises(ValueError, match="missing"):
        B.load_state_dict({"dim": d})
