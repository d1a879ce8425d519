"""adasolve.linear_model beyond L1: weighted L1, MCP, SCAD, Huber and Poisson datafits, group and
multi-task lasso, against skglm, scikit-learn and closed forms."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from adasolve.linear_model import (GroupLasso, MCPRegression, MultiTaskLasso, PenalizedRegression,
                                   SCADRegression, WeightedLasso)

try:  # skglm is the reference of the comparisons (bench extra); the other tests run without it
    import skglm
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Huber, Poisson, Quadratic
    from skglm.penalties import L1, L1_plus_L2, MCPenalty, SCAD, WeightedL1
    from skglm.solvers import AndersonCD, ProxNewton
except ImportError:
    skglm = None

needs_skglm = pytest.mark.skipif(skglm is None, reason="skglm is not installed (it is in the "
                                 "'bench' extra): comparisons with skglm skipped")


def _data(n=90, p=40, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.4))
    w = np.zeros(p)
    w[:5] = [3.0, -2.0, 1.5, 1.0, -1.0]
    y = np.asarray(X @ w).ravel() + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def _objective(X, y, coef, intercept, datafit, pen):
    """The objective as skglm's own objects compute it (skglm is the reference)."""
    Xw = np.asarray(X @ coef).ravel() + intercept
    datafit.initialize(X.toarray() if sp.issparse(X) else X, y)
    return datafit.value(y, coef, Xw) + pen.value(coef)


def _skglm(X, y, datafit, pen, fit_intercept, newton=False):
    solver = (ProxNewton(tol=1e-12, fit_intercept=fit_intercept, max_iter=200) if newton else
              AndersonCD(tol=1e-12, fit_intercept=fit_intercept, max_iter=200, max_epochs=100000))
    return GeneralizedLinearEstimator(datafit, pen, solver).fit(X, y)


@needs_skglm
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_weighted_lasso_matches_skglm(sparse, fit_intercept):
    X, y = _data(sparse=sparse)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[1])
    weights[[0, 7]] = 0.0  # unpenalised features
    ours = WeightedLasso(alpha=0.1, weights=weights, tol=1e-12, fit_intercept=fit_intercept).fit(X, y)
    ref = _skglm(X, y, Quadratic(), WeightedL1(0.1, weights), fit_intercept)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.stop_crit_ <= 1e-12
    np.testing.assert_allclose(
        ours.objective_, _objective(X, y, ref.coef_, ref.intercept_, Quadratic(), WeightedL1(0.1, weights)),
        rtol=1e-10)


def test_weighted_lasso_unit_weights_is_sklearn_lasso():
    X, y = _data(seed=2)
    ours = WeightedLasso(alpha=0.05, tol=1e-12).fit(X, y)
    ref = sklm.Lasso(alpha=0.05, tol=1e-14, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)


def _orthonormal(n=64, p=8, seed=3):
    """X with X'X / n = I, and y: the penalised problems are separable with closed forms."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = Q * np.sqrt(n)
    z = np.array([3.0, -2.2, 1.2, -0.9, 0.5, -0.3, 0.05, 0.0])  # X'y / n
    return X, X @ z, z


def test_mcp_and_scad_closed_form_on_orthonormal_design():
    X, y, z = _orthonormal()
    a, g = 0.4, 3.0
    # MCP: firm thresholding
    mcp = np.where(np.abs(z) <= a, 0.0,
                   np.where(np.abs(z) <= g * a, np.sign(z) * (np.abs(z) - a) / (1 - 1 / g), z))
    ours = MCPRegression(alpha=a, gamma=g, tol=1e-12, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, mcp, atol=1e-9)
    # SCAD (gamma = 3.7): soft up to 2 alpha, linear interpolation up to gamma alpha, then identity
    g = 3.7
    az = np.abs(z)
    scad = np.where(az <= 2 * a, np.sign(z) * np.maximum(az - a, 0.0),
                    np.where(az <= g * a, ((g - 1) * z - np.sign(z) * g * a) / (g - 2), z))
    ours = SCADRegression(alpha=a, gamma=g, tol=1e-12, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, scad, atol=1e-9)


@needs_skglm
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("kind", ["mcp", "scad"])
def test_nonconvex_match_skglm(kind, sparse, fit_intercept):
    X, y = _data(sparse=sparse, seed=4)
    if kind == "mcp":
        ours = MCPRegression(alpha=0.15, gamma=3.0, tol=1e-12, fit_intercept=fit_intercept).fit(X, y)
        pen = MCPenalty(0.15, 3.0)
    else:
        ours = SCADRegression(alpha=0.15, gamma=3.7, tol=1e-12, fit_intercept=fit_intercept).fit(X, y)
        pen = SCAD(0.15, 3.7)
    ref = _skglm(X, y, Quadratic(), pen, fit_intercept)
    f_ours = _objective(X, y, ours.coef_, ours.intercept_, Quadratic(), pen)
    f_ref = _objective(X, y, ref.coef_, ref.intercept_, Quadratic(), pen)
    # non-convex: the objective must match (here both reach the same critical point)
    assert f_ours <= f_ref + 1e-10
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@needs_skglm
def test_mcp_weights_match_skglm():
    X, y = _data(seed=5)
    weights = np.random.default_rng(5).uniform(0.5, 1.5, X.shape[1])
    ours = MCPRegression(alpha=0.2, gamma=2.5, weights=weights, tol=1e-12).fit(X, y)
    ref = skglm.MCPRegression(alpha=0.2, gamma=2.5, weights=weights, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


@needs_skglm
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_huber_matches_skglm(sparse, l1_ratio):
    X, y = _data(sparse=sparse, seed=6)
    y = y.copy()
    y[:6] += np.array([25.0, -30.0, 40.0, 20.0, -25.0, 35.0])  # outliers
    ours = PenalizedRegression(datafit="huber", delta=1.2, alpha=0.05, l1_ratio=l1_ratio,
                               tol=1e-12).fit(X, y)
    pen = L1(0.05) if l1_ratio == 1 else L1_plus_L2(0.05, l1_ratio)
    ref = _skglm(X, y, Huber(1.2), pen, True)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_huber_with_large_delta_is_the_lasso():
    X, y = _data(seed=7)
    ours = PenalizedRegression(datafit="huber", delta=1e6, alpha=0.05, tol=1e-12).fit(X, y)
    ref = sklm.Lasso(alpha=0.05, tol=1e-14, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)


def _poisson_data(sparse=False, seed=8):
    X, _ = _data(n=120, p=30, seed=seed, sparse=sparse)
    X = X / 8
    w = np.zeros(X.shape[1])
    w[:4] = [2.0, -1.5, 1.0, 0.8]
    y = np.random.default_rng(seed).poisson(np.exp(np.asarray(X @ w).ravel() + 0.5)).astype(float)
    return X, y


@needs_skglm
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_poisson_l1_matches_skglm(sparse, fit_intercept):
    X, y = _poisson_data(sparse)
    ours = PenalizedRegression(datafit="poisson", alpha=0.02, tol=1e-10,
                               fit_intercept=fit_intercept).fit(X, y)
    ref = _skglm(X, y, Poisson(), L1(0.02), fit_intercept, newton=True)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), np.exp(np.asarray(X @ ours.coef_).ravel()
                                                       + ours.intercept_))


def test_poisson_ridge_is_sklearn_poisson_regressor():
    # l1_ratio=0: 1/n sum(exp(z) - y z) + alpha/2 ||w||^2, scikit-learn's PoissonRegressor
    X, y = _poisson_data(seed=9)
    ours = PenalizedRegression(datafit="poisson", alpha=0.01, l1_ratio=0.0, tol=1e-11).fit(X, y)
    ref = sklm.PoissonRegressor(alpha=0.01, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


@needs_skglm
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_group_lasso_matches_skglm(sparse, fit_intercept):
    X, y = _data(sparse=sparse, seed=10)
    ours = GroupLasso(groups=4, alpha=0.1, tol=1e-14, fit_intercept=fit_intercept).fit(X, y)
    ref = skglm.GroupLasso(groups=4, alpha=0.1, tol=1e-12, fit_intercept=fit_intercept,
                           max_iter=1000).fit(X.toarray() if sparse else X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.dual_gap_ <= 1e-12


@needs_skglm
def test_group_lasso_lists_and_weights_match_skglm():
    X, y = _data(seed=11)
    rng = np.random.default_rng(11)
    perm = rng.permutation(X.shape[1])
    groups = [list(map(int, perm[i:i + 5])) for i in range(0, X.shape[1], 5)]
    weights = rng.uniform(0.5, 2.0, len(groups))
    ours = GroupLasso(groups=groups, alpha=0.08, weights=weights, tol=1e-14).fit(X, y)
    ref = skglm.GroupLasso(groups=groups, alpha=0.08, weights=weights, tol=1e-12,
                           max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    # contiguous groups of given sizes
    sizes = [3, 7, 10, 20]
    ours = GroupLasso(groups=sizes, alpha=0.08, tol=1e-14).fit(X, y)
    ref = skglm.GroupLasso(groups=sizes, alpha=0.08, tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def _mt_data(sparse=False, seed=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((70, 30))
    if sparse:
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.4))
    W = np.zeros((30, 4))
    W[:5] = rng.standard_normal((5, 4))
    return X, np.asarray(X @ W) + 0.1 * rng.standard_normal((70, 4)) + 2.0


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_multitask_lasso_matches_sklearn(sparse, fit_intercept):
    X, Y = _mt_data(sparse)
    ours = MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000, fit_intercept=fit_intercept).fit(X, Y)
    ref = sklm.MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000,
                              fit_intercept=fit_intercept).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.coef_.shape == ref.coef_.shape and np.shape(ours.intercept_) == np.shape(ref.intercept_)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)


def test_multitask_lasso_float32_warm_start_and_weights():
    X, Y = _mt_data(seed=13)
    m = MultiTaskLasso(alpha=0.05, tol=1e-10, max_iter=100000).fit(X.astype(np.float32), Y.astype(np.float32))
    assert m.coef_.dtype == np.float32
    cold = MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, Y)
    warm = MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000, warm_start=True).fit(X, Y)
    warm.set_params(alpha=0.05).fit(X, Y)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-7)
    sw = np.random.default_rng(13).uniform(0.5, 2.0, X.shape[0])
    ref = sklm.MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, Y, sample_weight=sw)
    ours = MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_inputs_not_modified_and_convergence_reported():
    X, y = _data(seed=14)
    X0, y0 = X.copy(), y.copy()
    weights = np.ones(X.shape[1])
    WeightedLasso(alpha=0.01, weights=weights).fit(X, y)
    MCPRegression(alpha=0.01).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(weights, np.ones(X.shape[1]))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        SCADRegression(alpha=0.01, max_epochs=1, tol=1e-14).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        GroupLasso(groups=2, alpha=0.01, max_epochs=1, tol=1e-14).fit(X, y)


def test_bad_input_errors():
    X, y = _data(seed=15)
    with pytest.raises(ValueError, match="number of weights"):
        WeightedLasso(weights=np.ones(3)).fit(X, y)
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        WeightedLasso(weights=-np.ones(X.shape[1])).fit(X, y)
    with pytest.raises(ValueError, match="gamma must be > 1"):
        SCADRegression(gamma=1.0).fit(X, y)
    with pytest.raises(ValueError, match="gamma"):
        MCPRegression(gamma=0).fit(X, y)
    with pytest.raises(ValueError, match="penalty='l1' only"):
        PenalizedRegression(datafit="poisson", penalty="mcp").fit(X, np.abs(y))
    with pytest.raises(ValueError, match=">= 0"):
        PenalizedRegression(datafit="poisson").fit(X, y - 100)
    with pytest.raises(ValueError, match="datafit"):
        PenalizedRegression(datafit="logcosh").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        MCPRegression(alpha=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="divisor"):
        GroupLasso(groups=7).fit(X, y)
    with pytest.raises(ValueError, match="overlap"):
        GroupLasso(groups=[[0, 1], [1, 2]]).fit(X, y)
    with pytest.raises(ValueError, match="sum to n_features"):
        GroupLasso(groups=[3, 3]).fit(X, y)
    with pytest.raises(ValueError, match="mono-task"):
        MultiTaskLasso().fit(X, y)
    with pytest.raises(ValueError):
        MCPRegression().fit(X, np.full_like(y, np.nan))


@parametrize_with_checks([WeightedLasso(alpha=0.1), MCPRegression(alpha=0.1), SCADRegression(alpha=0.1),
                          PenalizedRegression(datafit="huber", alpha=0.1),
                          GroupLasso(groups=1, alpha=0.1), MultiTaskLasso(alpha=0.1)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
