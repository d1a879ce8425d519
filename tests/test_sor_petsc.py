"""adasolve.petsc: the omega tuner driving PETSc KSPs, on one rank or under MPI.

Run on one process by the plain ``pytest``; CI also runs this file under
``mpiexec -n 2 python -m pytest tests/test_sor_petsc.py``: every test is written for any number
of ranks (collective calls in the same order, checks on gathered values, so that every rank
passes or fails together).
"""

import pickle

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="adasolve.petsc needs mpi4py (pip install 'adasolve[petsc]'; see the README)")
pytest.importorskip(
    "petsc4py",
    reason="adasolve.petsc needs PETSc and petsc4py: apt-get install petsc-dev, then "
           "PETSC_DIR=/usr/lib/petsc pip install --no-build-isolation petsc4py==3.18.5 (see the README)",
)
import scipy.sparse.linalg as spla  # noqa: E402
from petsc4py import PETSc  # noqa: E402

from adasolve import ContextualOmegaTuner, OmegaTuner, solve_sor  # noqa: E402
from adasolve.petsc import HeatDMDA, TunedKSP  # noqa: E402
from adasolve.problems import heat_equation_sequence, poisson2d  # noqa: E402

COMM = PETSc.COMM_WORLD
MPI = COMM.tompi4py()
SIZE = MPI.Get_size()


def _allgather(x):
    return MPI.allgather(x)


def _petsc_csr(A):
    """A distributed AIJ matrix with the rows of SciPy CSR ``A`` split as PETSc chooses."""
    n = A.shape[0]
    M = PETSc.Mat().createAIJ([n, n], comm=COMM)
    M.setUp()
    lo, hi = M.getOwnershipRange()
    sub = A[lo:hi]
    M.setValuesCSR(sub.indptr.astype(PETSc.IntType), sub.indices.astype(PETSc.IntType), sub.data,
                   addv=PETSc.InsertMode.INSERT_VALUES)
    M.assemble()
    return M


def _vec(M, values):
    v = M.createVecRight()
    lo, hi = v.getOwnershipRange()
    v.setArray(np.asarray(values, dtype=float)[lo:hi])
    return v


def _gather(v):
    scatter, full = PETSc.Scatter.toAll(v)
    scatter.scatter(v, full, False, PETSc.Scatter.Mode.FORWARD)
    return full.getArray().copy()


def test_sor_matches_adasolve_iterations_on_one_rank():
    """Richardson + forward PCSOR is SOR: same iteration count as solve_sor, same solution."""
    A = poisson2d(20).tocsr()
    b = np.linspace(1.0, 2.0, A.shape[0])
    M = _petsc_csr(A)
    ksp = PETSc.KSP().create(COMM)
    ksp.setOperators(M)
    ksp.setTolerances(rtol=1e-8, atol=0.0, max_it=5000)
    tk = TunedKSP(ksp, OmegaTuner(seed=0), method="sor")
    for w in (1.0, 1.5, 1.8):
        x = M.createVecLeft()
        x.set(0.0)
        tk.set_omega(w)
        ksp.solve(_vec(M, b), x)
        its = ksp.getIterationNumber()
        assert ksp.getConvergedReason() > 0
        np.testing.assert_allclose(_gather(x), spla.spsolve(A.tocsc(), b), rtol=1e-6)
        if SIZE == 1:
            _, info, st = solve_sor(A, b, omega=w, rtol=1e-8, atol=0.0, maxiter=5000, full_output=True)
            assert info == 0
            assert abs(its - st.iterations) <= 1, (w, its, st.iterations)


def test_omega_reaches_pcsor():
    """The omega set through the options database is the one PETSc uses (fewer iterations at 1.8)."""
    A = poisson2d(24).tocsr()
    M = _petsc_csr(A)
    ksp = PETSc.KSP().create(COMM)
    ksp.setOperators(M)
    ksp.setTolerances(rtol=1e-6, atol=0.0, max_it=10000)
    tk = TunedKSP(ksp, OmegaTuner(seed=0), method="sor")
    its = {}
    for w in (1.0, 1.8):
        x = M.createVecLeft()
        tk.set_omega(w)
        ksp.solve(_vec(M, np.ones(A.shape[0])), x)
        its[w] = ksp.getIterationNumber()
    assert its[1.8] < 0.5 * its[1.0]
    # The option is removed from the database again.
    assert not PETSc.Options(ksp.getPC().getOptionsPrefix()).hasName("pc_sor_omega")


def test_configuration_and_bad_input():
    ksp = PETSc.KSP().create(COMM)
    TunedKSP(ksp, OmegaTuner(seed=0), method="ssor-cg")
    assert ksp.getType() == "cg" and ksp.getPC().getType() == "sor"
    assert ksp.getNormType() == PETSc.KSP.NormType.UNPRECONDITIONED
    TunedKSP(ksp, OmegaTuner(seed=0), method="sor")
    assert ksp.getType() == "richardson"
    with pytest.raises(ValueError, match="method"):
        TunedKSP(ksp, OmegaTuner(seed=0), method="jacobi")
    with pytest.raises(TypeError, match="ksp"):
        TunedKSP(object(), OmegaTuner(seed=0))
    with pytest.raises(TypeError, match="tuner"):
        TunedKSP(ksp, 1.5)
    tk = TunedKSP(ksp, OmegaTuner(seed=0))
    with pytest.raises(ValueError, match="omega"):
        tk.set_omega(2.5)


def test_heat_dmda_is_the_scipy_sequence():
    """The DMDA systems and states equal adasolve.problems.heat_equation_sequence's (gathered)."""
    nx, steps = 12, 4
    heat = HeatDMDA(nx=nx, steps=steps, dt=1e-3)
    seq = heat_equation_sequence(nx=nx, steps=steps, dt=1e-3)
    ksp = PETSc.KSP().create(COMM)
    ksp.setTolerances(rtol=1e-12, atol=0.0, max_it=5000)
    ksp.setInitialGuessNonzero(True)
    tk = TunedKSP(ksp, OmegaTuner(seed=0), method="ssor-cg")
    for kappa, (A_t, b_t, kap_t) in zip(heat, seq):
        assert kappa == kap_t
        np.testing.assert_allclose(heat.natural(heat.b), b_t, rtol=1e-12, atol=1e-12)
        ksp.setOperators(heat.A)
        info = tk.solve(heat.b, heat.x, context=kappa)
        assert info.converged
        heat.step()
        x_ref = spla.spsolve(A_t.tocsc(), b_t)
        np.testing.assert_allclose(heat.natural(), x_ref, rtol=1e-9, atol=1e-10)
        seq.step(x_ref)


@pytest.mark.parametrize("make_tuner, method", [
    (lambda: OmegaTuner(seed=3), "sor"),
    (lambda: ContextualOmegaTuner(seed=3, context_range=(0.0, 10.0)), "ssor-cg"),
])
def test_tuned_sequence_same_on_every_rank(make_tuner, method):
    """Same omega on every rank, global iteration counts observed, identical tuner state."""
    heat = HeatDMDA(nx=20, steps=25, dt=1e-3)
    ksp = PETSc.KSP().create(COMM)
    ksp.setTolerances(rtol=1e-6, atol=0.0, max_it=2000)
    ksp.setInitialGuessNonzero(True)
    tuner = make_tuner()
    tk = TunedKSP(ksp, tuner, method=method)
    for kappa in heat:
        ksp.setOperators(heat.A)
        tk.solve(heat.b, heat.x, context=kappa)
        heat.step()
    assert len(tk.history) == 25 and all(h.converged for h in tk.history)
    # What the tuner saw is what PETSc counted (global iterations), in order.
    assert [h[1] for h in tuner.history] == [float(h.iterations) for h in tk.history]
    assert len({h.omega for h in tk.history}) > 1          # it explored
    per_rank = _allgather([(h.omega, h.iterations, h.rate) for h in tk.history])
    assert all(r == per_rank[0] for r in per_rank)
    digests = _allgather(pickle.dumps(tuner))
    assert all(d == digests[0] for d in digests)
    assert tk.total_iterations == sum(h.iterations for h in tk.history)
    # The observed rate is the geometric mean reduction per iteration: below 1 when converged.
    assert all(0.0 < h.rate < 1.0 for h in tk.history)


def test_non_convergence_is_reported_and_observed():
    A = poisson2d(30).tocsr()
    M = _petsc_csr(A)
    ksp = PETSc.KSP().create(COMM)
    ksp.setOperators(M)
    ksp.setTolerances(rtol=1e-10, atol=0.0, max_it=5)
    tuner = OmegaTuner(seed=0)
    tk = TunedKSP(ksp, tuner, method="sor")
    info = tk.solve(_vec(M, np.ones(A.shape[0])), M.createVecLeft())
    assert not info.converged and info.reason < 0 and info.iterations == 5
    assert tuner.history[-1][1] == 5.0


def test_tuners_must_agree_across_ranks():
    if SIZE == 1:
        pytest.skip("needs more than one MPI rank (mpiexec -n 2)")
    ksp = PETSc.KSP().create(COMM)
    with pytest.raises(ValueError, match="differs between ranks"):
        TunedKSP(ksp, OmegaTuner(seed=MPI.Get_rank()))


def test_context_default_and_override():
    """The constructor's context (a value or a callable) is used unless solve() passes one."""
    A = poisson2d(8).tocsr()
    M = _petsc_csr(A)
    ksp = PETSc.KSP().create(COMM)
    ksp.setOperators(M)
    calls = []
    tuner = ContextualOmegaTuner(seed=0, context_range=(0.0, 1.0))
    tk = TunedKSP(ksp, tuner, method="ssor-cg", context=lambda: calls.append(1) or 0.25)
    b = _vec(M, np.ones(A.shape[0]))
    tk.solve(b, M.createVecLeft())
    tk.solve(b, M.createVecLeft(), context=0.75)
    assert calls == [1]
    assert [float(h[2][0]) for h in tuner.history] == [0.25, 0.75]
