"""adasolve.linear_model estimators against scikit-learn."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.utils.estimator_checks import parametrize_with_checks

from adasolve.linear_model import ElasticNet, Lasso, LogisticRegression


def _reg_data(sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 15))
    if sparse:
        X = sp.csr_matrix(X * (rng.random(X.shape) < 0.3))
    w = np.zeros(15)
    w[:4] = [2.0, -1.0, 0.5, 1.5]
    y = X @ w + 0.1 * rng.standard_normal(60) + 3.0
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("alpha", [0.01, 0.1])
def test_lasso_matches_sklearn(sparse, fit_intercept, alpha):
    X, y = _reg_data(sparse)
    ours = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=200000).fit(X, y)
    ref = sklm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=1000000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)


@pytest.mark.parametrize("sparse", [False, True])
def test_elasticnet_matches_sklearn(sparse):
    X, y = _reg_data(sparse, seed=1)
    ours = ElasticNet(alpha=0.05, l1_ratio=0.3, tol=1e-12, max_iter=200000).fit(X, y)
    ref = sklm.ElasticNet(alpha=0.05, l1_ratio=0.3, tol=1e-14, max_iter=1000000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_l2_matches_sklearn(n_classes):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 5))
    y = np.argmax(X[:, :n_classes] + 0.7 * rng.standard_normal((80, n_classes)), axis=1)
    ours = LogisticRegression(C=0.5, tol=1e-11, max_iter=200000).fit(X, y)
    ref = sklm.LogisticRegression(C=0.5, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_logistic_l1_matches_sklearn_saga():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(80) > 0).astype(int)
    ours = LogisticRegression(l1_ratio=1, solver="saga", C=0.3, fit_intercept=False, tol=1e-11, max_iter=200000).fit(X, y)
    ref = sklm.LogisticRegression(l1_ratio=1.0, C=0.3, solver="liblinear", fit_intercept=False,
                                  tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_estimator_bad_params():
    X, y = _reg_data()
    with pytest.raises(ValueError, match="alpha"):
        Lasso(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="penalty"):
        LogisticRegression("l3").fit(X, y > 3)
    with pytest.raises(ValueError, match="C"):
        LogisticRegression(C=0).fit(X, y > 3)


@parametrize_with_checks([Lasso(alpha=0.1), ElasticNet(alpha=0.1), LogisticRegression()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
