// Working-set coordinate descent for L1(+L2)-regularised generalised linear models.
//
// The fast path behind adasolve.linear_model.Lasso / ElasticNet / LogisticRegression(penalty="l1").
// It is the greedy (Gauss-Southwell) idea of the BCD engine applied to *variable blocks chosen
// by their violation of the optimality conditions* (the dual constraint |x_j' theta| <= l1):
// each outer iteration computes the full gradient once, picks the support plus the worst
// violators as the working set (a variable block, twice the support), and solves the problem
// restricted to it by coordinate descent (quadratic loss: exact coordinate minimisation with the
// residual kept up to date and Anderson extrapolation; logistic loss: proximal Newton with an
// inner coordinate descent on the quadratic model and a backtracking line search). The outer loop
// stops on a duality gap computed from a rescaled dual point.
//
// Objective (w in R^p, optional unpenalised intercept b, z = Xw + b, sample weights h_i >= 0,
// all 1 unless given):
//   quadratic: s/2 sum_i h_i (y_i - z_i)^2          + l1 ||w||_1 + l2/2 ||w||^2
//   logistic:  s sum_i h_i log(1 + exp(-y_i z_i))  + l1 ||w||_1 + l2/2 ||w||^2   (y_i in {-1, +1})
// optionally subject to w >= 0 (`positive`).
// scikit-learn's Lasso/ElasticNet is s = 1/n, l1 = alpha l1_ratio, l2 = alpha (1 - l1_ratio);
// its LogisticRegression(penalty="l1", C) is s = C, l1 = 1, l2 = 0.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "adasolve/bcd.hpp"
#include "adasolve/common.hpp"

namespace adasolve::bcd {

/// Dense column-major n x p design owned by the caller (Fortran order; never copied).
struct DenseColMajor {
  Index n_rows = 0;
  Index n_cols = 0;
  const double* data = nullptr;
};

/// CSC n x p design owned by the caller (never copied).
template <class Idx>
struct CscView {
  Index n_rows = 0;
  Index n_cols = 0;
  const Idx* indptr = nullptr;   // n_cols + 1 entries
  const Idx* indices = nullptr;  // row indices
  const double* data = nullptr;
};

// ---- column access for the GLM solvers (glm*.cpp): the only place that knows the storage ----
namespace glm_detail {


inline Eigen::Map<const Eigen::VectorXd> col(const DenseColMajor& X, Index j) {
  return {X.data + j * X.n_rows, static_cast<Eigen::Index>(X.n_rows)};
}
inline double col_dot(const DenseColMajor& X, Index j, const double* v) {
  return col(X, j).dot(Eigen::Map<const Eigen::VectorXd>(v, X.n_rows));
}
inline void col_axpy(const DenseColMajor& X, Index j, double a, double* v) {
  Eigen::Map<Eigen::VectorXd>(v, X.n_rows) += a * col(X, j);
}
inline double col_sq(const DenseColMajor& X, Index j) { return col(X, j).squaredNorm(); }
inline double col_wsq(const DenseColMajor& X, Index j, const double* h) {
  auto c = col(X, j);
  return (c.array().square() * Eigen::Map<const Eigen::ArrayXd>(h, X.n_rows)).sum();
}
inline double col_wdot(const DenseColMajor& X, Index j, const double* h, const double* v) {
  auto c = col(X, j);
  return (c.array() * Eigen::Map<const Eigen::ArrayXd>(h, X.n_rows) *
          Eigen::Map<const Eigen::ArrayXd>(v, X.n_rows)).sum();
}

template <class Idx>
inline double col_dot(const CscView<Idx>& X, Index j, const double* v) {
  double s = 0.0;
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) s += X.data[k] * v[X.indices[k]];
  return s;
}
template <class Idx>
inline void col_axpy(const CscView<Idx>& X, Index j, double a, double* v) {
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) v[X.indices[k]] += a * X.data[k];
}
template <class Idx>
inline double col_sq(const CscView<Idx>& X, Index j) {
  double s = 0.0;
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) s += X.data[k] * X.data[k];
  return s;
}
template <class Idx>
inline double col_wsq(const CscView<Idx>& X, Index j, const double* h) {
  double s = 0.0;
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) s += h[X.indices[k]] * X.data[k] * X.data[k];
  return s;
}
template <class Idx>
inline double col_wdot(const CscView<Idx>& X, Index j, const double* h, const double* v) {
  double s = 0.0;
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) {
    const Idx i = X.indices[k];
    s += h[i] * X.data[k] * v[i];
  }
  return s;
}

/// sum_k X_kj f(k) over the stored entries of column j (f evaluated only where x_kj != 0).
template <class F>
inline double col_dot_f(const DenseColMajor& X, Index j, F f) {
  const double* c = X.data + j * X.n_rows;
  double s = 0.0;
  for (Index i = 0; i < X.n_rows; ++i) s += c[i] * f(i);
  return s;
}
template <class Idx, class F>
inline double col_dot_f(const CscView<Idx>& X, Index j, F f) {
  double s = 0.0;
  for (Idx k = X.indptr[j]; k < X.indptr[j + 1]; ++k) s += X.data[k] * f(X.indices[k]);
  return s;
}

}  // namespace glm_detail

enum class GlmLoss { quadratic, logistic };

/// How the working set is chosen: `cyclic` = no working set (plain cyclic coordinate descent on
/// all features, as scikit-learn), `gs` = largest violation of the optimality conditions
/// (Gauss-Southwell on the minimum-norm subgradient), `gsl` = that violation / sqrt(L_j)
/// (Gauss-Southwell-Lipschitz).
// The working-set rule is the engine's bcd::Rule (one enum for the family); this solver
// takes Rule::Cyclic, Rule::GS and Rule::GSL.

struct GlmOptions {
  GlmLoss loss = GlmLoss::quadratic;
  double data_scale = 1.0;  ///< s in the objective above (> 0)
  double l1 = 0.0;          ///< >= 0
  double l2 = 0.0;          ///< >= 0
  bool fit_intercept = false;
  double tol = 1e-10;       ///< stop when the duality gap <= tol (absolute, in objective units)
  Index max_outer = 100;    ///< working-set (outer) iterations
  Index max_epochs = 100000;  ///< coordinate-descent passes over working sets, in total
  Index ws_start = 10;      ///< initial working-set size (p0)
  Rule rule = Rule::GSL;  ///< Cyclic, GS or GSL (the scikit-learn estimators' default)
  bool anderson = true;     ///< Anderson extrapolation (quadratic loss)
  int anderson_k = 5;       ///< extrapolate from the last k + 1 iterates, every k epochs
  double inner_frac = 0.3;  ///< inner tolerance = inner_frac x the outer optimality violation
  const double* sample_weight = nullptr;  ///< h (n entries, >= 0, borrowed); nullptr: all 1
  /// scikit-learn's extra stopping test (quadratic loss): after at least one epoch, converged also
  /// needs the last sweep's largest coordinate change <= step_tol x max |w_j| (0: off)
  double step_tol = 0.0;
  /// Gap Safe screening (quadratic loss, l1 > 0): features proven zero at the optimum by the
  /// sphere of radius sqrt(2 s max(h) gap) around the dual point are set to 0 and skipped
  bool screening = true;
  bool positive = false;    ///< constrain w >= 0
  bool shuffle = false;     ///< sweep each working set in a random order (else in index order)
  std::uint64_t seed = 0;   ///< seed of that order
};

struct GlmResult {
  Index n_outer = 0;   ///< outer iterations (= duality-gap evaluations - 1 when converged)
  Index n_epochs = 0;  ///< coordinate-descent passes (logistic: proximal-Newton steps)
  double gap = std::numeric_limits<double>::infinity();
  double primal = 0.0;
  double dual = 0.0;
  int info = 1;        ///< 0 converged (gap <= tol), 1 iteration limit
  std::vector<double> gap_history;  ///< gap at each outer iteration
};

/// Where a run stopped on its epoch limit in the middle of a working-set solve (quadratic loss):
/// given back to a warm-started call, that call resumes the very same solve (working set, inner
/// tolerance, epoch count and extrapolation history), so that two runs of k epochs match one
/// run of 2k epochs (for index-order sweeps).
struct GlmState {
  bool valid = false;
  std::vector<Index> ws;
  double inner_tol = 0.0;
  bool need_step = false;
  Index last_ws = 0;
  Index ep = 0;               ///< epochs done on this working set
  int n_snaps = 0;
  std::vector<double> snaps;  ///< column-major, (|ws| + fit_intercept) x (anderson_k + 1)
};

/// Solve in place: `w` (p entries) and `intercept` are the warm start on entry and the solution on
/// exit (`intercept` is ignored unless fit_intercept). y has n entries (logistic: -1/+1).
/// `state` (optional): read as the point to resume from when valid (and w, intercept are the
/// end point of the run that wrote it), then overwritten (valid only if this run was cut).
/// Throws std::invalid_argument on bad options.
template <class Design>
GlmResult glm_solve(const Design& X, const double* y, double* w, double* intercept,
                    const GlmOptions& opt, GlmState* state = nullptr);

/// The duality gap of (w, intercept) as glm_solve computes it (no optimisation of w; for the
/// logistic loss with an intercept the intercept is first minimised exactly, as in glm_solve).
template <class Design>
GlmResult glm_gap(const Design& X, const double* y, const double* w, double intercept,
                  const GlmOptions& opt);

// ---- general datafits and penalties (glm_penalized.cpp) ------------------------------------
//
// Objective (w in R^p, optional unpenalised intercept b, z = Xw + b):
//   F(z) + sum_j c_j pen(w_j)        (optionally subject to w >= 0)
// with the datafit F one of (n samples, as skglm defines them)
//   quadratic: 1/(2n) sum_i (y_i - z_i)^2
//   huber:     1/n sum_i huber_delta(y_i - z_i),  huber_delta(r) = r^2/2 (|r| <= delta),
//                                                  delta |r| - delta^2/2 otherwise
//   poisson:   1/n sum_i (exp(z_i) - y_i z_i)
// and pen one of
//   l1:   alpha |x| + l2/2 x^2           (weighted L1 / elastic net)
//   mcp:  alpha |x| - x^2/(2 gamma) for |x| <= gamma alpha, gamma alpha^2/2 beyond
//   scad: alpha |x| for |x| <= alpha; (2 gamma alpha |x| - x^2 - alpha^2)/(2 (gamma - 1)) up to
//         gamma alpha; alpha^2 (gamma + 1)/2 beyond
// c_j >= 0 the per-feature weights (all 1 when none given; 0 leaves w_j unpenalised).
// Working sets as glm_solve (support + worst violators of the optimality conditions); inside,
// cyclic proximal coordinate descent with step 1/L_j (quadratic, huber) or proximal Newton with a
// line search (poisson). Stops when the largest distance of -grad to the (Clarke)
// subdifferential of the penalty, over all features, is <= tol: the fixed-point criterion
// skglm uses, valid for the non-convex penalties too (where it certifies a critical point).

enum class Datafit { quadratic, huber, poisson };
enum class PenaltyKind { l1, mcp, scad };

struct PenOptions {
  Datafit datafit = Datafit::quadratic;
  double delta = 1.0;       ///< Huber threshold (> 0)
  PenaltyKind penalty = PenaltyKind::l1;
  double alpha = 0.0;       ///< >= 0
  double gamma = 3.0;       ///< mcp: > 0 (skglm: >= 1), scad: > 1
  double l2 = 0.0;          ///< l1 only: ridge part (>= 0)
  const double* weights = nullptr;  ///< c (p entries, >= 0, borrowed); nullptr: all 1
  bool positive = false;
  bool fit_intercept = false;
  double tol = 1e-8;        ///< on the largest subdifferential distance
  Index max_outer = 100;
  Index max_epochs = 100000;
  Index ws_start = 10;
  double inner_frac = 0.3;
};

struct PenResult {
  Index n_outer = 0;
  Index n_epochs = 0;
  double kkt = std::numeric_limits<double>::infinity();  ///< largest subdifferential distance
  double objective = 0.0;
  int info = 1;  ///< 0 converged (kkt <= tol), 1 iteration limit
};

/// Solve in place (`w`, `intercept`: warm start on entry, solution on exit). Throws
/// std::invalid_argument on bad options (poisson with a non-convex penalty, gamma out of range).
template <class Design>
PenResult pen_solve(const Design& X, const double* y, double* w, double* intercept,
                    const PenOptions& opt);

// ---- group penalties and several tasks (glm_group.cpp) -------------------------------------
//
//   1/(2n) ||Y - X W - 1 b'||_F^2 + alpha sum_g c_g ||W_g||_F   (rows weighted by sample_weight)
// Y: n x T (column-major), W: p x T (row-major: W[j T + t]), b: T intercepts (unpenalised).
// Groups of features g (disjoint; features in no group stay 0). T = 1 with groups: the group
// lasso; groups of one feature and T tasks: the multi-task lasso (||.||_21 on the rows of W).
// Working sets of groups, block coordinate descent with block soft-thresholding and step
// 1/L_g (L_g = ||X_g||_2^2 / n), duality gap as the stopping test.

struct GroupOptions {
  double alpha = 0.0;
  const double* weights = nullptr;   ///< c_g (n_groups entries, >= 0, borrowed); nullptr: all 1
  const Index* grp_ptr = nullptr;    ///< n_groups + 1 offsets into grp_indices
  const Index* grp_indices = nullptr;
  Index n_groups = 0;
  Index n_tasks = 1;
  const double* sample_weight = nullptr;  ///< h (n entries, >= 0, borrowed): 1/(2n) sum_i h_i ||r_i||^2
  bool fit_intercept = false;
  double tol = 1e-10;       ///< absolute duality gap
  Index max_outer = 100;
  Index max_epochs = 100000;
  Index ws_start = 10;      ///< in groups
  double inner_frac = 0.3;
};

struct GroupResult {
  Index n_outer = 0;
  Index n_epochs = 0;
  double gap = std::numeric_limits<double>::infinity();
  double primal = 0.0;
  double dual = 0.0;
  int info = 1;
};

template <class Design>
GroupResult group_solve(const Design& X, const double* Y, double* W, double* intercepts,
                        const GroupOptions& opt);

}  // namespace adasolve::bcd
