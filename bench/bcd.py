"""Greedy BCD engine benchmark: the paper's figures at its sizes, and the cost of a greedy iteration.

Run: ``flock /tmp/adasolve-bench.lock python -m bench bcd [--quick] [--no-figures]``.
(The Lasso / logistic estimator benchmark is ``python -m bench bcd_lasso``.)

Sections:
- greedy iteration vs full gradient: engine time per iteration (selection + update + bookkeeping)
  with tournament trees and with a full scan, against one full gradient (scipy SpMV);
- the paper's figures (Nutini, Laradji, Schmidt, JMLR 2022): f(x) - f* against iterations and
  time, datasets A-E at full size, blocks of 5, 50 and 100; the curves are saved to
  ``bench/results/bcd_curves.json`` and drawn by ``bench/bcd_plot.py`` as ``docs/bcd_*.svg/png``
  (``--figure-data`` runs only the curves the figures show);
- the qualitative orderings the paper reports, checked on the same runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from bench._common import environment, timeit, write_results


# ----------------------------------------------------------------------------- helpers
def _run(prob, budget_s, **kw):
    """bcd_minimize with a wall-time cap per curve (the callback stops it). The clock starts at
    the first iteration, so that the set-up (copying the design) does not eat the budget."""
    from adasolve import bcd_minimize

    deadline = []

    def stop(xk):
        now = time.perf_counter()
        if not deadline:
            deadline.append(now + budget_s)
        return now > deadline[0]

    return bcd_minimize(prob, tol=0.0, seed=0, callback=stop, **kw)


def _lp_fstar(prob):
    xs = spla.spsolve(prob.A.tocsc(), prob.b)
    # one step of iterative refinement: the lattice weights (1e5 and 1) make A ill-conditioned
    xs += spla.spsolve(prob.A.tocsc(), prob.b - prob.A @ xs)
    return 0.5 * xs @ (prob.A @ xs) - prob.b @ xs


def _ls_fstar(prob):
    X = prob.X if not isinstance(prob.X, tuple) else sp.csr_matrix((prob.X[4], prob.X[3], prob.X[2]),
                                                                     shape=prob.X[:2]).toarray()
    # n < p: X has full row rank, the minimum is (numerically) 0; evaluate it anyway
    z = np.linalg.solve(X @ X.T, prob.y)
    r = X @ (X.T @ z) - prob.y
    return 0.5 * r @ r


# ----------------------------------------------------------------------------- micro-benchmark
def bench_priority(quick):
    """Time per greedy iteration (trees / scan) against one full gradient."""
    from adasolve.bcd import datasets
    from adasolve.bcd.engine import _solver

    m_d, n_e, (n_a, p_a) = (20, 500, (200, 2000)) if quick else (50, 2000, (1000, 10000))
    A = datasets.make_A(n_a, p_a, seed=0, sparse=True)
    Xa = sp.csr_matrix((A.X[4], A.X[3], A.X[2]), shape=A.X[:2])
    probs = {f"D lattice {m_d}x{m_d}": datasets.make_D(m_d, 100 if not quick else 16),
             f"E two-moons {n_e}": datasets.make_E(n_e), f"A sparse {n_a}x{p_a}": A}
    rows = []
    for name, prob in probs.items():
        if name.startswith("A"):
            x = np.random.default_rng(0).random(Xa.shape[1])
            grad = lambda: Xa.T @ (Xa @ x - prob.y)  # noqa: E731
        else:
            x = np.random.default_rng(0).random(prob.n_vars)
            grad = lambda: prob.A @ x - prob.b  # noqa: E731
        # median over repeats of batches, like the engine's per-iteration median (the machine is shared)
        t_grad = timeit(grad, repeat=15, number=5 if name.startswith("A") else 100)["median"]
        iters = 300 if name.startswith("A") else 3000
        for blocks, rule in (("variable", "gs"), ("variable", "gsl"), ("variable", "gsd"), ("fixed", "gsl"),
                             ("fixed", "gsq")):
            if name.startswith("A") and rule == "gsq":
                continue
            t = {}
            for pr in (-1, 1, 0):
                eng = _solver(prob, rule=rule, blocks=blocks, update="lipschitz", block_size=5, tol=0.0, seed=0,
                              gram_limit=0, priority=pr)
                eng.run(iters)
                t[pr] = (float(np.median(np.diff(eng.hist_time))), eng.uses_priority)
            rows.append({"problem": name, "n vars": prob.n_vars, "blocks": blocks, "rule": rule, "k": 5,
                         "auto uses trees": t[-1][1], "us/iter auto": 1e6 * t[-1][0],
                         "us/iter trees": 1e6 * t[1][0], "us/iter scan": 1e6 * t[0][0],
                         "us full gradient (scipy)": 1e6 * t_grad, "auto iter / full gradient": t[-1][0] / t_grad})
            print(rows[-1])
    return rows


# ----------------------------------------------------------------------------- curves
LABEL = {"sorted": "FB", "variable": "VB"}
CURVES = Path(__file__).resolve().parent / "results" / "bcd_curves.json"


def _thin(n, m=240):
    """At most about m indices of a curve of n points: all of the start, log-spaced after."""
    if n <= m:
        return np.arange(n)
    return np.unique(np.r_[np.arange(20), np.geomspace(20, n - 1, m - 20).astype(int), n - 1])


class Figure:
    """The curves of one figure (f(x) - f* against iterations and time), saved for bench/bcd_plot.py."""

    def __init__(self, name, title, max_iter=500):
        self.name, self.title, self.max_iter, self.curves = name, title, max_iter, []

    def add(self, row, col, label, res, fstar, ls="-", color_key=None, **meta):
        gap = res.history["fun"] - fstar
        floor = 1e-12 * max(1.0, abs(fstar))
        idx = _thin(gap.size)
        self.curves.append({"figure": self.name, "row": row, "col": col, "label": label, "max_iter": self.max_iter, **meta,
                            "iteration": idx.tolist(), "gap": np.maximum(gap, floor)[idx].tolist(),
                            "time": np.asarray(res.history["time"])[idx].tolist()})
        return gap


def _at(gap, it):
    return float(gap[min(it, gap.size - 1)])


def _check(checks, claim, problem, k, setting, ours, other, fstar):
    """Does `ours` beat `other`? At their common last iteration; when both have reached the
    accuracy floor (f - f* <= 1e-9 max(1, |f*|)) by then, by the iterations needed to reach it."""
    tau = 1e-9 * max(1.0, abs(fstar))
    it = min(ours.size, other.size) - 1
    a, b = _at(ours, it), _at(other, it)
    reach = lambda g: int(np.argmax(g <= tau)) if (g <= tau).any() else None  # noqa: E731
    ra, rb = reach(ours), reach(other)
    holds = (ra is not None and (rb is None or ra < rb)) if max(a, b) <= tau else a < b
    checks.append({"claim": claim, "problem": problem, "k": k, "setting": setting, "at iteration": it,
                   "f-f* ours": a, "f-f* other": b, "iters to floor ours": "-" if ra is None else ra,
                   "iters to floor other": "-" if rb is None else rb, "holds": bool(holds)})


# what bench/bcd_plot.py draws: `--figure-data` runs only these curves
SHOWN = {"rules": {"k": (50,), "rules": ("random", "cyclic", "gs", "gsl")},
         "updates": {"k": (5,), "rules": ("gsl",)}}


def figures(quick, budget=2.0, shown_only=False):
    from adasolve.bcd import datasets

    iters = 100 if quick else 500
    budget = min(budget, 0.5) if quick else budget
    ks = (5, 50, 100)
    rule_ks = SHOWN["rules"]["k"] if shown_only else ks
    rule_set = SHOWN["rules"]["rules"] if shown_only else ("random", "cyclic", "lipschitz", "gs", "gsl", "gsd")
    upd_ks = SHOWN["updates"]["k"] if shown_only else (5, 50)
    if quick:
        probs = {"A": datasets.make_A(100, 400, sparse=True), "B": datasets.make_B(100, 400, sparse=True),
                 "C": datasets.make_C(100, 100, 10, sparse=True), "D": datasets.make_D(20, 16),
                 "E": datasets.make_E(400)}
        nonneg = datasets.make_A_nonneg_l1(100, 400, l1=2000.0, sparse=True)
    else:
        probs = {"A": datasets.make_A(sparse=True), "B": datasets.make_B(sparse=True),
                 "C": datasets.make_C(sparse=True), "D": datasets.make_D(), "E": datasets.make_E()}
        nonneg = datasets.make_A_nonneg_l1(sparse=True)
    # f*: least squares with n < p and logistic / softmax on separable data (p K > n, full row
    # rank) have minimum 0 (an infimum for B and C); the quadratics are solved directly
    fstar = {"A": _ls_fstar(probs["A"]), "B": 0.0, "C": 0.0, "D": _lp_fstar(probs["D"]), "E": _lp_fstar(probs["E"])}
    results, checks, curves = [], [], []

    def record(fig, name, k, label, res, ls="-", color_key=None, **meta):
        row, col = (name, f"k={k}") if k else ("label propagation", name)
        gap = fig.add(row, col, label, res, fstar[name], ls, color_key, problem=name, k=k, **meta)
        results.append({"figure": fig.name, "problem": name, "k": k, "config": label, "iterations": res.nit,
                        "time s": float(res.history["time"][-1]), "f-f* at end": float(gap[-1]),
                        "f-f* at iter 100": _at(gap, 100)})
        return gap

    # --- Figure: selection rules, fixed (sorted) vs variable blocks, gradient update (fig 4 / 8)
    fig = Figure("rules", "Selection rules, gradient update with the block Lipschitz constant; FB = fixed "
                          "(sorted) blocks, dotted; VB = variable blocks, solid")
    gaps = {}
    for name, prob in probs.items():
        for k in rule_ks:
            for rule in rule_set:
                for blocks in ("sorted", "variable"):
                    res = _run(prob, budget, rule=rule, blocks=blocks, update="gradient", block_size=k, maxiter=iters)
                    gaps[name, k, rule, blocks] = record(fig, name, k, f"{rule}-{LABEL[blocks]}", res,
                                                         ls="-" if blocks == "variable" else ":", color_key=rule,
                                                         rule=rule, blocks=blocks, update="gradient")
            for blocks in ("sorted", "variable"):
                _check(checks, "greedy (gsl) beats random", name, k, f"{LABEL[blocks]}, gradient",
                       gaps[name, k, "gsl", blocks], gaps[name, k, "random", blocks], fstar[name])
            _check(checks, "variable beats fixed blocks", name, k, "gsl, gradient", gaps[name, k, "gsl", "variable"],
                   gaps[name, k, "gsl", "sorted"], fstar[name])
    curves += fig.curves

    # --- Figure: matrix (Lipschitz-matrix) and Newton updates vs gradient updates (fig 5 / 11 / 12)
    fig = Figure("updates", "Greedy rules with gradient (dotted), Lipschitz-matrix (solid) and Newton (dashed) "
                            "block updates")
    for name in ("A", "B", "C"):
        prob = probs[name]
        for k in upd_ks:
            for rule in SHOWN["updates"]["rules"] if shown_only else (
                    ("gs", "gsl", "gsd", "gsq") if k == 5 else ("gsl", "gsq")):
                gm = {}
                for blocks in ("sorted", "variable"):
                    upds = ("gradient", "lipschitz") + (("newton",) if name in ("B", "C") else ())
                    g = {}
                    for upd in upds:
                        res = _run(prob, budget, rule=rule, blocks=blocks, update=upd, block_size=k, maxiter=iters)
                        ls = {"gradient": ":", "lipschitz": "-", "newton": "--"}[upd]
                        g[upd] = record(fig, name, k, f"{rule}-{LABEL[blocks]}-{upd[:4]}", res, ls=ls,
                                        color_key=f"{rule}-{blocks}", rule=rule, blocks=blocks, update=upd)
                    for upd in upds[1:]:
                        _check(checks, f"{upd} update beats gradient update", name, k, f"{rule}-{LABEL[blocks]}",
                               g[upd], g["gradient"], fstar[name])
                    gm[blocks] = g["lipschitz"]
                _check(checks, "variable beats fixed blocks", name, k, f"{rule}, lipschitz", gm["variable"],
                       gm["sorted"], fstar[name])
    curves += fig.curves

    # --- Figure: non-negative L1 least squares (fig 7): PG, PN (exact block QP), TMP
    fig = Figure("nonneg", "Non-negative L1 least squares (A, lambda=50000): PG = projected gradient, "
                           "PN = exact block QP, TMP = two-metric projection; rule gsd; FB dotted, VB solid")
    from adasolve import bcd_minimize

    fs = bcd_minimize(nonneg, rule="gsd", blocks="variable", update="newton", block_size=100, tol=1e-10,
                      maxiter=20000).fun
    runs = {}
    for k in ks:
        for upd, lab in (("gradient", "PG"), ("lipschitz", "PN"), ("newton", "TMP")):
            for blocks in ("sorted", "variable"):
                res = _run(nonneg, budget, rule="gsd", blocks=blocks, update=upd, block_size=k, maxiter=iters)
                runs[k, lab, blocks] = res
                fs = min(fs, res.fun)
    fstar["A nonneg L1"] = fs
    for (k, lab, blocks), res in runs.items():
        gaps[k, lab, blocks] = record(fig, "A nonneg L1", k, f"{lab}-{LABEL[blocks]}", res,
                                      ls="-" if blocks == "variable" else ":", color_key=lab, rule="gsd",
                                      blocks=blocks, update=lab)
    for k in ks:
        for lab in ("PN", "TMP"):
            for blocks in ("sorted", "variable"):
                _check(checks, f"{lab} beats projected gradient (PG)", "A nonneg L1", k, f"gsd-{LABEL[blocks]}",
                       gaps[k, lab, blocks], gaps[k, "PG", blocks], fs)
        _check(checks, "variable beats fixed blocks", "A nonneg L1", k, "gsd, TMP", gaps[k, "TMP", "variable"],
               gaps[k, "TMP", "sorted"], fs)
    curves += fig.curves

    # --- Figure: message passing on tree blocks vs flat blocks on label propagation (fig 6)
    fig = Figure("trees", "Label propagation: forest blocks solved by message passing vs flat blocks", iters)
    for name in ("D", "E"):
        prob = probs[name]
        n = prob.n_vars
        kg = max(2, int(round(n ** (1 / 3))))
        cfgs = [
            ("greedy tree (gsl)", dict(rule="gsl", blocks="tree", update="message-passing", block_size=n), "-"),
            ("random tree", dict(rule="random", blocks="tree", update="message-passing", block_size=n), "--"),
            ("tree partition", dict(rule="cyclic", blocks="tree", tree="partition", update="message-passing"), "-."),
            ("red-black", dict(rule="cyclic", blocks="tree", tree="red-black", update="message-passing"), ":"),
            (f"gsl-VB k={kg} exact", dict(rule="gsl", blocks="variable", update="lipschitz", block_size=kg), "-"),
            (f"gsl-FB k={kg} exact", dict(rule="gsl", blocks="sorted", update="lipschitz", block_size=kg), "--"),
            (f"gsl-FB k={kg} gradient", dict(rule="gsl", blocks="sorted", update="gradient", block_size=kg), ":"),
        ]
        g, times = {}, {}
        for label, kw, ls in cfgs:
            # flat blocks are ~100x cheaper per iteration: give them as much time as the trees use,
            # so that the time plot compares like with like (the iteration plot shows 500)
            flat = kw["blocks"] != "tree"
            res = _run(prob, min(budget, 1.0) if flat else budget, maxiter=100 * iters if flat else iters, **kw)
            g[label] = record(fig, name, 0, label, res, ls=ls, config=label)
            times[label] = res.history["time"]
        for ours, other in (("greedy tree (gsl)", f"gsl-FB k={kg} exact"), ("tree partition", f"gsl-FB k={kg} exact"),
                            ("red-black", f"gsl-FB k={kg} exact"), ("greedy tree (gsl)", f"gsl-VB k={kg} exact"),
                            ("greedy tree (gsl)", "random tree"), ("greedy tree (gsl)", "tree partition"),
                            ("greedy tree (gsl)", "red-black"), ("tree partition", "red-black"),
                            (f"gsl-FB k={kg} exact", f"gsl-FB k={kg} gradient")):
            _check(checks, f"{ours} beats {other}", name, "", "message passing", g[ours], g[other], fstar[name])
        for ours in ("greedy tree (gsl)", "tree partition", "red-black"):
            for other in (f"gsl-VB k={kg} exact", f"gsl-FB k={kg} exact"):
                # per unit of engine time: f - f* of each at the end of the shorter run
                to, tt = times[ours], times[other]
                T = min(to[-1], tt[-1])
                a, b = float(g[ours][np.searchsorted(to, T, "right") - 1]), float(g[other][np.searchsorted(tt, T, "right") - 1])
                checks.append({"claim": f"{ours} beats {other} in time", "problem": name, "k": "",
                               "setting": f"at {T:.3g} s", "at iteration": "", "f-f* ours": a, "f-f* other": b,
                               "iters to floor ours": "", "iters to floor other": "", "holds": a < b})
    curves += fig.curves
    return results, checks, curves


def _save_curves(curves, quick, budget):
    import json

    from bench import bcd_plot

    meta = {"environment": environment(threads=1), "budget_s": budget,
            "sizes": "quick" if quick else "full (A, B 1000x10000, C 1000x1000x50, D 50x50, E 2000)"}
    CURVES.write_text(json.dumps({"meta": meta, "curves": curves}))
    print("wrote", CURVES)
    if not quick:  # the user guide's figures come from full-size runs only
        bcd_plot.main(["--curves", str(CURVES)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench bcd")
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--figure-data", action="store_true",
                    help="only the curves the figures show (bench/results/bcd_curves.json and docs/bcd_*.svg/png); "
                         "the results tables are left as they are")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds of wall time per curve (default 2)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.figure_data:
        _, _, curves = figures(args.quick, args.budget, shown_only=True)
        _save_curves(curves, args.quick, args.budget)
        print(f"total wall {time.perf_counter() - t0:.0f} s")
        return 0
    sections = {"Greedy iteration vs one full gradient (k = 5, Lipschitz-matrix update)": bench_priority(args.quick)}
    if not args.no_figures:
        results, checks, curves = figures(args.quick, args.budget)
        n_hold = sum(c["holds"] for c in checks)
        sections[f"Paper's qualitative orderings ({n_hold} of {len(checks)} hold)"] = checks
        sections["Paper figures: every curve (f* as in the notes)"] = results
        _save_curves(curves, args.quick, args.budget)
    notes = ("quick sizes" if args.quick else "full sizes: A, B 1000x10000 (CSR, 7 % dense), C 1000x1000x50 "
             "classes, D 50x50 lattice, E 2000-node two moons") + \
        f"; at most 500 iterations and {args.budget:g} s of wall time per curve; total wall {time.perf_counter() - t0:.0f} s"
    path = write_results("bcd", sections, environment(threads=1), notes=notes)
    print("wrote", path)
    return 0
