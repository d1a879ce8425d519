"""Greedy BCD benchmark: Lasso / L1-logistic vs scikit-learn, skglm, celer; the paper's figures.

Run: ``flock /tmp/adasolve-bench.lock python -m bench bcd [--quick] [--no-figures]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bench._common import environment, write_results

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _dense_correlated(n, p, rho=0.6, seed=0):
    rng = np.random.default_rng(seed)
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):  # AR(1) correlated columns
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    w = np.zeros(p)
    w[rng.choice(p, max(1, p // 100), replace=False)] = rng.standard_normal(max(1, p // 100))
    return X, X @ w + 0.5 * rng.standard_normal(n)


def _sparse_rcv1_like(n, p, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed, data_rvs=lambda k: rng.random(k))
    w = np.zeros(p)
    w[rng.choice(p, max(1, p // 200), replace=False)] = rng.standard_normal(max(1, p // 200))
    return X, np.asarray(X @ w).ravel() + 0.01 * rng.standard_normal(n)


def lasso_gap(X, y, w, alpha):
    """Relative duality gap of sklearn's Lasso objective (rescaled dual point)."""
    n = X.shape[0]
    r = y - X @ w
    primal = 0.5 / n * r @ r + alpha * np.abs(w).sum()
    scale = max(1.0, np.abs(X.T @ r).max() / (n * alpha))
    theta = r / scale
    dual = 0.5 / n * (y @ y - (y - theta) @ (y - theta))
    return (primal - dual) / (0.5 / n * y @ y)


def _time(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_lasso(quick):
    from sklearn.linear_model import Lasso as SkLasso

    from adasolve.linear_model import Lasso

    peers = {}
    try:
        from skglm import Lasso as SkglmLasso
        peers["skglm"] = lambda a: SkglmLasso(alpha=a, fit_intercept=False, tol=1e-8)
    except Exception as exc:  # pragma: no cover
        print("skglm unavailable:", exc)
    try:
        from celer import Lasso as CelerLasso
        peers["celer"] = lambda a: CelerLasso(alpha=a, fit_intercept=False, tol=1e-8)
    except Exception as exc:  # pragma: no cover
        print("celer unavailable:", exc)
    peers["sklearn"] = lambda a: SkLasso(alpha=a, fit_intercept=False, tol=1e-8, max_iter=100000)
    peers["adasolve"] = lambda a: Lasso(alpha=a, fit_intercept=False, tol=1e-9, max_iter=10**6)
    if quick:
        cases = {"dense corr": _dense_correlated(200, 500), "sparse rcv1-like": _sparse_rcv1_like(1000, 2000, 5e-3)}
    else:
        cases = {"dense corr": _dense_correlated(1000, 10000),
                 "sparse rcv1-like": _sparse_rcv1_like(20000, 50000, 1e-3)}
    rows = []
    for name, (X, y) in cases.items():
        amax = np.abs(X.T @ y).max() / X.shape[0]
        for frac in (0.1, 0.01):
            alpha = frac * amax
            times = {}
            row = {"data": name, "n": X.shape[0], "p": X.shape[1], "alpha/alpha_max": frac}
            for pname, make in peers.items():
                t, est = _time(lambda: make(alpha).fit(X, y))
                times[pname] = t
                row[f"{pname} s"] = t
                row[f"{pname} gap"] = lasso_gap(X, y, est.coef_, alpha)
            for pname in times:
                if pname != "adasolve":
                    row[f"ours/{pname}"] = times["adasolve"] / times[pname]
            rows.append(row)
            print(row)
    return rows


def figures(quick):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from adasolve import bcd_minimize
    from adasolve.bcd import datasets

    DOCS.mkdir(exist_ok=True)
    n, p = (100, 300) if quick else (1000, 2000)
    prob = datasets.make_A(n, p, seed=0)
    fstar = bcd_minimize(prob, rule="gsq", blocks="variable", update="lipschitz", block_size=100,
                         tol=1e-9, maxiter=50000).fun
    iters = 100 if quick else 500
    rows = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, k in zip(axes, (5, 50, 100)):
        for rule in ("random", "cyclic", "lipschitz", "gs", "gsl", "gsd"):
            for blocks in ("sorted", "variable"):
                r = bcd_minimize(prob, rule=rule, blocks=blocks, update="gradient", block_size=k,
                                 maxiter=iters, tol=0, seed=0)
                gap = np.maximum(r.history["fun"] - fstar, 1e-16)
                ax.semilogy(gap, ls="-" if blocks == "variable" else "--", label=f"{rule}-{'VB' if blocks == 'variable' else 'FB'}")
                rows.append({"figure": "rules (A, gradient)", "k": k, "rule": rule, "blocks": blocks,
                             "f-f* final": gap[-1], "time s": r.history["time"][-1]})
        ax.set_title(f"A ({n}x{p}), gradient update, k={k}")
        ax.set_xlabel(f"iterations with {k}-sized blocks")
    axes[0].set_ylabel("f - f*")
    axes[-1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(DOCS / "bcd_rules.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for rule in ("gs", "gsl", "gsd", "gsq"):
        for blocks in ("sorted", "variable"):
            for upd in ("gradient", "lipschitz"):
                r = bcd_minimize(prob, rule=rule, blocks=blocks, update=upd, block_size=5, maxiter=iters, tol=0)
                gap = np.maximum(r.history["fun"] - fstar, 1e-16)
                lab = f"{rule}-{'VB' if blocks == 'variable' else 'FB'}-{upd}"
                ax[0].semilogy(gap, label=lab)
                ax[1].semilogy(r.history["time"], gap, label=lab)
                rows.append({"figure": "updates (A, k=5)", "k": 5, "rule": rule, "blocks": blocks,
                             "update": upd, "f-f* final": gap[-1], "time s": r.history["time"][-1]})
    ax[0].set_xlabel("iterations")
    ax[1].set_xlabel("time (s)")
    ax[0].set_ylabel("f - f*")
    ax[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(DOCS / "bcd_updates.png", dpi=90)
    plt.close(fig)

    lp = datasets.make_D(20 if quick else 50, 16 if quick else 100, seed=0)
    xs = np.linalg.solve(lp.A.toarray(), lp.b) if lp.n_vars < 3000 else None
    fs = 0.5 * xs @ (lp.A @ xs) - lp.b @ xs
    fig, ax = plt.subplots(figsize=(6, 4))
    cfgs = [("gsl", "tree", "message-passing", lp.n_vars), ("random", "tree", "message-passing", lp.n_vars),
            ("gsl", "variable", "lipschitz", 5), ("gsl", "sorted", "lipschitz", 5), ("gsl", "variable", "gradient", 5)]
    for rule, blocks, upd, k in cfgs:
        r = bcd_minimize(lp, rule=rule, blocks=blocks, update=upd, block_size=k, maxiter=100 if quick else 200, tol=0, seed=0)
        gap = np.maximum(r.history["fun"] - fs, 1e-16)
        ax.semilogy(gap, label=f"{rule}-{blocks}-{upd}")
        rows.append({"figure": "label propagation D", "k": k, "rule": rule, "blocks": blocks, "update": upd,
                     "f-f* final": gap[-1], "time s": r.history["time"][-1]})
    ax.set_xlabel("iterations")
    ax.set_ylabel("f - f*")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(DOCS / "bcd_trees.png", dpi=90)
    plt.close(fig)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench bcd")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-figures", action="store_true")
    args = ap.parse_args(argv)
    sections = {"Lasso (fit_intercept=False), time to duality gap": bench_lasso(args.quick)}
    if not args.no_figures:
        sections["Paper figures (f - f* after the last iteration)"] = figures(args.quick)
    path = write_results("bcd", sections, environment(threads=1),
                         notes="quick sizes" if args.quick else "full sizes")
    print("wrote", path)
    return 0
