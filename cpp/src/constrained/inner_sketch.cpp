// The paper's inner solvers: randomized iterative sketching (sketch-and-project) on the KKT
// system with Gaussian vector or block sketches, CountSketch, or randomized Kaczmarz
// rows. Each keeps r = b - K z up to date (incrementally where it pays), stops at
// ||r|| <= tol, a step cap or a time budget, and can be resumed with a tighter tolerance.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>

#include "detail.hpp"

namespace adasolve::constrained {

using namespace detail;

namespace {

// ---- row access that works for dense row-major and sparse row-major matrices ----------
inline double row_dot(const DenseMat& K, Index i, const Vec& z) { return K.row(i).dot(z); }
inline void row_axpy(const DenseMat& K, Index i, double a, Vec& z) {
  z.noalias() += a * K.row(i).transpose();
}
inline double row_dot(const SparseMat& K, Index i, const Vec& z) {
  double s = 0.0;
  for (SparseMat::InnerIterator it(K, static_cast<int>(i)); it; ++it) s += it.value() * z[it.col()];
  return s;
}
inline void row_axpy(const SparseMat& K, Index i, double a, Vec& z) {
  for (SparseMat::InnerIterator it(K, static_cast<int>(i)); it; ++it) z[it.col()] += a * it.value();
}

// W = K S for a CountSketch S (row i of S has sigma_i at column h_i): since K is
// symmetric, column j of W is sum over rows i hashed to j of sigma_i K_i^T.
inline void countsketch_apply(const DenseMat& K, const std::vector<int>& h,
                              const std::vector<double>& sg, Eigen::MatrixXd& W) {
  W.setZero();
  for (Index i = 0; i < K.rows(); ++i) W.col(h[i]).noalias() += sg[i] * K.row(i).transpose();
}
inline void countsketch_apply(const SparseMat& K, const std::vector<int>& h,
                              const std::vector<double>& sg, Eigen::MatrixXd& W) {
  W.setZero();
  for (int i = 0; i < K.outerSize(); ++i) {
    const int j = h[i];
    const double s = sg[i];
    for (SparseMat::InnerIterator it(K, i); it; ++it) W(it.col(), j) += s * it.value();
  }
}

// ---- the sketching solvers: all keep r = b - K z (incrementally where it pays) ---------

template <class Mat>
struct Sketcher {
  const Mat& K;
  const Vec& b;
  Vec& z;
  Vec& r;
  std::mt19937_64& rng;
  const Vec* row_sq = nullptr;
  const std::vector<double>* row_cdf = nullptr;
  double max_seconds = std::numeric_limits<double>::infinity();
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  InterruptCheck check;

  void refresh() { r.noalias() = b - K * z; }

  // Every 16 steps: the time budget (a clock read) and Ctrl-C (work ~ one matvec per step).
  bool stop_now(InnerReport& rep, double work) {
    check(work);
    if ((rep.steps & 15) != 0 || !(max_seconds < std::numeric_limits<double>::infinity()))
      return false;
    const double el =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (el > max_seconds) { rep.timed_out = true; return true; }
    return false;
  }

  // z <- z + (s^T r / ||K s||^2) K s  (K symmetric so K^T s = K s); r <- r - alpha K (K s).
  InnerReport gaussian_vector(double tol, Index max_steps) {
    InnerReport rep;
    const Index N = K.rows();
    std::normal_distribution<double> nd(0.0, 1.0);
    Vec s(N), w(N), kw(N);
    double rn = r.norm();
    Index since_refresh = 0;
    while (true) {
      if (rn <= tol) {
        refresh();  // guard against drift of the running residual
        rn = r.norm();
        since_refresh = 0;
        if (rn <= tol) { rep.converged = true; break; }
      }
      if (rep.steps >= max_steps || stop_now(rep, 2.0 * static_cast<double>(K.nonZeros())))
        break;
      for (Index i = 0; i < N; ++i) s[i] = nd(rng);
      w.noalias() = K * s;
      const double ww = w.squaredNorm();
      if (!std::isfinite(ww)) { rep.overflow = true; break; }
      if (!(ww > 0.0)) { ++rep.steps; continue; }
      const double a = s.dot(r) / ww;
      if (!std::isfinite(a)) { rep.overflow = true; break; }
      z.noalias() += a * w;
      kw.noalias() = K * w;
      r.noalias() -= a * kw;
      rn = r.norm();
      ++rep.steps;
      if (++since_refresh >= 1000) { refresh(); rn = r.norm(); since_refresh = 0; }
    }
    rep.resid = rn;
    return rep;
  }

  // Block sketch-and-project with a sketch S of k columns (Gaussian or CountSketch):
  // W = K S, z <- z + W (W^T W)^+ S^T r, r <- r - K W y.  BLAS-3 in forming W and W^T W.
  InnerReport block(double tol, Index max_steps, Index k, bool countsketch) {
    InnerReport rep;
    const Index N = K.rows();
    k = std::max<Index>(1, std::min(k, N));
    SerialEigen serial(N * k < (Index(1) << 22));
    std::normal_distribution<double> nd(0.0, 1.0);
    std::uniform_int_distribution<int> col(0, static_cast<int>(k) - 1);
    Eigen::MatrixXd S, W(N, k), M(k, k);
    if (!countsketch) S.resize(N, k);
    std::vector<int> h(countsketch ? N : 0);
    std::vector<double> sg(countsketch ? N : 0);
    Vec str(k), y(k), d(N), kd(N);
    double rn = r.norm();
    Index since_refresh = 0;
    while (true) {
      if (rn <= tol) {
        refresh();
        rn = r.norm();
        since_refresh = 0;
        if (rn <= tol) { rep.converged = true; break; }
      }
      if (rep.steps >= max_steps ||
          stop_now(rep, static_cast<double>(K.nonZeros()) * static_cast<double>(k)))
        break;
      if (countsketch) {
        str.setZero();
        for (Index i = 0; i < N; ++i) {
          // As wide as the system: no collisions (a signed identity), so the step is the
          // exact projection instead of a rank-deficient one with empty buckets.
          h[i] = k >= N ? static_cast<int>(i) : col(rng);
          sg[i] = (rng() & 1u) ? 1.0 : -1.0;
          str[h[i]] += sg[i] * r[i];
        }
        countsketch_apply(K, h, sg, W);
      } else {
        for (Index j = 0; j < k; ++j)
          for (Index i = 0; i < N; ++i) S(i, j) = nd(rng);
        W.noalias() = K * S;
        str.noalias() = S.transpose() * r;
      }
      M.noalias() = W.transpose() * W;
      if (!M.allFinite()) { rep.overflow = true; break; }
      y = M.ldlt().solve(str);  // LDLT treats zero pivots (empty buckets) as a pseudo-inverse
      if (!y.allFinite()) { ++rep.steps; continue; }
      d.noalias() = W * y;
      z += d;
      kd.noalias() = K * d;
      r -= kd;
      rn = r.norm();
      ++rep.steps;
      if (++since_refresh >= 200) { refresh(); rn = r.norm(); since_refresh = 0; }
    }
    rep.resid = rn;
    return rep;
  }

  // Randomized Kaczmarz, rows sampled with probability ||K_i||^2 / ||K||_F^2 (Strohmer and
  // Vershynin): z <- z + (r_i / ||K_i||^2) K_i^T.
  // Sparse K: the residual is kept exactly up to date, r <- r - a K K_i^T (K symmetric,
  // so K K_i^T touches only the rows adjacent to row i's columns: O(sum of their nnz)),
  // and so is ||r||^2, so the stopping test is checked after every step at no extra cost.
  // Dense K: that update would be O(N^2) per step, so only r_i = b_i - K_i z is formed
  // (O(N)) and the full residual is recomputed once per sweep of N steps (one matvec).
  InnerReport kaczmarz(double tol, Index max_steps) {
    InnerReport rep;
    const Index N = K.rows();
    std::uniform_real_distribution<double> ud(0.0, 1.0);
    const std::vector<double>& cdf = *row_cdf;
    const double total = cdf.back();
    if (!std::isfinite(total)) {  // squared row norms overflow
      rep.overflow = true;
      rep.resid = r.norm();
      return rep;
    }
    auto sample = [&]() {
      const double u = ud(rng) * total;
      Index i = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      return i >= N ? N - 1 : i;
    };
    // Sparse: the exact running residual costs ~(row nnz)^2 per step against ~2 (row nnz)
    // for the per-sweep refresh: used for stencil-like rows only.
    if constexpr (std::is_same_v<Mat, SparseMat>) {
     if (K.nonZeros() <= 8 * N) {
      double rn2 = r.squaredNorm();
      const double tol2 = tol * tol;
      Index since_refresh = 0;
      while (true) {
        if (rn2 <= tol2) {
          refresh();
          rn2 = r.squaredNorm();
          since_refresh = 0;
          if (rn2 <= tol2) { rep.converged = true; break; }
        }
        if (rep.steps >= max_steps || !(total > 0.0) || stop_now(rep, 16.0)) break;
        const Index i = sample();
        ++rep.steps;
        const double nrm = (*row_sq)[i];
        if (!(nrm > 0.0)) continue;
        const double a = r[i] / nrm;
        for (SparseMat::InnerIterator it(K, static_cast<int>(i)); it; ++it) {
          const int j = it.col();
          const double kij = a * it.value();
          z[j] += kij;
          for (SparseMat::InnerIterator jt(K, j); jt; ++jt) {
            const int l = jt.col();
            const double old = r[l];
            const double nw = old - kij * jt.value();
            r[l] = nw;
            rn2 += nw * nw - old * old;
          }
        }
        if (++since_refresh >= N) {  // bound the drift of the running sums: O(nnz) per N steps
          refresh();
          rn2 = r.squaredNorm();
          since_refresh = 0;
        }
      }
      rep.resid = std::sqrt(std::max(0.0, rn2));
      return rep;
     }
    }
    {
      double rn = r.norm();
      while (true) {
        if (rn <= tol) { rep.converged = true; break; }
        if (rep.steps >= max_steps || !(total > 0.0)) break;
        if (rep.steps > 0) {  // a chunk is a sweep: poll once per sweep
          check(static_cast<double>(K.nonZeros()) * 2.0);
          const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                          start).count();
          if (el > max_seconds) { rep.timed_out = true; break; }
        }
        const Index chunk = std::min<Index>(N, max_steps - rep.steps);
        for (Index t = 0; t < chunk; ++t) {
          const Index i = sample();
          const double nrm = (*row_sq)[i];
          if (!(nrm > 0.0)) continue;
          const double ri = b[i] - row_dot(K, i, z);
          row_axpy(K, i, ri / nrm, z);
        }
        rep.steps += chunk;
        refresh();
        rn = r.norm();
      }
      rep.resid = rn;
      return rep;
    }
  }
};

template <class Mat>
InnerReport run_sketch(Sketcher<Mat>& sk, Sketch kind, Index k, double tol, Index max_steps) {
  switch (kind) {
    case Sketch::Gaussian:
      return k <= 1 ? sk.gaussian_vector(tol, max_steps) : sk.block(tol, max_steps, k, false);
    case Sketch::CountSketch:
      return sk.block(tol, max_steps, k, true);
    case Sketch::Kaczmarz:
      return sk.kaczmarz(tol, max_steps);
    default:
      throw std::invalid_argument("run_sketch: the exact and MINRES solvers are no sketches");
  }
}
}  // namespace

template <class Mat>
InnerReport KKTSystem<Mat>::solve_sketch(double tol_abs, Index max_steps, double max_seconds) {
  Sketcher<Mat> sk{K_, b_, z_, r_, rng_, &row_sq_, &row_cdf_};
  sk.max_seconds = max_seconds;
  InnerReport rep = run_sketch(sk, opt_.sketch, opt_.sketch_size, tol_abs, max_steps);
  rep.resid = r_.norm();
  return rep;
}

template InnerReport KKTSystem<DenseMat>::solve_sketch(double, Index, double);
template InnerReport KKTSystem<SparseMat>::solve_sketch(double, Index, double);

Vec sketch_solve(const DenseMat& K, const Vec& b, Sketch sketch, Index sketch_size, double rtol,
                 Index max_steps, std::uint64_t seed, InnerReport* report) {
  require(K.rows() == K.cols(), "sketch_solve: K must be square");
  require(b.size() == K.rows(), "sketch_solve: b has the wrong length");
  require(sketch != Sketch::Exact && sketch != Sketch::Minres,
          "sketch_solve: use a sketch, not 'exact' or 'minres'");
  Vec z = Vec::Zero(K.rows());
  Vec r = b;
  std::mt19937_64 rng(seed);
  Vec rs;
  std::vector<double> cdf;
  if (sketch == Sketch::Kaczmarz) {
    rs = row_sq_norms(K);
    cdf = cumsum(rs);
  }
  Sketcher<DenseMat> sk{K, b, z, r, rng, &rs, &cdf};
  InnerReport rep = run_sketch(sk, sketch, sketch_size, rtol * b.norm(), max_steps);
  rep.resid = r.norm();
  if (report) *report = rep;
  return z;
}

}  // namespace adasolve::constrained
