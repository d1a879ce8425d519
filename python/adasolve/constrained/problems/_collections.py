"""Equality-constrained test problems: collections and scalable generators."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import scipy.sparse as sp

from ..._validation import check_random_state
from ._base import EqualityProblem
from . import _hs

__all__ = [
    "EqualityProblem",
    "CUTEST_EQUALITY_NAMES",
    "hock_schittkowski",
    "cutest_equality",
    "pde_control",
    "constrained_logistic",
    "eq_least_squares",
]

#: The 47 equality-constrained CUTEst problems of Hong et al. (ICML 2023), in the paper's order.
CUTEST_EQUALITY_NAMES = tuple(
    "HS6 BT5 BT9 HS28 BT10 HIMMELBA BT12 HS40 BT3 BT6 BT11 HS7 GENHS28 HS51 SINVALNE BOOTH HS52 "
    "HS47 WAYSEA1NE HS48 HS50 RSNBRNE CUBENE HS77 MWRIGHT ZANGWIL3 TRIGON1NE BA-L1SP HS78 HS56 "
    "HELIXNE HS42 HS79 ORTHREGB HS100LNP GOTTFR HIMMELBE MOREBVNE WAYSEA2NE DENSCHNCNE DENSCHNFNE "
    "HIMMELBC PRICE4NE INTEQNE BA-L1 MANCINONE BT2".split()
)

_HS_NAMES = ("HS6", "HS7", "HS26", "HS27", "HS28", "HS39", "HS40", "HS42", "HS46", "HS47",
             "HS48", "HS49", "HS50", "HS51", "HS52", "HS56", "HS61", "HS77", "HS78", "HS79",
             "HS100LNP")


def hock_schittkowski() -> Dict[str, EqualityProblem]:
    """Equality-only Hock-Schittkowski problems, as a dict name -> problem (numeric order).

    Examples
    --------
    >>> from adasolve.problems import hock_schittkowski
    >>> p = hock_schittkowski()["HS28"]
    >>> p.n, p.m, p.f_star
    (3, 1, 0.0)
    """
    return {k: _hs.DEFS[k]() for k in _HS_NAMES if k in _hs.DEFS}


def cutest_equality() -> Dict[str, EqualityProblem]:
    """The paper's equality-constrained CUTEst problems, dict name -> problem in paper order.

    All 47 names of :data:`CUTEST_EQUALITY_NAMES` are present. Each problem's ``source`` and ``notes`` say where it comes from and which
    sizes and optimal values were chosen.

    Examples
    --------
    >>> from adasolve.problems import cutest_equality
    >>> probs = cutest_equality()
    >>> p = probs["BT9"]
    >>> p.n, p.m, p.f_star
    (4, 2, -1.0)
    """
    return {k: _hs.DEFS[k]() for k in CUTEST_EQUALITY_NAMES if k in _hs.DEFS}


# --------------------------------------------------------------------------- scalable problems

def _laplacian_2d(N: int, h: float) -> sp.csr_matrix:
    e = np.ones(N)
    T = sp.diags([e[:-1], -2 * e, e[:-1]], [-1, 0, 1], shape=(N, N))
    I = sp.identity(N)
    return ((sp.kron(I, T) + sp.kron(T, I)) / h**2).tocsr()


def pde_control(N: int) -> EqualityProblem:
    """Discretized PDE-constrained control problem of Hong et al. (2023).

    ``min 0.5 ||w - w_true||^2 + (0.1 / 2) ||z||^2  s.t.  Delta_h w + z = 0`` on an
    N x N interior grid, ``h = 2 / (N + 1)``, 5-point Laplacian ``Delta_h`` with zero
    Dirichlet boundary. Variables ``x = [w; z]``: ``n = 2 N^2``, ``m = N^2``. The target
    is the reference code's (IlgeeHong/AdaSketch-Newton, ``PDE/``), on grid indices
    ``i, j = 1..N``::

        w_true(i, j) = sin(4 + (0.1/sqrt(15)) (i - (N+1)/2)) + cos(3 + (0.1/sqrt(15)) (j - (N+1)/2))

    and so is the start ``x0 = 1`` (all ones). Jacobian and Hessian are sparse CSR; the
    constraint is linear, so this is a convex QP (Newton's method solves it in one step).

    Examples
    --------
    >>> from adasolve.problems import pde_control
    >>> p = pde_control(3)  # the reference code's size
    >>> p.n, p.m
    (18, 9)
    """
    N = int(N)
    if N < 1:
        raise ValueError(f"N must be >= 1, got {N}")
    h = 2.0 / (N + 1)
    idx = np.arange(1, N + 1, dtype=float)
    I, J = np.meshgrid(idx, idx, indexing="ij")
    s = 0.1 / np.sqrt(15.0)
    w_true = (np.sin(4.0 + s * (I - (N + 1) / 2)) + np.cos(3.0 + s * (J - (N + 1) / 2))).ravel()
    k = N * N
    L = _laplacian_2d(N, h)
    A = sp.hstack([L, sp.identity(k)], format="csr")
    alpha = 0.1
    Hdiag = np.concatenate([np.ones(k), alpha * np.ones(k)])
    H = sp.diags(Hdiag, format="csr")
    Zc = sp.csr_matrix((2 * k, 2 * k))

    def fun(x):
        w, z = x[:k], x[k:]
        r = w - w_true
        return 0.5 * r @ r + 0.5 * alpha * z @ z

    def jac(x):
        return np.concatenate([x[:k] - w_true, alpha * x[k:]])

    x0 = np.ones(2 * k)
    x0.setflags(write=False)
    return EqualityProblem(
        f"PDE_CONTROL_{N}", 2 * k, k, x0, fun, jac, lambda x, v: H.copy(),
        lambda x: A @ x, lambda x: A.copy(), lambda x, v: Zc.copy(), None, None,
        "Hong, Na, Mahoney, Kolar (ICML 2023), Section 6 (PDE-constrained problem)",
        "w_true(i,j) = sin(4 + 0.1/sqrt(15) (i-(N+1)/2)) + cos(3 + 0.1/sqrt(15) (j-(N+1)/2)), "
        "x0 = ones, as in the reference code; f_star unknown (convex QP: one KKT solve gives it).",
        {"A": A, "w_true": w_true})


def _logistic_data(n_features, n_samples, rng, data):
    if data is not None:
        if isinstance(data, str):
            from sklearn import datasets
            loader = getattr(datasets, f"load_{data}")
            X, y = loader(return_X_y=True)
        else:
            X, y = data
        X = X.tocsr().astype(float) if sp.issparse(X) else np.asarray(X, dtype=float)
        if not sp.issparse(X):
            X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
        y = np.asarray(y, dtype=float)
        y = np.where(y > 0, 1.0, -1.0)
        return X, y
    if n_samples is None:
        n_samples = 2 * n_features
    if n_samples * n_features > 4_000_000:
        # large sizes: sparse Gaussian features (~5 per sample) keep memory O(nnz); scaled
        # by sqrt(n / 5) so that margins and column norms match the dense N(0, 1) case
        k = 5.0
        scale = np.sqrt(n_features / k)
        X = sp.random(n_samples, n_features, density=min(1.0, k / n_features),
                      random_state=rng, data_rvs=lambda size: scale * rng.standard_normal(size),
                      format="csr")
    else:
        X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features)
    y = np.where(X @ w + 0.5 * rng.standard_normal(n_samples) > 0, 1.0, -1.0)
    return X, y


def constrained_logistic(n_features: int = 10, n_samples: Optional[int] = None, seed=0,
                         data=None) -> EqualityProblem:
    """Mean logistic loss with 10 random Gaussian linear equalities and ``||w||^2 = 1``.

    ``min (1/N) sum log(1 + exp(-y_i a_i^T w))  s.t.  G w = b, ||w||^2 - 1 = 0`` with
    ``G`` a (10, n) Gaussian matrix with N(0, 1/n) entries and ``b = G w0`` for a random
    unit ``w0`` (feasible).
    ``data``: None (generated Gaussian features, ``n_samples = 2 n`` by default), a
    scikit-learn loader name such as ``"breast_cancer"`` (standardized), or ``(X, y)``.
    ``m = 11`` (fewer linear rows when ``n <= 10``). For ``n <= 2000`` the Hessian is a
    dense array; above, a sparse CSR matrix ``Z^T D Z + 2 v_m I`` when the features are
    sparse (generated features are, about 5 per sample scaled by ``sqrt(n / 5)``, once
    ``n_samples * n`` exceeds 4e6) and a matrix-free ``LinearOperator`` otherwise.
    """
    rng = check_random_state(seed)
    X, y = _logistic_data(n_features, n_samples, rng, data)
    N, n = X.shape
    p = min(10, n - 1)
    # N(0, 1/n) entries: rows of about unit norm, on the scale of the gradient 2w of
    # ||w||^2 = 1 (N(0, 1) rows would make G G^T's condition number grow like n)
    G = rng.standard_normal((p, n)) / np.sqrt(n)
    w0 = rng.standard_normal(n)
    w0 /= np.linalg.norm(w0)
    b = G @ w0
    Z = sp.csr_matrix(sp.diags(-y) @ X) if sp.issparse(X) else -y[:, None] * X  # margin -Zw

    def _sig(t):
        return 0.5 * (1 + np.tanh(0.5 * t))

    def fun(w):
        return float(np.mean(np.logaddexp(0.0, Z @ w)))

    def jac(w):
        return Z.T @ _sig(Z @ w) / N

    def cval(w):
        return np.concatenate([G @ w - b, [w @ w - 1.0]])

    def cjac(w):
        return np.vstack([G, 2 * w[None, :]])

    dense = n <= 2000

    def chess(w, v):
        if dense:
            return 2.0 * v[-1] * np.eye(n)
        return sp.identity(n, format="csr") * (2.0 * v[-1])

    def hess(w, v):
        s = _sig(Z @ w)
        d = s * (1 - s) / N
        if dense:
            Zd = Z.toarray() if sp.issparse(Z) else Z
            return (Zd.T * d) @ Zd + chess(w, v)
        # an n x n dense Hessian would not fit: sparse Z^T D Z + mu I (Z sparse), or
        # matrix-free when the features are dense
        mu = 2.0 * v[-1]
        if sp.issparse(Z):
            return (Z.T @ sp.diags(d) @ Z + mu * sp.identity(n)).tocsr()
        from scipy.sparse.linalg import LinearOperator
        return LinearOperator((n, n), matvec=lambda u: Z.T @ (d * (Z @ u)) + mu * u,
                              dtype=float)

    x0 = np.zeros(n)
    x0[0] = 1.0
    x0.setflags(write=False)
    return EqualityProblem(
        f"LOGISTIC_{n}", n, p + 1, x0, fun, jac, hess, cval, cjac, chess, None, None,
        "Hong, Na, Mahoney, Kolar (ICML 2023), constrained logistic regression",
        "f_star unknown (nonconvex constraint ||w|| = 1).", {"X": X, "y": y, "G": G, "b": b})


def eq_least_squares(n: int, m: Optional[int] = None, density: float = None, seed=0
                     ) -> EqualityProblem:
    """Sparse least squares ``min 0.5 ||A x - b||^2 s.t. C x = d``.

    ``A`` is (2n, n) sparse with ``density`` (default ~5 nonzeros per row) plus the
    identity block (full column rank), ``C`` is (m, n) sparse (default ``m = n // 10``,
    at least 1) with a unit diagonal block so it has full row rank. ``d = C x_feas``.
    Jacobian and Hessian are sparse CSR; evaluation is O(nnz). ``f_star`` is computed
    by one sparse KKT solve when ``n <= 2000``, otherwise ``None`` (the random sparsity
    pattern fills in: a direct KKT solve takes minutes at ``n = 1e4``).
    """
    n = int(n)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    m = max(1, n // 10) if m is None else int(m)
    if not 1 <= m <= n:
        raise ValueError(f"m must be in [1, n], got {m}")
    rng = check_random_state(seed)
    if density is None:
        density = min(1.0, 5.0 / n)
    A = sp.vstack([sp.random(n, n, density=density, random_state=rng, format="csr"),
                   sp.identity(n, format="csr")], format="csr")
    b = rng.standard_normal(2 * n)
    C = (sp.random(m, n, density=min(1.0, 3.0 / n), random_state=rng, format="csr")
         + sp.eye(m, n, format="csr")).tocsr()
    d = C @ rng.standard_normal(n)
    AtA = (A.T @ A).tocsr()
    Atb = A.T @ b
    Zc = sp.csr_matrix((n, n))

    def fun(x):
        r = A @ x - b
        return 0.5 * float(r @ r)

    def jac(x):
        return A.T @ (A @ x - b)

    f_star = None
    if n <= 2000:  # the random pattern fills in: SuperLU takes minutes at n = 1e4
        from scipy.sparse.linalg import spsolve
        K = sp.bmat([[AtA, C.T], [C, None]], format="csc")
        sol = spsolve(K, np.concatenate([Atb, d]))
        f_star = fun(sol[:n])
    x0 = np.zeros(n)
    x0.setflags(write=False)
    return EqualityProblem(
        f"EQLS_{n}_{m}", n, m, x0, fun, jac, lambda x, v: AtA.copy(),
        lambda x: C @ x - d, lambda x: C.copy(), lambda x, v: Zc.copy(), f_star, None,
        "adasolve (generated)", "" if f_star is not None else "f_star not computed for n > 2000",
        {"A": A, "b": b, "C": C, "d": d})
