"""
adasolve's C++ cores (private: use the adasolve package)
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
from . import sor
from . import bcd
from . import mfac
from . import dag
from . import constrained
__all__: list[str] = ['bcd', 'check_compressed', 'constrained', 'dag', 'has_openmp', 'max_threads', 'mfac', 'sor']
@typing.overload
def check_compressed(name: str, inner: str, n_outer: typing.SupportsInt | typing.SupportsIndex, n_inner: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], check_indices: bool = True) -> None:
    """
    Raise ValueError unless indptr/indices describe a valid compressed sparse matrix.
    """
@typing.overload
def check_compressed(name: str, inner: str, n_outer: typing.SupportsInt | typing.SupportsIndex, n_inner: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], check_indices: bool = True) -> None:
    ...
def max_threads() -> int:
    """
    Number of OpenMP threads the C++ cores use (1 when built without OpenMP).
    """
has_openmp: bool
