"""
greedy block coordinate descent
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
from . import glm
__all__: list[str] = ['Solver', 'glm', 'tree_solve']
class Solver:
    def __init__(self, loss: str, X: typing.Any, y: typing.Any, Y: typing.Any, l1: typing.Any, l2: typing.Any, nonneg: bool, rule: str, blocks: str, update: str, block_size: typing.SupportsInt | typing.SupportsIndex, tol: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, gram_limit: typing.SupportsInt | typing.SupportsIndex = 4096, x0: typing.Any = None, tree: str = 'grow', priority: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    def run(self, iters: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @property
    def converged(self) -> bool:
        ...
    @property
    def fun(self) -> float:
        ...
    @property
    def hist_fun(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def hist_opt(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def hist_time(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def last_block(self) -> list[int]:
        ...
    @property
    def nit(self) -> int:
        ...
    @property
    def optimality(self) -> float:
        ...
    @property
    def partition(self) -> list[list[int]]:
        ...
    @property
    def uses_priority(self) -> bool:
        ...
    @property
    def x(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
def tree_solve(A: tuple, block: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], r: typing.Any, gabp: bool = False) -> numpy.typing.NDArray[numpy.float64]:
    ...
