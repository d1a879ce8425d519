"""The learned omega inside PETSc's KSP (its code lives in :mod:`adasolve.sor.petsc`)."""

from .sor.petsc import HeatDMDA, KSPSolveInfo, TunedKSP

__all__ = ["TunedKSP", "KSPSolveInfo", "HeatDMDA"]
