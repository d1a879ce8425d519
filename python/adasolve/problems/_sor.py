"""Linear-system sequences of the SOR family (Khodak et al., "Learning to Relax").

- :func:`poisson2d`: the 5-point Laplacian on an ``n x n`` interior grid.
- :func:`shifted_laplacian_sequence`: the paper's synthetic sequence ``A + c_t I``
  (``learning.m``, ``contextual.m``).
- :func:`heat_equation_sequence`: the paper's 2-D heat equation with Crank-Nicolson
  time stepping and a time-varying diffusion coefficient (``h2d.m``).
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import numpy as np
import scipy.sparse as sp

from .._validation import check_random_state, check_scalar, check_choice

__all__ = ["poisson2d", "shifted_laplacian_sequence", "heat_equation_sequence", "HeatEquationSequence"]


def poisson2d(n: int, *, dtype=np.float64) -> sp.csr_matrix:
    """The 5-point Laplacian (4 on the diagonal, -1 off) on an ``n x n`` interior grid.

    Rows are numbered lexicographically; the matrix is symmetric positive definite
    of size ``n**2`` (MATLAB's ``delsq(numgrid('S', n + 2))``).

    Examples
    --------
    >>> from adasolve.problems import poisson2d
    >>> A = poisson2d(3); A.shape, A.diagonal()[0]
    ((9, 9), 4.0)
    """
    n = check_scalar(n, "n", kind=int, low=1)
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), dtype=dtype)
    I = sp.identity(n, dtype=dtype)
    A = (sp.kron(I, T) + sp.kron(T, I)).tocsr()
    A.sort_indices()
    return A.astype(dtype)


def _truncated_gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    # learning.m: standard Gaussian conditioned on ||b|| <= sqrt(n), by rejection.
    while True:
        b = rng.standard_normal(n)
        if b @ b <= n:
            return b


def shifted_laplacian_sequence(
    n_instances: int = 5000,
    *,
    grid: int = 10,
    variance: str = "high",
    seed=None,
) -> Iterator[Tuple[sp.csr_matrix, np.ndarray, float]]:
    """The paper's synthetic SOR sequence: ``A_t = L + c_t I`` with random offsets.

    ``L`` is :func:`poisson2d` of ``grid`` (10 -> n = 100 as in the paper), and
    ``c_t = -0.15 + 0.6 Beta(0.5, 1.5)`` (``variance="high"``) or ``Beta(2, 6)``
    (``"low"``); ``b_t`` is a standard Gaussian truncated to ``||b|| <= sqrt(n)``.

    Yields
    ------
    (A, b, context) with ``context = c_t`` (a float).

    Examples
    --------
    >>> from adasolve.problems import shifted_laplacian_sequence
    >>> A, b, c = next(shifted_laplacian_sequence(1, seed=0)); A.shape
    (100, 100)
    """
    n_instances = check_scalar(n_instances, "n_instances", kind=int, low=1)
    variance = check_choice(variance, "variance", ["high", "low"])
    rng = check_random_state(seed)
    L = poisson2d(grid)
    n = L.shape[0]
    I = sp.identity(n, format="csr")
    for _ in range(n_instances):
        if variance == "high":
            c = -0.15 + 0.6 * rng.beta(0.5, 1.5)
        else:
            c = rng.beta(2.0, 6.0)
        A = (L + c * I).tocsr()
        A.sort_indices()
        yield A, _truncated_gaussian(rng, n), float(c)


def _bump(X: np.ndarray, Y: np.ndarray, cx: float, cy: float, radius: float) -> np.ndarray:
    r2 = ((X - cx) ** 2 + (Y - cy) ** 2) / radius**2
    out = np.zeros_like(X)
    inside = r2 < 1
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - r2[inside]))
    return out


class HeatEquationSequence:
    """The paper's 2-D heat equation as a sequence of SPD systems (``h2d.m``).

    ``u_t = kappa(t) Laplace(u) + f(x, y, t)`` on the unit square, Dirichlet zero
    boundary, 5-point Laplacian with ``dx = 1 / nx``, Crank-Nicolson steps of
    ``dt = stoptime / steps``. Step ``t`` solves
    ``(I - dt/2 kappa L) u_new = (I + dt/2 kappa L) u + dt f`` with
    ``kappa = kappa(t + dt/2) = max(0.1 sin(2 pi t), -10 sin(2 pi t))`` (between 0 and 10),
    a moving bump source of height 32 and radius 0.125 centred at
    ``(0.5 + cos(16 pi t)/4, 0.5 + sin(16 pi t)/4)``, and a bump of radius 0.25 at the
    centre as initial condition.

    The right-hand side needs the previous solution: iterate and pass each solution
    back with :meth:`advance` (without it, the exact solution is computed for you by
    a sparse direct solve, which is slow for large grids).

    Examples
    --------
    >>> from adasolve.problems import HeatEquationSequence
    >>> from adasolve import ssor_cg
    >>> seq = HeatEquationSequence(nx=10, steps=3)
    >>> for A, b, kappa in seq:
    ...     x, info = ssor_cg(A, b, seq.u, omega=1.5)
    ...     seq.advance(x)
    >>> seq.t
    0.003
    """

    def __init__(self, nx: int = 50, steps: int = 5000, *, stoptime: float = 5.0):
        self.nx = check_scalar(nx, "nx", kind=int, low=3)
        self.steps = check_scalar(steps, "steps", kind=int, low=1)
        self.dt = check_scalar(stoptime, "stoptime", low=0.0, low_inclusive=False) / self.steps
        m = self.nx - 1
        self.n = m * m
        h = 1.0 / self.nx
        self.L = (-poisson2d(m) / h**2).tocsr()  # negative definite Laplacian
        xs = np.arange(1, self.nx) * h
        self._X, self._Y = np.meshgrid(xs, xs, indexing="xy")
        self.u = _bump(self._X, self._Y, 0.5, 0.5, 0.25).ravel()
        self.k = 0
        self._pending = False
        self._I = sp.identity(self.n, format="csr")

    @property
    def t(self) -> float:
        return round(self.k * self.dt, 12)

    @staticmethod
    def kappa(t: float) -> float:
        """The diffusion coefficient ``max(0.1 sin 2 pi t, -10 sin 2 pi t)``."""
        s = np.sin(2 * np.pi * t)
        return float(max(0.1 * s, -10.0 * s))

    def forcing(self, t: float) -> np.ndarray:
        cx = 0.5 + np.cos(16 * np.pi * t) / 4
        cy = 0.5 + np.sin(16 * np.pi * t) / 4
        return 32.0 * _bump(self._X, self._Y, cx, cy, 0.125).ravel()

    def system(self) -> Tuple[sp.csr_matrix, np.ndarray, float]:
        """The system of the current step: ``(A, b, kappa)``."""
        t = self.k * self.dt
        kap = self.kappa(t + self.dt / 2)
        half = 0.5 * kap * self.dt
        A = (self._I - half * self.L).tocsr()
        A.sort_indices()
        b = self.u + half * (self.L @ self.u) + self.dt * self.forcing(t + self.dt / 2)
        return A, b, kap

    def advance(self, u_new) -> None:
        """Accept the solution of the current step and move to the next."""
        u_new = np.asarray(u_new, dtype=np.float64).reshape(-1)
        if u_new.shape[0] != self.n:
            raise ValueError(f"u_new has length {u_new.shape[0]}, expected {self.n}")
        self.u = u_new.copy()
        self.k += 1
        self._pending = False

    def __iter__(self):
        while self.k < self.steps:
            k_before = self.k
            A, b, kap = self.system()
            self._pending = True
            yield A, b, kap
            if self.k == k_before:  # the caller did not advance: do it exactly
                from scipy.sparse.linalg import spsolve

                self.advance(spsolve(A.tocsc(), b))


def heat_equation_sequence(nx: int = 50, steps: int = 5000, *, stoptime: float = 5.0) -> HeatEquationSequence:
    """The paper's heat-equation sequence; see :class:`HeatEquationSequence`.

    ``nx`` in the paper: 25, 50, 100, 200, 400 (``n = (nx - 1)**2`` unknowns);
    ``steps = 5000`` and ``stoptime = 5`` give ``dt = 1e-3``.
    """
    return HeatEquationSequence(nx, steps, stoptime=stoptime)
