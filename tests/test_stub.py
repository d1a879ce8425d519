"""The type stubs of the compiled module (python/adasolve/_core/*.pyi) cover all of it.

Regenerate them with ``PYTHONPATH=python python tools/gen_stubs.py`` when this fails.
"""

import ast
import inspect
import types
from pathlib import Path

import pytest

import adasolve
from adasolve import _core

STUBS = Path(adasolve.__file__).resolve().parent / "_core"


def _stub_file(modname: str) -> Path:
    parts = modname.split(".")[2:]  # adasolve._core.<sub>...
    base = STUBS.joinpath(*parts)
    return base / "__init__.pyi" if (base / "__init__.pyi").is_file() else base.with_suffix(".pyi")


def _defined(body) -> dict:
    """Names a stub body defines, mapped to the class node (or None)."""
    names = {}
    for node in body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = None
    return names


def _modules(mod=_core, name="adasolve._core"):
    yield name, mod
    for attr, val in sorted(vars(mod).items()):
        if isinstance(val, types.ModuleType) and val.__name__.startswith("adasolve._core"):
            yield from _modules(val, f"{name}.{attr}")


MODULES = list(_modules())


def test_every_submodule_is_stubbed():
    names = {n for n, _ in MODULES}
    assert {"adasolve._core.sor", "adasolve._core.constrained", "adasolve._core.bcd",
            "adasolve._core.bcd.glm", "adasolve._core.dag", "adasolve._core.mfac"} <= names
    for n in names:
        assert _stub_file(n).is_file(), f"no stub for {n}: run tools/gen_stubs.py"


@pytest.mark.parametrize("modname,mod", MODULES, ids=[n for n, _ in MODULES])
def test_every_public_name_is_in_the_stub(modname, mod):
    tree = ast.parse(_stub_file(modname).read_text())
    defined = _defined(tree.body)
    missing = []
    for attr, val in vars(mod).items():
        if attr.startswith("_"):
            continue
        if attr not in defined:
            missing.append(attr)
            continue
        if inspect.isclass(val) and isinstance(defined[attr], ast.ClassDef):
            members = _defined(defined[attr].body)
            for m in vars(val):
                if not m.startswith("_") and m not in members:
                    missing.append(f"{attr}.{m}")
    assert not missing, f"{modname}: not in the stub (run tools/gen_stubs.py): {missing}"


def test_stub_names_exist():
    """The reverse: the stubs promise nothing the module lacks (a stale stub fails here)."""
    for modname, mod in MODULES:
        tree = ast.parse(_stub_file(modname).read_text())
        for name, node in _defined(tree.body).items():
            if name.startswith("__") or name in {"annotations", "numpy", "typing", "collections"}:
                continue
            assert hasattr(mod, name), f"{modname}.{name} is in the stub but not in the module"
            if node is not None:
                cls = getattr(mod, name)
                for m in _defined(node.body):
                    if m.startswith("__"):
                        continue
                    assert hasattr(cls, m), f"{modname}.{name}.{m} is stubbed but missing"
