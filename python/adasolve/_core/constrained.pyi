"""
sketched Newton for equality constraints
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['HessianCheck', 'KKTDense', 'KKTSparse', 'Sketch', 'SparseKKTCache', 'damped_bfgs_update', 'kkt_dense', 'kkt_sparse', 'merit_value', 'predict_kkt_fill', 'sketch_solve']
class Sketch:
    """
    Inner solver of the KKT system
    
    Members:
    
      gaussian
    
      countsketch
    
      kaczmarz
    
      exact
    
      minres
    """
    __members__: typing.ClassVar[dict[str, Sketch]]
    countsketch: typing.ClassVar[Sketch]
    exact: typing.ClassVar[Sketch]
    gaussian: typing.ClassVar[Sketch]
    kaczmarz: typing.ClassVar[Sketch]
    minres: typing.ClassVar[Sketch]
    @typing.overload
    def __eq__(self, other: Sketch) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Sketch) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class HessianCheck:
    """
    Test of the reduced Hessian
    
    Members:
    
      none
    
      cholesky
    
      cg
    
      inertia
    """
    __members__: typing.ClassVar[dict[str, HessianCheck]]
    cg: typing.ClassVar[HessianCheck]
    cholesky: typing.ClassVar[HessianCheck]
    inertia: typing.ClassVar[HessianCheck]
    none: typing.ClassVar[HessianCheck]
    @typing.overload
    def __eq__(self, other: HessianCheck) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: HessianCheck) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class SparseKKTCache:
    def __init__(self) -> None:
        ...
    @property
    def analyses(self) -> int:
        ...
    @property
    def factor_nnz(self) -> int:
        ...
    @property
    def factorizations(self) -> int:
        ...
class KKTDense:
    def merit_directional(self, eta1: typing.SupportsFloat | typing.SupportsIndex, eta2: typing.SupportsFloat | typing.SupportsIndex, hg: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None) -> float:
        ...
    def solve(self, tol: typing.SupportsFloat | typing.SupportsIndex, max_steps: typing.SupportsInt | typing.SupportsIndex, max_seconds: typing.SupportsFloat | typing.SupportsIndex = ...) -> tuple[int, float, bool]:
        ...
    def warm_start(self, z0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"]) -> bool:
        ...
    @property
    def dv(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def dx(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def hess_norm(self) -> float:
        ...
    @property
    def jac_max_sv(self) -> float:
        ...
    @property
    def jac_min_sv(self) -> float:
        ...
    @property
    def kkt_fro_norm(self) -> float:
        ...
    @property
    def last_overflow(self) -> bool:
        ...
    @property
    def last_timed_out(self) -> bool:
        ...
    @property
    def reduced_min_eig(self) -> float:
        ...
    @property
    def resid_norm(self) -> float:
        ...
    @property
    def rhs_norm(self) -> float:
        ...
    @property
    def shift(self) -> float:
        ...
    @property
    def total_steps(self) -> int:
        ...
class KKTSparse:
    def merit_directional(self, eta1: typing.SupportsFloat | typing.SupportsIndex, eta2: typing.SupportsFloat | typing.SupportsIndex, hg: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None) -> float:
        ...
    def solve(self, tol: typing.SupportsFloat | typing.SupportsIndex, max_steps: typing.SupportsInt | typing.SupportsIndex, max_seconds: typing.SupportsFloat | typing.SupportsIndex = ...) -> tuple[int, float, bool]:
        ...
    def warm_start(self, z0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"]) -> bool:
        ...
    @property
    def dv(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def dx(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def hess_norm(self) -> float:
        ...
    @property
    def jac_max_sv(self) -> float:
        ...
    @property
    def jac_min_sv(self) -> float:
        ...
    @property
    def kkt_fro_norm(self) -> float:
        ...
    @property
    def last_overflow(self) -> bool:
        ...
    @property
    def last_timed_out(self) -> bool:
        ...
    @property
    def reduced_min_eig(self) -> float:
        ...
    @property
    def resid_norm(self) -> float:
        ...
    @property
    def rhs_norm(self) -> float:
        ...
    @property
    def shift(self) -> float:
        ...
    @property
    def total_steps(self) -> int:
        ...
def damped_bfgs_update(B: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.writeable", "flags.c_contiguous"], s: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], y: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> float:
    ...
def kkt_dense(H: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], G: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], grad_l: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], c: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], sketch: Sketch, sketch_size: typing.SupportsInt | typing.SupportsIndex, xi_B: typing.SupportsFloat | typing.SupportsIndex, pd_threshold: typing.SupportsFloat | typing.SupportsIndex, hessian_check: HessianCheck, seed: typing.SupportsInt | typing.SupportsIndex, delta_c: typing.SupportsFloat | typing.SupportsIndex = 0.0, shift_hint: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> KKTDense:
    ...
def kkt_sparse(n: typing.SupportsInt | typing.SupportsIndex, H_indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], H_indices: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], H_data: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], m: typing.SupportsInt | typing.SupportsIndex, G_indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], G_indices: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], G_data: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], grad_l: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], c: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], sketch: Sketch, sketch_size: typing.SupportsInt | typing.SupportsIndex, xi_B: typing.SupportsFloat | typing.SupportsIndex, pd_threshold: typing.SupportsFloat | typing.SupportsIndex, hessian_check: HessianCheck, seed: typing.SupportsInt | typing.SupportsIndex, cg_iters: typing.SupportsInt | typing.SupportsIndex = 50, delta_c: typing.SupportsFloat | typing.SupportsIndex = 0.0, cache: SparseKKTCache = None, shift_hint: typing.SupportsFloat | typing.SupportsIndex = 0.0, hessp: collections.abc.Callable | None = None) -> KKTSparse:
    ...
def merit_value(f: typing.SupportsFloat | typing.SupportsIndex, v: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], c: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], grad_l: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], eta1: typing.SupportsFloat | typing.SupportsIndex, eta2: typing.SupportsFloat | typing.SupportsIndex) -> float:
    ...
def predict_kkt_fill(n: typing.SupportsInt | typing.SupportsIndex, H_indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], H_indices: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], H_data: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], m: typing.SupportsInt | typing.SupportsIndex, G_indptr: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], G_indices: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], G_data: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> tuple[float, float]:
    """
    Predicted nonzeros of L and numeric work (sum of squared column counts) of the sparse LDL^T of the KKT matrix, from its symbolic analysis.
    """
def sketch_solve(K: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], b: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], sketch: Sketch, sketch_size: typing.SupportsInt | typing.SupportsIndex, rtol: typing.SupportsFloat | typing.SupportsIndex, max_steps: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex) -> tuple[typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], int, float, bool]:
    ...
