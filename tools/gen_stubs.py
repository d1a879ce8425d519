"""Regenerate the type stubs of the compiled module ``adasolve._core``.

One command, from the repository root, after building the extension (``pip install -e .`` or an
in-place build whose ``_core*.so`` lies in ``python/adasolve/``)::

    PYTHONPATH=python python tools/gen_stubs.py

It runs ``pybind11-stubgen`` (``pip install pybind11-stubgen``) on ``adasolve._core`` and writes
the stub package ``python/adasolve/_core/``: ``__init__.pyi`` for the module itself and one
``.pyi`` per submodule (``sor``, ``constrained``, ``bcd/__init__``, ``bcd/glm``, ``dag``,
``mfac``). A stub package rather than a single ``_core.pyi``, because a single stub file cannot
declare submodules; the directory holds only ``.pyi`` files, so at run time ``import
adasolve._core`` still loads the extension. ``--check`` regenerates into a temporary directory
and exits 1 if the committed stubs differ. ``tests/test_stub.py`` checks that every public name
of the compiled module appears in the stubs.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "python" / "adasolve" / "_core"

# Values that depend on the build (OpenMP found or not) are written as bare annotations.
_BUILD_CONSTANTS = re.compile(r"^(has_openmp): bool = (True|False)$", re.M)


def generate(out: Path) -> Path:
    """Run pybind11-stubgen into ``out``; return the generated ``adasolve/_core`` directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "python")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    cmd = [sys.executable, "-m", "pybind11_stubgen", "adasolve._core", "-o", str(out)]
    subprocess.run(cmd, check=True, env=env)
    gen = out / "adasolve" / "_core"
    for pyi in gen.rglob("*.pyi"):
        text = _BUILD_CONSTANTS.sub(r"\1: bool", pyi.read_text())
        pyi.write_text(text)
    return gen


def _same(a: Path, b: Path) -> bool:
    fa = sorted(p.relative_to(a) for p in a.rglob("*.pyi"))
    fb = sorted(p.relative_to(b) for p in b.rglob("*.pyi"))
    return fa == fb and all(filecmp.cmp(a / f, b / f, shallow=False) for f in fa)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only compare with the committed stubs")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gen = generate(Path(tmp))
        if args.check:
            if DEST.is_dir() and _same(gen, DEST):
                print("stubs are up to date")
                return 0
            print(f"stubs differ from {DEST}: run PYTHONPATH=python python tools/gen_stubs.py")
            return 1
        if DEST.exists():
            shutil.rmtree(DEST)
        shutil.copytree(gen, DEST)
    print(f"wrote {sorted(str(q.relative_to(ROOT)) for q in DEST.rglob('*.pyi'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
