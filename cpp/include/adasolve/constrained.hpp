// adasolve::constrained: plain C++17 + Eigen core (no Python types).
//
// Linear algebra of one outer iteration of the AdaSketch-Newton method (Hong, Na,
// Mahoney, Kolar, ICML 2023) for  min f(x)  s.t.  c(x) = 0:
//
//   * assembly of the KKT matrix  K = [[B, G^T], [G, 0]]  (dense or Eigen sparse), where
//     B = H + t I is the Lagrangian Hessian H shifted when the reduced Hessian Z^T H Z is
//     not positive definite;
//   * an inner solver for  K z = b,  b = -[grad_x L; c]: the paper's randomized iterative
//     sketches (Gaussian vector / block Gaussian, CountSketch, randomized Kaczmarz), a
//     block-diagonally preconditioned MINRES (Krylov, optionally matrix-free in H), or an
//     exact direct solve; all keep the residual r = b - K z and can be resumed with a
//     tighter tolerance (the paper's adaptive accuracy test is applied to r);
//   * the pieces of the exact augmented Lagrangian merit function
//       L_eta = f + v^T c + (eta1/2)||c||^2 + (eta2/2)||grad_x L||^2
//     and its directional derivative, which uses the (unmodified) Lagrangian Hessian;
//   * a damped (Powell) BFGS update for when the user has no Hessian.
//
// The outer loop (which evaluates the user's functions) lives in Python; every
// O(n^2) / O(nnz) operation of it lives here.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "adasolve/common.hpp"

namespace adasolve::constrained {

using Vec = Eigen::VectorXd;
using DenseMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using SparseMat = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;

/// Inner solver of the KKT system (the user's `sketch` argument, resolved once in Python).
enum class Sketch { Gaussian = 0, CountSketch = 1, Kaczmarz = 2, Exact = 3, Minres = 4 };

/// Test of the reduced Hessian Z^T H Z that decides the shift t (the `hessian_check`
/// option). Up to n = kEigenShiftMaxN the eigenvalues are used whatever is chosen, except
/// `None` (no shift ever).
enum class HessianCheck {
  None = 0,      ///< never shift H
  Cholesky = 1,  ///< (sparse) Cholesky of H + rho G^T G + (t - thr) I
  CG = 2,        ///< CG curvature test on the same matrix (matrix-free, `cg_iters` steps)
  Inertia = 3,   ///< inertia of the LDL^T of the regularized KKT matrix (exact sparse only)
};

/// out = H p (a Hessian given by products only; see KKTOptions::hessp).
using HessProd = std::function<void(const Vec& p, Vec& out)>;

/// Sparse LDL^T factorization of the (regularized) KKT matrix kept across outer
/// iterations: the symbolic analysis (AMD ordering, elimination tree) is redone only when
/// the sparsity pattern of K changes, which for most problems is never.
struct SparseKKTCache;

/// Options of one KKT system.
struct KKTOptions {
  Sketch sketch = Sketch::Gaussian;
  Index sketch_size = 1;       ///< columns of a block sketch (1 = Gaussian vector)
  double xi_B = 0.1;           ///< lower bound wanted on the reduced Hessian's eigenvalues
  double pd_threshold = 1e-6;  ///< reduced Hessian below this counts as not PD
  HessianCheck hessian_check = HessianCheck::Cholesky;
  Index cg_iters = 50;
  /// Matrix-free Hessian (Sketch::Minres with HessianCheck::CG or None only): K's (1,1)
  /// block is H + t I with H applied by this callback; the H passed to KKTSystem must then
  /// be an all-zero (empty) n x n matrix.
  HessProd hessp;
  bool modify_hessian() const { return hessian_check != HessianCheck::None; }
  /// Exact sparse mode: reusable factorization (may be null: a fresh one per system).
  std::shared_ptr<SparseKKTCache> cache;
  std::uint64_t seed = 0;
  /// Regularization of a rank-deficient Jacobian: K's (2,2) block becomes -delta_c I
  /// (as IPOPT does for degenerate constraints); 0 = the plain KKT matrix.
  double delta_c = 0.0;
  /// Hessian shift of the previous outer iteration (0: none). Where the shift is found by
  /// trial factorizations (n > kEigenShiftMaxN), the search starts from shift_hint / 3 and
  /// grows by 8x, as IPOPT's inertia correction does; otherwise from xi_B by 10x.
  double shift_hint = 0.0;
};

/// Up to this n, the Hessian shift is computed from the eigenvalues of the reduced
/// Hessian Z^T H Z, for dense and sparse input alike (so that both follow the same iterates).
constexpr Index kEigenShiftMaxN = 100;

/// Result of (a resumed piece of) the inner solve.
struct InnerReport {
  Index steps = 0;       ///< sketch steps performed in this call
  double resid = 0.0;    ///< ||b - K z|| at return (exact, not the running value)
  bool converged = false;
  bool timed_out = false;  ///< stopped by the time budget of solve()
  bool overflow = false;   ///< a sketch step overflowed (entries of K near the double range)
};

/// Predicted size of the sparse LDL^T factor of the KKT matrix (symbolic analysis only).
struct FillEstimate {
  double factor_nnz = 0.0;  ///< nonzeros of L (strict lower triangle)
  double flops = 0.0;       ///< sum over columns of (column count)^2: the numeric work
};
FillEstimate predict_kkt_fill(const SparseMat& H, const SparseMat& G);

/// The KKT system of one outer iteration and its sketching solver.
///
/// `Mat` is DenseMat or SparseMat. The Hessian H and Jacobian G are copied into the
/// assembled K (that assembly is the one copy); the unmodified H is kept for the merit
/// function's gradient (it is the Lagrangian Hessian, not the objective's).
template <class Mat>
class KKTSystem {
 public:
  /// H: n x n Lagrangian Hessian, G: m x n constraint Jacobian, grad_l: grad_x L (n),
  /// c: constraint values (m).
  KKTSystem(const Mat& H, const Mat& G, const Vec& grad_l, const Vec& c, const KKTOptions& opt);

  Index n() const { return n_; }
  Index m() const { return m_; }
  double shift() const { return shift_; }                 ///< t in B = H + t I
  double reduced_min_eig() const { return red_min_eig_; }  ///< NaN when not computed
  double jac_min_sv() const { return g_min_sv_; }          ///< sigma_min(G); NaN when not computed
  double jac_max_sv() const { return g_max_sv_; }
  double hess_norm() const { return h_norm_; }             ///< ||H|| (2-norm dense, inf-norm sparse)
  double kkt_fro_norm() const { return k_fro_; }
  double rhs_norm() const { return b_.norm(); }
  double resid_norm() const { return r_.norm(); }
  Index total_steps() const { return total_steps_; }
  const InnerReport& last_report() const { return last_; }  ///< of the last solve()
  const Vec& z() const { return z_; }
  Vec dx() const { return z_.head(n_); }
  Vec dv() const { return z_.tail(m_); }

  /// Sketch until ||b - K z|| <= tol_abs or `max_steps` more steps were taken; resumes
  /// from the current z. Exact mode: one direct solve.
  /// `max_seconds` bounds the wall time of the sketch steps (checked every few steps).
  /// Polls the interrupt hook (adasolve::Interrupted on Ctrl-C).
  InnerReport solve(double tol_abs, Index max_steps,
                    double max_seconds = std::numeric_limits<double>::infinity());

  /// Start the sketching solver from z0 (length n + m) instead of 0, e.g. the previous
  /// outer iteration's step; costs one product with K. Ignored (z stays 0) when it does
  /// not reduce the residual below ||b||. Returns whether it was kept.
  bool warm_start(const Vec& z0);

  /// grad L_eta^T z for the current z, with grad L_eta =
  /// [grad_l + eta2 H grad_l + eta1 G^T c ; c + eta2 G grad_l].
  /// `hg` (length n) replaces H grad_l when given (BFGS mode, finite differences).
  double merit_directional(double eta1, double eta2, const Vec* hg = nullptr) const;

 private:
  void assemble(const Mat& H, const Mat& G);
  void modify_hessian(const Mat& H, const Mat& G);
  void factor_inertia(const Mat& H, const Mat& G);
  void eig_shift(const Eigen::MatrixXd& H, const Eigen::MatrixXd& G);
  void dense_norms(const Eigen::MatrixXd& H, const Eigen::MatrixXd& G);
  InnerReport solve_exact(double tol_abs);
  InnerReport solve_sketch(double tol_abs, Index max_steps, double max_seconds);
  InnerReport solve_minres(double tol_abs, Index max_steps, double max_seconds);
  void apply_K(const Vec& x, Vec& y) const;  ///< y = K x (adds H x when matrix-free)
  void build_preconditioner();

  struct Preconditioner;  // block-diagonal SPD preconditioner of MINRES (inner_minres.cpp)
  std::shared_ptr<Preconditioner> prec_;

  Index n_, m_, N_;
  KKTOptions opt_;
  Mat K_;
  Mat H_, G_;
  Vec gl_, c_, b_, z_, r_;
  Vec row_sq_;          // squared row norms of K (Kaczmarz)
  std::vector<double> row_cdf_;
  double shift_ = 0.0, red_min_eig_, g_min_sv_, g_max_sv_, h_norm_ = 0.0, k_fro_ = 0.0;
  Index total_steps_ = 0;
  InnerReport last_;
  std::mt19937_64 rng_;
};


// KKTSystem<DenseMat> and KKTSystem<SparseMat> are instantiated in src/constrained/*.cpp
// (setup, inner_sketch, inner_exact, inner_minres, globalization), one file per part.

/// Cached sparse factorization (exact mode). `analyses` counts symbolic analyses,
/// `factorizations` numeric ones, across every KKT system that used this cache.
struct SparseKKTCache {
  SparseKKTCache();
  ~SparseKKTCache();
  Index analyses = 0;
  Index factorizations = 0;
  Index factor_nnz = 0;  ///< nonzeros of L in the last factorization
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Exact augmented Lagrangian value f + v^T c + eta1/2 ||c||^2 + eta2/2 ||grad_l||^2.
double merit_value(double f, const Vec& v, const Vec& c, const Vec& grad_l, double eta1,
                   double eta2);

/// Damped BFGS (Powell 1978) update of B in place with step s and gradient change y;
/// returns theta (1 = plain BFGS, < 1 damped, 0 = skipped because s is ~0).
double damped_bfgs_update(Eigen::Ref<DenseMat> B, const Vec& s, const Vec& y);

/// Standalone sketching solver on a symmetric system K z = b (dense K), for testing and
/// for users who want the sketching solver alone: returns z, fills `report`.
Vec sketch_solve(const DenseMat& K, const Vec& b, Sketch sketch, Index sketch_size,
                 double rtol, Index max_steps, std::uint64_t seed, InnerReport* report);

}  // namespace adasolve::constrained
