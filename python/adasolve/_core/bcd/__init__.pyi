"""
greedy block coordinate descent
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
from . import glm
__all__: list[str] = ['Blocks', 'Loss', 'Options', 'Rule', 'Solver', 'TreeKind', 'Update', 'glm', 'resolve_blocks', 'tree_solve']
class Loss:
    """
    Members:
    
      least_squares
    
      logistic
    
      softmax
    
      quadratic
    """
    __members__: typing.ClassVar[dict[str, Loss]]
    least_squares: typing.ClassVar[Loss]
    logistic: typing.ClassVar[Loss]
    quadratic: typing.ClassVar[Loss]
    softmax: typing.ClassVar[Loss]
    @typing.overload
    def __eq__(self, other: Loss) -> bool:
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
    def __ne__(self, other: Loss) -> bool:
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
class Rule:
    """
    Members:
    
      cyclic
    
      random
    
      lipschitz
    
      gs
    
      gsl
    
      gsd
    
      gsq
    """
    __members__: typing.ClassVar[dict[str, Rule]]
    cyclic: typing.ClassVar[Rule]
    gs: typing.ClassVar[Rule]
    gsd: typing.ClassVar[Rule]
    gsl: typing.ClassVar[Rule]
    gsq: typing.ClassVar[Rule]
    lipschitz: typing.ClassVar[Rule]
    random: typing.ClassVar[Rule]
    @typing.overload
    def __eq__(self, other: Rule) -> bool:
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
    def __ne__(self, other: Rule) -> bool:
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
class Blocks:
    """
    Members:
    
      fixed
    
      sorted
    
      random
    
      variable
    
      tree
    
      auto
    """
    __members__: typing.ClassVar[dict[str, Blocks]]
    auto: typing.ClassVar[Blocks]
    fixed: typing.ClassVar[Blocks]
    random: typing.ClassVar[Blocks]
    sorted: typing.ClassVar[Blocks]
    tree: typing.ClassVar[Blocks]
    variable: typing.ClassVar[Blocks]
    @typing.overload
    def __eq__(self, other: Blocks) -> bool:
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
    def __ne__(self, other: Blocks) -> bool:
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
class Update:
    """
    Members:
    
      gradient
    
      lipschitz
    
      newton
    
      message_passing
    """
    __members__: typing.ClassVar[dict[str, Update]]
    gradient: typing.ClassVar[Update]
    lipschitz: typing.ClassVar[Update]
    message_passing: typing.ClassVar[Update]
    newton: typing.ClassVar[Update]
    @typing.overload
    def __eq__(self, other: Update) -> bool:
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
    def __ne__(self, other: Update) -> bool:
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
class TreeKind:
    """
    Members:
    
      grow
    
      red_black
    
      partition
    """
    __members__: typing.ClassVar[dict[str, TreeKind]]
    grow: typing.ClassVar[TreeKind]
    partition: typing.ClassVar[TreeKind]
    red_black: typing.ClassVar[TreeKind]
    @typing.overload
    def __eq__(self, other: TreeKind) -> bool:
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
    def __ne__(self, other: TreeKind) -> bool:
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
class Options:
    blocks: Blocks
    rule: Rule
    tree: TreeKind
    update: Update
    def __init__(self) -> None:
        ...
    @property
    def block_size(self) -> int:
        ...
    @block_size.setter
    def block_size(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def gram_limit(self) -> int:
        ...
    @gram_limit.setter
    def gram_limit(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def priority(self) -> int:
        ...
    @priority.setter
    def priority(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def seed(self) -> int:
        ...
    @seed.setter
    def seed(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def tol(self) -> float:
        ...
    @tol.setter
    def tol(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class Solver:
    def __init__(self, loss: Loss, X: typing.Any, y: typing.Any, Y: typing.Any, l1: typing.Any, l2: typing.Any, nonneg: bool, options: Options, x0: typing.Any = None) -> None:
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
    def options(self) -> Options:
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
def resolve_blocks(blocks: Blocks, rule: Rule) -> Blocks:
    ...
def tree_solve(A: tuple, block: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], r: typing.Any, gabp: bool = False) -> numpy.typing.NDArray[numpy.float64]:
    ...
