"""Every docstring example of the public modules runs and prints what it says (doctest).

A module whose optional dependency is missing (scikit-learn, PyTorch, petsc4py, CuPy) is
skipped with the reason; everything else must import.
"""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import adasolve

# Where an example needs more than numpy/scipy, and the package that provides it.
_OPTIONAL = {"sklearn": "scikit-learn", "torch": "PyTorch", "petsc4py": "petsc4py",
             "mpi4py": "mpi4py", "cupy": "CuPy", "matplotlib": "matplotlib"}


def _module_names():
    names = ["adasolve"]
    for info in pkgutil.walk_packages(adasolve.__path__, prefix="adasolve."):
        names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        top = missing.split(".")[0]
        if top in _OPTIONAL or any(k in str(exc) for k in _OPTIONAL.values()):
            pytest.skip(f"{name} needs {_OPTIONAL.get(top, str(exc))}, which is not installed")
        raise


def test_modules_found():
    assert {"adasolve.sor.tuning", "adasolve.bcd.engine", "adasolve.linear_model"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = _import(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # Only objects defined in this module (re-exports are tested where they are defined).
    tests = [t for t in finder.find(mod, name) if t.examples]  # globals: the module's own
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    for t in tests:
        with np.printoptions(legacy="1.25"):  # scalars print as 1.0, not np.float64(1.0)
            runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} docstring examples of {name} failed"


def _readme_blocks():
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    if not readme.is_file():
        return []
    return re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)


README_BLOCKS = _readme_blocks()


@pytest.mark.slow
@pytest.mark.parametrize("k", range(len(README_BLOCKS)))
def test_readme_quickstart_runs(k, capsys):
    """The README's Python blocks run as written (in a fresh namespace each)."""
    code = README_BLOCKS[k]
    for mod, extra in (("sklearn", "scikit-learn"), ("torch", "PyTorch")):
        if f"import {mod}" in code or f"adasolve.{'linear_model' if mod == 'sklearn' else mod}" in code:
            pytest.importorskip(mod, reason=f"this README block needs {extra}")
    exec(compile(code, f"README.md python block {k}", "exec"), {})
    out = capsys.readouterr().out
    if "print(" in code:
        assert out.strip(), "the block prints nothing although it calls print"
