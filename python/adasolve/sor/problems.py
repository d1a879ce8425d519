"""Linear-system sequences of Khodak et al., "Learning to Relax" (ICLR 2024)."""

from __future__ import annotations

import math
from typing import Any, Iterator, Optional, Tuple

import numpy as np
import scipy.sparse as sp

from .._validation import check_choice, check_random_state, check_scalar

__all__ = ["poisson2d", "heat_equation_sequence", "shifted_laplacian_sequence", "HeatEquationSequence"]


def poisson2d(n: int) -> sp.csr_matrix:
    """The 5-point Laplacian (positive definite, diagonal 4) on an ``n x n`` interior grid, CSR.

    Unknowns are ordered lexicographically (as MATLAB's ``delsq(numgrid('S', n+2))``).

    Examples
    --------
    >>> A = poisson2d(3); A.shape, A.diagonal()[0]
    ((9, 9), 4.0)
    """
    n = check_scalar(n, "n", kind=int, low=1)
    e = np.ones(n)
    T = sp.diags([-e[:-1], 2 * e, -e[:-1]], [-1, 0, 1])
    I = sp.identity(n)
    A = (sp.kron(I, T) + sp.kron(T, I)).tocsr()
    A.sort_indices()
    return A


def shifted_laplacian_sequence(instances: int = 5000, *, n: int = 10, variance: str = "high",
                               seed: Any = None) -> Iterator[Tuple[sp.csr_matrix, np.ndarray, float]]:
    """The paper's synthetic SOR sequence: ``A_t = poisson2d(n) + c_t I``.

    ``c_t = -0.15 + 0.6 * Beta(0.5, 1.5)`` (``variance="high"``) or
    ``-0.15 + 0.6 * Beta(2, 6)`` (``"low"``); ``b_t`` is standard Gaussian
    conditioned on ``||b|| <= sqrt(n^2)`` (rejection sampling).  Yields
    ``(A_t, b_t, c_t)``; the context is ``c_t``.

    Examples
    --------
    >>> A, b, c = next(shifted_laplacian_sequence(1, seed=0)); A.shape
    (100, 100)
    """
    instances = check_scalar(instances, "instances", kind=int, low=1)
    variance = check_choice(variance, "variance", ["high", "low"])
    rng = check_random_state(seed)
    L = poisson2d(n)
    I = sp.identity(L.shape[0], format="csr")
    a, bb = (0.5, 1.5) if variance == "high" else (2.0, 6.0)
    N = L.shape[0]
    for _ in range(instances):
        c = -0.15 + 0.6 * float(rng.beta(a, bb))
        while True:
            b = rng.standard_normal(N)
            if b @ b <= N:
                break
        A = (L + c * I).tocsr()
        A.sort_indices()
        yield A, b, c


def _bump(X: np.ndarray, Y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    # Smooth compactly supported bump exp(1 - 1/(1 - (d/r)^2)), peak 1 at the centre.
    d2 = ((X - cx) ** 2 + (Y - cy) ** 2) / (r * r)
    out = np.zeros_like(d2)
    m = d2 < 1.0
    out[m] = np.exp(1.0 - 1.0 / (1.0 - d2[m]))
    return out


def diffusion_coefficient(t: float) -> float:
    """The paper's time-varying diffusion ``max(0.1 sin 2 pi t, -10 sin 2 pi t)`` in [0, 10]."""
    s = math.sin(2.0 * math.pi * t)
    return max(0.1 * s, -10.0 * s)


class HeatEquationSequence:
    """The paper's 2-D heat equation (h2d.m) as a sequence of linear systems.

    Crank-Nicolson on the unit square, Dirichlet 0, ``dx = 1/nx`` (so
    ``(nx-1)^2`` unknowns), step ``dt``.  Step ``k`` (time ``t = k dt``) solves
    ``(I - dt/2 kappa L) u_new = (I + dt/2 kappa L) u + dt f`` with
    ``kappa = kappa(t + dt/2)`` and ``L`` the 5-point Laplacian over ``dx^2``.

    The right-hand side depends on the previous solution, so the sequence
    takes the solution back: iterate ``for A, b, ctx in seq: x = solve(A, b);
    seq.step(x)``.  If a step is not given a solution, the next iteration
    solves the previous system exactly (sparse LU), so plain iteration also
    works.  ``seq.u`` is the current state (the natural warm start).
    The context is the diffusion coefficient ``kappa``.
    """

    def __init__(self, nx: int = 25, steps: int = 5000, dt: float = 1e-3) -> None:
        self.nx = check_scalar(nx, "nx", kind=int, low=3)
        self.steps = check_scalar(steps, "steps", kind=int, low=1)
        self.dt = check_scalar(dt, "dt", low=0.0, low_inclusive=False)
        m = self.nx - 1
        dx = 1.0 / self.nx
        self.L = (-poisson2d(m) / (dx * dx)).tocsr()
        g = np.arange(1, self.nx) * dx
        self._X, self._Y = np.meshgrid(g, g, indexing="xy")  # row-major: y outer, x inner
        self.u = _bump(self._X, self._Y, 0.5, 0.5, 0.25).ravel()
        self._I = sp.identity(m * m, format="csr")
        self.k = 0
        self._pending: Optional[Tuple[sp.csr_matrix, np.ndarray]] = None

    def forcing(self, t: float) -> np.ndarray:
        cx = 0.5 + math.cos(16 * math.pi * t) / 4
        cy = 0.5 + math.sin(16 * math.pi * t) / 4
        return 32.0 * _bump(self._X, self._Y, cx, cy, 0.125).ravel()

    def system(self, u: np.ndarray, k: int) -> Tuple[sp.csr_matrix, np.ndarray, float]:
        """``(A, b, kappa)`` for step ``k`` from state ``u``."""
        th = (k + 0.5) * self.dt
        kap = diffusion_coefficient(th)
        hL = (0.5 * kap * self.dt) * self.L
        A = (self._I - hL).tocsr()
        A.sort_indices()
        b = u + hL @ u + self.dt * self.forcing(th)
        return A, b, kap

    def step(self, u: Any) -> None:
        """Give back the solution of the last system; it becomes the state."""
        u = np.asarray(u, dtype=np.float64).ravel()
        if u.shape != self.u.shape:
            raise ValueError(f"u must have {self.u.size} entries, got {u.size}")
        self.u = u.copy()
        self._pending = None

    advance = step  # alias: "advance the sequence with this solution"

    def __iter__(self) -> "HeatEquationSequence":
        return self

    def __len__(self) -> int:
        return self.steps

    def __next__(self) -> Tuple[sp.csr_matrix, np.ndarray, float]:
        if self._pending is not None:  # no solution was given back: solve exactly
            import scipy.sparse.linalg as sla

            A, b = self._pending
            self.u = sla.spsolve(A.tocsc(), b)
        if self.k >= self.steps:
            raise StopIteration
        A, b, kap = self.system(self.u, self.k)
        self.k += 1
        self._pending = (A, b)
        return A, b, kap


def heat_equation_sequence(nx: int = 25, steps: int = 5000, dt: float = 1e-3) -> HeatEquationSequence:
    """The paper's Crank-Nicolson heat-equation sequence; see :class:`HeatEquationSequence`.

    Examples
    --------
    >>> seq = heat_equation_sequence(nx=8, steps=2)
    >>> for A, b, kappa in seq:
    ...     seq.step(np.linalg.solve(A.toarray(), b))
    >>> seq.k
    2
    """
    return HeatEquationSequence(nx, steps, dt)
