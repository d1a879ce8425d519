// adasolve::sor: SOR / SSOR sweeps, the SOR solve loop (fixed or adaptive omega),
// the SSOR preconditioner and SSOR-preconditioned CG on CSR matrices.
//
// Plain C++17 (+ OpenMP when available), no Python types. Matrices come in as
// CsrView (borrowed arrays, never copied). Every kernel is instantiated for
// float and double values and int32 / int64 indices in cpp/src/sor/kernels.cpp.
// Threads: the multicolour and large-vector kernels run on the library's thread team
// (adasolve/common/parallel.hpp: parallel::set_num_threads).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "adasolve/common.hpp"
#include "adasolve/sor/tuner.hpp"

namespace adasolve::sor {

enum class Direction { Forward = 0, Backward = 1, Symmetric = 2 };

/// A colouring of the rows such that no two rows of one colour are coupled
/// (a_ij == 0 and a_ji == 0 for i != j of equal colour), so each colour's rows
/// can be relaxed in parallel.
///
/// Rows of colour c are rows[color_ptr[c] .. color_ptr[c+1]), in increasing order.
struct Coloring {
  std::vector<Index> color_ptr;  // n_colors + 1
  std::vector<Index> rows;       // n, grouped by colour
  Index n_colors() const { return color_ptr.empty() ? 0 : Index(color_ptr.size()) - 1; }
};

/// Greedy (first-fit, natural row order) colouring of the symmetrized graph of A.
///
/// On a 5-point (or any bipartite, lexicographically numbered) stencil this gives
/// the red-black colouring.
template <class Idx>
Coloring greedy_coloring(Index n, const Idx* indptr, const Idx* indices);

/// What reading A found: the first row with a zero or missing diagonal entry, and the
/// first row holding a NaN or Inf (-1 for none).
struct MatrixCheck {
  Index zero_diagonal_row = -1;
  Index nonfinite_row = -1;
  bool ok() const { return zero_diagonal_row < 0 && nonfinite_row < 0; }
};

/// Fill inv_diag[i] = 1 / a_ii while checking every stored value once (one pass over A).
/// inv_diag is complete only when the returned check is ok().
template <class Scalar, class Idx>
MatrixCheck inverse_diagonal(const CsrView<Scalar, Idx>& A, Scalar* inv_diag);

/// Throw std::invalid_argument naming `name` unless check.ok().
void require_ok(const MatrixCheck& check, const char* name);

/// 2-norm of v[0], v[stride], ... (n entries), accurate over the whole double range: the
/// plain sum of squares under- or overflows for entries below 1e-154 or above 1e154, and
/// is then recomputed with scaling.
template <class Scalar>
double norm2(const Scalar* v, Index n, Index stride = 1);

/// Relax A x = b in place: `iterations` sweeps of pointwise SOR,
///   x_i <- x_i + omega (b_i - sum_j a_ij x_j) / a_ii,
/// which equals (1-omega) x_i + omega (b_i - sum_{j!=i} a_ij x_j) / a_ii.
///
/// Parameters
/// ----------
/// A, inv_diag : the matrix and its inverse diagonal (see inverse_diagonal).
/// b, x : row-major (n, nrhs) blocks; x is updated in place.
/// omega : relaxation factor.
/// dir : forward (rows 0..n-1), backward (n-1..0) or symmetric (forward then backward).
/// coloring : nullptr for the natural sequential order; otherwise a multicolour order,
///            colours relaxed one after another, rows of a colour in parallel (OpenMP).
template <class Scalar, class Idx>
void sweep(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b, Scalar* x,
           Index nrhs, Scalar omega, Direction dir, Index iterations, const Coloring* coloring);

/// r = b - A x for row-major (n, nrhs) blocks; returns the largest column 2-norm of r.
template <class Scalar, class Idx>
double residual(const CsrView<Scalar, Idx>& A, const Scalar* b, const Scalar* x, Scalar* r,
                Index nrhs);

struct SolveOptions {
  double omega = 1.0;        ///< relaxation factor (initial value when adaptive)
  double rtol = 1e-8;
  double atol = 0.0;
  Index maxiter = 1000;
  bool symmetric = false;    ///< SSOR sweeps (forward + backward) instead of forward
  bool adaptive = false;     ///< Hageman-Young adaptive omega
  Index max_between_checks = 64;  ///< cap on sweeps between two residual checks
};

/// Why an iteration stopped without converging (SolveReport::why).
enum class StopReason : int {
  None = 0,               ///< converged, or ran out of iterations
  Diverged = 1,           ///< the residual grew by 1e12 or became non-finite
  NonfiniteStart = 2,     ///< b - A x0 is not finite (entries near the largest doubles)
  NotPositiveDefinite = 3 ///< CG found p^T A p <= 0 or r^T z <= 0
};

struct SolveReport : Report {
  double omega = 1.0;               ///< omega used (final value when adaptive)
  double r0 = 0.0;                  ///< initial residual norm (largest column)
  double convergence_factor = 0.0;  ///< (resid / r0)^(1/nit), nan if nit == 0
  Index n_checks = 0;               ///< residual evaluations performed
  double spectral_radius_jacobi = -1.0;  ///< adaptive mode: final estimate of mu (-1 if none)
  StopReason why = StopReason::None;
};

/// SOR (or SSOR) iteration until max_col ||b - A x|| <= max(rtol ||b_col||, atol) for
/// every column, or maxiter sweeps. A column with b_c = 0 returns x_c = 0 (as SciPy does).
///
/// The residual b - A x is not computed after every sweep. Each sweep yields, at no extra
/// cost, the norm of the residual it relaxed (row by row, before the update); its ratio to
/// the true residual is calibrated at every true check, so the estimate tells after every
/// sweep when the tolerance is about to be met, and the true check runs then. A second,
/// extrapolated schedule (half the predicted remaining sweeps, at most max_between_checks)
/// keeps the estimate honest. Checks cost a few percent of the run, and the stop comes
/// within a sweep or two of the first sweep that meets the tolerance.
/// info: 0 converged, nit > 0 not converged within maxiter, -1 diverged (non-finite or
/// exploding residual): the iteration was stopped.
///
/// Adaptive omega (options.adaptive): the classical Hageman-Young procedure. The ratio
/// of successive pseudo-residual norms ||x^{k+1}-x^k|| / ||x^k-x^{k-1}|| estimates the
/// spectral radius lambda of the SOR iteration at the current omega; once stable,
/// Young's relation (lambda + omega - 1)^2 = lambda omega^2 mu^2 (consistently ordered
/// matrices) gives an estimate of the Jacobi spectral radius mu, and omega is moved to
/// 2 / (1 + sqrt(1 - mu^2)). Estimates of mu only increase, so omega approaches the
/// optimum from below, where the convergence rate is least sensitive to errors.
template <class Scalar, class Idx>
SolveReport solve(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x, Index nrhs,
                  const SolveOptions& opt, const Coloring* coloring);

/// As solve(), with the inverse diagonal already computed (see inverse_diagonal).
template <class Scalar, class Idx>
SolveReport solve(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b,
                  Scalar* x, Index nrhs, const SolveOptions& opt, const Coloring* coloring);

/// z = M^{-1} r for the SSOR preconditioner M = (D + wL) D^{-1} (D + wU) / (w (2 - w)),
/// computed by one forward and one backward triangular pass (reads each half of A once).
template <class Scalar, class Idx>
void ssor_apply(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar omega,
                const Scalar* r, Scalar* z, Index nrhs);

/// Conjugate gradients preconditioned by SSOR(omega) for SPD A, one right-hand side,
/// warm-started from x. Stops when ||b - A x|| <= max(rtol ||b||, atol) (recursively
/// updated residual, as SciPy's cg). info: 0 converged, nit > 0 not converged,
/// -10 breakdown (p^T A p <= 0 or r^T z <= 0: A or M not positive definite),
/// -1 non-finite values.
template <class Scalar, class Idx>
SolveReport ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x,
                     const SolveOptions& opt);

/// As ssor_pcg(), with the inverse diagonal already computed.
template <class Scalar, class Idx>
SolveReport ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b,
                     Scalar* x, const SolveOptions& opt);

/// Resumable SOR iteration (the loop behind `solve`), so that a caller can run it in
/// chunks (for per-iteration callbacks) without losing the adaptive-omega state.
/// Borrows A, b and x: they must outlive the solver.
template <class Scalar, class Idx>
class SorIteration {
 public:
  /// inv_diag (n entries) is borrowed too.
  SorIteration(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b, Scalar* x,
               Index nrhs, const SolveOptions& opt, const Coloring* coloring);
  /// Run up to `max_sweeps` more sweeps (never past opt.maxiter); returns the report so far.
  SolveReport run(Index max_sweeps);
  bool finished() const { return finished_; }

 private:
  double check();  // residual check: max over columns of ||r_c|| / tol_c
  double one_sweep();  // returns the norm of the residual the sweep relaxed
  void adapt(double relaxed_norm);

  CsrView<Scalar, Idx> A_;
  const Scalar* inv_diag_;
  const Scalar* b_;
  Scalar* x_;
  Index n_, nrhs_;
  SolveOptions opt_;
  const Coloring* coloring_;
  std::vector<Scalar> r_;
  std::vector<double> tol_;
  SolveReport rep_;
  bool finished_ = false;
  Scalar omega_;
  double q0_ = 0, q_last_ = 0;
  Index k_last_check_ = 0, next_check_ = 1, step_ = 1;
  double kappa_ = -1;  // true residual ratio q / relaxed-residual norm at the last check
  double s_last_ = 0;  // relaxed-residual norm of the last sweep
  // adaptive-omega state
  double d_prev_ = -1, ratio_prev_ = -1, mu2_ = 0;
  Index sweeps_at_omega_ = 0, stable_count_ = 0;
  double d_start_ = 0, best_rate_ = -1, best_omega_ = 1;
  bool frozen_ = false;
};

/// Resumable SSOR-preconditioned CG (the loop behind `ssor_pcg`).
template <class Scalar, class Idx>
class SsorPcgIteration {
 public:
  SsorPcgIteration(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b,
                   Scalar* x, const SolveOptions& opt);
  SolveReport run(Index max_iters);
  bool finished() const { return finished_; }

 private:
  CsrView<Scalar, Idx> A_;
  const Scalar* inv_diag_;
  const Scalar* b_;
  Scalar* x_;
  Index n_;
  SolveOptions opt_;
  std::vector<Scalar> r_, z_, p_, q_, b_scaled_;
  double rz_ = 0, tol_ = 0, bnorm_ = 0;
  double scale_ = 1.0;  // b and x are multiplied by scale_ inside run() (extreme magnitudes)
  bool scaled_in_ = false;  // x currently holds scale_ * x
  void rescale(bool to_internal);
  SolveReport rep_;
  bool finished_ = false;
};

/// What a tuner observes of a finished solve: the cost is the iteration count, except that
/// a solve stopped early (info < 0: diverged, broke down) costs `maxiter`, the worst possible,
/// so the tuner learns to avoid that omega; its rate is then unknown (NaN).
struct TunerFeedback {
  double cost;
  double rate;
};
inline TunerFeedback tuner_feedback(const SolveReport& rep, Index maxiter) {
  if (rep.info < 0) return {double(std::max(maxiter, rep.nit)), std::nan("")};
  return {double(rep.nit), rep.convergence_factor};
}

/// One solve of a sequence driven by a tuner, without leaving C++: omega =
/// tuner.suggest(ctx), the solve `solve_fn(omega)`, then tuner.observe with tuner_feedback.
template <class SolveFn>
SolveReport solve_with_tuner(Tuner& tuner, const double* ctx, Index dim, Index maxiter,
                             SolveFn&& solve_fn) {
  const double w = tuner.suggest(ctx, dim);
  SolveReport rep = solve_fn(w);
  const TunerFeedback fb = tuner_feedback(rep, maxiter);
  tuner.observe(w, fb.cost, ctx, dim, fb.rate);
  return rep;
}

}  // namespace adasolve::sor
