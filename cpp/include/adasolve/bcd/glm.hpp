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

enum class GlmLoss { quadratic, logistic };

/// How the working set is chosen: `cyclic` = no working set (plain cyclic coordinate descent on
/// all features, as scikit-learn), `gs` = largest violation of the optimality conditions
/// (Gauss-Southwell on the minimum-norm subgradient), `gsl` = that violation / sqrt(L_j)
/// (Gauss-Southwell-Lipschitz).
enum class WsRule { cyclic, gs, gsl };

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
  WsRule rule = WsRule::gs;
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

}  // namespace adasolve::bcd
