"""The C++ working-set path of adasolve.linear_model (adasolve._core.bcd.glm) against
scikit-learn and a pure-NumPy duality gap."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.exceptions import ConvergenceWarning

from adasolve import _core
from adasolve.linear_model import ElasticNet, Lasso, LogisticRegression


def _data(n=80, p=120, seed=0, sparse=False, density=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = sp.csr_matrix(X * (rng.random(X.shape) < density))
    w = np.zeros(p)
    w[:6] = [2.0, -1.5, 1.0, 0.5, -0.7, 1.2]
    z = np.asarray(X @ w).ravel()
    y = z + 0.1 * rng.standard_normal(n) + 1.5
    yc = (z + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X, y, yc


def _enet_gap(X, y, w, b, alpha, l1_ratio):
    """Duality gap of scikit-learn's elastic-net objective, NumPy only (independent of C++)."""
    n = X.shape[0]
    Xd = X.toarray() if sp.issparse(X) else X
    r = y - Xd @ w - b
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    primal = r @ r / (2 * n) + l1 * np.abs(w).sum() + l2 / 2 * w @ w
    theta = r / n
    xt = Xd.T @ theta
    if l2 > 0:
        dual = theta @ y - n / 2 * theta @ theta - np.sum(np.maximum(np.abs(xt) - l1, 0) ** 2) / (2 * l2)
    else:
        c = 1.0 / max(1.0, np.abs(xt).max() / l1)
        dual = c * theta @ y - n / 2 * c**2 * theta @ theta
    return primal - dual


def _logistic_gap(X, y01, w, b, C):
    """Duality gap of C sum logloss + ||w||_1 (intercept b minimised beforehand), NumPy only."""
    Xd = X.toarray() if sp.issparse(X) else X
    y = np.where(y01 == 1, 1.0, -1.0)
    t = y * (Xd @ w + b)
    primal = C * np.logaddexp(0, -t).sum() + np.abs(w).sum()
    theta = C * y / (1 + np.exp(t))
    c = 1.0 / max(1.0, np.abs(Xd.T @ theta).max())
    a = np.clip(c * theta * y / C, 0, 1)
    ent = np.where(a > 0, a * np.log(np.where(a > 0, a, 1)), 0) + np.where(a < 1, (1 - a) * np.log(np.where(a < 1, 1 - a, 1)), 0)
    return primal + C * ent.sum()


@pytest.mark.parametrize("fmt", ["dense_c", "dense_f", "csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("rule", ["gs", "gsl", "cyclic"])
def test_lasso_fast_matches_sklearn_and_gap(fmt, fit_intercept, rule):
    X, y, _ = _data(sparse=fmt in ("csr", "csc"))
    if fmt == "csc":
        X = X.tocsc()
    elif fmt == "dense_f":
        X = np.asfortranarray(X)
    alpha = 0.1
    ours = Lasso(alpha=alpha, fit_intercept=fit_intercept, rule=rule, tol=1e-12).fit(X, y)
    ref = sklm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    gap = _enet_gap(X, y, ours.coef_, ours.intercept_, alpha, 1.0)
    yc = y - y.mean() if fit_intercept else y
    assert gap <= 1e-12 * (yc @ yc) / len(y) + 1e-13
    assert ours.dual_gap_ == pytest.approx(gap, abs=1e-11)


@pytest.mark.parametrize("sparse", [False, True])
def test_elasticnet_fast_matches_sklearn_and_gap(sparse):
    X, y, _ = _data(seed=1, sparse=sparse)
    ours = ElasticNet(alpha=0.05, l1_ratio=0.4, tol=1e-12).fit(X, y)
    ref = sklm.ElasticNet(alpha=0.05, l1_ratio=0.4, tol=1e-14, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    gap = _enet_gap(X, y, ours.coef_, ours.intercept_, 0.05, 0.4)
    assert 0 <= gap <= 1e-10
    assert ours.dual_gap_ == pytest.approx(gap, abs=1e-11)


def test_lasso_gap_decreases_to_tol_and_warm_start_path():
    X, y, _ = _data(n=60, p=300, seed=2)
    alpha_max = np.abs(X.T @ (y - y.mean())).max() / len(y)
    est = Lasso(warm_start=True, tol=1e-10)
    cold_iters, warm_iters = 0, 0
    for a in alpha_max * np.geomspace(1, 1e-2, 6):
        est.set_params(alpha=a).fit(X, y)
        warm_iters += est.n_iter_
        cold = Lasso(alpha=a, tol=1e-10).fit(X, y)
        cold_iters += cold.n_iter_
        np.testing.assert_allclose(est.coef_, cold.coef_, atol=1e-6)
        assert _enet_gap(X, y, est.coef_, est.intercept_, a, 1.0) <= 1e-10 * np.var(y) + 1e-14
    assert warm_iters < cold_iters


def test_lasso_above_alpha_max_is_zero():
    X, y, _ = _data(seed=3)
    alpha_max = np.abs(X.T @ (y - y.mean())).max() / len(y)
    est = Lasso(alpha=1.01 * alpha_max).fit(X, y)
    assert np.all(est.coef_ == 0)
    assert est.intercept_ == pytest.approx(y.mean())


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rule", ["gs", "gsl", "cyclic"])
def test_logistic_l1_fast_matches_liblinear_and_gap(sparse, rule):
    X, _, y = _data(seed=4, sparse=sparse)
    C = 0.5
    ours = LogisticRegression(l1_ratio=1, solver="saga", C=C, fit_intercept=False, rule=rule, tol=1e-12).fit(X, y)
    ref = sklm.LogisticRegression(l1_ratio=1.0, C=C, solver="liblinear", fit_intercept=False,
                                  tol=1e-12, max_iter=10**5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    gap = _logistic_gap(X, y, ours.coef_[0], 0.0, C)
    assert 0 <= gap <= 1e-12 * C * len(y) * np.log(2) + 1e-12
    assert ours.dual_gap_ == pytest.approx(gap, abs=1e-10)


def test_logistic_l1_fast_intercept_matches_saga():
    X, _, y = _data(n=60, p=8, seed=5)
    ours = LogisticRegression(l1_ratio=1, solver="saga", C=0.3, tol=1e-12).fit(X, y)
    ref = sklm.LogisticRegression(l1_ratio=1.0, C=0.3, solver="saga", tol=1e-13, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    assert _logistic_gap(X, y, ours.coef_[0], ours.intercept_[0], 0.3) <= 1e-9


def test_int64_csc_indices_give_the_same_solution():
    X, y, _ = _data(seed=6, sparse=True)
    X64 = X.tocsc()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    a = Lasso(alpha=0.03, tol=1e-12).fit(X, y).coef_
    b = Lasso(alpha=0.03, tol=1e-12).fit(X64, y).coef_
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_iteration_limit_warns_and_reports_gap():
    X, y, _ = _data(seed=7)
    with pytest.warns(ConvergenceWarning, match="Duality gap"):
        est = Lasso(alpha=1e-3, tol=1e-14, max_iter=2).fit(X, y)
    assert est.dual_gap_ > 0


def test_inputs_not_modified():
    X, y, _ = _data(seed=8)
    X0, y0 = X.copy(), y.copy()
    Lasso(alpha=0.05).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_bad_input():
    X, y, yc = _data(seed=9)
    with pytest.raises(ValueError, match="block_size"):
        Lasso(block_size=0).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        ElasticNet(alpha=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNet(l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match="Found input variables with inconsistent"):
        Lasso().fit(X, y[:-1])
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Lasso().fit(Xn, y)
    glm = _core.bcd.glm
    w = np.zeros(X.shape[1])
    Xf = np.asfortranarray(X)
    with pytest.raises(ValueError, match="rule must be one of"):
        glm.solve_dense(Xf, y, w, 0.0, rule="nope")
    with pytest.raises(ValueError, match="Fortran"):
        glm.solve_dense(np.ascontiguousarray(X), y, w, 0.0)
    with pytest.raises(ValueError, match="labels must be -1 or"):
        glm.solve_dense(Xf, y, w, 0.0, loss="logistic", l1=1.0)
    with pytest.raises(ValueError, match="unknown option"):
        glm.solve_dense(Xf, y, w, 0.0, bogus=1)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_gap_safe_screening_keeps_the_solution(sparse, fit_intercept):
    # many features screened along the way; the solution must be the unscreened one
    rng = np.random.default_rng(12)
    X = rng.standard_normal((80, 400))
    if sparse:
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.2))
    y = np.asarray(X[:, :4] @ np.array([2.0, -1.0, 1.5, 0.7])).ravel() + 0.1 * rng.standard_normal(80)
    h = rng.uniform(0.5, 2.0, 80)
    n = X.shape[0]
    Xf = X if sparse else np.asfortranarray(X)
    out = []
    for screening in (True, False):
        for sw in (None, h):
            w = np.zeros(X.shape[1])
            kw = dict(loss="quadratic", data_scale=1.0 / n, l1=0.05, fit_intercept=fit_intercept,
                      tol=1e-13, screening=screening, sample_weight=sw)
            if sparse:
                res = _core.bcd.glm.solve_csc(*X.shape, X.indptr, X.indices, X.data, y, w, 0.0, **kw)
            else:
                res = _core.bcd.glm.solve_dense(Xf, y, w, 0.0, **kw)
            assert res["info"] == 0
            out.append((w, res["intercept"]))
    for k in (0, 1):
        np.testing.assert_allclose(out[k][0], out[k + 2][0], atol=1e-9)
        np.testing.assert_allclose(out[k][1], out[k + 2][1], atol=1e-9)
        assert 0 < np.count_nonzero(out[k][0]) < 40
