"""Run scikit-learn's own linear-model tests against adasolve's estimators.

``python -m bench.sklearn_suite [--files cd,sparse,logistic] [-k EXPR]``

Copies the installed scikit-learn's ``test_coordinate_descent.py``,
``test_sparse_coordinate_descent.py`` and ``test_logistic.py`` into a temporary folder, inserts
``from adasolve.linear_model import <names>`` right after each module's imports (so adasolve's
classes shadow scikit-learn's), and runs pytest there with scikit-learn's conftest. A small plugin
records which tests construct an adasolve estimator (for ``test_logistic.py``: one with an L1
part, ``l1_ratio > 0``); the pass rate is passed / total over those tests. Nothing of
scikit-learn's test code is kept: results go to ``bench/results/sklearn_suite.{md,json}``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sklearn

import adasolve.linear_model as alm

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

FILES = {
    "cd": ("test_coordinate_descent.py",
           ["Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "lasso_path", "enet_path",
            "MultiTaskLasso"]),
    "sparse": ("test_sparse_coordinate_descent.py",
               ["Lasso", "ElasticNet", "LassoCV", "ElasticNetCV"]),
    "logistic": ("test_logistic.py", ["LogisticRegression", "LogisticRegressionCV"]),
}

# The plugin: wrap the adasolve estimators' constructors so that each test knows whether it built
# one (and, for logistic regression, whether it had an L1 part).
PLUGIN = r'''
import functools, json, os
import pytest
import adasolve.linear_model as alm

_BUILT = {"any": False}
_OUT = {}

def _wrap(cls, l1_only):
    init = cls.__init__
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if not l1_only:
            _BUILT["any"] = True
        else:
            r = getattr(self, "l1_ratio", None)
            pen = getattr(self, "penalty", None)
            if pen in ("l1", "elasticnet") or (isinstance(r, (int, float)) and r > 0) \
                    or (r is not None and not isinstance(r, (int, float)) and r != "deprecated"):
                _BUILT["any"] = True
    cls.__init__ = __init__

for _name in ("Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "MultiTaskLasso"):
    if hasattr(alm, _name):
        _wrap(getattr(alm, _name), False)
for _name in ("LogisticRegression", "LogisticRegressionCV"):
    if hasattr(alm, _name):
        _wrap(getattr(alm, _name), True)
_FUNCS = ("lasso_path", "enet_path")

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _BUILT["any"] = False
    yield

def pytest_runtest_logreport(report):
    rec = _OUT.setdefault(report.nodeid, {"outcome": "passed", "built": False, "msg": ""})
    if report.failed:
        rec["outcome"] = "failed"
        rec["msg"] = (report.longreprtext or "").strip().splitlines()[-1][:300] if report.longreprtext else ""
    elif report.skipped and rec["outcome"] != "failed":
        rec["outcome"] = "skipped"
    rec["built"] = rec["built"] or _BUILT["any"]

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["ADASOLVE_SUITE_OUT"], "w") as f:
        json.dump(_OUT, f)
'''


def _insert_after_imports(src: str, line: str) -> str:
    tree = ast.parse(src)
    last = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            last = node.end_lineno
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # the module docstring
        else:
            break
    lines = src.splitlines(keepends=True)
    return "".join(lines[:last]) + line + "\n" + "".join(lines[last:])


def run(keys, kexpr=None, timeout=3000):
    tests_dir = Path(sklearn.__file__).parent / "linear_model" / "tests"
    out = {}
    with tempfile.TemporaryDirectory(prefix="adasolve_sklearn_suite_") as tmp:
        tmp = Path(tmp)
        (tmp / "conftest.py").write_text(PLUGIN)
        for key in keys:
            fname, names = FILES[key]
            names = [n for n in names if hasattr(alm, n)]
            src = (tests_dir / fname).read_text()
            src = _insert_after_imports(src, f"from adasolve.linear_model import {', '.join(names)}")
            (tmp / fname).write_text(src)
            res_path = tmp / f"{key}.json"
            # the adasolve being measured (an in-place build on PYTHONPATH included)
            pkg_parent = str(Path(alm.__file__).resolve().parent.parent)
            env = dict(os.environ, ADASOLVE_SUITE_OUT=str(res_path),
                       PYTHONPATH=os.pathsep.join([pkg_parent, os.environ.get("PYTHONPATH", "")]))
            cmd = [sys.executable, "-m", "pytest", fname, "-q", "-p", "sklearn.conftest",
                   "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp),
                   "-W", "ignore::DeprecationWarning"]
            if kexpr:
                cmd += ["-k", kexpr]
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=timeout)
            if not res_path.exists():
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                raise RuntimeError(f"pytest did not run {fname}")
            recs = json.loads(res_path.read_text())
            built = {k: v for k, v in recs.items() if v["built"] and v["outcome"] != "skipped"}
            passed = sorted(k for k, v in built.items() if v["outcome"] == "passed")
            failed = {k: v["msg"] for k, v in sorted(built.items()) if v["outcome"] == "failed"}
            out[key] = {"file": fname, "names": names, "total": len(built), "passed": len(passed),
                        "rate": len(passed) / max(1, len(built)), "failed": failed,
                        "all_tests": len(recs)}
            print(f"{fname}: {len(passed)} / {len(built)} tests that build an adasolve estimator "
                  f"pass ({100 * out[key]['rate']:.1f} %)", flush=True)
    return out


def write(out, keys):
    RESULTS.mkdir(exist_ok=True)
    meta = {"sklearn": sklearn.__version__, "python": sys.version.split()[0]}
    (RESULTS / "sklearn_suite.json").write_text(json.dumps({"meta": meta, "files": out}, indent=1))
    lines = ["# scikit-learn's own tests against adasolve.linear_model", "",
             f"scikit-learn {sklearn.__version__}: the installed test files, with adasolve's "
             "estimators substituted after the imports (`python -m bench.sklearn_suite`). "
             "Counted: tests that construct an adasolve estimator (logistic: one with an L1 part), "
             "skipped tests excluded.", "",
             "| file | substituted | passed | total | rate |", "|---|---|---|---|---|"]
    for k in keys:
        r = out[k]
        lines.append(f"| {r['file']} | {', '.join(r['names'])} | {r['passed']} | {r['total']} | "
                     f"{100 * r['rate']:.1f} % |")
    tot_p = sum(out[k]["passed"] for k in keys if k != "logistic")
    tot = sum(out[k]["total"] for k in keys if k != "logistic")
    if tot:
        lines.append(f"| coordinate descent, both files | | {tot_p} | {tot} | {100 * tot_p / tot:.1f} % |")
    for k in keys:
        if out[k]["failed"]:
            lines += ["", f"## Failures in {out[k]['file']}", ""]
            lines += [f"- `{n.split('::', 1)[-1]}`: {m}" for n, m in out[k]["failed"].items()]
    (RESULTS / "sklearn_suite.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", default="cd,sparse,logistic")
    ap.add_argument("-k", default=None, help="pytest -k expression (partial runs write nothing)")
    a = ap.parse_args(argv)
    keys = [k for k in a.files.split(",") if k]
    out = run(keys, a.k)
    if a.k is None:
        write(out, keys)
    else:
        for k in keys:
            for n, m in out[k]["failed"].items():
                print(" FAIL", n.split("::", 1)[-1], "|", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
