// adasolve::sor tuners: online learning of the SOR relaxation factor omega across a
// sequence of systems (Khodak et al., "Learning to Relax", ICLR 2024).
//
// Plain C++17, no Python. A solve loop drives a tuner through the Tuner interface
// (suggest before the solve, observe after it), so a sequence of solves never leaves C++.
// The algorithms are documented in python/adasolve/tuning.py (the user-facing classes).
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <vector>

#include "adasolve/common.hpp"

namespace adasolve::sor {

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, one multiply-xorshift chain per
/// draw. Small enough to be re-implemented in a test, so seeded choices can be checked.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1): the top 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  std::uint64_t state() const { return s_; }
  void set_state(std::uint64_t s) { s_ = s; }

 private:
  std::uint64_t s_;
};

enum class TunerAlgorithm : int { Auto = 0, TsallisInf = 1, Exp3 = 2, Ucb = 3 };

/// Young's optimal SOR factor 2 / (1 + sqrt(1 - mu^2)) for Jacobi spectral radius mu.
double young_omega(double mu);

/// Invert Young's relation (rho + w - 1)^2 = rho w^2 mu^2 for mu^2 from an observed SOR
/// factor rho at omega; NaN when the observation carries no information (rho <= w - 1
/// within 2 %: past the optimum the factor is w - 1 whatever mu is).
double young_mu2(double omega, double rho);

/// What a solve loop needs of a tuner. Calls are serialized by a per-object mutex.
class Tuner {
 public:
  Tuner() = default;
  Tuner(const Tuner&) {}  // a copy gets a fresh mutex
  Tuner& operator=(const Tuner&) { return *this; }
  virtual ~Tuner() = default;
  /// The omega for the next solve of an instance with features ctx[0..dim).
  virtual double suggest(const double* ctx, Index dim) = 0;
  /// The cost (iterations) of a solve made with omega; rate is the observed convergence
  /// factor (NaN when unknown).
  virtual void observe(double omega, double cost, const double* ctx, Index dim, double rate) = 0;
  /// Flat serialization of the whole state (pickling), and its inverse.
  virtual std::vector<double> save() const = 0;
  virtual void load(const std::vector<double>& state) = 0;

  std::mutex& mutex() const { return mutex_; }

 private:
  mutable std::mutex mutex_;
};

/// One omega for a whole sequence (bandit feedback), with four algorithms:
/// Auto (local confidence-bound search around the best arm, steered by Young's model when
/// solves report their rate, discounted statistics), TsallisInf (the paper's bandit),
/// Exp3 and Ucb.
class OmegaTuner final : public Tuner {
 public:
  OmegaTuner(std::vector<double> omegas, TunerAlgorithm algorithm, std::uint64_t seed);

  double suggest(const double*, Index) override {
    std::lock_guard<std::mutex> lock(mutex());
    return omegas_[suggest_arm(rng_)];
  }
  void observe(double omega, double cost, const double*, Index, double rate) override {
    std::lock_guard<std::mutex> lock(mutex());
    update(arm(omega), check_cost(cost), rate);
  }
  std::vector<double> save() const override;
  void load(const std::vector<double>& state) override;

  double best_omega() const;
  const std::vector<double>& omegas() const { return omegas_; }
  TunerAlgorithm algorithm() const { return alg_; }
  Index observations() const { return t_; }
  const std::vector<double>& history_omega() const { return hist_w_; }
  const std::vector<double>& history_cost() const { return hist_c_; }
  const std::vector<double>& probabilities() const { return prob_; }
  Index young_samples() const { return Index(mu2_.size()); }

  // The pieces ContextualOmegaTuner runs per bin (with its own generator).
  Index suggest_arm(SplitMix64& rng);
  Index arm(double omega) const;  ///< nearest grid arm; throws invalid_argument if not in (0, 2)
  void update(Index i, double cost, double rate);
  void set_hint(double omega) { hint_ = omega; }  ///< NaN: no external model
  static double check_cost(double cost);

  void save_into(std::vector<double>& out) const;
  const double* load_from(const double* p, const double* end);

 private:
  Index model_arm() const;
  void push_mu2(double mu2);
  void refresh_young_sums();
  Index suggest_auto();
  Index suggest_prob(SplitMix64& rng);
  Index suggest_ucb() const;
  double bound(Index j, double logt, int sign) const;
  double scale() const;

  std::vector<double> omegas_;
  TunerAlgorithm alg_;
  SplitMix64 rng_;
  Index d_;
  std::vector<double> n_, sum_, sumsq_, lhat_, prob_;
  Index t_ = 0;
  double total_ = 0.0;
  double x_ = -1.0;  // Tsallis-INF normalizer, warm-started between rounds
  double hint_ = std::numeric_limits<double>::quiet_NaN();
  // Young's model: the last kYoungWindow estimates of mu^2, and for every arm the running
  // sum over them of the predicted iterations 1 / -log rho(w, mu) (updated in O(arms)).
  std::deque<double> mu2_;
  std::vector<double> young_sum_;
  Index young_pushes_ = 0;
  std::vector<double> hist_w_, hist_c_;
};

/// Omega as a function of instance features: equal-width bins of the first context
/// coordinate, one OmegaTuner per bin, plus a ridge regression of Young's instance-optimal
/// omega on Chebyshev features T_0..T_degree of the scaled context; its prediction is offered
/// to the bin's learner as the model arm.
class ContextualOmegaTuner final : public Tuner {
 public:
  ContextualOmegaTuner(std::vector<double> omegas, TunerAlgorithm algorithm, Index bins,
                       Index degree, double range_lo, double range_hi, bool fixed_range,
                       std::uint64_t seed);

  double suggest(const double* ctx, Index dim) override;
  void observe(double omega, double cost, const double* ctx, Index dim, double rate) override;
  std::vector<double> save() const override;
  void load(const std::vector<double>& state) override;

  double best_omega(const double* ctx, Index dim) const;
  /// Young regression's omega for ctx; NaN until it has 2 x (number of features) samples.
  double predict(const double* ctx, Index dim) const;
  const std::vector<double>& omegas() const { return omegas_; }
  Index bins() const { return Index(tuners_.size()); }
  Index degree() const { return degree_; }
  double range_lo() const { return lo_; }
  double range_hi() const { return hi_; }
  const OmegaTuner& bin_tuner(Index b) const { return tuners_[size_t(b)]; }
  Index observations() const { return Index(hist_w_.size()); }
  const std::vector<double>& history_omega() const { return hist_w_; }
  const std::vector<double>& history_cost() const { return hist_c_; }
  const std::vector<Index>& history_ptr() const { return hist_ptr_; }
  const std::vector<double>& history_context() const { return hist_z_; }

 private:
  static void check_context(const double* ctx, Index dim);
  double scaled(double z) const;
  Index bin_of(const double* ctx) const;
  void features(const double* ctx, Index dim, std::vector<double>& f) const;

  std::vector<double> omegas_;
  TunerAlgorithm alg_;
  Index degree_;
  double lo_, hi_;
  bool fixed_range_;
  SplitMix64 rng_;
  std::vector<OmegaTuner> tuners_;
  Index k_ = 0;  // number of regression features (0: none yet)
  std::vector<double> G_, h_;
  Index nreg_ = 0;
  mutable std::vector<double> theta_;  // cached solution of (G + 1e-6 I) theta = h
  mutable bool theta_valid_ = false;
  std::vector<double> hist_w_, hist_c_, hist_z_;
  std::vector<Index> hist_ptr_{0};
};

}  // namespace adasolve::sor
