// Working-set proximal coordinate descent for general datafits (quadratic, Huber, Poisson) and
// separable penalties (weighted L1 / elastic net, MCP, SCAD); see glm.hpp for the objective.
#include "adasolve/bcd/glm.hpp"
#include "adasolve/common/scalar.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include <Eigen/Dense>

namespace adasolve::bcd {
namespace {

using namespace glm_detail;
constexpr double kInf = std::numeric_limits<double>::infinity();

inline double sgn(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

// ---- penalties: value, proximal map of t * pen, distance of -g to the subdifferential ------
// (all three are even, increasing on [0, inf) and have slope alpha at 0+)

struct L1Pen {
  double alpha, l2;
  static constexpr bool convex = true;
  double value(double x) const { return alpha * std::abs(x) + 0.5 * l2 * x * x; }
  double prox(double v, double t) const { return soft_threshold(v, t * alpha) / (1.0 + t * l2); }
  double slope0() const { return alpha; }
  // derivative of the smooth part of c * pen at x != 0
  double deriv(double x) const { return alpha * sgn(x) + l2 * x; }
};

struct McpPen {
  double alpha, gamma;
  static constexpr bool convex = false;
  double value(double x) const {
    const double a = std::abs(x);
    return a <= gamma * alpha ? alpha * a - a * a / (2.0 * gamma) : 0.5 * gamma * alpha * alpha;
  }
  // argmin_{x >= 0} (x - |v|)^2 / (2t) + pen(x): the minimisers of the two pieces (the first is
  // concave when t >= gamma, then only its end points can win), compared by value
  double prox(double v, double t) const {
    const double a = std::abs(v), ga = gamma * alpha;
    double cand[4] = {0.0, ga, std::max(a, ga), 0.0};
    int nc = 3;
    if (t < gamma) cand[nc++] = std::clamp((a - t * alpha) / (1.0 - t / gamma), 0.0, ga);
    return sgn(v) * best(cand, nc, a, t);
  }
  double best(const double* c, int nc, double a, double t) const {
    double bx = c[0], bf = kInf;
    for (int k = 0; k < nc; ++k) {
      const double f = (c[k] - a) * (c[k] - a) / (2.0 * t) + value(c[k]);
      if (f < bf) { bf = f; bx = c[k]; }
    }
    return bx;
  }
  double slope0() const { return alpha; }
  double deriv(double x) const {
    return std::abs(x) < gamma * alpha ? alpha * sgn(x) - x / gamma : 0.0;
  }
};

struct ScadPen {
  double alpha, gamma;
  static constexpr bool convex = false;
  double value(double x) const {
    const double a = std::abs(x);
    if (a <= alpha) return alpha * a;
    if (a <= gamma * alpha) return (2.0 * gamma * alpha * a - a * a - alpha * alpha) / (2.0 * (gamma - 1.0));
    return 0.5 * alpha * alpha * (gamma + 1.0);
  }
  double prox(double v, double t) const {
    const double a = std::abs(v), ga = gamma * alpha;
    double cand[5] = {std::clamp(a - t * alpha, 0.0, alpha), alpha, ga, std::max(a, ga), 0.0};
    int nc = 4;
    if (t < gamma - 1.0)  // the middle piece is convex: its stationary point
      cand[nc++] = std::clamp(((gamma - 1.0) * a - t * ga) / (gamma - 1.0 - t), alpha, ga);
    double bx = cand[0], bf = kInf;
    for (int k = 0; k < nc; ++k) {
      const double f = (cand[k] - a) * (cand[k] - a) / (2.0 * t) + value(cand[k]);
      if (f < bf) { bf = f; bx = cand[k]; }
    }
    return sgn(v) * bx;
  }
  double slope0() const { return alpha; }
  double deriv(double x) const {
    const double a = std::abs(x);
    if (a <= alpha) return alpha * sgn(x);
    if (a <= gamma * alpha) return (gamma * alpha * sgn(x) - x) / (gamma - 1.0);
    return 0.0;
  }
};

// ---- datafits: per-sample derivative (1/n included), curvature, value -----------------------

struct QuadFit {
  const double* y; double inv_n;
  static constexpr bool newton = false;
  static constexpr double curv = 1.0;  // bound on n x the second derivative
  double grad(Index i, double z) const { return (z - y[i]) * inv_n; }
  double hess(Index, double) const { return inv_n; }
  double value(Index i, double z) const { const double r = y[i] - z; return 0.5 * r * r * inv_n; }
};

struct HuberFit {
  const double* y; double inv_n; double delta;
  static constexpr bool newton = false;
  static constexpr double curv = 1.0;
  double grad(Index i, double z) const { return std::clamp(z - y[i], -delta, delta) * inv_n; }
  double hess(Index i, double z) const { return std::abs(z - y[i]) <= delta ? inv_n : 0.0; }
  double value(Index i, double z) const {
    const double r = std::abs(y[i] - z);
    return (r <= delta ? 0.5 * r * r : delta * r - 0.5 * delta * delta) * inv_n;
  }
};

struct PoissonFit {
  const double* y; double inv_n;
  static constexpr bool newton = true;
  static constexpr double curv = 0.0;  // unbounded: proximal Newton with a line search
  double grad(Index i, double z) const { return (std::exp(z) - y[i]) * inv_n; }
  double hess(Index, double z) const { return std::exp(z) * inv_n; }
  double value(Index i, double z) const { return (std::exp(z) - y[i] * z) * inv_n; }
};

template <class Design, class Fit, class Pen>
class PenSolver {
 public:
  PenSolver(const Design& X, const Fit& f, const Pen& pen, double* w, double b, const PenOptions& o)
      : X_(X), f_(f), pen_(pen), w_(w), b_(o.fit_intercept ? b : 0.0), o_(o), n_(X.n_rows),
        p_(X.n_cols), z_(n_, b_), g_(n_), grad_(p_), c_(p_, 1.0), lip_(p_), score_(p_) {
    if (o.weights)
      for (Index j = 0; j < p_; ++j) {
        require(o.weights[j] >= 0 && std::isfinite(o.weights[j]), "weights must be finite and >= 0");
        c_[j] = o.weights[j];
      }
    for (Index j = 0; j < p_; ++j) {
      lip_[j] = Fit::curv * col_sq(X_, j) / static_cast<double>(n_);
      require(std::isfinite(lip_[j]), "the squared norm of a column of X overflows (rescale X)");
      if (o.positive && w_[j] < 0) w_[j] = 0.0;
      if (w_[j] != 0.0) col_axpy(X_, j, w_[j], z_.data());
    }
  }

  double intercept() const { return b_; }

  PenResult run() {
    PenResult res;
    std::vector<Index> ws;
    for (Index outer = 0;; ++outer) {
      check_(static_cast<double>(n_) * static_cast<double>(p_));
      res.n_outer = outer;
      const double kkt = evaluate();
      res.kkt = kkt;
      if (kkt <= o_.tol) { res.info = 0; break; }
      if (outer >= o_.max_outer || epochs_ >= o_.max_epochs) break;
      choose_working_set(ws);
      if (ws.empty()) break;  // only the intercept violates: evaluate() re-fits it
      const double inner_tol = o_.inner_frac * kkt;
      if constexpr (Fit::newton) inner_newton(ws, inner_tol);
      else inner_cd(ws, inner_tol);
    }
    res.n_epochs = epochs_;
    res.objective = objective();
    return res;
  }

 private:
  double objective() const {
    double v = 0.0;
    for (Index i = 0; i < n_; ++i) v += f_.value(i, z_[i]);
    for (Index j = 0; j < p_; ++j) if (w_[j] != 0.0) v += c_[j] * pen_.value(w_[j]);
    return v;
  }

  // distance of -g to the subdifferential of c pen (+ the constraint w >= 0) at x
  double dist(double x, double g, double c) const {
    if (x == 0.0) {
      const double lim = c * pen_.slope0();
      return o_.positive ? std::max(0.0, -g - lim) : std::max(0.0, std::abs(g) - lim);
    }
    return std::abs(g + c * pen_.deriv(x));
  }

  double prox(double v, double t, double c) const {
    double x = c > 0 ? pen_.prox(v, t * c) : v;
    return o_.positive ? std::max(x, 0.0) : x;
  }

  void fill_grad() { for (Index i = 0; i < n_; ++i) g_[i] = f_.grad(i, z_[i]); }

  double grad_b() const {
    double s = 0.0;
    for (Index i = 0; i < n_; ++i) s += g_[i];
    return s;
  }

  void shift(double d) { b_ += d; for (auto& z : z_) z += d; }

  // the intercept minimised (exactly for the quadratic and Poisson datafits, by gradient steps
  // of length 1/L for Huber)
  void optimise_intercept() {
    if constexpr (Fit::newton) {  // Poisson: sum exp(z + d) = sum y
      for (int it = 0; it < 50; ++it) {
        fill_grad();
        double gb = grad_b(), hb = 0.0;
        for (Index i = 0; i < n_; ++i) hb += f_.hess(i, z_[i]);
        if (!(hb > 0) || std::abs(gb) <= 1e-14) break;
        shift(std::clamp(-gb / hb, -10.0, 10.0));
      }
    } else {
      for (int it = 0; it < 100; ++it) {
        fill_grad();
        const double gb = grad_b();
        if (std::abs(gb) <= 1e-15) break;
        shift(-gb / Fit::curv);
        if constexpr (std::is_same_v<Fit, QuadFit>) break;  // one step is exact
      }
    }
  }

  double evaluate() {
    if (o_.fit_intercept) optimise_intercept();
    fill_grad();
    double kkt = o_.fit_intercept ? std::abs(grad_b()) : 0.0;
    for (Index j = 0; j < p_; ++j) {
      grad_[j] = col_dot(X_, j, g_.data());
      const double d = dist(w_[j], grad_[j], c_[j]);
      kkt = std::max(kkt, d);
      // the generalised support (nonzero or unpenalised) always enters the working set
      score_[j] = (w_[j] != 0.0 || c_[j] == 0.0) ? kInf : d;
    }
    return kkt;
  }

  void choose_working_set(std::vector<Index>& ws) {
    ws.clear();
    Index support = 0;
    for (Index j = 0; j < p_; ++j) support += (score_[j] == kInf);
    const Index size = std::min(p_, std::max(o_.ws_start, 2 * support));
    std::vector<Index> idx(p_);
    std::iota(idx.begin(), idx.end(), Index(0));
    auto by_score = [this](Index a, Index b) { return score_[a] > score_[b]; };
    if (size < p_) std::nth_element(idx.begin(), idx.begin() + size, idx.end(), by_score);
    for (Index k = 0; k < size; ++k)
      if (score_[idx[k]] > 0 && (lip_[idx[k]] > 0 || Fit::newton)) ws.push_back(idx[k]);
    std::sort(ws.begin(), ws.end());
  }

  // ---- Lipschitz datafits: cyclic proximal coordinate descent with step 1/L_j --------------
  void inner_cd(const std::vector<Index>& ws, double inner_tol) {
    const Index m = static_cast<Index>(ws.size());
    auto gj = [this](Index j) {
      return col_dot_f(X_, j, [this](Index i) { return f_.grad(i, z_[i]); });
    };
    constexpr int K = 5;  // extrapolate from the last K + 1 iterates, every K + 1 epochs
    Eigen::MatrixXd snaps(m, K + 1);
    int n_snaps = 0;
    for (Index ep = 1; epochs_ < o_.max_epochs; ++ep) {
      check_(static_cast<double>(m) * static_cast<double>(n_));
      double seen = 0.0;
      for (Index k = 0; k < m; ++k) {
        const Index j = ws[k];
        const double L = lip_[j], old = w_[j], g = gj(j);
        seen = std::max(seen, dist(old, g, c_[j]));
        const double nw = prox(old - g / L, 1.0 / L, c_[j]);
        if (nw != old) { col_axpy(X_, j, nw - old, z_.data()); w_[j] = nw; }
      }
      if (o_.fit_intercept) {
        fill_grad();
        shift(-grad_b() / Fit::curv);
      }
      ++epochs_;
      if (seen <= inner_tol) return;
      if (m > 0) {
        for (Index k = 0; k < m; ++k) snaps(k, n_snaps) = w_[ws[k]];
        if (++n_snaps == K + 1) { n_snaps = 0; anderson_step(ws, snaps); }
      }
      if (ep % 5 == 0) {
        double worst = 0.0;
        for (Index k = 0; k < m; ++k) worst = std::max(worst, dist(w_[ws[k]], gj(ws[k]), c_[ws[k]]));
        if (worst <= inner_tol) return;
      }
    }
  }

  // Anderson extrapolation of the working-set iterates (as skglm's AndersonCD); the
  // extrapolated point is kept only when it lowers the objective, so that the descent (and,
  // for the non-convex penalties, the critical point reached) is never spoiled
  void anderson_step(const std::vector<Index>& ws, const Eigen::MatrixXd& snaps) {
    const Index m = static_cast<Index>(ws.size());
    const int K = static_cast<int>(snaps.cols()) - 1;
    Eigen::MatrixXd U = snaps.rightCols(K) - snaps.leftCols(K);
    Eigen::VectorXd c = (U.transpose() * U).ldlt().solve(Eigen::VectorXd::Ones(K));
    const double sc = c.sum();
    if (!c.allFinite() || sc == 0.0 || !std::isfinite(sc)) return;
    Eigen::VectorXd acc = snaps.rightCols(K) * (c / sc);
    if (o_.positive) acc = acc.cwiseMax(0.0);
    std::vector<double> zt(n_, b_);
    for (Index k = 0; k < m; ++k) if (acc(k) != 0.0) col_axpy(X_, ws[k], acc(k), zt.data());
    for (Index j = 0; j < p_; ++j)  // features outside the working set keep their values
      if (w_[j] != 0.0 && !std::binary_search(ws.begin(), ws.end(), j)) col_axpy(X_, j, w_[j], zt.data());
    double f_acc = 0.0, f_cur = 0.0;
    for (Index i = 0; i < n_; ++i) { f_acc += f_.value(i, zt[i]); f_cur += f_.value(i, z_[i]); }
    for (Index k = 0; k < m; ++k) {
      const Index j = ws[k];
      f_acc += c_[j] * pen_.value(acc(k));
      f_cur += c_[j] * pen_.value(w_[j]);
    }
    if (!(f_acc < f_cur)) return;
    for (Index k = 0; k < m; ++k) w_[ws[k]] = acc(k);
    z_.swap(zt);
  }

  // ---- datafits without a curvature bound: proximal Newton on the working set --------------
  void inner_newton(const std::vector<Index>& ws, double inner_tol) {
    const Index m = static_cast<Index>(ws.size());
    std::vector<double> h(n_), xd(n_), zt(n_), hd(m), delta(m), w0(m), wt(m), grad(m);
    for (int pn = 0; pn < 50 && epochs_ < o_.max_epochs; ++pn) {
      check_(static_cast<double>(m) * static_cast<double>(n_));
      fill_grad();
      double gb = grad_b(), hb = 0.0;
      for (Index i = 0; i < n_; ++i) { h[i] = f_.hess(i, z_[i]); hb += h[i]; }
      double worst = o_.fit_intercept ? std::abs(gb) : 0.0;
      for (Index k = 0; k < m; ++k) {
        grad[k] = col_dot(X_, ws[k], g_.data());
        worst = std::max(worst, dist(w_[ws[k]], grad[k], c_[ws[k]]));
      }
      if (worst <= inner_tol) break;
      for (Index k = 0; k < m; ++k) hd[k] = col_wsq(X_, ws[k], h.data());
      std::fill(delta.begin(), delta.end(), 0.0);
      std::fill(xd.begin(), xd.end(), 0.0);
      double db = 0.0;
      for (int cd = 0; cd < 20; ++cd) {  // coordinate descent on the quadratic model
        double change = 0.0;
        for (Index k = 0; k < m; ++k) {
          const double H = hd[k];
          if (!(H > 0)) continue;
          const Index j = ws[k];
          const double cur = w_[j] + delta[k];
          const double G = grad[k] + col_wdot(X_, j, h.data(), xd.data());
          const double d = prox(cur - G / H, 1.0 / H, c_[j]) - cur;
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
      // Armijo backtracking on the objective restricted to the working set
      double pred = gb * db, pen0 = 0.0;
      for (Index k = 0; k < m; ++k) {
        const Index j = ws[k];
        w0[k] = w_[j];
        pred += grad[k] * delta[k] + c_[j] * (pen_.value(w0[k] + delta[k]) - pen_.value(w0[k]));
        pen0 += c_[j] * pen_.value(w0[k]);
      }
      if (!(pred < 0)) break;
      double f0 = 0.0;
      for (Index i = 0; i < n_; ++i) f0 += f_.value(i, z_[i]);
      const double p0 = f0 + pen0;
      bool accepted = false;
      double t = 1.0;
      for (int ls = 0; ls < 40 && !accepted; ++ls, t *= 0.5) {
        double ft = 0.0, pt = 0.0;
        for (Index i = 0; i < n_; ++i) { zt[i] = z_[i] + t * xd[i]; ft += f_.value(i, zt[i]); }
        for (Index k = 0; k < m; ++k) {
          wt[k] = w0[k] + t * delta[k];
          pt += c_[ws[k]] * pen_.value(wt[k]);
        }
        // near the optimum the predicted decrease is below the objective's rounding
        if (ft + pt <= p0 + 1e-4 * t * pred || -pred <= 1e-13 * std::max(1.0, std::abs(p0))) {
          accepted = true;
          break;
        }
      }
      if (!accepted) break;
      for (Index k = 0; k < m; ++k) w_[ws[k]] = wt[k];
      b_ += t * db;
      z_.swap(zt);
    }
  }

  const Design& X_;
  Fit f_;
  Pen pen_;
  double* w_;
  double b_;
  PenOptions o_;
  Index n_, p_;
  std::vector<double> z_, g_, grad_, c_, lip_, score_;
  Index epochs_ = 0;
  InterruptCheck check_;
};

template <class Design, class Fit, class Pen>
PenResult run_one(const Design& X, const Fit& f, const Pen& pen, double* w, double* b,
                  const PenOptions& o) {
  PenSolver<Design, Fit, Pen> s(X, f, pen, w, b ? *b : 0.0, o);
  PenResult r = s.run();
  if (b) *b = o.fit_intercept ? s.intercept() : 0.0;
  return r;
}

template <class Design, class Fit>
PenResult with_penalty(const Design& X, const Fit& f, double* w, double* b, const PenOptions& o) {
  switch (o.penalty) {
    case PenaltyKind::l1: return run_one(X, f, L1Pen{o.alpha, o.l2}, w, b, o);
    case PenaltyKind::mcp: return run_one(X, f, McpPen{o.alpha, o.gamma}, w, b, o);
    case PenaltyKind::scad: return run_one(X, f, ScadPen{o.alpha, o.gamma}, w, b, o);
  }
  throw std::invalid_argument("unknown penalty");
}

}  // namespace

template <class Design>
PenResult pen_solve(const Design& X, const double* y, double* w, double* intercept,
                    const PenOptions& o) {
  require(X.n_rows > 0, "X must have at least one row");
  require(o.alpha >= 0 && std::isfinite(o.alpha), "alpha must be finite and >= 0");
  require(o.l2 >= 0 && std::isfinite(o.l2), "l2 must be finite and >= 0");
  require(o.tol >= 0, "tol must be >= 0");
  require(o.max_outer >= 0 && o.max_epochs >= 0, "iteration limits must be >= 0");
  require(o.ws_start >= 1, "ws_start must be >= 1");
  require(o.inner_frac > 0 && o.inner_frac < 1, "inner_frac must be in (0, 1)");
  if (o.penalty == PenaltyKind::mcp) require(o.gamma > 0 && std::isfinite(o.gamma), "gamma must be > 0 for MCP");
  if (o.penalty == PenaltyKind::scad) require(o.gamma > 1 && std::isfinite(o.gamma), "gamma must be > 1 for SCAD");
  for (Index i = 0; i < X.n_rows; ++i) require(std::isfinite(y[i]), "y must be finite");
  const double inv_n = 1.0 / static_cast<double>(X.n_rows);
  switch (o.datafit) {
    case Datafit::quadratic: return with_penalty(X, QuadFit{y, inv_n}, w, intercept, o);
    case Datafit::huber:
      require(o.delta > 0 && std::isfinite(o.delta), "delta must be finite and > 0");
      return with_penalty(X, HuberFit{y, inv_n, o.delta}, w, intercept, o);
    case Datafit::poisson:
      require(o.penalty == PenaltyKind::l1, "the Poisson datafit supports the L1 / elastic-net penalty only");
      for (Index i = 0; i < X.n_rows; ++i) require(y[i] >= 0, "Poisson targets must be >= 0");
      return run_one(X, PoissonFit{y, inv_n}, L1Pen{o.alpha, o.l2}, w, intercept, o);
  }
  throw std::invalid_argument("unknown datafit");
}

template PenResult pen_solve(const DenseColMajor&, const double*, double*, double*, const PenOptions&);
template PenResult pen_solve(const CscView<std::int32_t>&, const double*, double*, double*, const PenOptions&);
template PenResult pen_solve(const CscView<std::int64_t>&, const double*, double*, double*, const PenOptions&);

}  // namespace adasolve::bcd
