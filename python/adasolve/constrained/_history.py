"""History and result of :func:`minimize_eq`."""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
from scipy.optimize import OptimizeResult

_KEYS = ("kkt", "inner_steps", "inner_resid_ratio", "inner_tol_ratio", "inner_converged",
         "alpha", "eta1", "eta2", "delta", "shift", "delta_c", "time")


class History:
    """Per outer iteration: KKT residual (one more entry: the start), inner steps, achieved
    and required inner accuracy, step length, penalties, Hessian shift and regularization."""

    def __init__(self, t_start: float):
        self.t_start = t_start
        self.data = {k: [] for k in _KEYS}

    def start(self, kkt: float) -> None:
        self.data["kkt"].append(kkt)

    def kkt(self, gl: np.ndarray, c: np.ndarray) -> None:
        self.data["kkt"].append(float(np.sqrt(gl @ gl + c @ c)))

    def record(self, *, steps: int, resid_ratio: float, tol_ratio: float, converged: bool,
               alpha: float, eta1: float, eta2: float, delta: float, shift: float,
               delta_c: float) -> None:
        d = self.data
        d["inner_steps"].append(int(steps))
        d["inner_resid_ratio"].append(float(resid_ratio))
        d["inner_tol_ratio"].append(float(tol_ratio))
        d["inner_converged"].append(bool(converged))
        d["alpha"].append(alpha)
        d["eta1"].append(eta1)
        d["eta2"].append(eta2)
        d["delta"].append(delta)
        d["shift"].append(float(shift))
        d["delta_c"].append(delta_c)
        d["time"].append(time.perf_counter() - self.t_start)

    def result(self, counter: Any, x: np.ndarray, v: np.ndarray, fval: float,
               gl: Optional[np.ndarray], c: Optional[np.ndarray], status: int, message: str,
               nit: int, inner: int, sketch: str) -> OptimizeResult:
        kkt = float(np.sqrt(gl @ gl + c @ c)) if gl is not None else float("nan")
        return OptimizeResult(
            x=x, fun=fval, v=v, nit=nit, nfev=counter.nfev, njev=counter.njev,
            nhev=counter.nhev, kkt_residual=kkt,
            constr_violation=float(np.max(np.abs(c))) if c is not None and c.size else 0.0,
            inner_iterations=int(inner), success=status == 0, status=status, message=message,
            history=self.data, sketch=sketch, time=time.perf_counter() - self.t_start)
