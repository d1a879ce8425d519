import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _has_cuda() -> bool:
    try:
        import adasolve

        return adasolve.cuda_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="no CUDA device or adasolve._cuda module")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
