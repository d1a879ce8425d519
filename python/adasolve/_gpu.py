"""Whether the optional CUDA module ``adasolve._cuda`` is usable, and why not."""

from __future__ import annotations

from typing import Tuple

__all__ = ["cuda_available"]


def cuda_available(reason: bool = False):
    """Tell whether adasolve's CUDA backend can be used.

    Parameters
    ----------
    reason : bool
        If True, return ``(available, message)`` instead of a bool.

    Examples
    --------
    >>> import adasolve
    >>> isinstance(adasolve.cuda_available(), bool)
    True
    """
    ok, why = _probe()
    return (ok, why) if reason else ok


def _probe() -> Tuple[bool, str]:
    try:
        from . import _cuda  # type: ignore[attr-defined]
    except ImportError as exc:
        return False, (
            "adasolve was built without its CUDA module (no nvcc/cuBLAS found at build time, "
            f"or ADASOLVE_CUDA=0): {exc}"
        )
    try:
        n = _cuda.device_count()
    except Exception as exc:  # driver missing or broken
        return False, f"the CUDA module is built but the driver failed: {exc}"
    if n < 1:
        return False, "the CUDA module is built but no CUDA device is visible"
    return True, f"{n} CUDA device(s) visible"
