"""The package imports, the extension loads, the CLI answers, validation is uniform."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import adasolve
from adasolve import _validation as V


def test_core_loads():
    assert adasolve._core.max_threads() >= 1
    assert isinstance(adasolve.__version__, str)
    assert isinstance(adasolve.cuda_available(), bool)


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "adasolve", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "demo" in out.stdout and "info" in out.stdout


def test_as_csr_converts_every_format_and_keeps_csr_without_copy():
    A = sp.random(20, 20, density=0.2, random_state=0, format="csr") + sp.eye(20)
    A = sp.csr_matrix(A)
    A.sort_indices()
    A = sp.csr_matrix((A.data, A.indices.astype(np.int32), A.indptr.astype(np.int32)), shape=A.shape)
    B = V.as_csr(A)
    assert B.data is A.data  # no copy
    for fmt in ["coo", "csc", "lil", "dok", "bsr", "dia"]:
        C = V.as_csr(A.asformat(fmt))
        assert C.format == "csr"
        np.testing.assert_array_equal(C.toarray(), A.toarray())
    np.testing.assert_array_equal(V.as_csr(A.toarray().tolist()).toarray(), A.toarray())


def test_as_csr_int_matrix_becomes_float64():
    M = V.as_csr(sp.eye(3, dtype=np.int64))
    assert M.dtype == np.float64


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.ones((2, 3)), ValueError, "square"),
        (np.zeros((0, 0)), ValueError, "empty"),
        (np.eye(2) * (1 + 1j), TypeError, "complex"),
        (np.array([[1.0, np.nan], [0, 1]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [0, 1]]), ValueError, "Inf"),
    ],
)
def test_as_csr_rejects(bad, exc, match):
    with pytest.raises(exc, match=match):
        V.as_csr(bad, "A")


def test_check_vector_shapes():
    assert V.check_vector(np.ones((3, 1)), "b", 3).shape == (3,)
    with pytest.raises(ValueError, match="b has 3 rows, expected 4"):
        V.check_vector(np.ones(3), "b", 4)
    with pytest.raises(ValueError, match="b must be 1-D"):
        V.check_vector(np.ones((3, 2)), "b", 3)
    assert V.check_vector(np.ones((3, 2)), "b", 3, allow_2d=True).shape == (3, 2)
    x = np.ones(5)
    assert V.check_vector(x, "x", 5) is x  # no copy when already float64 contiguous


def test_check_scalar_and_choice_messages():
    with pytest.raises(ValueError, match=r"omega must be in \(0.0, 2.0\)"):
        V.check_scalar(2.0, "omega", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)
    with pytest.raises(TypeError, match="maxiter must be an integer"):
        V.check_scalar(1.5, "maxiter", kind=int)
    with pytest.raises(ValueError, match="valid values are: 'gs', 'gsl'"):
        V.check_choice("foo", "rule", ["gs", "gsl"])


def test_random_state_is_deterministic():
    a = V.check_random_state(3).standard_normal(4)
    b = V.check_random_state(3).standard_normal(4)
    np.testing.assert_array_equal(a, b)
    assert V.seed_to_uint64(7) == V.seed_to_uint64(7)
    g = np.random.default_rng(1)
    assert V.check_random_state(g) is g
    with pytest.raises(TypeError, match="seed"):
        V.check_random_state("x")


@pytest.mark.parametrize("module", ["adasolve.linear_model", "adasolve.semi_supervised"])
def test_sklearn_absent_import_fails_clearly(module):
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import numpy as np, adasolve\n"
        "from adasolve.problems import poisson2d\n"
        "A = poisson2d(4); assert adasolve.solve_sor(A, np.ones(A.shape[0]))[1] == 0\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as e:\n"
        f"    assert '{module} needs scikit-learn' in str(e), str(e)\n"
        "    assert \"pip install 'adasolve[sklearn]'\" in str(e), str(e)\n"
        "    print('OK')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"


def test_version_is_written_once():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    pyproject = (root / "pyproject.toml").read_text()
    if "[project]" not in pyproject:  # installed elsewhere, no source tree
        pytest.skip("no source tree")
    assert re.search(r"^version\s*=", pyproject, re.M) is None
    assert 'metadata.version.input = "python/adasolve/__init__.py"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", adasolve.__version__)
    init = (root / "python/adasolve/__init__.py").read_text()
    assert f'__version__ = "{adasolve.__version__}"' in init


def test_demo_learns_and_writes_vector_plot(tmp_path, capsys):
    """A small demo sequence whose best fixed omega is not 1; no progress bars in a log."""
    from adasolve._demo import run_demo

    plot = None
    try:
        import matplotlib  # noqa: F401

        plot = tmp_path / "demo.svg"
    except ImportError:
        pass
    assert run_demo(size=16, instances=100, dt=1e-2, seed=0,
                    plot=None if plot is None else str(plot)) == 0
    cap = capsys.readouterr()
    assert "\r" not in cap.out + cap.err  # stdout/stderr are not terminals here
    rows = {line[:30].strip(): line[30:].split() for line in cap.out.splitlines()}
    best = rows["best fixed omega (hindsight)"]
    one = rows["omega = 1 (symmetric GS)"]
    assert float(best[1]) > 1.2  # columns: solver (1 word), omega, iterations, vs best, time
    assert float(best[3]) == 1.0
    assert float(one[3]) > 1.05  # omega = 1 costs more than the best fixed omega
    assert "key: iterations" in cap.out and "lower is better" in cap.out
    if plot is not None:
        head = plot.read_text()[:400]
        assert "<svg" in head
