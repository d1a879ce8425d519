"""Contracts of the SOR family that SciPy's and pyamg's own tests exercise: zero right-hand
sides, the preconditioner's precision, mixed dtypes, infinite tolerances, the stop test,
tiny and huge values, thread-count independence, interruption, and tuners driven from C++
making the documented choices seed for seed."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from adasolve import ContextualOmegaTuner, OmegaTuner, solve_sor, sor_sweep, ssor_cg, ssor_preconditioner
from adasolve import _core
from adasolve._validation import seed_to_uint64
from adasolve.problems import poisson2d, shifted_laplacian_sequence

from _tuner_reference import ReferenceTuner, SplitMix64


def spd(n=30, seed=0):
    rng = np.random.default_rng(seed)
    M = sp.random(n, n, density=0.2, random_state=rng)
    return (M @ M.T + n * sp.eye(n)).tocsr()


# ---------------------------------------------------------------- SciPy's zero-rhs contract
@pytest.mark.parametrize("solver", ["sor", "cg"])
def test_zero_rhs_returns_zero_like_scipy(solver):
    A = poisson2d(6)
    b = np.zeros(A.shape[0])
    x0 = np.ones(A.shape[0])
    xs, info_s = spla.cg(A, b, x0=x0)
    assert info_s == 0 and np.all(xs == 0)
    if solver == "sor":
        x, info, st = solve_sor(A, b, x0, omega=1.3, full_output=True)
    else:
        x, info, st = ssor_cg(A, b, x0, omega=1.3, full_output=True)
    assert info == 0 and st.iterations == 0
    np.testing.assert_array_equal(x, xs)
    np.testing.assert_array_equal(x0, 1.0)  # x0 untouched


def test_zero_column_of_a_block_rhs():
    A = poisson2d(5)
    n = A.shape[0]
    B = np.stack([np.ones(n), np.zeros(n)], axis=1)
    x, info = solve_sor(A, B, np.ones((n, 2)), omega=1.2)
    assert info == 0
    np.testing.assert_array_equal(x[:, 1], 0.0)
    np.testing.assert_allclose(A @ x[:, 0], B[:, 0], rtol=0, atol=1e-7 * np.sqrt(n))


# ------------------------------------------------------------- precision of the preconditioner
def test_ssor_preconditioner_float32_matrix_keeps_float64_vectors():
    A64 = poisson2d(12)
    A32 = A64.astype(np.float32)
    b = np.random.default_rng(0).standard_normal(A64.shape[0])
    x, info = spla.cg(A32, b, M=ssor_preconditioner(A32, omega=1.5), rtol=1e-8)
    assert info == 0
    assert x.dtype == np.float64
    # the true residual, in float64, meets the requested tolerance
    r = b - A32.astype(np.float64) @ x
    assert np.linalg.norm(r) <= 1.1e-8 * np.linalg.norm(b)
    M = ssor_preconditioner(A32, omega=1.5)
    assert M.matvec(b).dtype == np.float64
    assert M.matvec(b.astype(np.float32)).dtype == np.float32


def test_ssor_preconditioner_refuses_complex_vectors():
    M = ssor_preconditioner(poisson2d(4), omega=1.2)
    with pytest.raises(TypeError, match="complex"):
        M.matvec(np.ones(16) + 1j)


def test_sor_sweep_mixed_dtypes_raise():
    A64 = poisson2d(4)
    with pytest.raises(TypeError, match="dtype"):
        sor_sweep(A64, np.zeros(16, dtype=np.float32), np.ones(16))
    with pytest.raises(TypeError, match="dtype"):
        sor_sweep(A64.astype(np.float32), np.zeros(16), np.ones(16))


# ------------------------------------------------------------------- tolerances and stop test
@pytest.mark.parametrize("kw", [{"rtol": np.inf}, {"atol": np.inf}, {"rtol": np.inf, "atol": np.inf}])
@pytest.mark.parametrize("solver", [solve_sor, ssor_cg])
def test_infinite_tolerances_are_accepted(solver, kw):
    A = poisson2d(5)
    b = np.ones(A.shape[0])
    x0 = np.full(A.shape[0], 0.5)
    x, info = solver(A, b, x0, omega=1.2, **kw)
    assert info == 0
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("solver", [solve_sor, ssor_cg])
def test_nan_tolerance_is_refused(solver):
    A = poisson2d(3)
    with pytest.raises(ValueError, match="rtol"):
        solver(A, np.ones(9), rtol=np.nan)
    with pytest.raises(ValueError, match="atol"):
        solver(A, np.ones(9), atol=None)


def nonsymmetric80(seed=0):
    rng = np.random.default_rng(seed)
    n = 80
    # convection-diffusion stencil plus a random nonsymmetric coupling, diagonally dominant
    A = sp.diags([-1.6, 4.0, -0.4], [-1, 0, 1], shape=(n, n)).tolil()
    for _ in range(160):
        i, j = rng.integers(0, n, 2)
        if i != j:
            A[i, j] += -0.3 * rng.random()
    return A.tocsr()


@pytest.mark.parametrize("omega", [0.8, 1.2, 1.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stop_comes_promptly_after_the_tolerance_is_met(omega, seed):
    A = nonsymmetric80(seed)
    b = np.random.default_rng(seed).standard_normal(A.shape[0])
    tol = 1e-8 * np.linalg.norm(b)
    x = np.zeros_like(b)
    first = None
    for k in range(1, 5000):
        sor_sweep(A, x, b, omega=omega)
        if np.linalg.norm(b - A @ x) <= tol:
            first = k
            break
    assert first is not None
    _, info, st = solve_sor(A, b, omega=omega, full_output=True)
    assert info == 0
    assert first <= st.iterations <= first + max(2, math.ceil(0.03 * first))
    assert st.extra["n_checks"] <= 0.25 * st.iterations + 6  # checks stay cheap


# ------------------------------------------------------------------------ extreme magnitudes
@pytest.mark.parametrize("solver", [solve_sor, ssor_cg])
def test_tiny_right_hand_side_is_solved_not_zeroed(solver):
    A = poisson2d(3)
    b = np.full(A.shape[0], 1e-300)
    x, info = solver(A, b, omega=1.1)
    ref = spla.spsolve(A.tocsc(), np.ones(A.shape[0])) * 1e-300
    assert info == 0
    np.testing.assert_allclose(x, ref, rtol=1e-6)


def test_overflowing_start_is_named_not_called_divergence():
    A = poisson2d(3)
    b = np.full(A.shape[0], 1e300)
    x0 = np.full(A.shape[0], -1.5e308)  # A @ x0 overflows
    _, info, st = solve_sor(A, b, x0, omega=1.1, full_output=True)
    assert info < 0 and "not finite" in st.message and "smaller omega" not in st.message


def test_tiny_omega_in_ssor_cg_is_not_a_breakdown():
    A = spd()
    b = np.ones(A.shape[0])
    x, info = ssor_cg(A, b, omega=1e-300)
    assert info == 0
    np.testing.assert_allclose(A @ x, b, atol=1e-7 * np.linalg.norm(b))


@pytest.mark.parametrize("where,match", [("A", "A"), ("b", "b"), ("x0", "x0")])
def test_non_finite_values_are_named(where, match):
    A = poisson2d(3).astype(float)
    b, x0 = np.ones(9), np.zeros(9)
    if where == "A":
        A = A.copy()
        A.data[3] = np.nan
    elif where == "b":
        b[2] = np.inf
    else:
        x0[4] = np.nan
    with pytest.raises(ValueError, match=match):
        solve_sor(A, b, x0, omega=1.1)
    with pytest.raises(ValueError, match=match):
        ssor_cg(A, b, x0, omega=1.1)


# -------------------------------------------------------------------- threads and contention
def test_multicolor_result_does_not_depend_on_thread_count():
    A = poisson2d(200)  # 40000 unknowns: large enough for the thread team
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    old = _core.num_threads()
    out = []
    try:
        for threads in (1, 2, 3):
            _core.set_num_threads(threads)
            x, info, st = solve_sor(A, b, omega=1.9, ordering="multicolor", maxiter=300, full_output=True)
            x2 = np.zeros_like(b)
            sor_sweep(A, x2, b, omega=1.7, iterations=5, ordering="multicolor")
            out.append((x, st.iterations, x2))
    finally:
        _core.set_num_threads(old)
    for x, it, x2 in out[1:]:
        np.testing.assert_array_equal(x, out[0][0])
        assert it == out[0][1]
        np.testing.assert_array_equal(x2, out[0][2])


# ----------------------------------------------------------------------------- interruption
def test_ctrl_c_interrupts_a_long_solve():
    code = textwrap.dedent("""
        import sys, time, numpy as np
        from adasolve import solve_sor
        from adasolve.problems import poisson2d
        A = poisson2d(400); b = np.ones(A.shape[0])
        print("ready", flush=True)
        t0 = time.perf_counter()
        try:
            solve_sor(A, b, omega=1.0, rtol=1e-14, maxiter=10**7)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter(), flush=True)
            sys.exit(0)
        print("finished", flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        t_sent = time.perf_counter()
        p.send_signal(signal.SIGINT)
        line = p.stdout.readline().split()
        p.wait(10)
    finally:
        p.kill()
    assert line and line[0] == "interrupted"
    assert float(line[1]) - t_sent < 1.0


# ------------------------------------------------------------- tuners driven from C++
def test_splitmix_reference_matches_the_known_sequence():
    # SplitMix64 from seed 1234567 (Vigna's reference implementation's first outputs)
    g = SplitMix64(1234567)
    assert [g.next() for _ in range(3)] == [6457827717110365317, 3203168211198807973, 9817491932198370423]


@pytest.mark.parametrize("algorithm", ["auto", "tsallis-inf", "exp3", "ucb"])
def test_tuner_driven_from_cpp_makes_the_documented_choices(algorithm):
    seed = 7
    tuner = OmegaTuner(algorithm=algorithm, seed=seed)
    ref = ReferenceTuner(np.linspace(1.0, 1.95, 20), algorithm, seed_to_uint64(seed))
    for A, b, c in shifted_laplacian_sequence(120, variance="high", seed=3):
        w_ref = ref.suggest()
        x, info, st = solve_sor(A, b, omega=tuner, full_output=True)
        assert st.omega == w_ref
        ref.observe(w_ref, st.iterations, rate=st.convergence_factor)
    assert tuner.history == ref.history
    if algorithm != "auto":  # auto's best_omega uses discounted means
        means = {w: np.mean([c for v, c in ref.history if v == w]) for w in sorted({w for w, _ in ref.history})}
        assert tuner.best_omega == min(means, key=means.get)


def test_contextual_tuner_driven_from_cpp_uses_context():
    t = ContextualOmegaTuner(seed=0, context_range=(-0.15, 0.45))
    for A, b, c in shifted_laplacian_sequence(200, variance="high", seed=1):
        solve_sor(A, b, omega=t, context=c)
    hist = t.history
    assert len(hist) == 200
    assert all(np.asarray(h[2]).shape == (1,) for h in hist)
    cs = [float(h[2][0]) for h in hist]
    assert cs[0] == pytest.approx(next(iter(shifted_laplacian_sequence(1, variance="high", seed=1)))[2])


def test_contextual_tuner_requires_context_when_driven():
    t = ContextualOmegaTuner(seed=0)
    with pytest.raises(ValueError, match="context"):
        solve_sor(poisson2d(3), np.ones(9), omega=t)


def test_tuner_extreme_inputs_give_clear_results():
    t = ContextualOmegaTuner(seed=0)
    for c in (1e308, -1e308, 0.0, 1.7e308):
        w = t.suggest(context=c)
        t.observe(w, 10, context=c, rate=0.5)
    assert 1.0 <= t.best_omega(1e308) <= 1.95
    u = OmegaTuner(omegas=[1e-300, 1.0])
    u.observe(1e-300, 20, rate=0.9)  # Young's inversion divides by omega^2: no error
    assert u.history == [(1e-300, 20.0)]
    with pytest.raises(TypeError, match="cost"):
        OmegaTuner().observe(1.2, "many")
    with pytest.raises(TypeError, match="context"):
        ContextualOmegaTuner().suggest(context="warm")


def test_tuner_pickle_preserves_contextual_state():
    import pickle

    t = ContextualOmegaTuner(seed=3, context_range=(0, 1))
    rng = np.random.default_rng(0)
    for _ in range(100):
        c = rng.random()
        w = t.suggest(context=c)
        t.observe(w, 10 + 50 * (w - 1.2 - 0.6 * c) ** 2, context=c, rate=0.8)
    t2 = pickle.loads(pickle.dumps(t))
    assert len(t2.history) == 100
    for _ in range(50):
        c = rng.random()
        w1, w2 = t.suggest(context=c), t2.suggest(context=c)
        assert w1 == w2
        t.observe(w1, 12, context=c)
        t2.observe(w2, 12, context=c)
