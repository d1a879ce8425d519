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
        help="learn omega while solving a heat-equation sequence; compare with fixed omegas",
    )
    demo.add_argument("--size", type=int, default=None,
                      help="grid intervals per side, (size-1)^2 unknowns (default: 30)")
    demo.add_argument("--instances", type=int, default=None,
                      help="number of time steps, one linear system each (default: 500)")
    demo.add_argument("--dt", type=float, default=None,
                      help="time step (default: 2e-3, so 500 steps cover one period of the "
                           "diffusion coefficient)")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the tuners")
    demo.add_argument("--plot", metavar="FILE", default=None,
                      help="save the figure (total iterations per fixed omega, wall time); "
                           "the extension picks the format: .svg, .pdf (vector) or .png")
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

        return run_demo(size=args.size, instances=args.instances, seed=args.seed, plot=args.plot,
                        dt=args.dt)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
