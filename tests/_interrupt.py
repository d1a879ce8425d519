"""Shared helper for the Ctrl-C tests: run a snippet in a child Python, send SIGINT, time it.

Use it from any test module::

    from _interrupt import assert_interrupts

    def test_solve_sor_ctrl_c():
        assert_interrupts('''
            import numpy as np
            from adasolve import solve_sor
            from adasolve.problems import poisson2d
            A = poisson2d(300)
            solve_sor(A, np.ones(A.shape[0]), omega=1.0, maxiter=10**9, rtol=0.0, atol=0.0)
        ''')

The snippet runs in a fresh interpreter (``sys.executable``, the parent's environment, so it
imports the same adasolve), so a crash or a hang in the child never takes pytest down.
The helper waits until the child says it is about to run the snippet, sends SIGINT after
``delay`` seconds (1 s: the snippet's set-up is done and the long C++ call is running), and
asserts that the child ends with KeyboardInterrupt within ``within`` seconds of the signal.
The snippet must run for much longer than ``delay + within`` when not interrupted, and must
not catch KeyboardInterrupt itself.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

#: what the child prints once it has seen KeyboardInterrupt (and how long after the signal)
_MARK = "KEYBOARD-INTERRUPT-SEEN"

_WRAPPER = """\
import sys, time
{setup}
print("READY", flush=True)
t_start = time.perf_counter()
try:
{body}
except KeyboardInterrupt:
    print("{mark}", time.perf_counter() - t_start, flush=True)
    sys.exit(0)
print("FINISHED", time.perf_counter() - t_start, flush=True)
sys.exit(3)
"""


def assert_interrupts(snippet: str, *, setup: str = "", delay: float = 1.0, within: float = 1.0,
                      startup_timeout: float = 120.0) -> float:
    """Run ``snippet`` in a child process, SIGINT it after ``delay`` s, expect KeyboardInterrupt.

    Parameters
    ----------
    snippet : str
        Code whose run should be interruptible (dedented; typically one long adasolve call,
        preceded by the building of its inputs).
    setup : str
        Code run before the clock starts (imports, large inputs that take a while to build).
    delay : float
        Seconds between the start of ``snippet`` and SIGINT.
    within : float
        Seconds after SIGINT by which KeyboardInterrupt must have been raised in the child.
    startup_timeout : float
        Seconds allowed for the interpreter start-up and ``setup``.

    Returns
    -------
    float
        Seconds from SIGINT to the KeyboardInterrupt seen in the child (as the parent measures
        it: from sending the signal to reading the child's report).
    """
    code = _WRAPPER.format(setup=textwrap.dedent(setup),
                           body=textwrap.indent(textwrap.dedent(snippet), "    "), mark=_MARK)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        line = proc.stdout.readline()
        if line.strip() != "READY":
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"child failed before the snippet ran: {line}{out}\n{err}")
        assert time.monotonic() - t0 < startup_timeout
        time.sleep(delay)
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"snippet ended before SIGINT (rc={proc.returncode}): {out}\n{err}")
        t_sig = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=within + 5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"SIGINT ignored: the child still ran {within + 5.0:.0f} s later\n{err}")
        elapsed = time.monotonic() - t_sig
        assert proc.returncode == 0 and _MARK in out, (
            f"no KeyboardInterrupt in the child (rc={proc.returncode}):\n{out}\n{err}")
        assert elapsed <= within, f"KeyboardInterrupt came {elapsed:.2f} s after SIGINT (limit {within} s)"
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
