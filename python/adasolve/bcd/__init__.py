"""Greedy block coordinate descent (Nutini, Laradji and Schmidt, JMLR 2022).

- :mod:`adasolve.bcd.engine`: :func:`bcd_minimize` and the problem classes
  (:class:`LeastSquares`, :class:`Logistic`, :class:`Softmax`, :class:`LabelPropagation`);
  C++ in ``cpp/src/bcd``.
- :mod:`adasolve.bcd.datasets`: the paper's data sets A-E.
- scikit-learn estimators built on it: :mod:`adasolve.linear_model`,
  :mod:`adasolve.semi_supervised`.
"""

from .engine import *  # noqa: F401,F403
from .engine import __all__  # noqa: F401
from .engine import LabelPropagation, LeastSquares, Logistic, Softmax  # noqa: F401
