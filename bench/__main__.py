"""Run one family's benchmark: ``python -m bench sor|bcd|mfac|dag|constrained|gpu [options]``.

Each family lives in ``bench/<family>.py`` and exposes ``main(argv) -> int``.
Results go to ``bench/results/<family>.json`` and ``bench/results/<family>.md``.
"""

from __future__ import annotations

import importlib
import sys

FAMILIES = {
    "sor": "bench.sor",
    "bcd": "bench.bcd",
    "mfac": "bench.mfac",
    "dag": "bench.dag",
    "constrained": "bench.constrained",
    "gpu": "bench.gpu",
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in FAMILIES:
        print(__doc__)
        print("families:", ", ".join(FAMILIES))
        return 0 if (not argv or argv[0] in {"-h", "--help"}) else 2
    mod = importlib.import_module(FAMILIES[argv[0]])
    return int(mod.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
