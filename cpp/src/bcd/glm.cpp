// Working-set coordinate descent for L1(+L2) GLMs (see bcd_glm.hpp for the objective).
#include "adasolve/bcd/glm.hpp"
#include "adasolve/common/scalar.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <Eigen/Dense>

namespace adasolve::bcd {
namespace {

using namespace glm_detail;  // column access shared with glm_penalized.cpp / glm_group.cpp

// ---- scalar helpers -------------------------------------------------------------------------

inline double logloss(double t) { return softplus(-t); }  // log(1 + exp(-t))
inline double xlogx(double a) { return a > 0 ? a * std::log(a) : 0.0; }
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class Design>
class GlmSolver {
 public:
  GlmSolver(const Design& X, const double* y, double* w, double b, const GlmOptions& o)
      : X_(X), y_(y), w_(w), b_(o.fit_intercept ? b : 0.0), o_(o), n_(X.n_rows), p_(X.n_cols),
        s_(o.data_scale), quad_(o.loss == GlmLoss::quadratic), v_(n_), theta_(n_), xt_(p_),
        lip_(p_), weighted_(o.sample_weight != nullptr), rng_(o.seed) {
    require(n_ > 0 && p_ >= 0, "design must have at least one row");
    if (weighted_) {
      sw_.assign(o.sample_weight, o.sample_weight + n_);
      double tot = 0.0;
      for (double h : sw_) {
        require(h >= 0 && std::isfinite(h), "sample weights must be finite and >= 0");
        tot += h;
      }
      require(tot > 0, "sample weights must not all be zero");
      sw_sum_ = tot;
    } else {
      sw_sum_ = static_cast<double>(n_);
    }
    require(o.rule == Rule::Cyclic || o.rule == Rule::GS || o.rule == Rule::GSL,
            "rule must be cyclic, gs or gsl for the GLM solver");
    require(o.data_scale > 0 && std::isfinite(o.data_scale), "data_scale must be positive");
    require(o.l1 >= 0 && o.l2 >= 0 && std::isfinite(o.l1) && std::isfinite(o.l2),
            "l1 and l2 must be finite and >= 0");
    require(o.tol >= 0, "tol must be >= 0");
    require(o.ws_start >= 1, "ws_start must be >= 1");
    require(o.anderson_k >= 1, "anderson_k must be >= 1");
    require(o.inner_frac > 0 && o.inner_frac < 1, "inner_frac must be in (0, 1)");
    const double curv = quad_ ? 1.0 : 0.25;  // bound on the loss' second derivative
    for (Index j = 0; j < p_; ++j)
      lip_[j] = s_ * curv * (weighted_ ? col_wsq(X_, j, sw_.data()) : col_sq(X_, j)) + o.l2;
    for (Index j = 0; j < p_; ++j)
      require(std::isfinite(lip_[j]), "the squared norm of a column of X overflows (rescale X)");
    // v_ is the residual y - z for the quadratic loss and z = Xw + b for the logistic one
    if (quad_) {
      for (Index i = 0; i < n_; ++i) v_[i] = y_[i] - b_;
      for (Index j = 0; j < p_; ++j) if (w_[j] != 0.0) col_axpy(X_, j, -w_[j], v_.data());
    } else {
      std::fill(v_.begin(), v_.end(), b_);
      for (Index j = 0; j < p_; ++j) if (w_[j] != 0.0) col_axpy(X_, j, w_[j], v_.data());
    }
    // a warm start counts as a full-sized last working set: it begins with 2x growth
    last_ws_ = std::any_of(w_, w_ + p_, [](double v) { return v != 0.0; }) ? p_ : 0;
  }

  double intercept() const { return b_; }

  GlmResult run(GlmState* state = nullptr) {
    GlmResult res;
    std::vector<Index> ws;
    GlmState from;
    if (state != nullptr) {
      if (state->valid && quad_ && resumable(*state)) from = *state;
      *state = GlmState();
      state_ = state;
    }
    if (from.valid) last_ws_ = from.last_ws;
    if (from.valid && from.ws.empty()) from.valid = false;  // cut between two working sets
    for (Index outer = 0;; ++outer) {
      check_(static_cast<double>(n_) * static_cast<double>(p_ - n_screened_));
      // (no screening before a resumed solve: its working set must stay as it was)
      const double kkt = evaluate(res, !from.valid);
      res.gap_history.push_back(res.gap);
      res.n_outer = outer;
      if (res.gap <= o_.tol && (epochs_ == 0 || step_ok_)) { res.info = 0; break; }
      if (outer >= o_.max_outer || epochs_ >= o_.max_epochs) break;
      if (from.valid) {  // continue the solve the last call was cut in
        from.valid = false;
        need_step_ = from.need_step;
        inner_quadratic(from.ws, from.inner_tol, res, &from);
        continue;
      }
      choose_working_set(ws);
      if (ws.empty()) {  // nothing violates: the gap left is rounding
        if (res.gap <= o_.tol) res.info = 0;
        break;
      }
      const double inner_tol = o_.inner_frac * kkt;
      // the gap is small enough but the step test is not: sweep until it is
      need_step_ = res.gap <= o_.tol;
      if (quad_) inner_quadratic(ws, inner_tol, res, nullptr);
      else inner_logistic(ws, inner_tol, res);
    }
    res.n_epochs = epochs_;
    if (state_ != nullptr && !state_->valid && res.info != 0 && epochs_ >= o_.max_epochs && quad_) {
      state_->valid = true;  // cut between two working sets: only the growth memory matters
      state_->last_ws = last_ws_;
    }
    return res;
  }

  /// Duality gap at the current point (fills res.gap/primal/dual, xt_, score_); returns the
  /// largest violation of the optimality conditions (minimum-norm subgradient, infinity norm).
  double evaluate(GlmResult& res, bool screen = false) {
    if (o_.fit_intercept) optimise_intercept();
    double primal = penalty_all();
    if (quad_) {
      double rr = 0.0;
      for (Index i = 0; i < n_; ++i) {
        const double h = weight(i);
        theta_[i] = s_ * h * v_[i];
        rr += h * v_[i] * v_[i];
      }
      primal += 0.5 * s_ * rr;
    } else {
      for (Index i = 0; i < n_; ++i) {
        const double t = y_[i] * v_[i], h = weight(i);
        theta_[i] = s_ * h * y_[i] * sigmoid(-t);
        primal += s_ * h * logloss(t);
      }
    }
    double xt_max = 0.0, kkt = 0.0;
    score_.assign(p_, 0.0);
    for (Index j = 0; j < p_; ++j) {
      if (n_screened_ > 0 && screened_[j]) { xt_[j] = 0.0; continue; }  // w_j = 0 at the optimum
      xt_[j] = col_dot(X_, j, theta_.data());
      // the dual constraint: |x_j' theta| <= l1 (x_j' theta <= l1 with w >= 0)
      xt_max = std::max(xt_max, o_.positive ? xt_[j] : std::abs(xt_[j]));
      const double g = -xt_[j] + o_.l2 * w_[j];  // gradient of the smooth part
      const double viol = violation(g, w_[j]);
      kkt = std::max(kkt, viol);
      score_[j] = w_[j] != 0.0 ? kInf
                  : (o_.rule == Rule::GSL ? (lip_[j] > 0 ? viol / std::sqrt(lip_[j]) : 0.0) : viol);
    }
    double dual;
    if (o_.l2 > 0) {
      // g*(v) = sum (|v_j| - l1)_+^2 / (2 l2): every theta is feasible, no rescaling needed
      dual = conjugate_term(1.0);
      for (Index j = 0; j < p_; ++j) {
        const double e = std::max((o_.positive ? xt_[j] : std::abs(xt_[j])) - o_.l1, 0.0);
        dual -= e * e / (2.0 * o_.l2);
      }
    } else if (o_.l1 > 0) {
      dual = conjugate_term(1.0 / std::max(1.0, xt_max / o_.l1));  // rescaled into the dual box
    } else {
      dual = primal - kkt;  // no penalty: no bounded dual; report the gradient norm instead
    }
    res.primal = primal;
    res.dual = dual;
    res.gap = primal - dual;
    // the computed gap carries the rounding of primal - dual: count it in the radius
    if (screen)
      gap_safe_screen(std::max(res.gap, 0.0) + 1e-13 * (std::abs(primal) + std::abs(dual)),
                      o_.l2 > 0 ? 1.0 : 1.0 / std::max(1.0, xt_max / o_.l1));
    return kkt;
  }

 private:
  double weight(Index i) const { return weighted_ ? sw_[i] : 1.0; }

  // Gap Safe rule (Ndiaye, Fercoq, Gramfort, Salmon): the dual is (1 / (s max h))-strongly
  // concave, so the optimal dual point lies within r = sqrt(2 s max(h) gap) of the feasible point
  // c theta; a feature with c |x_j' theta| + r ||x_j|| < l1 is zero at the optimum (for l2 > 0
  // too: w_j = soft_threshold(x_j' theta*, l1) / l2). Screened features are set to 0 and never looked at
  // again, which shrinks every later full gradient.
  void gap_safe_screen(double gap, double c) {
    if (!quad_ || !o_.screening || !(o_.l1 > 0) || !(gap >= 0) || !std::isfinite(gap)) return;
    if (norms_.empty()) {
      norms_.resize(p_);
      for (Index j = 0; j < p_; ++j)
        norms_[j] = weighted_ ? std::sqrt(col_sq(X_, j)) : std::sqrt(std::max(lip_[j] - o_.l2, 0.0) / s_);
      screened_.assign(p_, 0);
      hmax_ = weighted_ ? *std::max_element(sw_.begin(), sw_.end()) : 1.0;
    }
    const double r = std::sqrt(2.0 * s_ * hmax_ * gap);
    // a margin for rounding: near the optimum r -> 0 and the active features sit at
    // |x_j' theta| = l1 exactly, where the strict test must not pass by a rounding error
    const double bound = o_.l1 * (1.0 - 1e-9);
    for (Index j = 0; j < p_; ++j) {
      if (screened_[j]) continue;
      const double a = c * (o_.positive ? xt_[j] : std::abs(xt_[j]));
      if (a + r * norms_[j] < bound) {
        screened_[j] = 1;
        ++n_screened_;
        score_[j] = 0.0;
        if (w_[j] != 0.0) {  // the residual (y - z) gains x_j w_j back
          col_axpy(X_, j, w_[j], v_.data());
          w_[j] = 0.0;
        }
      }
    }
  }
  // x_j' diag(h) v: the gradient of the (weighted) quadratic loss needs the weights
  double rdot(Index j, const double* v) const {
    return weighted_ ? col_wdot(X_, j, sw_.data(), v) : col_dot(X_, j, v);
  }
  double weighted_mean(const double* v) const {
    double acc = 0.0;
    if (weighted_) for (Index i = 0; i < n_; ++i) acc += sw_[i] * v[i];
    else for (Index i = 0; i < n_; ++i) acc += v[i];
    return acc / sw_sum_;
  }
  // the proximal map of t |.| (and of the constraint w >= 0)
  double prox(double x, double t) const {
    const double v = soft_threshold(x, t);
    return o_.positive ? std::max(v, 0.0) : v;
  }

  // distance from -g to the subdifferential of l1 |.| (+ indicator of w >= 0) at wj
  double violation(double g, double wj) const {
    if (wj == 0.0) return std::max((o_.positive ? -g : std::abs(g)) - o_.l1, 0.0);
    return std::abs(g + (wj > 0 ? o_.l1 : -o_.l1));
  }

  // -F*(-c theta) for the current theta_
  double conjugate_term(double c) const {
    double d = 0.0;
    if (quad_) {
      double ty = 0.0, tt = 0.0;
      for (Index i = 0; i < n_; ++i) {
        const double h = weight(i);
        ty += theta_[i] * y_[i];
        if (h > 0) tt += theta_[i] * theta_[i] / h;
      }
      d = c * ty - c * c * tt / (2.0 * s_);
    } else {
      for (Index i = 0; i < n_; ++i) {
        const double h = weight(i);
        if (h <= 0) continue;
        const double a = std::clamp(c * theta_[i] * y_[i] / (s_ * h), 0.0, 1.0);
        d -= s_ * h * (xlogx(a) + xlogx(1.0 - a));
      }
    }
    return d;
  }

  double penalty_all() const {
    double l1n = 0.0, l2n = 0.0;
    for (Index j = 0; j < p_; ++j) { l1n += std::abs(w_[j]); l2n += w_[j] * w_[j]; }
    return o_.l1 * l1n + 0.5 * o_.l2 * l2n;
  }

  // the intercept minimised exactly: then sum(theta) = 0, the dual constraint it brings
  void optimise_intercept() {
    if (quad_) {
      const double m = weighted_mean(v_.data());
      b_ += m;
      for (auto& r : v_) r -= m;
      return;
    }
    for (int it = 0; it < 50; ++it) {
      double g = 0.0, h = 0.0;
      for (Index i = 0; i < n_; ++i) {
        const double sg = sigmoid(-y_[i] * v_[i]), hw = weight(i);
        g -= hw * y_[i] * sg;
        h += hw * sg * (1.0 - sg);
      }
      if (std::abs(g) <= 1e-13 * sw_sum_ || h <= 0) break;
      const double d = std::clamp(-g / h, -10.0, 10.0);
      b_ += d;
      for (auto& z : v_) z += d;
    }
  }

  void choose_working_set(std::vector<Index>& ws) {
    ws.clear();
    if (o_.rule == Rule::Cyclic) {
      for (Index j = 0; j < p_; ++j)
        if (lip_[j] > 0 && (n_screened_ == 0 || !screened_[j])) ws.push_back(j);
      return;
    }
    Index support = 0;
    for (Index j = 0; j < p_; ++j) support += (w_[j] != 0.0);
    // Grow 4x (not 2x) while the support fills more than half of the last working set (a cold
    // start): each outer iteration pays a full gradient X^T theta, and on sparse, nearly
    // orthogonal designs the inner solver is cheap, so reaching the support in fewer outer
    // iterations pays. A warm start (support already near its final size) keeps 2x: a 4x set
    // there only makes the inner solver (prox-Newton above all) work on more features.
    const Index grow = 2 * support > last_ws_ ? 4 : 2;
    const Index size = std::min(p_, std::max(o_.ws_start, grow * support));
    std::vector<Index> idx(p_);
    std::iota(idx.begin(), idx.end(), Index(0));
    auto by_score = [this](Index a, Index b) { return score_[a] > score_[b]; };
    if (size < p_) std::nth_element(idx.begin(), idx.begin() + size, idx.end(), by_score);
    for (Index k = 0; k < size; ++k)
      if (score_[idx[k]] > 0 && lip_[idx[k]] > 0) ws.push_back(idx[k]);
    std::sort(ws.begin(), ws.end());  // memory order for the column sweeps
    last_ws_ = size;
  }

  double penalty_ws(const std::vector<Index>& ws, const double* wv) const {
    double l1n = 0.0, l2n = 0.0;
    for (size_t k = 0; k < ws.size(); ++k) { l1n += std::abs(wv[k]); l2n += wv[k] * wv[k]; }
    return o_.l1 * l1n + 0.5 * o_.l2 * l2n;
  }

  // ---- quadratic loss: cyclic CD on the working set + Anderson extrapolation ----------------
  bool resumable(const GlmState& st) const {
    if (st.ws.empty()) return st.last_ws >= 0;
    const Index dim = static_cast<Index>(st.ws.size()) + (o_.fit_intercept ? 1 : 0);
    if (st.snaps.size() != static_cast<size_t>(dim * (o_.anderson_k + 1))) return false;
    if (st.n_snaps < 0 || st.n_snaps > o_.anderson_k || st.ep < 0) return false;
    for (Index j : st.ws) if (j < 0 || j >= p_ || !(lip_[j] > 0)) return false;
    return st.last_ws >= 0;
  }

  void inner_quadratic(const std::vector<Index>& ws, double inner_tol, GlmResult& res,
                       const GlmState* from) {
    const Index m = static_cast<Index>(ws.size());
    const int K = o_.anderson_k;
    const Index dim = m + (o_.fit_intercept ? 1 : 0);
    Eigen::MatrixXd snaps(dim, K + 1);
    int n_snaps = 0;
    Index ep0 = 0;
    if (from != nullptr) {
      snaps = Eigen::Map<const Eigen::MatrixXd>(from->snaps.data(), dim, K + 1);
      n_snaps = from->n_snaps;
      ep0 = from->ep;
    }
    bool cut = true;  // left on the epoch limit (not on the inner tolerance)
    std::vector<double> w_acc(m), r_acc;
    std::vector<Index> order(m);
    std::iota(order.begin(), order.end(), Index(0));
    double* r = v_.data();
    Index ep = ep0 + 1;
    for (; epochs_ < o_.max_epochs; ++ep) {
      check_(static_cast<double>(m) * static_cast<double>(n_));
      if (o_.shuffle) std::shuffle(order.begin(), order.end(), rng_);
      // the violation seen by the sweep itself (each coordinate at the point where it was
      // visited) costs nothing: when it is already below the inner tolerance, stop without
      // waiting for the exact check; the outer duality gap stays the real test
      double sweep_worst = 0.0, dmax = 0.0, wmax = 0.0;
      for (Index t = 0; t < m; ++t) {
        const Index j = ws[order[t]];
        const double L = lip_[j], old = w_[j];
        const double g = -s_ * rdot(j, r) + o_.l2 * old;
        sweep_worst = std::max(sweep_worst, violation(g, old));
        const double nw = prox(old - g / L, o_.l1 / L);
        if (nw != old) { col_axpy(X_, j, old - nw, r); w_[j] = nw; }
        dmax = std::max(dmax, std::abs(nw - old));
        wmax = std::max(wmax, std::abs(nw));
      }
      step_ok_ = o_.step_tol <= 0 || dmax <= o_.step_tol * wmax;
      if (o_.fit_intercept) optimise_intercept();
      ++epochs_;
      if (o_.anderson && dim > 0) {
        for (Index k = 0; k < m; ++k) snaps(k, n_snaps) = w_[ws[k]];
        if (o_.fit_intercept) snaps(m, n_snaps) = b_;
        if (++n_snaps == K + 1) {
          n_snaps = 0;
          anderson_step(ws, snaps, w_acc, r_acc);
          r = v_.data();  // the accepted extrapolation swaps the residual buffer
        }
      }
      if (sweep_worst <= inner_tol && (!need_step_ || step_ok_)) { cut = false; break; }
      if (ep % 5 == 0) {
        double worst = 0.0;
        for (Index k = 0; k < m; ++k) {
          const Index j = ws[k];
          worst = std::max(worst, violation(-s_ * rdot(j, r) + o_.l2 * w_[j], w_[j]));
        }
        if (worst <= inner_tol && (!need_step_ || step_ok_)) { cut = false; break; }
      }
    }
    if (cut && state_ != nullptr) {
      GlmState& st = *state_;
      st.valid = true;
      st.ws = ws;
      st.inner_tol = inner_tol;
      st.need_step = need_step_;
      st.last_ws = last_ws_;
      st.ep = ep - 1;  // epochs done on this working set
      st.n_snaps = n_snaps;
      st.snaps.assign(snaps.data(), snaps.data() + snaps.size());
    }
  }

  // Extrapolate from the last K+1 iterates (Anderson / RNA as skglm does it); keep the result
  // only when it lowers the objective restricted to the working set.
  void anderson_step(const std::vector<Index>& ws, const Eigen::MatrixXd& snaps,
                     std::vector<double>& w_acc, std::vector<double>& r_acc) {
    const Index m = static_cast<Index>(ws.size());
    const int K = static_cast<int>(snaps.cols()) - 1;
    Eigen::MatrixXd U = snaps.rightCols(K) - snaps.leftCols(K);
    Eigen::MatrixXd C = U.transpose() * U;
    Eigen::VectorXd z = C.ldlt().solve(Eigen::VectorXd::Ones(K));
    const double sz = z.sum();
    if (!z.allFinite() || sz == 0.0 || !std::isfinite(sz)) return;
    Eigen::VectorXd c = z / sz;
    Eigen::VectorXd acc = snaps.rightCols(K) * c;
    double b_acc = o_.fit_intercept ? acc(m) : 0.0;
    r_acc.resize(n_);
    for (Index i = 0; i < n_; ++i) r_acc[i] = y_[i] - b_acc;
    for (Index k = 0; k < m; ++k) {
      w_acc[k] = acc(k);
      if (w_acc[k] != 0.0) col_axpy(X_, ws[k], -w_acc[k], r_acc.data());
    }
    if (o_.positive)  // keep the extrapolated point feasible
      for (Index k = 0; k < m; ++k) w_acc[k] = std::max(w_acc[k], 0.0);
    for (Index k = 0; k < m; ++k)
      if (o_.positive && w_acc[k] != acc(k)) {  // clipping changed the point: recompute r
        for (Index i = 0; i < n_; ++i) r_acc[i] = y_[i] - b_acc;
        for (Index q = 0; q < m; ++q)
          if (w_acc[q] != 0.0) col_axpy(X_, ws[q], -w_acc[q], r_acc.data());
        break;
      }
    if (o_.fit_intercept) {  // the best intercept for the extrapolated weights
      const double mu = weighted_mean(r_acc.data());
      b_acc += mu;
      for (auto& r : r_acc) r -= mu;
    }
    double rr_acc = 0.0, rr = 0.0;
    for (Index i = 0; i < n_; ++i) {
      const double h = weight(i);
      rr_acc += h * r_acc[i] * r_acc[i];
      rr += h * v_[i] * v_[i];
    }
    std::vector<double> w_cur(m);
    for (Index k = 0; k < m; ++k) w_cur[k] = w_[ws[k]];
    const double p_acc = 0.5 * s_ * rr_acc + penalty_ws(ws, w_acc.data());
    const double p_cur = 0.5 * s_ * rr + penalty_ws(ws, w_cur.data());
    if (p_acc < p_cur) {
      for (Index k = 0; k < m; ++k) w_[ws[k]] = w_acc[k];
      b_ = b_acc;
      v_.swap(r_acc);
    }
  }

  // ---- logistic loss: proximal Newton on the working set ------------------------------------
  void inner_logistic(const std::vector<Index>& ws, double inner_tol, GlmResult& res) {
    const Index m = static_cast<Index>(ws.size());
    std::vector<double> gz(n_), h(n_), xd(n_), zt(n_);
    std::vector<double> grad(m), hd(m), delta(m), wt(m), w0(m);
    double* z = v_.data();
    for (int pn = 0; pn < 50 && epochs_ < o_.max_epochs; ++pn) {
      check_(static_cast<double>(m) * static_cast<double>(n_));
      double gb = 0.0, hb = 0.0;
      for (Index i = 0; i < n_; ++i) {
        const double sg = sigmoid(-y_[i] * z[i]), hw = weight(i);
        gz[i] = -s_ * hw * y_[i] * sg;
        h[i] = s_ * hw * sg * (1.0 - sg);
        gb += gz[i];
        hb += h[i];
      }
      double worst = o_.fit_intercept ? std::abs(gb) : 0.0;
      for (Index k = 0; k < m; ++k) {
        const Index j = ws[k];
        grad[k] = col_dot(X_, j, gz.data()) + o_.l2 * w_[j];
        worst = std::max(worst, violation(grad[k], w_[j]));
      }
      if (worst <= inner_tol) break;
      for (Index k = 0; k < m; ++k) hd[k] = col_wsq(X_, ws[k], h.data()) + o_.l2;
      std::fill(delta.begin(), delta.end(), 0.0);
      std::fill(xd.begin(), xd.end(), 0.0);
      double db = 0.0;
      // coordinate descent on the quadratic model of the smooth part around (w, b)
      for (int cd = 0; cd < 20; ++cd) {
        double change = 0.0;
        for (Index k = 0; k < m; ++k) {
          const double H = hd[k];
          if (H <= 0) continue;
          const Index j = ws[k];
          const double cur = w_[j] + delta[k];
          const double G = grad[k] + col_wdot(X_, j, h.data(), xd.data()) + o_.l2 * delta[k];
          const double d = prox(cur - G / H, o_.l1 / H) - cur;
          if (d != 0.0) {
            delta[k] += d;
            col_axpy(X_, j, d, xd.data());
            change = std::max(change, std::abs(d) * H);
          }
        }
        if (o_.fit_intercept && hb > 0) {
          double G = gb;
          for (Index i = 0; i < n_; ++i) G += h[i] * xd[i];
          const double d = -G / hb;
          db += d;
          for (auto& x : xd) x += d;
          change = std::max(change, std::abs(d) * hb);
        }
        if (change <= 0.3 * inner_tol) break;
      }
      ++epochs_;
      // backtracking (Armijo) line search on the restricted objective
      double pred = gb * db, pen0 = 0.0;
      for (Index k = 0; k < m; ++k) {
        w0[k] = w_[ws[k]];
        pred += grad[k] * delta[k] + o_.l1 * (std::abs(w0[k] + delta[k]) - std::abs(w0[k]));
      }
      if (!(pred < 0)) break;
      pen0 = penalty_ws(ws, w0.data());
      double f0 = 0.0;
      for (Index i = 0; i < n_; ++i) f0 += s_ * weight(i) * logloss(y_[i] * z[i]);
      const double p0 = f0 + pen0;
      double t = 1.0;
      // a predicted decrease below the rounding of the objective cannot be tested: near the
      // optimum the quadratic model is exact enough to take the full step
      bool accepted = -pred <= 1e-13 * std::max(1.0, std::abs(p0));
      if (accepted) {
        for (Index k = 0; k < m; ++k) wt[k] = w0[k] + delta[k];
        for (Index i = 0; i < n_; ++i) zt[i] = z[i] + xd[i];
      }
      for (int ls = 0; ls < 30 && !accepted; ++ls, t *= 0.5) {
        double ft = 0.0;
        for (Index i = 0; i < n_; ++i) {
          zt[i] = z[i] + t * xd[i];
          ft += s_ * weight(i) * logloss(y_[i] * zt[i]);
        }
        for (Index k = 0; k < m; ++k) wt[k] = w0[k] + t * delta[k];
        if (ft + penalty_ws(ws, wt.data()) <= p0 + 1e-4 * t * pred) { accepted = true; break; }
      }
      if (!accepted) break;
      for (Index k = 0; k < m; ++k) w_[ws[k]] = wt[k];
      b_ += t * db;
      v_.swap(zt);
      z = v_.data();
    }
  }

  const Design& X_;
  const double* y_;
  double* w_;
  double b_;
  GlmOptions o_;
  Index n_, p_;
  double s_;
  bool quad_;
  Index epochs_ = 0;
  Index last_ws_ = -1;  // size of the last working set; -1: none yet (set by the constructor)
  std::vector<double> v_, theta_, xt_, lip_, score_;
  bool weighted_;
  bool step_ok_ = true, need_step_ = false;
  GlmState* state_ = nullptr;
  std::vector<double> norms_;  // ||x_j|| (filled on the first screening)
  std::vector<char> screened_;
  Index n_screened_ = 0;
  double hmax_ = 1.0;  // where a cut working-set solve is recorded (nullptr: nowhere)  // the last sweep passed the step_tol test (logistic: always)
  std::vector<double> sw_;
  double sw_sum_ = 0.0;
  std::mt19937_64 rng_;
  InterruptCheck check_;
};

}  // namespace

template <class Design>
GlmResult glm_solve(const Design& X, const double* y, double* w, double* intercept,
                    const GlmOptions& opt, GlmState* state) {
  require(opt.max_outer >= 0 && opt.max_epochs >= 0, "iteration limits must be >= 0");
  if (opt.loss == GlmLoss::logistic)
    for (Index i = 0; i < X.n_rows; ++i)
      require(y[i] == 1.0 || y[i] == -1.0, "logistic labels must be -1 or +1");
  GlmSolver<Design> solver(X, y, w, intercept ? *intercept : 0.0, opt);
  GlmResult res = solver.run(state);
  if (intercept) *intercept = solver.intercept();
  return res;
}

template <class Design>
GlmResult glm_gap(const Design& X, const double* y, const double* w, double intercept,
                  const GlmOptions& opt) {
  std::vector<double> wc(w, w + X.n_cols);
  GlmSolver<Design> solver(X, y, wc.data(), intercept, opt);
  GlmResult res;
  solver.evaluate(res);
  return res;
}

template GlmResult glm_solve(const DenseColMajor&, const double*, double*, double*, const GlmOptions&, GlmState*);
template GlmResult glm_solve(const CscView<std::int32_t>&, const double*, double*, double*, const GlmOptions&, GlmState*);
template GlmResult glm_solve(const CscView<std::int64_t>&, const double*, double*, double*, const GlmOptions&, GlmState*);
template GlmResult glm_gap(const DenseColMajor&, const double*, const double*, double, const GlmOptions&);
template GlmResult glm_gap(const CscView<std::int32_t>&, const double*, const double*, double, const GlmOptions&);
template GlmResult glm_gap(const CscView<std::int64_t>&, const double*, const double*, double, const GlmOptions&);

}  // namespace adasolve::bcd
