// Working-set block coordinate descent for the group lasso and the multi-task lasso (one
// solver: groups of features x tasks); see glm.hpp for the objective.
#include "adasolve/bcd/glm.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace adasolve::bcd {
namespace {

using namespace glm_detail;
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class Design>
class GroupSolver {
 public:
  GroupSolver(const Design& X, const double* Y, double* W, const double* b, const GroupOptions& o)
      : X_(X), Y_(Y), W_(W), o_(o), n_(X.n_rows), p_(X.n_cols), T_(o.n_tasks), G_(o.n_groups),
        s_(1.0 / static_cast<double>(X.n_rows)), R_(n_ * T_), b_(T_, 0.0), c_(G_, 1.0),
        lip_(G_), score_(G_), h_(n_, 1.0) {
    if (o.fit_intercept && b) b_.assign(b, b + T_);
    if (o.sample_weight) {
      double tot = 0.0;
      for (Index i = 0; i < n_; ++i) {
        require(o.sample_weight[i] >= 0 && std::isfinite(o.sample_weight[i]),
                "sample weights must be finite and >= 0");
        h_[i] = o.sample_weight[i];
        tot += h_[i];
      }
      require(tot > 0, "sample weights must not all be zero");
      h_sum_ = tot;
    } else {
      h_sum_ = static_cast<double>(n_);
    }
    std::vector<char> seen(p_, 0);
    for (Index g = 0; g < G_; ++g) {
      require(o.grp_ptr[g + 1] >= o.grp_ptr[g], "group offsets must not decrease");
      for (Index k = o.grp_ptr[g]; k < o.grp_ptr[g + 1]; ++k) {
        const Index j = o.grp_indices[k];
        require(j >= 0 && j < p_, "group index out of range");
        require(!seen[j], "groups must not overlap");
        seen[j] = 1;
      }
      if (o.weights) {
        require(o.weights[g] > 0 && std::isfinite(o.weights[g]), "group weights must be finite and > 0");
        c_[g] = o.weights[g];
      }
    }
    // features outside every group are held at 0
    for (Index j = 0; j < p_; ++j)
      if (!seen[j]) for (Index t = 0; t < T_; ++t) W_[j * T_ + t] = 0.0;
    for (Index t = 0; t < T_; ++t)
      for (Index i = 0; i < n_; ++i) R_[t * n_ + i] = Y_[t * n_ + i] - b_[t];
    for (Index j = 0; j < p_; ++j)
      for (Index t = 0; t < T_; ++t)
        if (W_[j * T_ + t] != 0.0) col_axpy(X_, j, -W_[j * T_ + t], R_.data() + t * n_);
    for (Index g = 0; g < G_; ++g) lip_[g] = s_ * spectral_sq(g);
  }

  const std::vector<double>& intercepts() const { return b_; }

  GroupResult run() {
    GroupResult res;
    std::vector<Index> ws;
    for (Index outer = 0;; ++outer) {
      check_(static_cast<double>(n_) * static_cast<double>(p_) * static_cast<double>(T_));
      res.n_outer = outer;
      const double kkt = evaluate(res);
      if (res.gap <= o_.tol) { res.info = 0; break; }
      if (outer >= o_.max_outer || epochs_ >= o_.max_epochs) break;
      choose_working_set(ws);
      if (ws.empty()) break;
      inner(ws, o_.inner_frac * kkt);
    }
    res.n_epochs = epochs_;
    return res;
  }

 private:
  Index gsize(Index g) const { return o_.grp_ptr[g + 1] - o_.grp_ptr[g]; }
  Index feat(Index g, Index k) const { return o_.grp_indices[o_.grp_ptr[g] + k]; }

  // ||X_g||_2^2: the squared column norm for one feature, power iteration on X_g' X_g otherwise
  double spectral_sq(Index g) {
    const Index m = gsize(g);
    if (m == 0) return 0.0;
    if (m == 1) return col_wsq(X_, feat(g, 0), h_.data());
    std::vector<double> v(m, 1.0 / std::sqrt(static_cast<double>(m))), u(n_), v2(m);
    double lam = 0.0;
    for (int it = 0; it < 100; ++it) {
      std::fill(u.begin(), u.end(), 0.0);
      for (Index k = 0; k < m; ++k) if (v[k] != 0.0) col_axpy(X_, feat(g, k), v[k], u.data());
      double nrm = 0.0;
      for (Index k = 0; k < m; ++k) { v2[k] = col_wdot(X_, feat(g, k), h_.data(), u.data()); nrm += v2[k] * v2[k]; }
      nrm = std::sqrt(nrm);
      if (!(nrm > 0)) return 0.0;
      for (Index k = 0; k < m; ++k) v[k] = v2[k] / nrm;
      const bool done = std::abs(nrm - lam) <= 1e-10 * nrm;
      lam = nrm;
      if (done) break;
    }
    // a slight over-estimate keeps the step 1/L a majorisation despite the iteration's error
    return lam * (1.0 + 1e-6);
  }

  // gradient of the datafit for group g (m x T, row-major like W) into grad; returns its norm
  double group_grad(Index g, std::vector<double>& grad) const {
    const Index m = gsize(g);
    grad.resize(m * T_);
    double nrm = 0.0;
    for (Index k = 0; k < m; ++k)
      for (Index t = 0; t < T_; ++t) {
        const double v = -s_ * col_wdot(X_, feat(g, k), h_.data(), R_.data() + t * n_);
        grad[k * T_ + t] = v;
        nrm += v * v;
      }
    return std::sqrt(nrm);
  }

  double group_norm(Index g) const {
    double s = 0.0;
    for (Index k = 0; k < gsize(g); ++k)
      for (Index t = 0; t < T_; ++t) { const double v = W_[feat(g, k) * T_ + t]; s += v * v; }
    return std::sqrt(s);
  }

  // distance of -grad to the subdifferential of alpha c_g ||.|| at W_g
  double violation(Index g, const std::vector<double>& grad, double gnorm) const {
    const double wn = group_norm(g), lam = o_.alpha * c_[g];
    if (wn == 0.0) return std::max(0.0, gnorm - lam);
    double s = 0.0;
    for (Index k = 0; k < gsize(g); ++k)
      for (Index t = 0; t < T_; ++t) {
        const double v = grad[k * T_ + t] + lam * W_[feat(g, k) * T_ + t] / wn;
        s += v * v;
      }
    return std::sqrt(s);
  }

  void optimise_intercepts() {
    for (Index t = 0; t < T_; ++t) {
      double* r = R_.data() + t * n_;
      double m = 0.0;
      for (Index i = 0; i < n_; ++i) m += h_[i] * r[i];
      m /= h_sum_;
      b_[t] += m;
      for (Index i = 0; i < n_; ++i) r[i] -= m;
    }
  }

  double evaluate(GroupResult& res) {
    if (o_.fit_intercept) optimise_intercepts();
    double rr = 0.0, ry = 0.0;
    for (Index q = 0; q < n_ * T_; ++q) {
      const double h = h_[q % n_];
      rr += h * R_[q] * R_[q];
      ry += h * R_[q] * Y_[q];
    }
    double pen = 0.0, worst_ratio = 0.0, kkt = 0.0;
    std::vector<double> grad;
    for (Index g = 0; g < G_; ++g) {
      const double gn = group_grad(g, grad), wn = group_norm(g);
      pen += c_[g] * wn;
      worst_ratio = std::max(worst_ratio, gn / c_[g]);  // ||X_g' theta|| / c_g, theta = s R
      const double v = violation(g, grad, gn);
      kkt = std::max(kkt, v);
      score_[g] = wn != 0.0 ? kInf : v;
    }
    res.primal = 0.5 * s_ * rr + o_.alpha * pen;
    if (o_.alpha > 0) {
      const double c = std::min(1.0, o_.alpha / std::max(worst_ratio, 1e-300));
      // D(theta) = <theta, Y> - sum_i ||theta_i||^2 / (2 s h_i) at theta = c s h R
      res.dual = c * s_ * ry - 0.5 * c * c * s_ * rr;
    } else {
      res.dual = res.primal - kkt;
    }
    res.gap = res.primal - res.dual;
    return kkt;
  }

  void choose_working_set(std::vector<Index>& ws) {
    ws.clear();
    Index support = 0;
    for (Index g = 0; g < G_; ++g) support += (score_[g] == kInf);
    const Index size = std::min(G_, std::max(o_.ws_start, 2 * support));
    std::vector<Index> idx(G_);
    std::iota(idx.begin(), idx.end(), Index(0));
    auto by = [this](Index a, Index b) { return score_[a] > score_[b]; };
    if (size < G_) std::nth_element(idx.begin(), idx.begin() + size, idx.end(), by);
    for (Index k = 0; k < size; ++k)
      if (score_[idx[k]] > 0 && lip_[idx[k]] > 0) ws.push_back(idx[k]);
    std::sort(ws.begin(), ws.end());
  }

  void inner(const std::vector<Index>& ws, double inner_tol) {
    std::vector<double> grad, nw;
    for (Index ep = 1; epochs_ < o_.max_epochs; ++ep) {
      check_(static_cast<double>(ws.size()) * static_cast<double>(n_ * T_));
      double seen = 0.0;
      for (Index g : ws) {
        const Index m = gsize(g);
        const double gn = group_grad(g, grad);
        seen = std::max(seen, violation(g, grad, gn));
        const double L = lip_[g];
        nw.resize(m * T_);
        double nrm = 0.0;
        for (Index k = 0; k < m; ++k)
          for (Index t = 0; t < T_; ++t) {
            const double v = W_[feat(g, k) * T_ + t] - grad[k * T_ + t] / L;
            nw[k * T_ + t] = v;
            nrm += v * v;
          }
        nrm = std::sqrt(nrm);
        const double thr = o_.alpha * c_[g] / L;
        const double scale = nrm > thr ? 1.0 - thr / nrm : 0.0;  // block soft-thresholding
        for (Index k = 0; k < m; ++k) {
          const Index j = feat(g, k);
          for (Index t = 0; t < T_; ++t) {
            const double v = scale * nw[k * T_ + t], d = v - W_[j * T_ + t];
            if (d != 0.0) {
              col_axpy(X_, j, -d, R_.data() + t * n_);
              W_[j * T_ + t] = v;
            }
          }
        }
      }
      if (o_.fit_intercept) optimise_intercepts();
      ++epochs_;
      if (seen <= inner_tol) return;
    }
  }

  const Design& X_;
  const double* Y_;
  double* W_;
  GroupOptions o_;
  Index n_, p_, T_, G_;
  double s_;
  std::vector<double> R_, b_, c_, lip_, score_, h_;
  double h_sum_ = 0.0;
  Index epochs_ = 0;
  InterruptCheck check_;
};

}  // namespace

template <class Design>
GroupResult group_solve(const Design& X, const double* Y, double* W, double* intercepts,
                        const GroupOptions& o) {
  require(X.n_rows > 0, "X must have at least one row");
  require(o.n_tasks >= 1, "n_tasks must be >= 1");
  require(o.n_groups >= 0 && o.grp_ptr != nullptr && o.grp_indices != nullptr, "groups missing");
  require(o.alpha >= 0 && std::isfinite(o.alpha), "alpha must be finite and >= 0");
  require(o.tol >= 0, "tol must be >= 0");
  require(o.max_outer >= 0 && o.max_epochs >= 0, "iteration limits must be >= 0");
  require(o.ws_start >= 1, "ws_start must be >= 1");
  require(o.inner_frac > 0 && o.inner_frac < 1, "inner_frac must be in (0, 1)");
  for (Index q = 0; q < X.n_rows * o.n_tasks; ++q) require(std::isfinite(Y[q]), "y must be finite");
  GroupSolver<Design> s(X, Y, W, intercepts, o);
  GroupResult r = s.run();
  if (intercepts)
    for (Index t = 0; t < o.n_tasks; ++t) intercepts[t] = o.fit_intercept ? s.intercepts()[t] : 0.0;
  return r;
}

template GroupResult group_solve(const DenseColMajor&, const double*, double*, double*, const GroupOptions&);
template GroupResult group_solve(const CscView<std::int32_t>&, const double*, double*, double*, const GroupOptions&);
template GroupResult group_solve(const CscView<std::int64_t>&, const double*, double*, double*, const GroupOptions&);

}  // namespace adasolve::bcd
