"""The M-FAC optimizer for PyTorch (its code lives in :mod:`adasolve.mfac.torch`)."""

from .mfac.torch import MFAC

__all__ = ["MFAC"]
