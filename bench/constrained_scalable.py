"""Scalable part of the constrained benchmark (issue 8, benchmark 2).

    python -m bench constrained --scalable [--quick] [--sizes 1000 10000 100000]
    python -m bench.constrained_scalable [same options]

Problems of ``adasolve.problems`` whose size n is the number of variables:
``pde_control`` (N = round(sqrt(n / 2)), n = 2 N^2), ``constrained_logistic`` (n features)
and ``eq_least_squares`` (n unknowns, m = n / 10). Solvers: ``minimize_eq`` with the default
(``sketch="auto"``), MINRES, the direct solve and the paper's sketches, scipy
``trust-constr`` and IPOPT (cyipopt, sparse
Jacobian / Hessian structures). Each solver runs in a forked child with a wall-time
limit; the child's peak RSS is reported. Run as

    flock /tmp/adasolve-bench.lock flock /tmp/adasolve-bigmem.lock \\
        python -m bench constrained --scalable
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint, minimize
from scipy.sparse.linalg import LinearOperator

import adasolve
from adasolve import problems as P
from bench._common import environment, write_results

try:  # optional peer
    import cyipopt  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    cyipopt = None

KKT_TOL = 1e-6
SKETCHES = ("auto", "minres", "exact", "gaussian", "countsketch", "kaczmarz")
PAPER_SKETCHES = ("gaussian", "countsketch", "kaczmarz")
PROBLEMS = ("pde_control", "constrained_logistic", "eq_least_squares")


def make_problem(name: str, n: int):
    if name == "pde_control":
        return P.pde_control(max(1, int(round(math.sqrt(n / 2)))))
    if name == "constrained_logistic":
        return P.constrained_logistic(n, seed=0)
    if name == "eq_least_squares":
        return P.eq_least_squares(n, seed=0)
    raise KeyError(name)


def _dense_or_sparse(M):
    if isinstance(M, LinearOperator):
        return None
    return M if sp.issparse(M) else np.asarray(M, dtype=float)


def kkt(p, x, v):
    """||(grad f + J^T v, c)|| with the solver's multipliers (L = f + v^T c)."""
    g = np.asarray(p.jac(x), float)
    J = p.c_jac(x)
    return float(np.linalg.norm(np.r_[g + J.T @ v, p.c(x)]))


# --------------------------------------------------------------------------------------
# solvers (each returns x, v, nit, wall_s and extras)


def run_ours(p, sketch, time_budget, progress=None):
    t = time.perf_counter()

    def cb(intermediate_result):  # lets the parent report a timed-out run's progress
        if progress is not None:
            progress(dict(progress=True, nit=intermediate_result.nit,
                          wall_s=time.perf_counter() - t,
                          kkt=intermediate_result.kkt_residual))

    r = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                             sketch=sketch, seed=0, tol=KKT_TOL, maxiter=200,
                             options={"max_inner": 10**8}, callback=cb)
    return dict(x=r.x, v=r.v, nit=r.nit, wall_s=time.perf_counter() - t,
                inner=r.inner_iterations, status=r.status)


def run_trust_constr(p, time_budget):
    z = np.zeros(p.m)
    con = NonlinearConstraint(p.c, z, z, jac=p.c_jac, hess=lambda x, v: p.c_hess(x, v))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(p.fun, p.x0, jac=p.jac, hess=lambda x: p.hess(x, z), method="trust-constr",
                     constraints=[con],
                     options={"gtol": KKT_TOL * 1e-2, "xtol": 1e-14, "maxiter": 1000})
    # scipy's Lagrangian is f + v^T c as well (lagrangian_grad = grad + J^T v)
    v = np.asarray(r.v[0], float)
    return dict(x=r.x, v=v, nit=r.nit, wall_s=time.perf_counter() - t, status=r.status)


class _IpoptNLP:
    """cyipopt problem with sparse Jacobian / Hessian structures (int arrays).

    Structures are taken once at x0 (with all multipliers 1); later evaluations are
    mapped onto them, so a value that happens to be zero never changes the pattern.
    """

    def __init__(self, p):
        self.p = p
        x0 = p.x0
        J0 = p.c_jac(x0)
        # dense matrices: the full (lower-triangular) pattern, so zeros at x0 cannot hide it
        Jc = sp.csr_matrix(J0) if sp.issparse(J0) else sp.csr_matrix(np.ones(np.shape(J0)))
        Jc.sum_duplicates()
        Jc.sort_indices()
        self.jpat = Jc
        jr, jc = _pattern_rows_cols(Jc)
        self.jstruct = (jr.astype(np.int64), jc.astype(np.int64))
        H = _dense_or_sparse(p.hess(x0, np.ones(p.m)))
        self.exact_hess = H is not None
        if self.exact_hess:
            Hl = sp.tril(sp.csr_matrix(H) if sp.issparse(H) else
                         sp.csr_matrix(np.ones(np.shape(H)))).tocsr()
            Hl = (Hl + sp.csr_matrix((np.ones(p.n), (np.arange(p.n), np.arange(p.n))),
                                     shape=(p.n, p.n)) * 0).tocsr()
            Hl.sum_duplicates()
            Hl.sort_indices()
            self.hpat = Hl
            hr, hc = _pattern_rows_cols(Hl)
            self.hstruct = (hr.astype(np.int64), hc.astype(np.int64))
        self.nit = 0

    def objective(self, x):
        return self.p.fun(x)

    def gradient(self, x):
        return np.asarray(self.p.jac(x), float)

    def constraints(self, x):
        return np.asarray(self.p.c(x), float)

    def jacobianstructure(self):
        return self.jstruct

    def jacobian(self, x):
        J = self.p.c_jac(x)
        if not sp.issparse(J):
            return np.asarray(J, float).ravel()  # full row-major pattern
        return _values_on(self.jpat, J)

    def hessianstructure(self):
        return self.hstruct

    def hessian(self, x, lagrange, obj_factor):
        p = self.p
        if obj_factor != 0.0:
            H = p.hess(x, np.asarray(lagrange) / obj_factor)
            H = H * obj_factor
        else:
            H = p.c_hess(x, np.asarray(lagrange))
        if not sp.issparse(H):
            return np.asarray(H, float)[np.tril_indices(self.p.n)]  # row-major lower
        return _values_on(self.hpat, sp.tril(sp.csr_matrix(H)))

    def intermediate(self, alg_mod, iter_count, *args):
        self.nit = iter_count


def _pattern_rows_cols(A):
    A = sp.csr_matrix(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return rows, A.indices.copy()


def _values_on(pat, M):
    """Values of M at the (sorted CSR) pattern `pat`; entries outside it must be zero."""
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    M.sort_indices()
    if (M.nnz == pat.nnz and np.array_equal(M.indptr, pat.indptr)
            and np.array_equal(M.indices, pat.indices)):
        return M.data.astype(float)
    # pattern differs (explicit zeros dropped or added): add 0 * pattern and read back
    S = (M + pat.multiply(0.0)).tocsr()
    S.sum_duplicates()
    S.sort_indices()
    if S.nnz != pat.nnz:
        raise ValueError("matrix pattern grew beyond the structure taken at x0")
    return S.data.astype(float)


def run_ipopt(p, time_budget):
    if cyipopt is None:
        raise RuntimeError("cyipopt not installed")
    nlp = _IpoptNLP(p)
    z = np.zeros(p.m)
    prob = cyipopt.Problem(n=p.n, m=p.m, problem_obj=nlp, lb=np.full(p.n, -2e19),
                           ub=np.full(p.n, 2e19), cl=z, cu=z)
    prob.add_option("tol", KKT_TOL * 1e-2)
    prob.add_option("print_level", 0)
    prob.add_option("sb", "yes")
    prob.add_option("max_iter", 3000)
    # (this Ipopt build has no max_wall_time: the parent's time limit kills the child)
    if not nlp.exact_hess:
        prob.add_option("hessian_approximation", "limited-memory")
    t = time.perf_counter()
    x, info = prob.solve(p.x0)
    wall = time.perf_counter() - t
    # IPOPT's Lagrangian is f + lambda^T g: the same sign as ours
    return dict(x=x, v=np.asarray(info["mult_g"], float), nit=nlp.nit, wall_s=wall,
                status=info["status"], hess="exact" if nlp.exact_hess else "L-BFGS")


MEM_CAP_GB = 8.0  # address-space cap of each child: a fill-in blow-up fails, not the machine


def _child(q, name, n, solver, budget):
    try:
        cap = int(MEM_CAP_GB * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        t0 = time.perf_counter()
        p = make_problem(name, n)
        setup = time.perf_counter() - t0
        q.put(dict(started=True, n=p.n, m=p.m))
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if solver.startswith("ours"):
            out = run_ours(p, solver[5:-1], budget, progress=q.put)
        elif solver == "trust-constr":
            out = run_trust_constr(p, budget)
        else:
            out = run_ipopt(p, budget)
        k = kkt(p, out["x"], out["v"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        q.put(dict(n=p.n, m=p.m, wall_s=out["wall_s"], nit=out["nit"], kkt=k,
                   peak_mb=peak / 1024.0, setup_mb=rss0 / 1024.0, setup_s=setup,
                   inner=out.get("inner"), status=out.get("status"), hess=out.get("hess"),
                   per_it_ms=1e3 * out["wall_s"] / max(1, out["nit"])))
    except MemoryError:
        q.put(dict(error=f"out of memory (cap {MEM_CAP_GB:g} GB)"))
    except Exception as exc:  # a solver crashing is a result, not a benchmark failure
        q.put(dict(error=f"{type(exc).__name__}: {exc}"[:200]))


def bench(sizes, limits, solvers, problems, on_size=None):
    ctx = mp.get_context("fork")
    rows = []
    for n in sizes:
        if on_size is not None and rows:
            on_size(rows)  # partial results survive an interrupted run
        for name in problems:
            group = []
            for solver in solvers:
                limit = limits(n, solver, name)
                q = ctx.Queue()
                pr = ctx.Process(target=_child, args=(q, name, n, solver, limit))
                t0 = time.perf_counter()
                pr.start()
                res = None
                last = None
                size = {}
                # the child builds the problem first (up to 300 s): the limit starts after
                deadline = t0 + 300.0
                while time.perf_counter() < deadline:
                    try:
                        msg = q.get(timeout=0.2)
                    except Exception:
                        if not pr.is_alive() and q.empty():
                            break
                        continue
                    if msg.get("started"):
                        size = dict(n=msg["n"], m=msg["m"])
                        deadline = time.perf_counter() + limit
                        continue
                    if msg.get("progress"):
                        last = msg
                        continue
                    res = msg
                    break
                if res is None:
                    if pr.is_alive():
                        res = dict(error=f"time limit {limit:.0f} s", wall_s=float("inf"),
                                   **size)
                        if last is not None:  # outer iterations done before the limit
                            res.update(nit=last["nit"], kkt=last["kkt"],
                                       per_it_ms=1e3 * last["wall_s"] / max(1, last["nit"]))
                            res["error"] += f" ({last['nit']} outer it in {last['wall_s']:.1f} s)"
                        else:
                            res["error"] += " (no outer iteration finished)"
                    else:
                        res = dict(error=f"crashed (exit code {pr.exitcode}; memory cap "
                                         f"{MEM_CAP_GB:g} GB)")
                if pr.is_alive():
                    pr.kill()
                pr.join()
                ok = "error" not in res and res.get("kkt", math.inf) <= KKT_TOL * 10
                if "error" not in res and res["wall_s"] > limit:
                    res["error"] = f"over the {limit:.0f} s limit"
                    ok = False
                row = {"problem": name, "n": res.get("n", n), "m": res.get("m"),
                       "solver": solver, "wall s": res.get("wall_s"),
                       "outer it": res.get("nit"), "ms / outer it": res.get("per_it_ms"),
                       "inner steps": res.get("inner"), "KKT": res.get("kkt"),
                       "solved": ok, "peak RSS MB": res.get("peak_mb"),
                       "note": res.get("error", "") or (f"hess={res['hess']}" if res.get("hess")
                                                        else "")}
                group.append(row)
                rows.append(row)
                print(row, f"({time.perf_counter() - t0:.1f}s)", flush=True)
            wall = {r["solver"]: r["wall s"] for r in group if r["solved"]}
            for r in group:
                for peer in ("trust-constr", "IPOPT", "ours[exact]", "ours[auto]"):
                    w, b = (r["wall s"] if r["solved"] else None), wall.get(peer)
                    r[f"/ {peer}"] = w / b if w is not None and b else None
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench constrained --scalable")
    ap.add_argument("--quick", action="store_true", help="n = 1000 only, short limits")
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--limit", type=float, nargs=3, default=[20.0, 30.0, 60.0],
                    metavar=("L1E3", "L1E4", "L1E5"),
                    help="wall-time limit (s) per solver at n <= 1e3, <= 1e4, larger")
    ap.add_argument("--sketch-limit", type=float, nargs=3, default=[15.0, 20.0, 45.0],
                    help="the same for the three sketching solvers")
    ap.add_argument("--stall-limit", type=float, default=15.0,
                    help="sketch limit on pde_control / eq_least_squares past n = 1e3")
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    ap.add_argument("--solvers", nargs="+", default=None)
    ap.add_argument("--out", default="constrained_scalable")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([1000] if args.quick else [1000, 10_000, 100_000])
    solvers = args.solvers or ([f"ours[{s}]" for s in SKETCHES] + ["trust-constr"]
                               + (["IPOPT"] if cyipopt is not None else []))

    def limits(n, solver, problem):
        i = 0 if n <= 1000 else 1 if n <= 10_000 else 2
        sketching = solver.startswith("ours") and solver[5:-1] in PAPER_SKETCHES
        lim = args.sketch_limit[i] if sketching else args.limit[i]
        if sketching and problem != "constrained_logistic" and n > 1000:
            # Laplacian / random-graph KKT: the sketches already stall at n = 1e3
            lim = min(lim, args.stall_limit)
        return min(lim, 10.0) if args.quick else lim

    notes = [
        "Each solver runs in a forked child; 'peak RSS MB' is the child's peak (problem data "
        "included). 'wall s' is the solver call only (problem construction excluded). "
        f"'solved': KKT residual ||(grad f + J^T v, c)|| <= {10 * KKT_TOL:g} with the solver's "
        "own multipliers (tolerance asked: 1e-6 ours, 1e-8 trust-constr / IPOPT). Ratios "
        "are wall-time row / peer among solved rows.",
        "n is the number of variables (pde_control: n = 2 N^2 for N = round(sqrt(n/2))).",
        "Sketches (gaussian: vector sketches; countsketch: block of default size; kaczmarz) "
        "run under the sketch limit; exact = sparse LDL^T with inertia-based Hessian "
        "modification and a cached symbolic analysis; minres = MINRES with the "
        "block-diagonal preconditioner and the CG curvature test; auto = the default's "
        "choice between them. IPOPT: cyipopt with sparse "
        "structures, exact Hessian unless noted (L-BFGS where the problem's Hessian is a "
        "LinearOperator), MUMPS; killed at the limit.",
    ]
    env = environment(extra={"adasolve": adasolve.__version__,
                             "cyipopt": getattr(cyipopt, "__version__", None)})

    def write(rows):
        path = write_results(args.out, {"Scalable problems": rows}, env,
                             notes="\n\n".join(notes))
        print("wrote", path, flush=True)

    write(bench(sizes, limits, solvers, args.problems, on_size=write))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
