"""
Topological-swap search for NOTEARS objectives (Deng et al., ICML 2023)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Solver', 'default_sizes', 'greedy_order', 'greedy_order_cov']
class Solver:
    @staticmethod
    def from_gram(cov: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], n: typing.SupportsInt | typing.SupportsIndex, order: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], l1: typing.SupportsFloat | typing.SupportsIndex = 0.0, l2: typing.SupportsFloat | typing.SupportsIndex = 0.0, size_small: typing.SupportsInt | typing.SupportsIndex = -1, size_large: typing.SupportsInt | typing.SupportsIndex = -1, n_large_search: typing.SupportsInt | typing.SupportsIndex = -1, check: bool = False, required: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = [], forbidden: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = [], precede: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> Solver:
        """
        Solver from the centred covariance cov = Xc^T Xc / n (loss 'l2', linear model).
        """
    def __init__(self, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], order: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], loss: str = 'l2', l1: typing.SupportsFloat | typing.SupportsIndex = 0.0, l2: typing.SupportsFloat | typing.SupportsIndex = 0.0, size_small: typing.SupportsInt | typing.SupportsIndex = -1, size_large: typing.SupportsInt | typing.SupportsIndex = -1, n_large_search: typing.SupportsInt | typing.SupportsIndex = -1, check: bool = False, model: str = 'linear', n_knots: typing.SupportsInt | typing.SupportsIndex = 5, required: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = [], forbidden: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = [], precede: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> None:
        ...
    def exact_score(self) -> float:
        ...
    def step(self) -> bool:
        """
        One outer iteration; returns True when no candidate swap improves the score.
        """
    @property
    def W(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def check_max_diff(self) -> float:
        ...
    @property
    def history(self) -> list[float]:
        ...
    @property
    def large_used(self) -> int:
        ...
    @property
    def n_evaluated(self) -> int:
        ...
    @property
    def n_iter(self) -> int:
        ...
    @property
    def n_large_search(self) -> int:
        ...
    @property
    def n_swaps(self) -> int:
        ...
    @property
    def order(self) -> list[int]:
        ...
    @property
    def score(self) -> float:
        ...
    @property
    def size_large(self) -> int:
        ...
    @property
    def size_small(self) -> int:
        ...
def default_sizes(arg0: typing.SupportsInt | typing.SupportsIndex) -> tuple[int, int, int]:
    ...
def greedy_order(X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], precede: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> list[int]:
    ...
def greedy_order_cov(cov: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, n]"], precede: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> list[int]:
    ...
