"""Lasso and L1 logistic regression: time to a duality gap, adasolve vs scikit-learn, skglm, celer.

``python -m bench.bcd_lasso [--quick] [--cap SECONDS] [--only dense|sparse] [--task lasso|logistic]``
``python -m bench.bcd_lasso --beyond [--quick]``: MCP and group lasso against skglm (below).

Problems (seeded): a dense correlated design (AR(1) correlation 0.6 between neighbouring
columns) and a sparse rcv1-shaped design (positive entries, rows of unit norm); targets from a
sparse linear model plus noise (Lasso) or its sign (logistic). No intercept anywhere (liblinear
penalises it and celer's logistic regression has none), float64, one thread for every solver.

Measure: time until the *relative* duality gap, gap / objective(w = 0), is <= 1e-6, evaluated for
every solver by the same NumPy gap function below (Lasso: scikit-learn's objective
1/(2n)||y - Xw||^2 + alpha ||w||_1; logistic: C sum log(1 + exp(-y x'w)) + ||w||_1 with the dual
point rescaled into the dual box). Each solver's own ``tol`` is tried on a ladder (its natural
value first, then 10x tighter each step) and the loosest that reaches the gap counts; only that
run's time is reported. Regularisation path: 10 values from lambda_max to lambda_max / 100,
warm-started for every solver that supports it (liblinear does not).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from bench._common import environment, write_results  # noqa: E402

TARGET = 1e-6
FAMILY = "bcd_lasso"


# ---- problems --------------------------------------------------------------------------------

def dense_problem(n: int, p: int, seed: int = 0, rho: float = 0.6):
    rng = np.random.default_rng(seed)
    X = np.empty((n, p), order="F")
    X[:, 0] = rng.standard_normal(n)
    c = np.sqrt(1 - rho**2)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + c * rng.standard_normal(n)
    return X, _targets(X, max(10, p // 100), rng)


def sparse_problem(n: int, p: int, density: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: np.abs(rng.standard_normal(k)) + 0.1)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    X = sp.csc_matrix(sp.diags(1.0 / norms) @ X)
    return X, _targets(X, max(10, p // 100), rng)


def _targets(X, k, rng):
    p = X.shape[1]
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    z = np.asarray(X @ w).ravel()
    noise = rng.standard_normal(z.size)
    y = z + 0.3 * z.std() * noise
    ylab = np.where(z + 0.3 * z.std() * noise > 0, 1.0, -1.0)
    return y, ylab


# ---- the one gap function per problem ---------------------------------------------------------

def lasso_rel_gap(X, y, w, alpha):
    n = X.shape[0]
    r = y - np.asarray(X @ w).ravel()
    xt = np.asarray(X.T @ r).ravel() / n
    c = min(1.0, alpha / max(np.abs(xt).max(), 1e-300))
    th = c * r / n
    primal = r @ r / (2 * n) + alpha * np.abs(w).sum()
    dual = th @ y - n / 2 * th @ th
    return (primal - dual) / (y @ y / (2 * n))


def logistic_rel_gap(X, y, w, C):
    n = X.shape[0]
    t = y * np.asarray(X @ w).ravel()
    primal = C * np.logaddexp(0, -t).sum() + np.abs(w).sum()
    theta = C * y * np.exp(-np.logaddexp(0, t))  # C y sigmoid(-t)
    xt = np.asarray(X.T @ theta).ravel()
    c = 1.0 / max(1.0, np.abs(xt).max())
    a = np.clip(c * theta * y / C, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where(a > 0, a * np.log(a), 0.0) + np.where(a < 1, (1 - a) * np.log1p(-a), 0.0)
    dual = -C * ent.sum()
    return (primal - dual) / (C * n * np.log(2))


# ---- solvers: (make(reg, tol, warm) -> estimator, coef(est), tol ladder start, warm ok) --------

def lasso_solvers(amax):
    from sklearn import linear_model as sklm
    from adasolve.linear_model import Lasso
    out = {"adasolve": (lambda a, tol, ws: Lasso(alpha=a, fit_intercept=False, tol=tol, warm_start=ws,
                                                 max_iter=100000), 0.5 * TARGET),
           "sklearn": (lambda a, tol, ws: sklm.Lasso(alpha=a, fit_intercept=False, tol=tol, warm_start=ws,
                                                     max_iter=20000), 0.5 * TARGET)}
    try:
        import celer
        out["celer"] = (lambda a, tol, ws: celer.Lasso(alpha=a, fit_intercept=False, tol=tol,
                                                       warm_start=ws), 0.5 * TARGET)
    except ImportError:
        print("celer not installed: skipped (pip install celer)")
    try:
        import skglm
        # skglm stops on the optimality violation (gradient units): scale with lambda_max
        out["skglm"] = (lambda a, tol, ws: skglm.Lasso(alpha=a, fit_intercept=False, tol=tol,
                                                       warm_start=ws), TARGET * amax)
    except ImportError:
        print("skglm not installed: skipped (pip install skglm)")
    return out


SAGA_EPOCHS = 100  # saga needs thousands of epochs for this gap: one bounded try only
ONE_TRY = {"saga"}


def logistic_solvers(lmax, n):
    from sklearn import linear_model as sklm
    from adasolve.linear_model import LogisticRegression
    # scikit-learn 1.9 spells L1 as l1_ratio=1 with an L1-capable solver name (ours ignores it)
    out = {"adasolve": (lambda C, tol, ws: LogisticRegression(l1_ratio=1.0, solver="saga", C=C,
                                                              fit_intercept=False, tol=tol,
                                                              max_iter=10000, warm_start=ws), TARGET),
           "liblinear": (lambda C, tol, ws: sklm.LogisticRegression(
               l1_ratio=1.0, C=C, solver="liblinear", fit_intercept=False, tol=tol, max_iter=10000), 1e-6),
           "saga": (lambda C, tol, ws: sklm.LogisticRegression(
               l1_ratio=1.0, C=C, solver="saga", fit_intercept=False, tol=tol, max_iter=SAGA_EPOCHS,
               warm_start=ws), 1e-8)}
    try:
        import celer
        out["celer"] = (lambda C, tol, ws: celer.LogisticRegression(C=C, tol=tol, warm_start=ws), TARGET)
    except ImportError:
        print("celer not installed: skipped (pip install celer)")
    try:
        import skglm
        # skglm's objective is 1/n sum logloss + alpha ||w||_1, so alpha = 1 / (C n)
        out["skglm"] = (lambda C, tol, ws: _SkglmLogit(skglm.SparseLogisticRegression(
            alpha=1.0 / (C * n), fit_intercept=False, tol=tol, warm_start=ws, max_iter=200)), TARGET / n)
    except ImportError:
        print("skglm not installed: skipped (pip install skglm)")
    return out


class _SkglmLogit:
    """skglm's SparseLogisticRegression with C (set_params(alpha=C) maps to its alpha)."""

    def __init__(self, est):
        self.est = est

    def set_params(self, C):
        self.est.set_params(alpha=1.0 / (C * self._n))
        return self

    def fit(self, X, y):
        self._n = X.shape[0]
        self.est.fit(X, y)
        self.coef_ = self.est.coef_
        return self


def _set_reg(est, task, reg):
    if task == "lasso":
        est.set_params(alpha=reg)
    else:
        est.set_params(C=reg)


# ---- timing -----------------------------------------------------------------------------------

def run_case(task, X, y, regs, solvers, cap, path):
    """Per solver: the loosest tol of its ladder that reaches TARGET at every reg; its time."""
    gapf = lasso_rel_gap if task == "lasso" else logistic_rel_gap
    rows = []
    for name, (make, tol0) in solvers.items():
        tol, best = tol0, None
        for _ in range(5):
            warm = path and name != "liblinear"
            est = make(regs[0], tol, warm)
            gaps = []
            t0 = time.perf_counter()
            elapsed = 0.0
            for reg in regs:
                if isinstance(est, _SkglmLogit):
                    est._n = X.shape[0]
                _set_reg(est, task, reg)
                t1 = time.perf_counter()
                est.fit(X, y)
                elapsed += time.perf_counter() - t1
                gaps.append(gapf(X, y, np.ravel(est.coef_), reg))
            wall = time.perf_counter() - t0
            gap = float(max(gaps))
            best = {"solver": name, "tol": tol, "time_s": elapsed, "rel_gap": gap,
                    "reached": gap <= TARGET}
            if name == "saga":
                best["max_epochs"] = SAGA_EPOCHS
            print(f"  {name:9s} tol={tol:.1e} time={elapsed:8.3f}s gap={gap:.2e}", flush=True)
            if gap <= TARGET or wall > cap or name in ONE_TRY:
                break
            tol /= 10
        rows.append(best)
    return rows


# ---- paths and cross-validation (the functions and CV classes themselves) ----------------------

def run_paths_cv(X, y, folds=5, n_alphas=10):
    """lasso_path over 10 alphas (lambda_max .. lambda_max / 100) to the relative gap, and 5-fold
    LassoCV on the same grid with each library's default tol (1e-4, same meaning for adasolve and
    scikit-learn), timed in one process. Returns rows (setting, solver, time, gap / alpha)."""
    from sklearn import linear_model as sklm
    import adasolve.linear_model as alm
    n = X.shape[0]
    amax = float(np.abs(np.asarray(X.T @ y)).max() / n)
    alphas = amax * np.geomspace(1, 1e-2, n_alphas)
    rows = []
    paths = {"adasolve": lambda tol: alm.lasso_path(X, y, alphas=alphas, tol=tol, max_iter=100000),
             "sklearn": lambda tol: sklm.lasso_path(X, y, alphas=alphas, tol=tol, max_iter=100000)}
    try:
        import celer
        paths["celer"] = lambda tol: celer.celer_path(X, y, "lasso", alphas=alphas, tol=tol)[:2]
    except ImportError:
        pass
    for name, fn in paths.items():
        tol = 0.5 * TARGET
        for _ in range(4):  # the loosest tol of a 10x ladder that reaches the gap at every alpha
            t0 = time.perf_counter()
            out = fn(tol)
            el = time.perf_counter() - t0
            coefs = out[1]
            gap = max(lasso_rel_gap(X, y, np.ravel(coefs[:, k]), a) for k, a in enumerate(alphas))
            print(f"  path {name:9s} tol={tol:.1e} time={el:8.3f}s gap={gap:.2e}", flush=True)
            if gap <= TARGET:
                break
            tol /= 10
        rows.append({"setting": f"lasso_path ({n_alphas} alphas)", "solver": name, "tol": tol,
                     "time_s": el, "rel_gap": gap, "reached": gap <= TARGET})
    from sklearn.model_selection import KFold
    cv = KFold(folds, shuffle=True, random_state=0)
    cvs = {"adasolve": lambda: alm.LassoCV(alphas=alphas, cv=cv, fit_intercept=False),
           "sklearn": lambda: sklm.LassoCV(alphas=alphas, cv=cv, fit_intercept=False)}
    try:
        import celer
        cvs["celer"] = lambda: celer.LassoCV(alphas=alphas, cv=cv, fit_intercept=False)
    except ImportError:
        pass
    for name, make in cvs.items():
        t0 = time.perf_counter()
        try:
            est = make()
            est.fit(X, y)
        except Exception as exc:  # a peer's drop-in that does not follow scikit-learn 1.9
            print(f"  cv {name}: {type(exc).__name__}: {exc}")
            continue
        el = time.perf_counter() - t0
        print(f"  cv {name:9s} time={el:8.3f}s alpha_={est.alpha_:.4g}", flush=True)
        rows.append({"setting": f"LassoCV ({folds}-fold, {n_alphas} alphas, tol=1e-4)",
                     "solver": name, "tol": 1e-4, "time_s": el, "alpha_": float(est.alpha_),
                     "rel_gap": lasso_rel_gap(X, y, np.ravel(est.coef_), est.alpha_),
                     "reached": True})
    return rows


def _paths_summary(pname, size, rows):
    out = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        by = {r["solver"]: r for r in rows if r["setting"] == setting}
        if "adasolve" not in by:
            continue
        ours = by["adasolve"]
        row = {"problem": pname, "size": size, "task": "lasso", "setting": setting,
               "adasolve_s": ours["time_s"], "adasolve_gap": ours["rel_gap"]}
        for nm in ("sklearn", "celer"):
            if nm in by:
                row[f"{nm}_s"] = by[nm]["time_s"]
                row[f"ours/{nm}"] = round(ours["time_s"] / by[nm]["time_s"], 3)
        if "alpha_" in ours and "sklearn" in by:
            row["same alpha_ as sklearn"] = bool(np.isclose(ours["alpha_"], by["sklearn"]["alpha_"]))
        out.append(row)
    return out


def _warmup():
    # compile numba (skglm) and import everything outside the timed region
    X, (y, yl) = dense_problem(30, 40, seed=1)
    amax = np.abs(X.T @ y).max() / 30
    for make, tol in lasso_solvers(amax).values():
        make(amax / 10, tol, False).fit(X, y)
        make(amax / 10, tol, False).fit(sp.csc_matrix(X), y)
    lmax = np.abs(X.T @ yl).max() / 2
    for name, (make, tol) in logistic_solvers(lmax, 30).items():
        est = make(10 / lmax, tol, False)
        if isinstance(est, _SkglmLogit):
            est._n = 30
        est.fit(X, yl)
        est.fit(sp.csc_matrix(X), yl)


# ---- beyond L1: MCP and group lasso against skglm --------------------------------------------

def _mcp_kkt(X, y, w, b, alpha, gamma):
    """Largest distance of -grad to the MCP subdifferential (skglm's criterion), NumPy only."""
    n = X.shape[0]
    g = -np.asarray(X.T @ (y - np.asarray(X @ w).ravel() - b)).ravel() / n
    a = np.abs(w)
    d = np.where(w == 0, np.maximum(np.abs(g) - alpha, 0.0),
                 np.where(a < gamma * alpha, np.abs(g + alpha * np.sign(w) - w / gamma), np.abs(g)))
    return float(d.max())


def _group_rel_gap(X, y, w, b, alpha, size):
    """Relative duality gap of 1/(2n)||y - Xw - b||^2 + alpha sum_g ||w_g|| (contiguous groups)."""
    n = X.shape[0]
    r = y - np.asarray(X @ w).ravel() - b
    r = r - r.mean()  # the best intercept for w
    norms = np.linalg.norm(w.reshape(-1, size), axis=1)
    primal = 0.5 * r @ r / n + alpha * norms.sum()
    xt = np.linalg.norm(np.asarray(X.T @ r).ravel().reshape(-1, size), axis=1) / n
    c = min(1.0, alpha / max(xt.max(), 1e-300))
    dual = c * (r @ y) / n - 0.5 * c * c * (r @ r) / n
    yc = y - y.mean()
    return float((primal - dual) / (0.5 * yc @ yc / n))


def _best_time(fit, repeat=3):
    best, est = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        est = fit()
        best = min(best, time.perf_counter() - t0)
        if best > 2.0:  # long runs vary little: one is enough
            break
    return best, est


def run_beyond(quick: bool) -> Path:
    """Time of adasolve and skglm on MCP regression and the group lasso (one thread), each at the
    same stopping criterion where the two share it, with the reached accuracy measured by NumPy."""
    import skglm
    from adasolve import linear_model as alm

    problems = {"dense": (lambda: dense_problem(200, 2000)) if quick else (lambda: dense_problem(1000, 10_000)),
                "sparse": (lambda: sparse_problem(2000, 5000, 1e-2)) if quick else
                (lambda: sparse_problem(20_000, 50_000, 1e-3))}
    sizes = {"dense": "200 x 2000" if quick else "1000 x 10000",
             "sparse": "2000 x 5000, density 1e-2" if quick else "20000 x 50000, density 1e-3"}
    rows = []
    # compile numba outside the timed region
    Xw, (yw, _) = dense_problem(30, 40, seed=1)
    skglm.MCPRegression(alpha=0.1).fit(Xw, yw)
    skglm.GroupLasso(groups=5, alpha=0.1).fit(Xw, yw)
    skglm.MCPRegression(alpha=0.1).fit(sp.csc_matrix(Xw), yw)
    for pname, gen in problems.items():
        X, (y, _) = gen()
        n, p = X.shape
        lmax = float(np.abs(np.asarray(X.T @ (y - y.mean()))).max() / n)
        for frac in (0.1, 0.01):
            alpha, gamma, tol = lmax * frac, 3.0, 1e-6 * lmax
            t_ours, ours = _best_time(lambda: alm.MCPRegression(alpha=alpha, gamma=gamma, tol=tol,
                                                                max_iter=1000).fit(X, y))
            t_sk, ref = _best_time(lambda: skglm.MCPRegression(alpha=alpha, gamma=gamma, tol=tol,
                                                               max_iter=1000).fit(X, y))
            rows.append({"problem": pname, "size": sizes[pname], "model": "MCP, gamma=3",
                         "alpha": f"lambda_max x {frac}", "adasolve_s": t_ours, "skglm_s": t_sk,
                         "ratio": t_ours / t_sk,
                         "kkt_adasolve": _mcp_kkt(X, y, ours.coef_, ours.intercept_, alpha, gamma) / lmax,
                         "kkt_skglm": _mcp_kkt(X, y, ref.coef_, ref.intercept_, alpha, gamma) / lmax,
                         "rel_gap_adasolve": None, "rel_gap_skglm": None,
                         "nnz": int(np.count_nonzero(ours.coef_))})
            print(rows[-1], flush=True)
        if pname == "sparse":
            continue  # skglm's GroupLasso takes dense X only
        size = 5
        gmax = float(np.linalg.norm(np.asarray(X.T @ (y - y.mean())).reshape(-1, size), axis=1).max() / n)
        for frac in (0.1, 0.01):
            alpha = gmax * frac
            # gap <= tol ||y - mean(y)||^2 / n is a relative gap (as below) of 2 tol
            t_ours, ours = _best_time(lambda: alm.GroupLasso(groups=size, alpha=alpha, tol=5e-7,
                                                             max_iter=1000).fit(X, y))
            # skglm stops on the optimality violation: the loosest of 1e-6, 1e-7, ... x gmax that
            # reaches the same relative gap counts
            for k in range(6, 12):
                t_sk, ref = _best_time(lambda: skglm.GroupLasso(groups=size, alpha=alpha,
                                                                tol=10.0**-k * gmax,
                                                                max_iter=1000).fit(X, y))
                if _group_rel_gap(X, y, ref.coef_, ref.intercept_, alpha, size) <= 1e-6:
                    break
            rows.append({"problem": pname, "size": sizes[pname], "model": "group lasso, groups of 5",
                         "alpha": f"lambda_max x {frac}", "adasolve_s": t_ours, "skglm_s": t_sk,
                         "ratio": t_ours / t_sk, "kkt_adasolve": None, "kkt_skglm": None,
                         "rel_gap_adasolve": _group_rel_gap(X, y, ours.coef_, ours.intercept_, alpha, size),
                         "rel_gap_skglm": _group_rel_gap(X, y, ref.coef_, ref.intercept_, alpha, size),
                         "nnz": int(np.count_nonzero(ours.coef_))})
            print(rows[-1], flush=True)
    env = environment(threads=1, extra={"skglm": getattr(skglm, "__version__", "?")})
    notes = ("MCP (intercept fitted): both stop when the largest optimality violation (distance of "
             "-grad to the MCP subdifferential) is <= 1e-6 x lambda_max; the columns kkt_* are that "
             "violation / lambda_max recomputed in NumPy. Group lasso (intercept fitted): adasolve "
             "stops on the duality gap (tol=5e-7: a gap relative to ||y - mean(y)||^2 / (2n) "
             "of 1e-6), skglm on the violation, tightened 10x at a time until its relative gap, "
             "computed in NumPy, is <= 1e-6. Times: best of 3, one thread, all Python overhead "
             "included. ratio = adasolve / skglm (lower is better).\n\nCommand: `python -m "
             "bench.bcd_lasso --beyond" + (" --quick" if quick else "") + "`\n")
    return write_results(FAMILY + "_beyond" + ("_quick" if quick else ""), {"Results": rows}, env,
                         notes=notes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bcd_lasso", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--cap", type=float, default=None,
                    help="stop tightening a solver's tol once one run takes longer (seconds)")
    ap.add_argument("--only", choices=["dense", "sparse"], default=None)
    ap.add_argument("--task", choices=["lasso", "logistic"], default=None)
    ap.add_argument("--render", action="store_true",
                    help="only rewrite the Markdown from bench/results/<family>.json")
    ap.add_argument("--merge", action="store_true",
                    help="keep the rows of other problems/tasks already in the results file")
    ap.add_argument("--saga-epochs", type=int, default=None, help="saga's epoch limit")
    ap.add_argument("--paths", action="store_true",
                    help="only the lasso_path and 5-fold LassoCV rows (merged into the results)")
    ap.add_argument("--beyond", action="store_true",
                    help="only MCP and group lasso against skglm (bench/results/bcd_lasso_beyond.md)")
    args = ap.parse_args(argv)
    if args.beyond:
        from threadpoolctl import threadpool_limits
        warnings.filterwarnings("ignore")
        with threadpool_limits(1):
            print(run_beyond(args.quick).read_text())
        return 0
    if args.render:
        import json
        from bench._common import RESULTS
        family = FAMILY + ("_quick" if args.quick else "")
        d = json.loads((RESULTS / f"{family}.json").read_text())
        print(_render(family, d["sections"]["Summary"], d["sections"]["All runs"],
                      d["environment"], d["notes"]).read_text())
        return 0
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")  # peers' ConvergenceWarnings while we tighten their tol
    cap = args.cap if args.cap is not None else (5.0 if args.quick else 60.0)
    if args.quick:
        problems = {"dense": lambda: dense_problem(200, 2000),
                    "sparse": lambda: sparse_problem(2000, 5000, 1e-2)}
        sizes = {"dense": "200 x 2000", "sparse": "2000 x 5000, density 1e-2"}
    else:
        problems = {"dense": lambda: dense_problem(1000, 10_000),
                    "sparse": lambda: sparse_problem(20_000, 50_000, 1e-3)}
        sizes = {"dense": "1000 x 10000", "sparse": "20000 x 50000, density 1e-3"}
    if args.only:
        problems = {args.only: problems[args.only]}
    tasks = [args.task] if args.task else ["lasso", "logistic"]
    if args.paths:
        tasks = []
    family = FAMILY + ("_quick" if args.quick else "")
    global SAGA_EPOCHS
    SAGA_EPOCHS = args.saga_epochs or (300 if args.quick else 100)
    kept_summary: List[Dict[str, Any]] = []
    kept_detail: List[Dict[str, Any]] = []
    if args.merge:
        import json
        from bench._common import RESULTS
        old = json.loads((RESULTS / f"{family}.json").read_text())["sections"]
        ours = {(pn, t) for pn in problems for t in tasks}
        redo_paths = set(problems) if args.paths else set()
        def keep(r):
            is_path = "lasso_path" in r["setting"] or "LassoCV" in r["setting"]
            if is_path:
                return r["problem"] not in redo_paths
            return (r["problem"], r["task"]) not in ours
        kept_summary = [r for r in old["Summary"] if keep(r)]
        kept_detail = [r for r in old["All runs"] if keep(r)]

    detail: List[Dict[str, Any]] = kept_detail
    summary: List[Dict[str, Any]] = kept_summary
    with threadpool_limits(1):
        _warmup()
        for pname, gen in problems.items():
            X, (y, ylab) = gen()
            n = X.shape[0]
            for task in tasks:
                if task == "lasso":
                    lmax = float(np.abs(np.asarray(X.T @ y)).max() / n)
                    solvers = lasso_solvers(lmax)
                    to_reg = lambda f: lmax * f  # noqa: E731  alpha = lambda
                    yy = y
                else:
                    lmax = float(np.abs(np.asarray(X.T @ ylab)).max() / 2)  # 1 / C_min
                    solvers = logistic_solvers(lmax, n)
                    to_reg = lambda f: 1.0 / (lmax * f)  # noqa: E731  C = 1 / lambda
                    yy = ylab
                settings = {"path (10 values)": (list(np.geomspace(1, 1e-2, 10)), True),
                            "lambda_max / 10": ([0.1], False),
                            "lambda_max / 100": ([0.01], False)}
                for sname, (fracs, path) in settings.items():
                    print(f"{pname} {task} {sname}", flush=True)
                    regs = [to_reg(f) for f in fracs]
                    rows = run_case(task, X, yy, regs, solvers, cap, path)
                    by = {r["solver"]: r for r in rows}
                    for r in rows:
                        detail.append({"problem": pname, "size": sizes[pname], "task": task,
                                       "setting": sname, **r})
                    summary.append(_summary_row(pname, sizes[pname], task, sname, by))
                    _write(args, summary, detail, family)  # partial results survive an interrupt
            if args.paths or not args.task:
                print(f"{pname} lasso_path / LassoCV", flush=True)
                prow = run_paths_cv(X, y)
                detail += [{"problem": pname, "size": sizes[pname], "task": "lasso", **r}
                           for r in prow]
                summary += _paths_summary(pname, sizes[pname], prow)
                _write(args, summary, detail, family)
    path = _write(args, summary, detail, family)
    print(path.read_text())
    return 0


def _write(args, summary, detail, family):
    env = environment(threads=1, extra={"target_rel_gap": TARGET, "saga_max_epochs": SAGA_EPOCHS,
                                        "merged": bool(args.merge)})
    notes = (__doc__.split("\n\n", 1)[1] + "\nRatios are ours / peer on time to the gap (lower is "
             "better); a solver that did not reach the gap within the cap shows reached=False and its "
             "time is a lower bound (its ratio is marked with '<'). Targets: <= 0.3 x scikit-learn "
             "(Lasso; logistic: the better of liblinear and saga) and <= 1.0 x the better of skglm "
             "and celer.\n\nCommand: `flock /tmp/adasolve-bench.lock python -m bench.bcd_lasso"
             + (" --quick" if args.quick else "") + "`\n\nsaga runs at most "
             f"{SAGA_EPOCHS} epochs with tol=1e-8 (one try): its time is a lower bound when it "
             "does not reach the gap.\n" + (args.merge and "\nRows of different problems/tasks "
             "may come from separate runs (--merge); see their saga epoch limit in the runs table.\n" or ""))
    return _render(family, summary, detail, env, notes)


def _render(family, summary, detail, env, notes):
    def union(rows):  # Lasso and logistic rows name different peers: show every column
        cols: List[str] = []
        for r in rows:
            cols += [k for k in r if k not in cols]
        return cols
    return write_results(family, {"Summary": summary, "All runs": detail}, env, notes=notes,
                         columns={"Summary": union(summary), "All runs": union(detail)})


def _summary_row(pname, size, task, sname, by):
    ours = by["adasolve"]
    row = {"problem": pname, "size": size, "task": task, "setting": sname,
           "adasolve_s": ours["time_s"], "adasolve_gap": ours["rel_gap"]}
    sk_names = ["sklearn"] if task == "lasso" else ["liblinear", "saga"]
    for nm in sk_names + ["skglm", "celer"]:
        if nm in by:
            row[f"{nm}_s"] = by[nm]["time_s"] if by[nm]["reached"] else f">{by[nm]['time_s']:.3g}"
    def best(names):
        got = [by[nm] for nm in names if nm in by]
        reached = [r for r in got if r["reached"]]
        if reached:
            return min(r["time_s"] for r in reached), True
        return (max(r["time_s"] for r in got), False) if got else (None, False)
    for label, names, tgt in (("sklearn", sk_names, 0.3), ("skglm/celer", ["skglm", "celer"], 1.0)):
        t, ok = best(names)
        if t is None:
            continue
        ratio = ours["time_s"] / t
        row[f"ours/{label}"] = round(ratio, 3) if ok else f"<{ratio:.3g}"
        row[f"target {label} <= {tgt}"] = bool(ours["reached"] and (ratio <= tgt or not ok))
    return row


if __name__ == "__main__":
    sys.exit(main())
