"""Command line: ``python -m adasolve demo`` and friends; ``--help`` lists them."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m adasolve",
        description="adasolve: fast numerical solvers with C++ cores.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("info", help="print version, build and thread information")
    demo = sub.add_parser(
        "demo",
        help="solve a heat-equation sequence with learned omega and compare methods",
    )
    demo.add_argument("--size", type=int, default=None, help="grid points per side (default: small)")
    demo.add_argument("--instances", type=int, default=None, help="number of time steps / systems")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the tuners")
    demo.add_argument("--plot", metavar="FILE.png", default=None, help="save cumulative iterations plot")
    return p


def _info() -> int:
    import adasolve
    from adasolve import _core

    print(f"adasolve {adasolve.__version__}")
    print(f"OpenMP: {bool(_core.has_openmp)}, threads: {_core.max_threads()}")
    ok, why = adasolve.cuda_available(reason=True)
    print(f"CUDA: {ok} ({why})")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(size=args.size, instances=args.instances, seed=args.seed, plot=args.plot)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
