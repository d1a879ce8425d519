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
__all__: list[str] = ['bcd', 'check_compressed', 'constrained', 'dag', 'has_openmp', 'max_threads', 'mfac', 'num_threads', 'set_num_threads', 'sor']
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
def num_threads() -> int:
    """
    Number of threads of adasolve's thread team (the multicolour SOR kernels); the default
    is the number of usable cores (at most 8), or ADASOLVE_NUM_THREADS / OMP_NUM_THREADS.
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Set the number of threads adasolve's parallel kernels use (n >= 1; at most 64 for the
    thread team of the SOR kernels, whose serial and parallel speeds are timed and the
    faster kept); also OpenMP's count for the calling thread.
    """
has_openmp: bool
