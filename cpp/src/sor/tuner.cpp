#include "adasolve/sor/tuner.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

namespace adasolve::sor {

namespace {

// auto: statistics decay by kDiscount per solve (an effective window of ~100 solves), and the
// confidence width is kWidth sqrt(2 log(N) / n_j) with N the discounted number of solves
// (discounted UCB). Chosen on recorded cost matrices of the paper's sequences: drifting
// sequences (the heat equation) need the short window, i.i.d. ones lose under 1 % with it.
constexpr double kDiscount = 0.99;
constexpr double kWidth = 0.7;
constexpr std::size_t kYoungWindow = 256;  // Young estimates kept
constexpr Index kYoungRefresh = 1024;    // recompute the running sums from scratch this often
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Predicted iterations per unit of log-tolerance at omega for Jacobi radius mu (Young).
double young_cost(double w, double mu) {
  const double disc = std::max(w * w * mu * mu - 4.0 * (w - 1.0), 0.0);
  double rho = w < 2.0 / (1.0 + std::sqrt(1.0 - mu * mu)) ? std::pow((w * mu + std::sqrt(disc)) / 2.0, 2)
                                                          : std::abs(w - 1.0);
  rho = std::min(std::max(rho, 1e-12), 1.0 - 1e-12);
  return 1.0 / -std::log(rho);
}

void put_u64(std::vector<double>& out, std::uint64_t v) {
  out.push_back(double(v >> 32));
  out.push_back(double(v & 0xffffffffULL));
}

std::uint64_t get_u64(const double*& p) {
  const std::uint64_t hi = std::uint64_t(p[0]), lo = std::uint64_t(p[1]);
  p += 2;
  return (hi << 32) | lo;
}

void put_vec(std::vector<double>& out, const std::vector<double>& v) {
  out.push_back(double(v.size()));
  out.insert(out.end(), v.begin(), v.end());
}

const double* get_vec(const double* p, const double* end, std::vector<double>& v) {
  require(p < end, "tuner state is truncated");
  const std::size_t k = std::size_t(*p++);
  require(p + k <= end, "tuner state is truncated");
  v.assign(p, p + k);
  return p + k;
}

void check_omegas(const std::vector<double>& w) {
  require(!w.empty(), "omegas must be non-empty");
  for (double v : w) {
    require(std::isfinite(v), "omegas must be finite");
    require(v > 0.0 && v < 2.0, "omegas must lie in the open interval (0, 2)");
  }
  require(std::is_sorted(w.begin(), w.end()) && std::adjacent_find(w.begin(), w.end()) == w.end(),
          "omegas must be sorted and unique");
}

}  // namespace

double young_omega(double mu) {
  mu = std::min(std::max(mu, 0.0), 1.0 - 1e-15);
  return 2.0 / (1.0 + std::sqrt(1.0 - mu * mu));
}

double young_mu2(double omega, double rho) {
  if (!(rho > 0.0 && rho < 1.0) || rho <= (omega - 1.0) * 1.02 + 1e-3) return kNaN;
  const double mu2 = (rho + omega - 1.0) * (rho + omega - 1.0) / (rho * omega * omega);
  return (mu2 > 0.0 && mu2 < 1.0) ? mu2 : kNaN;  // also rejects inf/nan from a tiny omega
}

// -------------------------------------------------------------------------------------------
// OmegaTuner

OmegaTuner::OmegaTuner(std::vector<double> omegas, TunerAlgorithm algorithm, std::uint64_t seed)
    : omegas_(std::move(omegas)), alg_(algorithm), rng_(seed) {
  check_omegas(omegas_);
  d_ = Index(omegas_.size());
  n_.assign(d_, 0.0);
  sum_.assign(d_, 0.0);
  sumsq_.assign(d_, 0.0);
  lhat_.assign(d_, 0.0);
  prob_.assign(d_, 1.0 / double(d_));
  young_sum_.assign(d_, 0.0);
}

double OmegaTuner::check_cost(double c) {
  if (!std::isfinite(c) || c < 0.0)
    throw std::invalid_argument("cost must be finite and >= 0, got " + std::to_string(c));
  return c;
}

Index OmegaTuner::arm(double w) const {
  if (!(std::isfinite(w) && w > 0.0 && w < 2.0))
    throw std::invalid_argument("omega must be in (0, 2), got " + std::to_string(w));
  Index best = 0;
  double bd = std::abs(omegas_[0] - w);
  for (Index j = 1; j < d_; ++j) {
    const double dj = std::abs(omegas_[j] - w);
    if (dj < bd) {
      bd = dj;
      best = j;
    }
  }
  return best;
}

double OmegaTuner::scale() const {
  // The paper's normalization: running mean of (cost - 1).
  return std::max(total_ / double(std::max<Index>(t_, 1)) - 1.0, 1e-12);
}

void OmegaTuner::update(Index i, double c, double rate) {
  const double w = omegas_[i];
  hist_w_.push_back(w);
  hist_c_.push_back(c);
  ++t_;
  total_ += c;
  if (alg_ == TunerAlgorithm::Auto) {
    for (Index j = 0; j < d_; ++j) {
      n_[j] *= kDiscount;
      sum_[j] *= kDiscount;
      sumsq_[j] *= kDiscount;
    }
  }
  n_[i] += 1.0;
  sum_[i] += c;
  sumsq_[i] += c * c;
  if (alg_ == TunerAlgorithm::TsallisInf || alg_ == TunerAlgorithm::Exp3)
    lhat_[i] += (c - 1.0) / std::max(prob_[i], 1e-12);
  // A factor from a handful of iterations is transient, not asymptotic: skip it.
  if (std::isfinite(rate) && c >= 10.0) {
    const double m = young_mu2(w, rate);
    if (std::isfinite(m)) push_mu2(m);
  }
}

void OmegaTuner::push_mu2(double m) {
  mu2_.push_back(m);
  const double mu = std::sqrt(m);
  for (Index j = 0; j < d_; ++j) young_sum_[j] += young_cost(omegas_[j], mu);
  if (mu2_.size() > kYoungWindow) {
    const double old = std::sqrt(mu2_.front());
    mu2_.pop_front();
    for (Index j = 0; j < d_; ++j) young_sum_[j] -= young_cost(omegas_[j], old);
  }
  if (++young_pushes_ % kYoungRefresh == 0) refresh_young_sums();
}

void OmegaTuner::refresh_young_sums() {
  std::fill(young_sum_.begin(), young_sum_.end(), 0.0);
  for (double m : mu2_) {
    const double mu = std::sqrt(m);
    for (Index j = 0; j < d_; ++j) young_sum_[j] += young_cost(omegas_[j], mu);
  }
}

Index OmegaTuner::model_arm() const {
  if (std::isfinite(hint_)) return arm(std::min(std::max(hint_, 1e-12), 2.0 - 1e-12));
  // Minimize Young's predicted mean iteration count over the recent sample of mu: with
  // varying instances the best fixed omega leans towards the hardest (largest mu).
  return Index(std::min_element(young_sum_.begin(), young_sum_.end()) - young_sum_.begin());
}

double OmegaTuner::best_omega() const {
  double nmax = 0.0;
  bool any = false;
  for (double v : n_) {
    nmax = std::max(nmax, v);
    any = any || v > 0.0;
  }
  if (!any) return (!mu2_.empty() || std::isfinite(hint_)) ? omegas_[model_arm()] : omegas_[0];
  // Discounted counts never reach 0: judge only arms with recent, substantial use.
  const double floor = alg_ == TunerAlgorithm::Auto ? 0.2 * nmax : 0.0;
  Index best = -1;
  double bm = std::numeric_limits<double>::infinity();
  for (Index j = 0; j < d_; ++j) {
    if (!(n_[j] > 0.0) || n_[j] < floor) continue;
    const double m = sum_[j] / n_[j];
    if (m < bm) {
      bm = m;
      best = j;
    }
  }
  return omegas_[best < 0 ? 0 : best];
}

Index OmegaTuner::suggest_arm(SplitMix64& rng) {
  switch (alg_) {
    case TunerAlgorithm::Auto:
      return suggest_auto();
    case TunerAlgorithm::Ucb:
      return suggest_ucb();
    default:
      return suggest_prob(rng);
  }
}

double OmegaTuner::bound(Index j, double logt, int sign) const {
  const double nj = n_[j];
  const double m = sum_[j] / nj;
  const double sd = std::sqrt(std::max(sumsq_[j] / nj - m * m, 0.0));
  return m + sign * (sd + 0.05 * m + 1e-12) * kWidth * std::sqrt(2.0 * logt / nj);
}

Index OmegaTuner::suggest_auto() {
  const Index d = d_;
  const bool have_model = !mu2_.empty() || std::isfinite(hint_);
  if (t_ == 0) return have_model ? model_arm() : d / 2;
  if (!have_model && d >= 3) {
    // Coarse probes bracket the minimum of a unimodal cost curve.
    for (Index j : {d / 2, d / 5, (4 * d) / 5})
      if (n_[j] == 0.0) return j;
  }
  Index b = -1;
  double bm = std::numeric_limits<double>::infinity();
  for (Index j = 0; j < d; ++j) {
    if (n_[j] > 0.0) {
      const double m = sum_[j] / n_[j];
      if (m < bm) {
        bm = m;
        b = j;
      }
    }
  }
  double nsum = 0.0;
  for (double v : n_) nsum += v;
  const double logt = std::log(nsum + 1.0);
  // At most 6 candidates; a small sorted array beats std::set here.
  Index cand[6];
  int nc = 0;
  auto add = [&](Index j) {
    for (int k = 0; k < nc; ++k)
      if (cand[k] == j) return;
    cand[nc++] = j;
  };
  if (have_model) {
    // Trust the model while it is not clearly beaten: search around the model arm and keep
    // the empirical best as a candidate; widen around the empirical best once its upper
    // confidence bound is below the model arm's lower bound (the model is wrong there).
    const Index mj = model_arm();
    add(mj);
    add(std::max<Index>(mj - 1, 0));
    add(std::min<Index>(mj + 1, d - 1));
    add(b);
    if (n_[mj] > 0.0 && b != mj && bound(b, logt, +1) < bound(mj, logt, -1)) {
      add(std::max<Index>(b - 1, 0));
      add(std::min<Index>(b + 1, d - 1));
    }
  } else {
    add(b);
    add(std::max<Index>(b - 1, 0));
    add(std::min<Index>(b + 1, d - 1));
  }
  std::sort(cand, cand + nc);
  Index best_j = -1;
  double best_v = std::numeric_limits<double>::infinity();
  for (int k = 0; k < nc; ++k) {
    const Index j = cand[k];
    if (n_[j] == 0.0) return j;
    const double v = bound(j, logt, -1);
    if (v < best_v) {
      best_v = v;
      best_j = j;
    }
  }
  return best_j;
}

Index OmegaTuner::suggest_ucb() const {
  for (Index j = 0; j < d_; ++j)
    if (n_[j] == 0.0) return j;
  const double s = scale();
  const double logt = std::log(double(t_) + 1.0);
  Index best = 0;
  double bv = std::numeric_limits<double>::infinity();
  for (Index j = 0; j < d_; ++j) {
    const double v = sum_[j] / n_[j] / s - std::sqrt(2.0 * logt / n_[j]);
    if (v < bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

Index OmegaTuner::suggest_prob(SplitMix64& rng) {
  const Index d = d_;
  const double t = double(t_ + 1);
  std::vector<double>& p = prob_;
  std::vector<double> L(d, 0.0);
  if (t_ > 0) {
    const double s = scale();
    for (Index j = 0; j < d; ++j) L[j] = lhat_[j] / s;
  }
  const double Lmin = *std::min_element(L.begin(), L.end());
  for (double& v : L) v -= Lmin;
  if (alg_ == TunerAlgorithm::TsallisInf) {
    // 1/2-Tsallis-INF, eta = 2 / sqrt(t): p_i = 4 / (eta (L_i - x))^2 with the normalizer x
    // found by Newton's method, warm-started from the previous round.
    const double eta = 2.0 / std::sqrt(t);
    double x = x_ < 0.0 ? x_ : -1.0;
    x = std::min(x, -1e-9 / eta);
    for (int it = 0; it < 20; ++it) {
      double f = -1.0, g = 0.0;
      for (Index j = 0; j < d; ++j) {
        const double base = eta * (L[j] - x);
        const double pj = 4.0 / (base * base);
        f += pj;
        g += pj * std::sqrt(pj);
      }
      if (std::abs(f) < 1e-9) break;
      x -= f / (eta * g);
      x = std::min(x, -1e-12);
    }
    for (Index j = 0; j < d; ++j) {
      const double base = eta * (L[j] - x);
      p[j] = 4.0 / (base * base);
    }
    x_ = x;
  } else {
    // Exp3 for losses (no mixing needed), anytime rate sqrt(2 log d / (d t)).
    const double eta = std::sqrt(2.0 * std::log(double(std::max<Index>(d, 2))) / (double(d) * t));
    for (Index j = 0; j < d; ++j) p[j] = std::exp(-eta * L[j]);
  }
  double s = 0.0;
  for (double& v : p) {
    v = std::max(v, 0.0);
    s += v;
  }
  if (s > 0.0 && std::isfinite(s)) {
    for (double& v : p) v /= s;
  } else {
    std::fill(p.begin(), p.end(), 1.0 / double(d));
  }
  // Inverse-CDF draw: the first arm whose cumulative probability exceeds u.
  const double u = rng.uniform();
  double c = 0.0;
  for (Index j = 0; j < d; ++j) {
    c += p[j];
    if (c > u) return j;
  }
  return d - 1;
}

void OmegaTuner::save_into(std::vector<double>& out) const {
  out.push_back(double(alg_));
  put_vec(out, omegas_);
  put_u64(out, rng_.state());
  out.push_back(double(t_));
  out.push_back(total_);
  out.push_back(x_);
  out.push_back(hint_);
  put_vec(out, n_);
  put_vec(out, sum_);
  put_vec(out, sumsq_);
  put_vec(out, lhat_);
  put_vec(out, prob_);
  out.push_back(double(young_pushes_));
  put_vec(out, std::vector<double>(mu2_.begin(), mu2_.end()));
  put_vec(out, young_sum_);
  put_vec(out, hist_w_);
  put_vec(out, hist_c_);
}

const double* OmegaTuner::load_from(const double* p, const double* end) {
  require(end - p >= 1, "tuner state is truncated");
  alg_ = static_cast<TunerAlgorithm>(int(*p++));
  p = get_vec(p, end, omegas_);
  check_omegas(omegas_);
  d_ = Index(omegas_.size());
  require(end - p >= 6, "tuner state is truncated");
  rng_.set_state(get_u64(p));
  t_ = Index(*p++);
  total_ = *p++;
  x_ = *p++;
  hint_ = *p++;
  for (std::vector<double>* v : {&n_, &sum_, &sumsq_, &lhat_, &prob_}) {
    p = get_vec(p, end, *v);
    require(Index(v->size()) == d_, "tuner state is inconsistent");
  }
  require(end - p >= 1, "tuner state is truncated");
  young_pushes_ = Index(*p++);
  std::vector<double> mu2;
  p = get_vec(p, end, mu2);
  mu2_.assign(mu2.begin(), mu2.end());
  p = get_vec(p, end, young_sum_);
  require(Index(young_sum_.size()) == d_, "tuner state is inconsistent");
  p = get_vec(p, end, hist_w_);
  p = get_vec(p, end, hist_c_);
  return p;
}

std::vector<double> OmegaTuner::save() const {
  std::lock_guard<std::mutex> lock(mutex());
  std::vector<double> out{1.0};  // format version
  save_into(out);
  return out;
}

void OmegaTuner::load(const std::vector<double>& s) {
  std::lock_guard<std::mutex> lock(mutex());
  require(!s.empty() && s[0] == 1.0, "unknown OmegaTuner state format");
  load_from(s.data() + 1, s.data() + s.size());
}

// -------------------------------------------------------------------------------------------
// ContextualOmegaTuner

ContextualOmegaTuner::ContextualOmegaTuner(std::vector<double> omegas, TunerAlgorithm algorithm,
                                           Index bins, Index degree, double range_lo,
                                           double range_hi, bool fixed_range, std::uint64_t seed)
    : omegas_(std::move(omegas)), alg_(algorithm), degree_(degree), lo_(range_lo), hi_(range_hi),
      fixed_range_(fixed_range), rng_(seed) {
  check_omegas(omegas_);
  require(bins >= 1, "bins must be a positive integer");
  require(degree >= 0, "degree must be a non-negative integer");
  if (fixed_range)
    require(std::isfinite(lo_) && std::isfinite(hi_) && lo_ < hi_,
            "context_range must be finite (low, high) with low < high");
  else {
    lo_ = std::numeric_limits<double>::infinity();
    hi_ = -std::numeric_limits<double>::infinity();
  }
  tuners_.reserve(size_t(bins));
  for (Index b = 0; b < bins; ++b) tuners_.emplace_back(omegas_, algorithm, 0);
}

void ContextualOmegaTuner::check_context(const double* ctx, Index dim) {
  if (dim <= 0) throw std::invalid_argument("context is required by ContextualOmegaTuner (pass context= to the solver)");
  for (Index i = 0; i < dim; ++i)
    if (!std::isfinite(ctx[i])) throw std::invalid_argument("context must be non-empty and finite");
}

double ContextualOmegaTuner::scaled(double z) const {
  if (!(hi_ > lo_)) return 0.0;
  // Halves first: hi - lo overflows for contexts near the largest doubles.
  const double s = 2.0 * ((0.5 * z - 0.5 * lo_) / (0.5 * hi_ - 0.5 * lo_)) - 1.0;
  return std::isfinite(s) ? std::min(std::max(s, -1.0), 1.0) : 0.0;
}

Index ContextualOmegaTuner::bin_of(const double* ctx) const {
  const double s = scaled(ctx[0]);
  const Index nb = Index(tuners_.size());
  return std::min(Index((s + 1.0) / 2.0 * double(nb)), nb - 1);
}

void ContextualOmegaTuner::features(const double* ctx, Index dim, std::vector<double>& f) const {
  // [1, T_1(s), ..., T_degree(s)] with T_k(s) the vector over the coordinates.
  f.assign(size_t(1 + degree_ * dim), 0.0);
  f[0] = 1.0;
  std::vector<double> s(dim), tkm1(dim, 1.0), tk(dim);
  for (Index i = 0; i < dim; ++i) s[i] = tk[i] = scaled(ctx[i]);
  for (Index k = 1; k <= degree_; ++k) {
    for (Index i = 0; i < dim; ++i) f[size_t(1 + (k - 1) * dim + i)] = tk[i];
    for (Index i = 0; i < dim; ++i) {
      const double next = 2.0 * s[i] * tk[i] - tkm1[i];
      tkm1[i] = tk[i];
      tk[i] = next;
    }
  }
}

double ContextualOmegaTuner::predict(const double* ctx, Index dim) const {
  if (k_ == 0 || nreg_ < 2 * k_ || Index(1 + degree_ * dim) != k_) return kNaN;
  if (!theta_valid_) {
    Eigen::Map<const Eigen::MatrixXd> G(G_.data(), k_, k_);
    Eigen::Map<const Eigen::VectorXd> h(h_.data(), k_);
    Eigen::MatrixXd R = G;
    R.diagonal().array() += 1e-6;
    Eigen::VectorXd th = R.ldlt().solve(h);
    theta_.assign(th.data(), th.data() + k_);
    theta_valid_ = true;
  }
  std::vector<double> f;
  features(ctx, dim, f);
  double v = 0.0;
  for (Index i = 0; i < k_; ++i) v += f[size_t(i)] * theta_[size_t(i)];
  return std::isfinite(v) ? std::min(std::max(v, 1e-3), 1.999) : kNaN;
}

double ContextualOmegaTuner::suggest(const double* ctx, Index dim) {
  std::lock_guard<std::mutex> lock(mutex());
  check_context(ctx, dim);
  if (!fixed_range_ && !(lo_ <= ctx[0] && ctx[0] <= hi_)) {
    lo_ = std::min(lo_, ctx[0]);
    hi_ = std::max(hi_, ctx[0]);
  }
  OmegaTuner& t = tuners_[size_t(bin_of(ctx))];
  t.set_hint(predict(ctx, dim));
  return t.omegas()[t.suggest_arm(rng_)];
}

void ContextualOmegaTuner::observe(double omega, double cost, const double* ctx, Index dim,
                                   double rate) {
  std::lock_guard<std::mutex> lock(mutex());
  check_context(ctx, dim);
  const double c = OmegaTuner::check_cost(cost);
  OmegaTuner& t = tuners_[size_t(bin_of(ctx))];
  const Index i = t.arm(omega);
  t.update(i, c, kNaN);
  const double w = omegas_[i];
  hist_w_.push_back(w);
  hist_c_.push_back(c);
  hist_z_.insert(hist_z_.end(), ctx, ctx + dim);
  hist_ptr_.push_back(Index(hist_z_.size()));
  const double m = young_mu2(w, rate);
  if (std::isfinite(m)) {
    std::vector<double> f;
    features(ctx, dim, f);
    const Index k = Index(f.size());
    if (k != k_) {
      k_ = k;
      G_.assign(size_t(k * k), 0.0);
      h_.assign(size_t(k), 0.0);
      nreg_ = 0;
    }
    const double y = young_omega(std::sqrt(m));
    for (Index a = 0; a < k; ++a) {
      for (Index b = 0; b < k; ++b) G_[size_t(a * k + b)] += f[size_t(a)] * f[size_t(b)];
      h_[size_t(a)] += f[size_t(a)] * y;
    }
    ++nreg_;
    theta_valid_ = false;
  }
}

double ContextualOmegaTuner::best_omega(const double* ctx, Index dim) const {
  std::lock_guard<std::mutex> lock(mutex());
  check_context(ctx, dim);
  const OmegaTuner& t = tuners_[size_t(bin_of(ctx))];
  if (t.observations() == 0) {
    const double p = predict(ctx, dim);
    return std::isfinite(p) ? omegas_[t.arm(p)] : omegas_[0];
  }
  return t.best_omega();
}

std::vector<double> ContextualOmegaTuner::save() const {
  std::lock_guard<std::mutex> lock(mutex());
  std::vector<double> out{1.0, double(alg_), double(degree_), lo_, hi_, fixed_range_ ? 1.0 : 0.0};
  put_vec(out, omegas_);
  put_u64(out, rng_.state());
  out.push_back(double(tuners_.size()));
  for (const OmegaTuner& t : tuners_) t.save_into(out);
  out.push_back(double(k_));
  put_vec(out, G_);
  put_vec(out, h_);
  out.push_back(double(nreg_));
  put_vec(out, hist_w_);
  put_vec(out, hist_c_);
  put_vec(out, hist_z_);
  std::vector<double> ptr(hist_ptr_.begin(), hist_ptr_.end());
  put_vec(out, ptr);
  return out;
}

void ContextualOmegaTuner::load(const std::vector<double>& s) {
  std::lock_guard<std::mutex> lock(mutex());
  require(s.size() >= 6 && s[0] == 1.0, "unknown ContextualOmegaTuner state format");
  const double* p = s.data() + 1;
  const double* end = s.data() + s.size();
  alg_ = static_cast<TunerAlgorithm>(int(*p++));
  degree_ = Index(*p++);
  lo_ = *p++;
  hi_ = *p++;
  fixed_range_ = *p++ != 0.0;
  p = get_vec(p, end, omegas_);
  require(end - p >= 3, "tuner state is truncated");
  rng_.set_state(get_u64(p));
  const Index nb = Index(*p++);
  tuners_.assign(size_t(nb), OmegaTuner(omegas_, alg_, 0));
  for (OmegaTuner& t : tuners_) p = t.load_from(p, end);
  require(end - p >= 1, "tuner state is truncated");
  k_ = Index(*p++);
  p = get_vec(p, end, G_);
  p = get_vec(p, end, h_);
  require(end - p >= 1, "tuner state is truncated");
  nreg_ = Index(*p++);
  p = get_vec(p, end, hist_w_);
  p = get_vec(p, end, hist_c_);
  p = get_vec(p, end, hist_z_);
  std::vector<double> ptr;
  p = get_vec(p, end, ptr);
  hist_ptr_.assign(ptr.begin(), ptr.end());
  theta_valid_ = false;
}

}  // namespace adasolve::sor
