// adasolve::sor: plain C++17 + Eigen core (no Python types).
//
// Pointwise SOR / SSOR sweeps on CSR matrices (float32/float64, int32/int64 indices,
// one or several right-hand sides stored row-major (n, k)), a greedy multicolour
// ordering with OpenMP-parallel colour sweeps, a solve loop with a cheap stopping
// test and classical adaptive omega, and SSOR-preconditioned CG.
#pragma once

#include <vector>

#include "adasolve/common.hpp"

namespace adasolve::sor {

enum class Direction { Forward = 0, Backward = 1, Symmetric = 2 };

/// Rows grouped by colour: rows of one colour never couple (a_ij = a_ji = 0),
/// so a colour can be swept in parallel. rows[ptr[c] .. ptr[c+1]) have colour c.
struct Coloring {
  std::vector<Index> ptr;
  std::vector<Index> rows;
  Index n_colors() const { return ptr.empty() ? 0 : static_cast<Index>(ptr.size()) - 1; }
};

/// Greedy (first-fit, lexicographic) colouring of the symmetrised pattern of A.
/// On the 5-point stencil this is the red-black ordering.
template <class Idx>
Coloring greedy_coloring(Index n, const Idx* indptr, const Idx* indices);

/// 1 / a_ii for every row; throws std::invalid_argument on a zero or missing diagonal.
template <class Scalar, class Idx>
std::vector<Scalar> inverse_diagonal(const CsrView<Scalar, Idx>& A);

/// `iterations` sweeps in place on x (n x k row-major), b likewise.
/// `coloring` == nullptr: natural (lexicographic) order; else multicolour order.
/// Returns the sum of squares of the in-sweep residual of the last half-sweep
/// (b_i - sum_j a_ij x_j just before row i is updated), per column, in `pseudo` if non-null.
template <class Scalar, class Idx>
void sweep(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x, const Scalar* b,
           Index k, double omega, Index iterations, Direction dir, const Coloring* coloring,
           double* pseudo = nullptr);

/// State carried between chunks of a solve (so a callback can run between sweeps).
struct SolveState {
  double omega = 1.0;      ///< current relaxation factor
  bool adaptive = false;   ///< omega = "auto" (Hageman & Young style)
  double q = 1.0;          ///< last observed ratio true residual / in-sweep residual
  Index since_change = 0;  ///< sweeps since omega last changed
  Index total = 0;         ///< sweeps done so far in this solve
  double prev_pseudo = -1; ///< in-sweep residual norm of the previous sweep
  double rate = 0.0;       ///< smoothed per-sweep reduction ratio
  double r0 = -1;          ///< max over columns of the initial residual norm
};

/// SOR/SSOR iterations until max over columns of ||b_c - A x_c|| / target_c <= 1 or maxiter.
/// info: 0 converged, >0 sweeps done without converging, -1 divergence / non-finite values.
/// Report.resid is the largest column residual norm at the last true check.
template <class Scalar, class Idx>
Report solve(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x, const Scalar* b,
             Index k, bool symmetric, const Coloring* coloring, Index maxiter,
             const double* target, SolveState& state);

/// ||b_c - A x_c|| per column into out (k values).
template <class Scalar, class Idx>
void residual_norms(const CsrView<Scalar, Idx>& A, const Scalar* x, const Scalar* b, Index k,
                    double* out);

/// z = M^{-1} r for the SSOR preconditioner M = (D + wL) D^{-1} (D + wU) / (w (2 - w)).
/// (Equal to one symmetric SOR sweep from zero.) z and r: n x k row-major.
template <class Scalar, class Idx>
void ssor_apply(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, double omega,
                const Scalar* r, Scalar* z, Index k);

/// State of an SSOR-preconditioned CG run, so it can be resumed chunk by chunk.
template <class Scalar>
struct CgState {
  std::vector<Scalar> r, z, p, q;
  double rz = 0.0;
  bool started = false;
  double r0 = -1;
};

/// Preconditioned CG (SSOR, omega) from the current x; stops when ||r|| <= target.
/// info: 0 converged, >0 iterations without converging, -1 breakdown (A not SPD / non-finite).
template <class Scalar, class Idx>
Report ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, double omega,
                const Scalar* b, Scalar* x, Index maxiter, double target, CgState<Scalar>& st);

}  // namespace adasolve::sor
