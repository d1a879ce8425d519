"""The omega tuners (their code lives in :mod:`adasolve.sor.tuning`; this name is kept so that
``from adasolve.tuning import OmegaTuner`` and older pickles keep working)."""

from .sor.tuning import ContextualOmegaTuner, OmegaTuner, young_omega

__all__ = ["OmegaTuner", "ContextualOmegaTuner", "young_omega"]
