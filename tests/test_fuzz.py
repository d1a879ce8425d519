"""Property-based fuzzing of the public entry points with adversarial input (hypothesis).

Every case must end in a clear error (ValueError/TypeError) or a finite, correct result:
never a signal, a hang, or a non-finite result reported as a success. Calls that used to crash
the interpreter (malformed sparse index arrays) run in a child process, in batches, so that a
segfault fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from adasolve import SlidingIHVP, StaticIHVP, bcd_minimize, topo_swap  # noqa: E402
from adasolve._validation import check_sparse_structure  # noqa: E402
from adasolve.bcd import LeastSquares, Logistic, Softmax  # noqa: E402

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
                database=None)


# ------------------------------------------------------------------------------------------
# sparse index arrays


@st.composite
def compressed_arrays(draw):
    """(n_rows, n_cols, indptr, indices): valid about half of the time, else subtly broken."""
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(0, n_cols), min_size=n_rows, max_size=n_rows))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    nnz = int(indptr[-1])
    indices = np.array(draw(st.lists(st.integers(0, n_cols - 1), min_size=nnz, max_size=nnz)),
                       dtype=np.int64)
    how = draw(st.sampled_from(["valid", "big", "negative", "decreasing", "short", "first"]))
    if how == "big" and nnz:
        indices[draw(st.integers(0, nnz - 1))] = draw(st.sampled_from([n_cols, n_cols + 1, 2**31 - 1]))
    elif how == "negative" and nnz:
        indices[draw(st.integers(0, nnz - 1))] = draw(st.sampled_from([-1, -(2**31)]))
    elif how == "decreasing" and n_rows >= 2 and indptr[1] > 0:
        indptr[1] = indptr[2] + 1
    elif how == "short":
        indptr[-1] = nnz + draw(st.integers(1, 5))
    elif how == "first":
        indptr[0] = draw(st.sampled_from([-1, 1]))
    return n_rows, n_cols, indptr, indices


def _reference_valid(n_rows, n_cols, indptr, indices):
    """Tiny NumPy statement of what a valid CSR structure is."""
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] > indices.size:
        return False
    used = indices[: indptr[-1]]
    return bool(used.size == 0 or (used.min() >= 0 and used.max() < n_cols))


def _csr(n_rows, n_cols, indptr, indices, dtype=np.int32):
    """A CSR matrix with exactly these index arrays (SciPy would check them in its constructor)."""
    A = sp.csr_matrix((n_rows, n_cols))
    A.indptr = indptr.astype(dtype)
    A.indices = indices.astype(dtype)
    A.data = np.linspace(1.0, 2.0, indices.size) if indices.size else np.zeros(0)
    return A


@settings(FUZZ, max_examples=300)
@given(compressed_arrays(), st.sampled_from([np.int32, np.int64]))
def test_fuzz_sparse_validator_matches_reference(arrays, idx_dtype):
    A = _csr(*arrays, dtype=idx_dtype)
    if _reference_valid(*arrays):
        check_sparse_structure(A, "A")
    else:
        with pytest.raises(ValueError, match=r"^A has "):
            check_sparse_structure(A, "A")


_CHILD = r"""
import json, sys, numpy as np, scipy.sparse as sp
from scipy.optimize import LinearConstraint
from adasolve import solve_sor, ssor_cg, sor_sweep, bcd_minimize, minimize_eq
from adasolve.bcd import LeastSquares
from adasolve.linear_model import Lasso

def build(n, m, indptr, indices):
    A = sp.csr_matrix((n, m))
    A.indptr = np.array(indptr, dtype=np.int32)
    A.indices = np.array(indices, dtype=np.int32)
    A.data = np.linspace(1.0, 2.0, len(indices)) if len(indices) else np.zeros(0)
    return A

def square(A):
    # a diagonally dominant square matrix with A's (possibly broken) structure in its rows
    return A if A.shape[0] == A.shape[1] else None

out = []
for n, m, indptr, indices in json.loads(sys.stdin.read()):
    res = {}
    calls = {
        "bcd": lambda A: bcd_minimize(LeastSquares(A, np.ones(A.shape[0])), block_size=1,
                                      maxiter=50).x,
        "lasso": lambda A: Lasso(alpha=0.1, max_iter=50).fit(A, np.ones(A.shape[0])).coef_,
        "linear_constraint": lambda A: minimize_eq(
            lambda x: x @ x, np.ones(A.shape[1]), jac=lambda x: 2 * x,
            constraints=[LinearConstraint(A, 1, 1)], maxiter=20).x,
    }
    if n == m:
        calls["solve_sor"] = lambda A: solve_sor(A, np.ones(n), maxiter=20)[0]
        calls["ssor_cg"] = lambda A: ssor_cg(A, np.ones(n), maxiter=20)[0]
        calls["sor_sweep"] = lambda A: sor_sweep(A, np.ones(n), np.zeros(n))
    for name, call in calls.items():
        A = build(n, m, indptr, indices)
        try:
            x = np.asarray(call(A))
            res[name] = ["ok", bool(np.isfinite(x).all())]
        except Exception as exc:
            res[name] = [type(exc).__name__, str(exc)[:200]]
    out.append(res)
print(json.dumps(out))
"""


def test_fuzz_sparse_entry_points_in_child():
    # hypothesis draws a batch of structures; one child process runs every entry point on all
    # of them (a crash fails this test, and the batch keeps the run time low)
    cases = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(compressed_arrays())
    def collect(arrays):
        n, m, indptr, indices = arrays
        cases.append((n, m, indptr.tolist(), indices.tolist()))

    collect()
    r = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(cases),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"child died (rc={r.returncode}): {r.stderr[-3000:]}"
    results = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(results) == len(cases)
    for (n, m, indptr, indices), res in zip(cases, results):
        valid = _reference_valid(n, m, np.array(indptr), np.array(indices))
        for name, (kind, detail) in res.items():
            if not valid:
                assert kind == "ValueError", (name, n, m, indptr, indices, kind, detail)
                assert "index" in detail or "indptr" in detail, (name, detail)
            else:
                # valid structure: a finite result, or a clear error about the values
                # (e.g. a zero diagonal for SOR, a singular constraint Jacobian)
                assert kind in ("ok", "ValueError"), (name, n, m, indptr, indices, kind, detail)
                if kind == "ok":
                    assert detail is True, (name, "non-finite result")


# ------------------------------------------------------------------------------------------
# M-FAC: the sliding window equals a rebuild; the static inverse is the inverse


@settings(FUZZ, max_examples=25)
@given(
    d=st.integers(2, 80),
    m=st.integers(1, 12),
    log_damp=st.floats(-6, 1),
    block=st.one_of(st.none(), st.integers(1, 40)),
    log_scales=st.lists(st.floats(-4, 4), min_size=5, max_size=60),
    seed=st.integers(0, 2**16),
)
def test_fuzz_sliding_equals_rebuild(d, m, log_damp, block, log_scales, seed):
    damp = 10.0 ** log_damp
    rng = np.random.default_rng(seed)
    H = SlidingIHVP(d, m, damp, block_size=block, dtype=np.float64)
    for s in log_scales:
        H.update(rng.standard_normal(d) * 10.0 ** s)
    v = rng.standard_normal(d)
    ref = StaticIHVP(np.array(H.grads), damp, block_size=block).ihvp(v)
    got = H.ihvp(v)
    assert np.isfinite(got).all()
    assert np.linalg.norm(got - ref) <= 1e-10 * np.linalg.norm(ref)


@settings(FUZZ, max_examples=25)
@given(d=st.integers(1, 30), m=st.integers(1, 10), log_damp=st.floats(-3, 2),
       log_scale=st.floats(-3, 3), seed=st.integers(0, 2**16))
def test_fuzz_static_is_inverse(d, m, log_damp, log_scale, seed):
    damp = 10.0 ** log_damp
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, d)) * 10.0 ** log_scale
    F = damp * np.eye(d) + G.T @ G / m
    v = rng.standard_normal(d)
    x = StaticIHVP(G, damp).ihvp(v)
    # backward error: F x reproduces v to the conditioning of F
    assert np.linalg.norm(F @ x - v) <= 1e-8 * np.linalg.cond(F) * np.linalg.norm(v)


@settings(FUZZ, max_examples=30)
@given(dim=st.one_of(st.integers(-3, 0), st.integers(2**40, 2**70)), m=st.integers(-2, 2**40))
def test_fuzz_sliding_sizes(dim, m):
    with pytest.raises((ValueError, MemoryError)):
        SlidingIHVP(dim, m)


# ------------------------------------------------------------------------------------------
# BCD and topological swaps: overflow is never a success


@settings(FUZZ, max_examples=30)
@given(log_scale=st.sampled_from([-200, -100, -10, 0, 10, 100, 155, 160, 200, 300]),
       loss=st.sampled_from(["ls", "logistic"]), l2=st.sampled_from([0.0, 1.0]),
       seed=st.integers(0, 2**16))
def test_fuzz_bcd_never_nonfinite_success(log_scale, loss, l2, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 4)) * 10.0 ** log_scale
    y = rng.standard_normal(20)
    prob = LeastSquares(X, y, l2=l2) if loss == "ls" else Logistic(X, (y > 0).astype(float), l2=l2)
    res = bcd_minimize(prob, block_size=2, maxiter=300)
    if res.success:
        assert np.isfinite(res.fun) and np.isfinite(res.x).all()
    if not (np.isfinite(res.fun) and np.isfinite(res.x).all()):
        assert res.status == 3 and not res.success


@settings(FUZZ, max_examples=12)
@given(log_scale=st.sampled_from([-150, -10, 0, 10, 150, 160, 300]), seed=st.integers(0, 2**16))
def test_fuzz_topo_swap_never_nonfinite_success(log_scale, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4))
    X[:, 1] += X[:, 0]
    res = topo_swap(X * 10.0 ** log_scale, seed=0, max_iter=20)
    if res.success:
        assert np.isfinite(res.score) and np.isfinite(res.W_raw).all()
    else:
        assert res.status in (1, 2, 3)


@settings(FUZZ, max_examples=40)
@given(labels=st.lists(st.integers(0, 10**7), min_size=3, max_size=12))
def test_fuzz_softmax_labels(labels):
    n = len(labels)
    X = np.random.default_rng(0).standard_normal((n, 2))
    if max(labels) + 1 > max(2, n):
        with pytest.raises(ValueError, match="labels must be 0..K-1"):
            Softmax(X, labels)
    else:
        assert Softmax(X, labels).n_vars == 2 * max(2, max(labels) + 1)
