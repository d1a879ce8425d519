"""
working-set coordinate descent for L1(+L2) GLMs (Lasso, ElasticNet, L1 logistic)
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['gap_csc', 'gap_dense', 'group_csc', 'group_dense', 'pen_csc', 'pen_dense', 'solve_csc', 'solve_dense']
@typing.overload
def gap_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
@typing.overload
def gap_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
def gap_dense(X: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
@typing.overload
def group_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float64], Y: numpy.typing.NDArray[numpy.float64], W: numpy.typing.NDArray[numpy.float64], b: numpy.typing.NDArray[numpy.float64], grp_ptr: numpy.typing.NDArray[numpy.int64], grp_indices: numpy.typing.NDArray[numpy.int64], **kwargs) -> dict:
    ...
@typing.overload
def group_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float64], Y: numpy.typing.NDArray[numpy.float64], W: numpy.typing.NDArray[numpy.float64], b: numpy.typing.NDArray[numpy.float64], grp_ptr: numpy.typing.NDArray[numpy.int64], grp_indices: numpy.typing.NDArray[numpy.int64], **kwargs) -> dict:
    ...
def group_dense(X: numpy.typing.NDArray[numpy.float64], Y: numpy.typing.NDArray[numpy.float64], W: numpy.typing.NDArray[numpy.float64], b: numpy.typing.NDArray[numpy.float64], grp_ptr: numpy.typing.NDArray[numpy.int64], grp_indices: numpy.typing.NDArray[numpy.int64], **kwargs) -> dict:
    """
    Group lasso / multi-task lasso (W: (p, T) C order, b: (T,), both in place); returns a dict with gap, primal, dual, n_outer, n_epochs, info.
    """
@typing.overload
def pen_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
@typing.overload
def pen_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
def pen_dense(X: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    """
    General datafit (quadratic, huber, poisson) + separable penalty (l1, mcp, scad), in place; returns a dict with the intercept, kkt, objective, n_outer, n_epochs, info.
    """
@typing.overload
def solve_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
@typing.overload
def solve_csc(n: typing.SupportsInt | typing.SupportsIndex, p: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    ...
def solve_dense(X: numpy.typing.NDArray[numpy.float64], y: numpy.typing.NDArray[numpy.float64], w: numpy.typing.NDArray[numpy.float64], intercept: typing.SupportsFloat | typing.SupportsIndex, **kwargs) -> dict:
    """
    Solve in place (w is the warm start and the result); returns a dict with the intercept, gap, primal, dual, n_outer, n_epochs, info and gap_history.
    """
