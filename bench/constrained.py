"""Benchmark of adasolve.minimize_eq (AdaSketch-Newton) against SciPy and IPOPT.

    python -m bench constrained [--quick] [--sizes 1000 10000 100000] [--timeout 300]
                                [--skip-collection] [--skip-scalable] [--skip-plot]

1. The equality-constrained CUTEst collection (``adasolve.problems.cutest_equality()``,
   47 problems; a few problems coded below if that collection is missing): success
   (KKT residual <= 1e-6 with least-squares multipliers at the returned x), iterations,
   function evaluations, wall time, for minimize_eq (each sketch), scipy trust-constr,
   SLSQP and IPOPT (cyipopt, when installed).
2. Scalable problems at n = 1e3, 1e4, 1e5: wall time and peak RSS (each run in a forked
   child process) of minimize_eq (sketches and "exact"), trust-constr and IPOPT.
3. docs/constrained_convergence.png: KKT residual vs outer and vs inner iterations.

Run as ``flock /tmp/adasolve-bench.lock python -m bench constrained``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import statistics
import time
import warnings
from pathlib import Path
from types import SimpleNamespace as NS

import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

import adasolve
from bench._common import environment, write_results

try:  # optional peer
    import cyipopt  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    cyipopt = None

KKT_TOL = 1e-6
DOCS = Path(__file__).resolve().parents[1] / "docs"


# --------------------------------------------------------------------------------------
# problems


def _fallback_collection():
    """A handful of HS/BT problems, used only when adasolve.problems lacks the collection."""
    hs6 = NS(name="HS6", x0=np.array([-1.2, 1.0]), f_star=0.0,
             fun=lambda x: (1 - x[0]) ** 2, jac=lambda x: np.array([-2 * (1 - x[0]), 0.0]),
             hess=lambda x, v: np.array([[2 - 20 * v[0], 0.0], [0.0, 0.0]]),
             constraints=NonlinearConstraint(lambda x: [10 * (x[1] - x[0] ** 2)], 0, 0,
                                             jac=lambda x: np.array([[-20 * x[0], 10.0]])))
    Hc = np.array([[2, 2, 0], [2, 4, 2], [0, 2, 2.0]])
    hs28 = NS(name="HS28", x0=np.array([-4.0, 1, 1]), f_star=0.0,
              fun=lambda x: (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2, jac=lambda x: Hc @ x,
              hess=lambda x, v: Hc, constraints=LinearConstraint([[1, 2, 3.0]], 1, 1))
    try:  # the four problems the test suite codes (HS6, HS28, BT2, HS40)
        import sys
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.test_constrained import LOCAL_PROBLEMS
        return list(LOCAL_PROBLEMS)
    except Exception:
        return [hs6, hs28]


def collection():
    try:
        from adasolve.problems import cutest_equality
        probs = list(cutest_equality().values())
        if probs:
            return probs, "adasolve.problems.cutest_equality()"
    except (ImportError, AttributeError, NotImplementedError):
        pass
    fb = _fallback_collection()
    return fb, f"fallback ({len(fb)} problems coded in the tests: cutest_equality() not available)"


def _pde_local(n):
    """Paper's PDE-constrained problem, n = 2 N^2 (used if adasolve.problems lacks it)."""
    N = max(2, int(round(math.sqrt(n / 2))))
    h = 2.0 / (N + 1)
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(N, N))
    L = (sp.kron(sp.eye(N), T) + sp.kron(T, sp.eye(N))) / h ** 2
    i = np.arange(1, N + 1)
    I, J = np.meshgrid(i, i, indexing="ij")
    s = 0.1 / math.sqrt(15)
    wt = (np.sin(4 + s * (I - (N + 1) / 2)) + np.cos(3 + s * (J - (N + 1) / 2))).ravel()
    M = N * N
    A = sp.hstack([-L, sp.eye(M)]).tocsr()
    d = np.r_[np.ones(M), 0.1 * np.ones(M)]
    H = sp.diags(d).tocsr()
    target = np.r_[wt, np.zeros(M)]
    return NS(name="pde_control", n=2 * M, m=M, x0=np.ones(2 * M), f_star=None,
              fun=lambda x: 0.5 * float(np.sum(d * (x - target) ** 2)),
              jac=lambda x: d * (x - target), hess=lambda x, v: H,
              constraints=LinearConstraint(A, np.zeros(M), np.zeros(M)))


def _lsq_local(n, seed=0):
    """min 1/2||Ax - y||^2 s.t. Cx = d with sparse A (2n x n) and C (n/10 x n)."""
    rng = np.random.default_rng(seed)
    m = max(1, n // 10)
    A = (sp.random(2 * n, n, density=3.0 / n, random_state=seed, format="csr")
         + sp.eye(2 * n, n, format="csr")).tocsr()
    C = (sp.random(m, n, density=5.0 / n, random_state=seed + 1, format="csr")
         + sp.eye(m, n, format="csr")).tocsr()
    y = rng.standard_normal(2 * n)
    dd = rng.standard_normal(m)
    AtA = (A.T @ A).tocsr()
    return NS(name="sparse_lsq", n=n, m=m, x0=np.zeros(n), f_star=None,
              fun=lambda x: 0.5 * float(np.sum((A @ x - y) ** 2)),
              jac=lambda x: A.T @ (A @ x - y), hess=lambda x, v: AtA,
              constraints=LinearConstraint(C, dd, dd))


def scalable(n):
    out = []
    try:
        from adasolve import problems as P
        for name in ("pde_control", "constrained_logistic", "sparse_least_squares"):
            fn = getattr(P, name, None)
            if fn is not None:
                out.append(fn(n))
    except ImportError:
        pass
    if not out:
        out = [_pde_local(n), _lsq_local(n)]
    return out


# --------------------------------------------------------------------------------------
# helpers


def _cons_list(p):
    cons = p.constraints
    return list(cons) if isinstance(cons, (list, tuple)) and not callable(cons[0]) else [cons]


def _c_and_jac(p, x):
    cons = p.constraints
    if isinstance(cons, tuple) and len(cons) == 2 and callable(cons[0]):
        return np.atleast_1d(cons[0](x)), cons[1](x)
    cs, Js = [], []
    for con in _cons_list(p):
        if isinstance(con, LinearConstraint):
            A = con.A
            cs.append(A @ x - np.broadcast_to(con.lb, (A.shape[0],)))
            Js.append(A)
        else:
            val = np.atleast_1d(con.fun(x))
            cs.append(val - np.broadcast_to(con.lb, val.shape))
            Js.append(con.jac(x))
    if any(sp.issparse(J) for J in Js):
        return np.concatenate(cs), sp.vstack([sp.csr_matrix(J) for J in Js]).tocsr()
    return np.concatenate(cs), np.vstack([np.atleast_2d(J) for J in Js])


def kkt_at(p, x):
    """KKT residual with least-squares multipliers (fair to solvers without multipliers)."""
    try:
        g = np.asarray(p.jac(x), float)
        c, J = _c_and_jac(p, x)
        if sp.issparse(J):
            from scipy.sparse.linalg import lsqr
            v = -lsqr(J.T, g, atol=1e-14, btol=1e-14, iter_lim=10 * J.shape[1])[0]
        else:
            v = -np.linalg.lstsq(J.T, g, rcond=None)[0]
        r = np.r_[g + J.T @ v, c]
        return float(np.linalg.norm(r))
    except Exception:
        return float("inf")


def _scipy_constraints(p):
    """NonlinearConstraints for trust-constr with constraint Hessians hess(x, v) - hess(x, 0)."""
    out = []
    cons = p.constraints
    if isinstance(cons, tuple) and len(cons) == 2 and callable(cons[0]):
        cons = [NonlinearConstraint(cons[0], 0, 0, jac=cons[1])]
    cl = cons if isinstance(cons, list) else [cons]
    m_off = 0
    sizes = []
    for con in cl:
        if isinstance(con, LinearConstraint):
            sizes.append(con.A.shape[0])
        else:
            sizes.append(np.atleast_1d(con.fun(p.x0)).size)
    mtot = sum(sizes)
    for con, size in zip(cl, sizes):
        if isinstance(con, LinearConstraint):
            out.append(con)
        else:
            def ch(x, w, off=m_off, size=size):
                v = np.zeros(mtot)
                v[off:off + size] = w
                return p.hess(x, v) - p.hess(x, np.zeros(mtot))
            out.append(NonlinearConstraint(con.fun, con.lb, con.ub, jac=con.jac, hess=ch))
        m_off += size
    return out, mtot


def run_ours(p, sketch, **kw):
    t = time.perf_counter()
    r = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                             sketch=sketch, seed=0, tol=KKT_TOL, **kw)
    return dict(x=r.x, nit=r.nit, nfev=r.nfev, wall_s=time.perf_counter() - t,
                inner=r.inner_iterations, status=r.status)


def run_trust_constr(p, maxiter=3000):
    cons, m = _scipy_constraints(p)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(p.fun, p.x0, jac=p.jac, hess=lambda x: p.hess(x, np.zeros(m)),
                     method="trust-constr", constraints=cons,
                     options={"gtol": KKT_TOL * 1e-2, "xtol": 1e-14, "maxiter": maxiter})
    return dict(x=r.x, nit=r.nit, nfev=r.nfev, wall_s=time.perf_counter() - t)


def run_slsqp(p):
    cons, m = _scipy_constraints(p)
    dcons = []
    for con in cons:
        if isinstance(con, LinearConstraint):
            A, lb = np.atleast_2d(con.A), np.broadcast_to(con.lb, (np.atleast_2d(con.A).shape[0],))
            dcons.append(dict(type="eq", fun=lambda x, A=A, lb=lb: A @ x - lb, jac=lambda x, A=A: A))
        else:
            dcons.append(dict(type="eq", fun=lambda x, c=con: np.atleast_1d(c.fun(x)) - c.lb,
                              jac=lambda x, c=con: np.atleast_2d(c.jac(x))))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(p.fun, p.x0, jac=p.jac, method="SLSQP", constraints=dcons,
                     options={"ftol": 1e-14, "maxiter": 3000})
    return dict(x=r.x, nit=r.nit, nfev=r.nfev, wall_s=time.perf_counter() - t)


def run_ipopt(p):
    if cyipopt is None:
        return None
    cons, m = _scipy_constraints(p)
    dcons = []
    for con in cons:
        if isinstance(con, LinearConstraint):
            A = con.A
            lb = np.broadcast_to(con.lb, (A.shape[0],))
            dcons.append(dict(type="eq", fun=lambda x, A=A, lb=lb: A @ x - lb,
                              jac=lambda x, A=A: A, hess=lambda x, v, n=len(p.x0): np.zeros((n, n))))
        else:
            dcons.append(dict(type="eq", fun=lambda x, c=con: np.atleast_1d(c.fun(x)) - c.lb,
                              jac=lambda x, c=con: c.jac(x), hess=con.hess))
    t = time.perf_counter()
    r = cyipopt.minimize_ipopt(p.fun, p.x0, jac=p.jac, hess=lambda x: p.hess(x, np.zeros(m)),
                               constraints=dcons,
                               options={"tol": KKT_TOL * 1e-2, "print_level": 0,
                                        "max_iter": 3000, "sb": "yes"})
    return dict(x=r.x, nit=r.get("nit", -1), nfev=r.get("nfev", -1),
                wall_s=time.perf_counter() - t)


# --------------------------------------------------------------------------------------
# 1. the collection


def _best_of(fn, p, repeats):
    """Run fn(p); runs shorter than 1 s are repeated and the fastest wall time is kept
    (the shared machine's load otherwise dominates millisecond timings), for every solver."""
    out = fn(p)
    for _ in range(repeats - 1):
        if not out["wall_s"] < 1.0:
            break
        again = fn(p)
        if again["wall_s"] < out["wall_s"]:
            out = dict(out, wall_s=again["wall_s"])
    return out


def bench_collection(sketches, repeats=3):
    probs, source = collection()
    solvers = [(f"ours[{s}]", lambda p, s=s: run_ours(p, s)) for s in sketches]
    solvers += [("trust-constr", run_trust_constr), ("SLSQP", run_slsqp)]
    if cyipopt is not None:
        solvers.append(("IPOPT", run_ipopt))
    per = {name: [] for name, _ in solvers}
    rows = []
    for p in probs:
        row = {"problem": p.name, "n": len(p.x0)}
        for name, fn in solvers:
            try:
                out = _best_of(fn, p, repeats)
            except Exception as exc:  # a peer crashing on a problem counts as a failure
                out = dict(x=p.x0, nit=-1, nfev=-1, wall_s=float("nan"), err=str(exc))
            kkt = kkt_at(p, out["x"])
            ok = bool(kkt <= KKT_TOL)
            if p.f_star is not None and ok:
                ok = abs(p.fun(out["x"]) - p.f_star) <= 1e-6 * max(1.0, abs(p.f_star))
            per[name].append(dict(ok=ok, **{k: out[k] for k in ("nit", "nfev", "wall_s")}))
            row[f"{name} ok"] = ok
            row[f"{name} nit"] = out["nit"]
            row[f"{name} ms"] = 1e3 * out["wall_s"]
        rows.append(row)
        print(p.name, {k: v for k, v in row.items() if k.endswith("ok")}, flush=True)
    tc_med = statistics.median([r["wall_s"] for r in per["trust-constr"]])
    summary = []
    for name, _ in solvers:
        rs = per[name]
        med = statistics.median([r["wall_s"] for r in rs])
        ratios = [r["wall_s"] / t["wall_s"] for r, t in zip(rs, per["trust-constr"])]
        summary.append({
            "solver": name,
            "solved": f"{sum(r['ok'] for r in rs)}/{len(rs)}",
            "median nit": statistics.median([r["nit"] for r in rs]),
            "median nfev": statistics.median([r["nfev"] for r in rs]),
            "median wall ms": 1e3 * med,
            "wall / trust-constr": med / tc_med,
            "median of per-problem ratios": statistics.median(ratios),
        })
    return summary, rows, source


# --------------------------------------------------------------------------------------
# 2. scalable problems, each run in a forked child for its peak RSS


def _child(q, make, n, solver):
    try:
        p = make(n)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if solver.startswith("ours"):
            sketch = solver[5:-1]
            out = run_ours(p, sketch, maxiter=200, options={"max_inner": 200_000})
        elif solver == "trust-constr":
            out = run_trust_constr(p, maxiter=500)
        else:
            out = run_ipopt(p)
        kkt = kkt_at(p, out["x"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        q.put(dict(wall_s=out["wall_s"], nit=out["nit"], kkt=kkt, peak_mb=peak / 1024.0,
                   extra_mb=(peak - rss0) / 1024.0, inner=out.get("inner"),
                   per_it_ms=1e3 * out["wall_s"] / max(1, out["nit"])))
    except Exception as exc:
        q.put(dict(error=f"{type(exc).__name__}: {exc}"))


def _make(name):
    def make(n):
        for p in scalable(n):
            if p.name == name:
                return p
        raise KeyError(name)
    return make


def bench_scalable(sizes, sketches, timeout):
    ctx = mp.get_context("fork")
    names = [p.name for p in scalable(sizes[0])]
    solvers = [f"ours[{s}]" for s in sketches] + ["trust-constr"]
    if cyipopt is not None:
        solvers.append("IPOPT")
    rows = []
    for name in names:
        for n in sizes:
            base = {}
            for solver in solvers:
                q = ctx.Queue()
                pr = ctx.Process(target=_child, args=(q, _make(name), n, solver))
                t0 = time.perf_counter()
                pr.start()
                pr.join(timeout)
                if pr.is_alive():
                    pr.kill()
                    pr.join()
                    res = dict(error=f"timeout > {timeout} s", wall_s=float("inf"))
                else:
                    res = q.get() if not q.empty() else dict(error="crashed")
                row = {"problem": name, "n": n, "solver": solver,
                       "wall s": res.get("wall_s"), "outer it": res.get("nit"),
                       "ms / outer it": res.get("per_it_ms"), "inner steps": res.get("inner"),
                       "KKT": res.get("kkt"), "peak RSS MB": res.get("peak_mb"),
                       "note": res.get("error", "")}
                base[solver] = res.get("wall_s")
                rows.append(row)
                print(row, f"({time.perf_counter() - t0:.1f}s)", flush=True)
            for row in rows[-len(solvers):]:
                for peer in ("trust-constr", "IPOPT", "ours[exact]"):
                    w, b = row["wall s"], base.get(peer)
                    if w is not None and b and math.isfinite(b) and math.isfinite(w):
                        row[f"/ {peer}"] = w / b
    return rows


# --------------------------------------------------------------------------------------
# 3. convergence plot


def convergence_plot(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [_pde_local(18)]  # N = 3, as in the reference code
    probs, _ = collection()
    byname = {p.name: p for p in probs}
    for nm in ("HS40", "BT2", "HS6"):
        if nm in byname:
            cases.append(byname[nm])
            break
    fig, axes = plt.subplots(len(cases), 2, figsize=(10, 3.6 * len(cases)), squeeze=False)
    for row, p in zip(axes, cases):
        for sketch in ("gaussian", "countsketch", "kaczmarz", "exact"):
            r = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints,
                                     hess=p.hess, sketch=sketch, seed=0, tol=1e-8, maxiter=40,
                                     options={"max_inner": 20_000})
            k = np.array(r.history["kkt"])
            inner = np.r_[0, np.cumsum(r.history["inner_steps"])]
            row[0].semilogy(np.arange(len(k)), k, marker="o", ms=3, label=sketch)
            if sketch != "exact":
                row[1].semilogy(inner[: len(k)], k, marker="o", ms=3, label=sketch)
        n = len(p.x0)
        row[0].set(title=f"{p.name} (n={n}): KKT vs outer iterations", xlabel="outer iteration",
                   ylabel="||(grad L, c)||")
        row[1].set(title=f"{p.name}: KKT vs cumulative sketch steps", xlabel="inner (sketch) steps",
                   xscale="symlog")
        for ax in row:
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("wrote", path)


def main(argv=None) -> int:
    import sys
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--scalable" in argv:  # benchmark 2 lives in bench/constrained_scalable.py
        from bench import constrained_scalable
        return constrained_scalable.main([a for a in argv if a != "--scalable"])
    if "--robust" in argv:  # the default against trust-constr: bench/constrained_robust.py
        from bench import constrained_robust
        return constrained_robust.main([a for a in argv if a != "--robust"])
    ap = argparse.ArgumentParser(prog="python -m bench constrained")
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds")
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--timeout", type=float, default=300.0, help="per scalable run (s)")
    ap.add_argument("--skip-collection", action="store_true")
    ap.add_argument("--skip-scalable", action="store_true")
    ap.add_argument("--skip-plot", action="store_true")
    ap.add_argument("--repeats", type=int, default=3,
                    help="collection: best wall time of this many runs (runs under 1 s)")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([1000] if args.quick else [1000, 10000, 100000])
    sketches = ["gaussian", "countsketch", "kaczmarz", "exact"]
    sections, notes = {}, []
    if not args.skip_collection:
        summary, rows, source = bench_collection(sketches, repeats=args.repeats)
        sections["Collection summary"] = summary
        sections["Collection per problem"] = rows
        notes.append(f"Collection: {source}. Success = KKT residual <= {KKT_TOL} with "
                     "least-squares multipliers at the returned x and f within 1e-6 (relative) "
                     f"of f_star. Wall time: best of {args.repeats} runs for runs under 1 s "
                     "(every solver alike). 'wall / trust-constr' is the ratio of the median "
                     "wall times; the last column is the median of the per-problem ratios.")
    if not args.skip_scalable:
        timeout = min(args.timeout, 20.0) if args.quick else args.timeout
        sections["Scalable problems"] = bench_scalable(sizes, sketches, timeout)
        notes.append("Scalable: each solver runs in a forked child; peak RSS is the child's "
                     "(includes the problem data). Ratios are wall-time ours/peer.")
    if cyipopt is None:
        notes.append("IPOPT: cyipopt not installed (see docs/constrained.md), not measured.")
    env = environment(extra={"adasolve": adasolve.__version__})
    if sections:
        # a scalable-only run keeps the collection's results file intact
        family = "constrained_scalable" if args.skip_collection else "constrained"
        path = write_results(family, sections, env, notes="\n\n".join(notes))
        print("wrote", path)
    if not args.skip_plot:
        DOCS.mkdir(exist_ok=True)
        convergence_plot(DOCS / "constrained_convergence.png")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
