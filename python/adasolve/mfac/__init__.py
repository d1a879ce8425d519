"""M-FAC inverse-Hessian-vector products and OBS pruning (Frantar, Kurtic and Alistarh, 2021).

- :mod:`adasolve.mfac.ihvp`: :class:`StaticIHVP`, :class:`SlidingIHVP`; C++ in ``cpp/src/mfac``.
- :mod:`adasolve.mfac.obs`: :func:`obs_scores`, :func:`obs_prune` (unstructured, N:M, block).
- :mod:`adasolve.mfac.torch`: the :class:`~adasolve.mfac.torch.MFAC` optimizer (also
  :mod:`adasolve.torch`; needs PyTorch).
- :mod:`adasolve.mfac._sharded`: windows sharded over torch.distributed ranks.
- :mod:`adasolve.mfac._cuda`: the same operators on CUDA arrays (optional).
"""

from .ihvp import *  # noqa: F401,F403
from .ihvp import __all__  # noqa: F401
