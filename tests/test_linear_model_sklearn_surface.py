"""scikit-learn 1.9's parameter surface of adasolve.linear_model, checked against scikit-learn's
own estimators solved to high precision (independent reference)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

from adasolve.linear_model import (ElasticNet, ElasticNetCV, Lasso, LassoCV, LogisticRegression,
                                   LogisticRegressionCV, enet_path, lasso_path)


def _data(n=60, p=25, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.3))
    w = np.zeros(p)
    w[:5] = [2.0, -1.5, 1.0, 0.5, -0.7]
    y = np.asarray(X @ w).ravel() + 0.3 * rng.standard_normal(n) + 1.5
    return X, y


TIGHT = dict(tol=1e-12, max_iter=100000)
REF = dict(tol=1e-14, max_iter=1000000)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_sample_weight_positive_match_sklearn(sparse, fit_intercept):
    X, y = _data(sparse=sparse, seed=1)
    sw = np.random.default_rng(2).uniform(0.1, 3.0, size=y.size)
    for kw in (dict(alpha=0.05, l1_ratio=0.7), dict(alpha=0.02, l1_ratio=1.0, positive=True)):
        ours = ElasticNet(fit_intercept=fit_intercept, **kw, **TIGHT).fit(X, y, sample_weight=sw)
        ref = sk.ElasticNet(fit_intercept=fit_intercept, **kw, **REF).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
        if kw.get("positive"):
            assert ours.coef_.min() >= 0 and (ours.coef_ == 0).any()


def test_zero_weight_equals_dropping_rows():
    X, y = _data(seed=3)
    sw = np.ones(y.size)
    sw[:10] = 0.0
    a = Lasso(alpha=0.03, **TIGHT).fit(X, y, sample_weight=sw)
    b = Lasso(alpha=0.03, **TIGHT).fit(X[10:], y[10:])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-7)


def test_multi_output_float32_sparse_coef():
    X, y = _data(seed=4)
    Y = np.column_stack([y, -2 * y + 1])
    ours = Lasso(alpha=0.05, **TIGHT).fit(X, Y)
    ref = sk.Lasso(alpha=0.05, **REF).fit(X, Y)
    assert ours.coef_.shape == (2, X.shape[1]) and ours.intercept_.shape == (2,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)
    assert len(ours.n_iter_) == 2 and ours.dual_gap_.shape == (2,)
    assert sp.issparse(ours.sparse_coef_) and ours.sparse_coef_.shape == (2, X.shape[1])
    m32 = Lasso(alpha=0.05, tol=1e-8).fit(X.astype(np.float32), y.astype(np.float32))
    assert m32.coef_.dtype == np.float32
    np.testing.assert_allclose(m32.coef_, ref.coef_[0], atol=1e-4)


def test_warnings_and_errors_as_sklearn():
    X, y = _data(seed=5)
    with pytest.warns(UserWarning, match="alpha=0"):
        Lasso(alpha=0, max_iter=20).fit(X, y)
    for bad in (dict(alpha=np.inf), dict(alpha=np.nan), dict(l1_ratio=np.nan)):
        with pytest.raises(ValueError):
            ElasticNet(**bad).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        Lasso(alpha=1e-4, tol=1e-14, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="Gram matrix"):
        Lasso(precompute=np.eye(X.shape[1]), fit_intercept=False).fit(X, y)
    G = X.T @ X
    a = Lasso(alpha=0.05, precompute=G, fit_intercept=False, **TIGHT).fit(X, y)
    b = Lasso(alpha=0.05, fit_intercept=False, **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    with pytest.raises(ValueError, match="selection"):
        Lasso(selection="nope").fit(X, y)


def test_selection_random_same_solution_and_deterministic():
    X, y = _data(seed=6)
    a = Lasso(alpha=0.02, selection="random", random_state=0, **TIGHT).fit(X, y)
    b = Lasso(alpha=0.02, selection="random", random_state=0, **TIGHT).fit(X, y)
    c = Lasso(alpha=0.02, **TIGHT).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_allclose(a.coef_, c.coef_, atol=1e-7)


def test_warm_start_resumes_and_saves_epochs():
    X, y = _data(n=80, p=200, seed=7)
    cold = Lasso(alpha=0.01, tol=1e-8).fit(X, y)
    warm = Lasso(alpha=0.01, tol=1e-8, warm_start=True)
    warm.coef_, warm.intercept_ = cold.coef_.copy(), cold.intercept_
    warm.fit(X, y)
    assert warm.n_iter_ == 0  # already optimal: the gap test before any epoch
    # a fit cut by max_iter resumes where it stopped: 2 x 4 epochs == 8 epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two = ElasticNet(alpha=0.005, max_iter=4, tol=1e-12, warm_start=True)
        two.fit(X, y)
        two.fit(X, y)
        one = ElasticNet(alpha=0.005, max_iter=8, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(two.coef_, one.coef_, atol=1e-12)
    assert two.n_iter_ == 4 and one.n_iter_ == 8
    path = Lasso(alpha=0.05, tol=1e-8, warm_start=True).fit(X, y)
    path.set_params(alpha=0.01).fit(X, y)
    assert path.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(path.coef_, cold.coef_, atol=1e-5)


@pytest.mark.parametrize("sparse", [False, True])
def test_paths_match_sklearn(sparse):
    X, y = _data(sparse=sparse, seed=8)
    yc = y - y.mean()
    Xd = X.toarray() if sparse else X
    Xc = Xd - Xd.mean(axis=0)
    alphas, coefs, gaps = lasso_path(Xc, yc, alphas=8, tol=1e-12)
    ra, rc, _ = sk.lasso_path(Xc, yc, alphas=8, tol=1e-14, max_iter=100000)
    np.testing.assert_allclose(alphas, ra, rtol=1e-12)
    np.testing.assert_allclose(coefs, rc, atol=1e-6)
    a2, c2, _, n_it = enet_path(X, y, l1_ratio=0.5, alphas=[0.1, 0.01], return_n_iter=True,
                                tol=1e-12)
    r2 = sk.enet_path(X, y, l1_ratio=0.5, alphas=[0.1, 0.01], tol=1e-14, max_iter=100000)[1]
    np.testing.assert_allclose(c2, r2, atol=1e-6)
    assert len(n_it) == 2


def test_lasso_cv_matches_sklearn():
    X, y = _data(n=90, p=30, seed=9)
    ours = LassoCV(cv=4, alphas=12, tol=1e-10, n_jobs=2).fit(X, y)
    ref = sk.LassoCV(cv=4, alphas=12, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    en = ElasticNetCV(cv=3, l1_ratio=[0.5, 1.0], alphas=6, tol=1e-10).fit(X, y)
    enr = sk.ElasticNetCV(cv=3, l1_ratio=[0.5, 1.0], alphas=6, tol=1e-12,
                          max_iter=100000).fit(X, y)
    assert en.l1_ratio_ == enr.l1_ratio_ and en.alpha_ == enr.alpha_


def _clf_data(seed=10, n=120, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.8 * rng.standard_normal(n) > 0.3).astype(int)
    return X, y


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_logistic_penalties_weights_match_sklearn(l1_ratio):
    X, y = _clf_data()
    sw = np.random.default_rng(11).uniform(0.2, 2.0, size=y.size)
    kw = dict(C=0.3, l1_ratio=l1_ratio, solver="saga", class_weight={0: 1.0, 1: 2.5})
    ours = LogisticRegression(tol=1e-12, max_iter=1000, **kw).fit(X, y, sample_weight=sw)
    ref = sk.LogisticRegression(tol=1e-12, max_iter=200000, **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-5)


def test_logistic_errors_multiclass_and_cv():
    X, y = _clf_data()
    with pytest.raises(ValueError, match="lbfgs supports only"):
        LogisticRegression(l1_ratio=1.0).fit(X, y)  # scikit-learn's solver check
    with pytest.raises(ValueError, match="squares overflow"):
        LogisticRegression().fit(X * 1e300, y)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    ours = LogisticRegression(C=0.5).fit(X, y3)
    ref = sk.LogisticRegression(C=0.5).fit(X, y3)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    cv = LogisticRegressionCV(Cs=4, l1_ratios=(1.0,), solver="saga", cv=3, tol=1e-8,
                              scoring="neg_log_loss", use_legacy_attributes=False).fit(X, y)
    refit = LogisticRegression(C=float(np.ravel(cv.C_)[0]), l1_ratio=1.0, solver="saga",
                               tol=1e-8).fit(X, y)
    np.testing.assert_allclose(cv.coef_, refit.coef_, atol=1e-6)


def test_lasso_fit_honours_ctrl_c(tmp_path):
    # a long fit in a child process; SIGINT must end it with KeyboardInterrupt, promptly
    script = textwrap.dedent("""
        import sys, numpy as np
        from adasolve.linear_model import Lasso
        rng = np.random.default_rng(0)
        X = np.asfortranarray(rng.standard_normal((2000, 3000)))
        y = X @ rng.standard_normal(3000)
        print("ready", flush=True)
        try:
            Lasso(alpha=1e-6, tol=1e-300, max_iter=10**8).fit(X, y)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        print("finished", flush=True)
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # inside the solver by now
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3 and "interrupted" in out
    assert time.monotonic() - t0 < 10
