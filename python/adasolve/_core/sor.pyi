"""
SOR / SSOR kernels
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Coloring', 'ContextualOmegaTuner', 'Csr_float32_int32', 'Csr_float32_int64', 'Csr_float64_int32', 'Csr_float64_int64', 'Iteration', 'OmegaTuner', 'Tuner', 'TunerAlgorithm', 'coloring', 'iteration', 'num_threads', 'set_num_threads', 'solve_sor', 'ssor_cg', 'tuner_feedback', 'young_mu2', 'young_omega']
class Csr_float64_int32:
    def __init__(self, n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float64]) -> None:
        ...
    def coloring(self) -> tuple[numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.int64]]:
        ...
    def inverse_diagonal(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    def ssor_apply(self, r: numpy.ndarray, z: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def sweep(self, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, direction: typing.SupportsInt | typing.SupportsIndex, iterations: typing.SupportsInt | typing.SupportsIndex, multicolor: bool) -> None:
        ...
    @property
    def n_colors(self) -> int:
        ...
class Csr_float64_int64:
    def __init__(self, n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float64]) -> None:
        ...
    def coloring(self) -> tuple[numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.int64]]:
        ...
    def inverse_diagonal(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    def ssor_apply(self, r: numpy.ndarray, z: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def sweep(self, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, direction: typing.SupportsInt | typing.SupportsIndex, iterations: typing.SupportsInt | typing.SupportsIndex, multicolor: bool) -> None:
        ...
    @property
    def n_colors(self) -> int:
        ...
class Csr_float32_int32:
    def __init__(self, n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int32], indices: numpy.typing.NDArray[numpy.int32], data: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def coloring(self) -> tuple[numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.int64]]:
        ...
    def inverse_diagonal(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def ssor_apply(self, r: numpy.ndarray, z: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def sweep(self, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, direction: typing.SupportsInt | typing.SupportsIndex, iterations: typing.SupportsInt | typing.SupportsIndex, multicolor: bool) -> None:
        ...
    @property
    def n_colors(self) -> int:
        ...
class Csr_float32_int64:
    def __init__(self, n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.typing.NDArray[numpy.int64], indices: numpy.typing.NDArray[numpy.int64], data: numpy.typing.NDArray[numpy.float32]) -> None:
        ...
    def coloring(self) -> tuple[numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.int64]]:
        ...
    def inverse_diagonal(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def ssor_apply(self, r: numpy.ndarray, z: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def sweep(self, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, direction: typing.SupportsInt | typing.SupportsIndex, iterations: typing.SupportsInt | typing.SupportsIndex, multicolor: bool) -> None:
        ...
    @property
    def n_colors(self) -> int:
        ...
class Coloring:
    @property
    def n_colors(self) -> int:
        ...
class TunerAlgorithm:
    """
    Members:
    
      auto
    
      tsallis_inf
    
      exp3
    
      ucb
    """
    __members__: typing.ClassVar[dict[str, TunerAlgorithm]]
    auto: typing.ClassVar[TunerAlgorithm]
    exp3: typing.ClassVar[TunerAlgorithm]
    tsallis_inf: typing.ClassVar[TunerAlgorithm]
    ucb: typing.ClassVar[TunerAlgorithm]
    @typing.overload
    def __eq__(self, other: TunerAlgorithm) -> bool:
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
    def __ne__(self, other: TunerAlgorithm) -> bool:
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
class Tuner:
    def load(self, arg0: typing.Any) -> None:
        ...
    def save(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    def time_steps(self, steps: typing.SupportsInt | typing.SupportsIndex, context: typing.SupportsFloat | typing.SupportsIndex = 0.5) -> float:
        ...
class OmegaTuner(Tuner):
    def __init__(self, omegas: typing.Any, algorithm: TunerAlgorithm, seed: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def history(self) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        ...
    def observe(self, omega: typing.SupportsFloat | typing.SupportsIndex, cost: typing.SupportsFloat | typing.SupportsIndex, rate: typing.Any = None) -> None:
        ...
    def suggest(self) -> float:
        ...
    @property
    def best_omega(self) -> float:
        ...
    @property
    def observations(self) -> int:
        ...
    @property
    def omegas(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def probabilities(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def young_samples(self) -> int:
        ...
class ContextualOmegaTuner(Tuner):
    def __init__(self, omegas: typing.Any, algorithm: TunerAlgorithm, bins: typing.SupportsInt | typing.SupportsIndex, degree: typing.SupportsInt | typing.SupportsIndex, lo: typing.SupportsFloat | typing.SupportsIndex, hi: typing.SupportsFloat | typing.SupportsIndex, fixed_range: bool, seed: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def best_omega(self, arg0: typing.Any) -> float:
        ...
    def history(self) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.int64], numpy.typing.NDArray[numpy.float64]]:
        ...
    def observe(self, omega: typing.SupportsFloat | typing.SupportsIndex, cost: typing.SupportsFloat | typing.SupportsIndex, context: typing.Any, rate: typing.Any = None) -> None:
        ...
    def predict(self, arg0: typing.Any) -> float:
        ...
    def suggest(self, arg0: typing.Any) -> float:
        ...
    @property
    def bins(self) -> int:
        ...
    @property
    def context_range(self) -> tuple[float, float]:
        ...
    @property
    def observations(self) -> int:
        ...
class Iteration:
    def run(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        ...
    @property
    def finished(self) -> bool:
        ...
    @property
    def omega(self) -> float:
        ...
def coloring(n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.ndarray, indices: numpy.ndarray) -> Coloring:
    ...
def iteration(pcg: bool, n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.ndarray, indices: numpy.ndarray, data: numpy.ndarray, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, tuner: typing.Any, context: typing.Any, rtol: typing.SupportsFloat | typing.SupportsIndex, atol: typing.SupportsFloat | typing.SupportsIndex, maxiter: typing.SupportsInt | typing.SupportsIndex, symmetric: bool, adaptive: bool, coloring: Coloring) -> Iteration:
    """
    A resumable solve (for per-iteration callbacks); a tuner observes when it finishes.
    """
def num_threads() -> int:
    """
    Number of threads of the SOR family's parallel kernels.
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Set the number of threads of the SOR family's parallel kernels.
    """
def solve_sor(n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.ndarray, indices: numpy.ndarray, data: numpy.ndarray, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, tuner: typing.Any, context: typing.Any, rtol: typing.SupportsFloat | typing.SupportsIndex, atol: typing.SupportsFloat | typing.SupportsIndex, maxiter: typing.SupportsInt | typing.SupportsIndex, symmetric: bool, adaptive: bool, coloring: Coloring) -> tuple:
    """
    Solve A x = b by SOR/SSOR in place of x; returns (info, nit, resid, r0, omega, factor, n_checks, mu, why).
    """
def ssor_cg(n: typing.SupportsInt | typing.SupportsIndex, indptr: numpy.ndarray, indices: numpy.ndarray, data: numpy.ndarray, b: numpy.ndarray, x: numpy.ndarray, omega: typing.SupportsFloat | typing.SupportsIndex, tuner: typing.Any, context: typing.Any, rtol: typing.SupportsFloat | typing.SupportsIndex, atol: typing.SupportsFloat | typing.SupportsIndex, maxiter: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    SSOR-preconditioned CG in place of x; returns the solve_sor tuple.
    """
def tuner_feedback(info: typing.SupportsInt | typing.SupportsIndex, nit: typing.SupportsInt | typing.SupportsIndex, factor: typing.SupportsFloat | typing.SupportsIndex, maxiter: typing.SupportsInt | typing.SupportsIndex) -> tuple[float, float]:
    """
    (cost, rate) a tuner observes of a solve: maxiter and NaN for a solve stopped early.
    """
def young_mu2(omega: typing.SupportsFloat | typing.SupportsIndex, rate: typing.SupportsFloat | typing.SupportsIndex) -> float:
    """
    Young's mu^2 from an observed SOR factor at omega; NaN when uninformative.
    """
def young_omega(mu: typing.SupportsFloat | typing.SupportsIndex) -> float:
    """
    Young's optimal SOR factor 2 / (1 + sqrt(1 - mu^2)).
    """
