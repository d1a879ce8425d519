"""The ``python -m adasolve demo`` job (filled in by the SOR issue)."""


def run_demo(size=None, instances=None, seed=0, plot=None) -> int:
    print("demo not available yet")
    return 1
