"""Run one family's benchmark: ``python -m bench sor|bcd|mfac|mfac_dist|dag|constrained|gpu|petsc [options]``.

``bcd`` runs ``bcd_engine`` (rules, updates, paper figures) and ``bcd_lasso`` (the
estimators against scikit-learn, skglm and celer); run those two names for their own options.

Each family lives in ``bench/<family>.py`` and exposes ``main(argv) -> int``.
Results go to ``bench/results/<family>.json`` and ``bench/results/<family>.md``.
"""

from __future__ import annotations

import importlib
import sys

FAMILIES = {
    "sor": "bench.sor",
    # the engine / paper-figure benchmark, then the estimators against sklearn, skglm, celer
    "bcd": ("bench.bcd", "bench.bcd_lasso"),
    "bcd_engine": "bench.bcd",
    "bcd_lasso": "bench.bcd_lasso",
    "mfac": "bench.mfac",
    "dag": "bench.dag",
    "constrained": "bench.constrained",
    "constrained_ineq": "bench.constrained_ineq",
    "gpu": "bench.gpu",
    # M-FAC sharded across torch.distributed ranks; PETSc under MPI (run with mpiexec)
    "mfac_dist": "bench.mfac_dist",
    "petsc": "bench.petsc",
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in FAMILIES:
        print(__doc__)
        print("families:", ", ".join(FAMILIES))
        return 0 if (not argv or argv[0] in {"-h", "--help"}) else 2
    mods = FAMILIES[argv[0]]
    rc = 0
    for name in (mods,) if isinstance(mods, str) else mods:
        # families made of several modules get the same options (each takes --quick)
        rc = max(rc, int(importlib.import_module(name).main(argv[1:]) or 0))
    return rc


if __name__ == "__main__":
    sys.exit(main())
