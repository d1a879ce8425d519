"""Ctrl-C (SIGINT) stops minimize_eq promptly, inside the C++ sketch loops as well."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

_SETUP = """
import time, numpy as np, scipy.sparse as sp
from scipy.optimize import LinearConstraint
from adasolve import minimize_eq
n, m = 3000, 300
A = sp.random(4500, n, density=2e-3, random_state=1, format="csr")
b = np.random.default_rng(0).standard_normal(4500)
C = (sp.random(m, n, density=2e-3, random_state=2, format="csr") + sp.eye(m, n)).tocsr()
d = np.ones(m)
AtA = (A.T @ A).tocsr()
fun = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))
jac = lambda x: A.T @ (A @ x - b)
hess = lambda x, v: AtA
con = LinearConstraint(C, d, d)
"""

_CASES = {
    # one long C++ call: a Kaczmarz inner solve with no step or time limit
    "kaczmarz": """
print("started", flush=True)
minimize_eq(fun, np.zeros(n), jac=jac, hess=hess, constraints=con, sketch="kaczmarz",
            tol=1e-300, options={"max_inner": 10**12, "inner_max_seconds": None,
                                 "delta": 1e-12, "delta_min": 1e-12, "hessian_check": "none"})
print("finished", flush=True)
""",
    # the direct solver: many factorizations and user calls, solved again and again
    "exact": """
m2 = 40
C2 = (sp.random(m2, 400, density=0.02, random_state=3, format="csr") + sp.eye(m2, 400)).tocsr()
H2 = sp.diags(np.linspace(-1.0, 3.0, 400)).tocsr()
f2 = lambda x: 0.5 * float(x @ (H2 @ x)) + 0.25 * float(np.sum(x ** 4))
g2 = lambda x: H2 @ x + x ** 3
h2 = lambda x, v: (H2 + sp.diags(3 * x ** 2)).tocsr()
c2 = LinearConstraint(C2, np.ones(m2), np.ones(m2))
print("started", flush=True)
while True:
    minimize_eq(f2, np.linspace(-2, 2, 400), jac=g2, hess=h2, constraints=c2, sketch="exact")
""",
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_sigint_raises_keyboardinterrupt_promptly(case):
    code = _SETUP + textwrap.dedent(_CASES[case])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "started", (line, proc.stderr.read())
        time.sleep(1.0)
        assert proc.poll() is None, "the solve ended before the signal"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        waited = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "KeyboardInterrupt" in err, err
    # generous against a loaded test machine; the poll period is ~20 ms of work
    assert waited < 2.0, waited
