#include "adasolve/constrained.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/QR>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseLU>
#include <Eigen/OrderingMethods>

namespace adasolve::constrained {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Index kSerialBelow = 512;  // KKT sizes below this run Eigen single-threaded
constexpr Index kSerialSparseBelow = 50000;  // sparse products: serial below this order

// Eigen's OpenMP-parallel GEMM costs far more than it saves on the small products of one
// sketch step (and spins badly on a loaded machine): run those single-threaded.
struct SerialEigen {
  int saved;
  explicit SerialEigen(bool on) : saved(Eigen::nbThreads()) {
    if (on) Eigen::setNbThreads(1);
  }
  ~SerialEigen() { Eigen::setNbThreads(saved); }
};

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
inline Vec row_sq_norms(const DenseMat& K) { return K.rowwise().squaredNorm(); }
inline Vec row_sq_norms(const SparseMat& K) {
  Vec out(K.rows());
  for (int i = 0; i < K.outerSize(); ++i) {
    double s = 0.0;
    for (SparseMat::InnerIterator it(K, i); it; ++it) s += it.value() * it.value();
    out[i] = s;
  }
  return out;
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
      throw std::invalid_argument("run_sketch: exact mode has no sketch");
  }
}

std::vector<double> cumsum(const Vec& w) {
  std::vector<double> c(static_cast<size_t>(w.size()));
  double s = 0.0;
  for (Index i = 0; i < w.size(); ++i) { s += w[i]; c[static_cast<size_t>(i)] = s; }
  return c;
}

// Smallest shift t of a ladder 0, t0, t0 g, t0 g^2, ... with is_pd(t) true (IPOPT's
// inertia correction: t0 = hint / 3 and g = 8 when the previous iteration needed a shift
// `hint`, else t0 = xi_B and g = 10). With the memory the shift decays geometrically over
// the iterations where less is needed (down to 1e-8: a reduced Hessian that is only
// positive semidefinite, e.g. a variable absent from f, then costs a vanishing shift
// instead of a fixed xi_B that makes every Newton step a damped one). When the ladder runs
// out, `fallback` is returned.
template <class PdTest>
double find_shift(PdTest&& is_pd, double xi_B, double hint, double fallback) {
  InterruptCheck check(1.0);  // each trial is a factorization: poll before every one
  if (is_pd(0.0)) return 0.0;
  double t = hint > 0.0 ? std::max(1e-8, hint / 3.0) : xi_B;
  const double grow = hint > 0.0 ? 8.0 : 10.0;
  for (int k = 0; k < 60 && std::isfinite(t); ++k) {
    check(1.0);
    if (is_pd(t)) return t;
    t *= grow;
  }
  return fallback;
}

double inf_norm(const SparseMat& A) {
  double best = 0.0;
  for (int i = 0; i < A.outerSize(); ++i) {
    double s = 0.0;
    for (SparseMat::InnerIterator it(A, i); it; ++it) s += std::abs(it.value());
    best = std::max(best, s);
  }
  return best;
}

}  // namespace

Sketch parse_sketch(const std::string& name) {
  if (name == "gaussian") return Sketch::Gaussian;
  if (name == "countsketch") return Sketch::CountSketch;
  if (name == "kaczmarz") return Sketch::Kaczmarz;
  if (name == "exact") return Sketch::Exact;
  throw std::invalid_argument("unknown sketch '" + name +
                              "'; valid: gaussian, countsketch, kaczmarz, exact");
}

// ---------------------------------------------------------------------------------------
// Exact sparse mode: LDL^T of the regularized (quasi-definite) KKT matrix
//   Kreg = [[H + t I, G^T], [G, -delta_c I]]
// with an AMD fill-reducing ordering. Its inertia decides the Hessian shift t (as in
// IPOPT: Z^T (H + tI) Z is PD iff Kreg has n positive and m negative pivots, for G of
// full rank), so no separate positive-definiteness test is needed, and the same
// factorization, plus iterative refinement against the unregularized K, is the direct
// solve. The symbolic analysis is cached across outer iterations.

struct SparseKKTCache::Impl {
  // 64-bit indices: the fill-in of L can pass 2^31 entries long before the KKT matrix does
  using SI = std::int64_t;
  using CSC = Eigen::SparseMatrix<double, Eigen::ColMajor, SI>;
  Eigen::SimplicialLDLT<CSC, Eigen::Lower, Eigen::AMDOrdering<SI>> ldlt;
  CSC Kreg;                         // lower triangle incl. every diagonal entry
  std::vector<SI> outer, inner;     // pattern the analysis was done for
  std::vector<double*> diag;        // pointers to Kreg's diagonal entries
  Vec diag0;                        // diagonal without shift / regularization
  bool valid = false;               // last factorization usable
};

SparseKKTCache::SparseKKTCache() : impl(std::make_unique<Impl>()) {}
SparseKKTCache::~SparseKKTCache() = default;

template <>
void KKTSystem<DenseMat>::factor_inertia(const DenseMat&, const DenseMat&) {
  // dense systems use the eigenvalue / Cholesky tests of modify_hessian
  throw std::invalid_argument("factor_inertia: sparse systems only");
}

template <>
void KKTSystem<SparseMat>::factor_inertia(const SparseMat& H, const SparseMat& G) {
  h_norm_ = inf_norm(H);
  if (!opt_.cache) opt_.cache = std::make_shared<SparseKKTCache>();
  SparseKKTCache& cache = *opt_.cache;
  SparseKKTCache::Impl& C = *cache.impl;
  using CSC = SparseKKTCache::Impl::CSC;
  using SI = SparseKKTCache::Impl::SI;
  // lower triangle of K with explicit diagonal entries (so shifting keeps the pattern)
  std::vector<Eigen::Triplet<double, SI>> t;
  t.reserve(static_cast<size_t>(H.nonZeros() + G.nonZeros() + N_));
  for (int i = 0; i < H.outerSize(); ++i)
    for (SparseMat::InnerIterator it(H, i); it; ++it)
      if (it.col() <= i) t.emplace_back(SI(i), SI(it.col()), it.value());
  for (int i = 0; i < G.outerSize(); ++i)
    for (SparseMat::InnerIterator it(G, i); it; ++it)
      t.emplace_back(SI(n_ + i), SI(it.col()), it.value());
  for (Index i = 0; i < N_; ++i) t.emplace_back(SI(i), SI(i), 0.0);
  CSC Kl(N_, N_);
  Kl.setFromTriplets(t.begin(), t.end());
  Kl.makeCompressed();
  const bool same = C.valid && C.outer.size() == static_cast<size_t>(N_ + 1) &&
                    std::equal(C.outer.begin(), C.outer.end(), Kl.outerIndexPtr()) &&
                    C.inner.size() == static_cast<size_t>(Kl.nonZeros()) &&
                    std::equal(C.inner.begin(), C.inner.end(), Kl.innerIndexPtr());
  C.Kreg = std::move(Kl);
  if (!same) {
    C.valid = false;  // until a factorization succeeds (std::bad_alloc on too much fill-in)
    C.ldlt.analyzePattern(C.Kreg);
    ++cache.analyses;
    C.outer.assign(C.Kreg.outerIndexPtr(), C.Kreg.outerIndexPtr() + N_ + 1);
    C.inner.assign(C.Kreg.innerIndexPtr(), C.Kreg.innerIndexPtr() + C.Kreg.nonZeros());
  }
  C.diag.assign(static_cast<size_t>(N_), nullptr);
  C.diag0.resize(N_);
  for (Index j = 0; j < N_; ++j) {
    // column j's first stored row is j itself (lower triangle, sorted, diagonal present)
    const SI p = C.Kreg.outerIndexPtr()[j];
    C.diag[static_cast<size_t>(j)] = C.Kreg.valuePtr() + p;
    C.diag0[j] = C.Kreg.valuePtr()[p];
  }
  // regularization of the (2,2) block: small against K's scale, removed again by the
  // iterative refinement in solve()
  const double dc = 1e-9 * std::max(1.0, h_norm_);
  double shift = 0.0;
  double grow = opt_.shift_hint > 0.0 ? 8.0 : 10.0;
  if (opt_.modify_hessian && n_ <= kEigenShiftMaxN && m_ < n_) {
    // start from the exact shift, as the dense path (same iterates for dense and sparse)
    eig_shift(Eigen::MatrixXd(H.toDense()), Eigen::MatrixXd(G.toDense()));
    shift = shift_;
    grow = 8.0;
  }
  C.valid = false;
  InterruptCheck check(1.0);  // poll before every factorization
  for (int attempt = 0; attempt < 40; ++attempt) {
    check(1.0);
    for (Index j = 0; j < n_; ++j) *C.diag[static_cast<size_t>(j)] = C.diag0[j] + shift;
    for (Index j = n_; j < N_; ++j) *C.diag[static_cast<size_t>(j)] = -dc;
    C.ldlt.factorize(C.Kreg);
    ++cache.factorizations;
    bool ok = C.ldlt.info() == Eigen::Success;
    if (ok) {
      const Vec& D = C.ldlt.vectorD();
      Index pos = 0, neg = 0;
      for (Index i = 0; i < N_; ++i) {
        if (D[i] > 0) ++pos;
        else if (D[i] < 0) ++neg;
      }
      red_min_eig_ = (pos == n_ && neg == m_) ? opt_.pd_threshold : -1.0;
      ok = !opt_.modify_hessian || m_ > n_ || (pos == n_ && neg == m_);
    }
    if (ok) { C.valid = true; break; }
    // IPOPT's inertia correction: from the last iteration's shift / 3 (or xi_B), up by 8x
    shift = shift == 0.0
                ? (opt_.shift_hint > 0.0 ? std::max(1e-8, opt_.shift_hint / 3.0) : opt_.xi_B)
                : grow * shift;
  }
  shift_ = shift;
  cache.factor_nnz = C.valid ? static_cast<Index>(C.ldlt.matrixL().nestedExpression().nonZeros()) : 0;
}

// ||H||_inf (>= ||H||_2, as on the shift ladder) and the extreme singular values of G.
template <class Mat>
void KKTSystem<Mat>::dense_norms(const Eigen::MatrixXd& H, const Eigen::MatrixXd& G) {
  h_norm_ = H.cwiseAbs().rowwise().sum().maxCoeff();
  if (m_ > 0) {
    Eigen::MatrixXd GGt = G * G.transpose();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eg(GGt, Eigen::EigenvaluesOnly);
    g_min_sv_ = std::sqrt(std::max(0.0, eg.eigenvalues().minCoeff()));
    g_max_sv_ = std::sqrt(std::max(0.0, eg.eigenvalues().maxCoeff()));
  }
}

// Shift from the eigenvalues of the reduced Hessian (n <= kEigenShiftMaxN), shared by dense
// and sparse input so that both follow the same iterates (Z orthonormal: Z^T (H + tI) Z =
// Z^T H Z + tI; the paper adds xi_B + ||H||, far more).
template <class Mat>
void KKTSystem<Mat>::eig_shift(const Eigen::MatrixXd& H, const Eigen::MatrixXd& G) {
  dense_norms(H, G);
  if (!opt_.modify_hessian || m_ >= n_) return;
  Eigen::MatrixXd red;
  if (m_ == 0) {
    red = H;
  } else {
    // Orthonormal basis Z of null(G) from a Householder QR of G^T.
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(G.transpose());
    Eigen::MatrixXd Q = qr.householderQ();
    Eigen::MatrixXd Z = Q.rightCols(n_ - m_);
    red = Z.transpose() * H * Z;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> er(red, Eigen::EigenvaluesOnly);
  red_min_eig_ = er.eigenvalues().minCoeff();
  // Negative curvature lambda < 0 is mirrored, not just lifted to xi_B: with t = xi_B - 2
  // lambda the most negative direction gets curvature |lambda| + xi_B, so the step along it
  // is |lambda|^-1 g (as in Newton's method with |eigenvalues|) instead of xi_B^-1 g, which
  // on Elec (lambda ~ -5e6 from two close electrons) is a step of 1e6 that the line search
  // cuts to nothing, for every other direction too.
  if (red_min_eig_ < opt_.pd_threshold)
    shift_ = opt_.xi_B - (red_min_eig_ < 0.0 ? 2.0 * red_min_eig_ : red_min_eig_);
}

template <>
void KKTSystem<DenseMat>::modify_hessian(const DenseMat& H, const DenseMat& G) {
  if (n_ <= kEigenShiftMaxN) {
    eig_shift(H, G);
    return;
  }
  // Past this size the eigenvalue route (~20 n^3 flops) costs far more than the KKT solve:
  // Cholesky factorizations of H + t I + rho G^T G (Debreu's lemma, as on the sparse path)
  // answer "is Z^T (H + tI) Z PD?" for a ladder of shifts t.
  dense_norms(H, G);
  if (!opt_.modify_hessian || m_ >= n_) return;
  double min_row = std::numeric_limits<double>::infinity();
  for (Index i = 0; i < m_; ++i) {
    const double rs = G.row(i).squaredNorm();
    if (rs > 0) min_row = std::min(min_row, rs);
  }
  const double rho =
      (m_ > 0 && std::isfinite(min_row)) ? 100.0 * std::max(1.0, h_norm_) / min_row : 0.0;
  Eigen::MatrixXd A = H;
  if (rho > 0) A.noalias() += rho * (G.transpose() * G);
  A.diagonal().array() -= opt_.pd_threshold;
  Eigen::MatrixXd At(n_, n_);
  auto is_pd = [&](double t) {
    At = A;
    At.diagonal().array() += t;
    Eigen::LLT<Eigen::MatrixXd> llt(At);
    return llt.info() == Eigen::Success;
  };
  // Gershgorin fallback: with t = xi_B + ||H||_inf every eigenvalue of H + tI is >= xi_B.
  shift_ = find_shift(is_pd, opt_.xi_B, opt_.shift_hint, opt_.xi_B + h_norm_);
  red_min_eig_ = shift_ == 0.0 ? opt_.pd_threshold : -1.0;  // known only to be above / below
}

template <>
void KKTSystem<SparseMat>::modify_hessian(const SparseMat& H, const SparseMat& G) {
  if (n_ <= kEigenShiftMaxN) {
    eig_shift(Eigen::MatrixXd(H.toDense()), Eigen::MatrixXd(G.toDense()));
    return;
  }
  h_norm_ = inf_norm(H);
  if (!opt_.modify_hessian || m_ >= n_) return;
  // Debreu's lemma: Z^T H Z > 0 iff H + rho G^T G > 0 for all rho large enough. One sparse
  // Cholesky (AMD ordering) of H + rho G^T G tests it; rho is scaled so that rho ||G_i||^2
  // dominates ||H||_inf (a heuristic: a false "not PD" only costs a safe shift).
  double min_row = std::numeric_limits<double>::infinity();
  if (m_ > 0) {
    Vec rs = row_sq_norms(G);
    for (Index i = 0; i < m_; ++i)
      if (rs[i] > 0) min_row = std::min(min_row, rs[i]);
  }
  const double rho = (m_ > 0 && std::isfinite(min_row)) ? 100.0 * std::max(1.0, h_norm_) / min_row : 0.0;
  std::function<bool(double)> is_pd;
  Eigen::SparseMatrix<double> A;
  Vec w0;
  if (opt_.sparse_pd_check == 2) {
    // CG on (H + rho G^T G + (t - thr) I) y = w, w random: a direction of non-positive
    // curvature met in the Krylov space proves "not PD". Matrix-free, O(cg_iters nnz); it
    // can miss negative curvature orthogonal to the Krylov space (documented).
    std::mt19937_64 g(opt_.seed ^ 0x9e3779b97f4a7c15ULL);
    std::normal_distribution<double> nd(0.0, 1.0);
    w0.resize(n_);
    for (Index i = 0; i < n_; ++i) w0[i] = nd(g);
    is_pd = [&](double t) {
      Vec r = w0, p = w0, Ap(n_);
      double rr = r.squaredNorm();
      const double r0 = rr;
      for (Index it = 0; it < opt_.cg_iters && rr > 1e-20 * r0; ++it) {
        Ap.noalias() = H * p;
        if (m_ > 0 && rho > 0) Ap.noalias() += rho * (G.transpose() * (G * p));
        Ap.noalias() += (t - opt_.pd_threshold) * p;
        const double pAp = p.dot(Ap);
        if (!(pAp > 0.0)) return false;
        const double a = rr / pAp;
        r.noalias() -= a * Ap;
        const double rr_new = r.squaredNorm();
        p = r + (rr_new / rr) * p;
        rr = rr_new;
      }
      return true;
    };
  } else {
    A = H;
    if (rho > 0) {
      Eigen::SparseMatrix<double> Gc = G;
      A += rho * Eigen::SparseMatrix<double>(Gc.transpose() * Gc);
    }
    // Diagonal margin so that "PD" means eigenvalues above pd_threshold, not just > 0.
    Eigen::SparseMatrix<double> I(n_, n_);
    I.setIdentity();
    A -= opt_.pd_threshold * I;
    is_pd = [&](double t) {
      Eigen::SparseMatrix<double> At = A;
      if (t != 0.0) {
        Eigen::SparseMatrix<double> tI(n_, n_);
        tI.setIdentity();
        At += t * tI;
      }
      Eigen::SimplicialLLT<Eigen::SparseMatrix<double>, Eigen::Lower, Eigen::AMDOrdering<int>>
          llt(At);
      return llt.info() == Eigen::Success;
    };
  }
  // Gershgorin fallback: with t = xi_B + ||H||_inf every eigenvalue of H + tI is >= xi_B.
  shift_ = find_shift(is_pd, opt_.xi_B, opt_.shift_hint, opt_.xi_B + h_norm_);
  red_min_eig_ = shift_ == 0.0 ? opt_.pd_threshold : -1.0;  // known only to be above / below
}

template <>
void KKTSystem<DenseMat>::assemble(const DenseMat& H, const DenseMat& G) {
  K_.setZero(N_, N_);
  K_.topLeftCorner(n_, n_) = H;
  if (shift_ != 0.0) K_.topLeftCorner(n_, n_).diagonal().array() += shift_;
  if (m_ > 0) {
    K_.bottomLeftCorner(m_, n_) = G;
    K_.topRightCorner(n_, m_) = G.transpose();
    if (opt_.delta_c != 0.0) K_.bottomRightCorner(m_, m_).diagonal().setConstant(-opt_.delta_c);
  }
  k_fro_ = K_.norm();
}

template <>
void KKTSystem<SparseMat>::assemble(const SparseMat& H, const SparseMat& G) {
  std::vector<Eigen::Triplet<double, int>> t;
  t.reserve(static_cast<size_t>(H.nonZeros() + 2 * G.nonZeros() + n_));
  for (int i = 0; i < H.outerSize(); ++i)
    for (SparseMat::InnerIterator it(H, i); it; ++it) t.emplace_back(i, it.col(), it.value());
  if (shift_ != 0.0)
    for (Index i = 0; i < n_; ++i) t.emplace_back(static_cast<int>(i), static_cast<int>(i), shift_);
  for (int i = 0; i < G.outerSize(); ++i)
    for (SparseMat::InnerIterator it(G, i); it; ++it) {
      t.emplace_back(static_cast<int>(n_) + i, it.col(), it.value());
      t.emplace_back(it.col(), static_cast<int>(n_) + i, it.value());
    }
  if (opt_.delta_c != 0.0)
    for (Index i = 0; i < m_; ++i)
      t.emplace_back(static_cast<int>(n_ + i), static_cast<int>(n_ + i), -opt_.delta_c);
  K_.resize(N_, N_);
  K_.setFromTriplets(t.begin(), t.end());
  K_.makeCompressed();
  k_fro_ = K_.norm();
}

template <class Mat>
KKTSystem<Mat>::KKTSystem(const Mat& H, const Mat& G, const Vec& grad_l, const Vec& c,
                          const KKTOptions& opt)
    : n_(H.rows()), m_(G.rows()), N_(H.rows() + G.rows()), opt_(opt), H_(H), G_(G),
      gl_(grad_l), c_(c), red_min_eig_(kNaN), g_min_sv_(kNaN), g_max_sv_(kNaN),
      rng_(opt.seed) {
  require(H.cols() == n_, "KKTSystem: H must be square");
  require(m_ == 0 || G.cols() == n_, "KKTSystem: G must have n columns");
  require(grad_l.size() == n_ && c.size() == m_, "KKTSystem: vector sizes mismatch");
  require(opt.sketch_size >= 1, "KKTSystem: sketch_size must be >= 1");
  // Small dense systems: OpenMP-parallel GEMM inside the eigen/QR tests spins for ~50 ms
  // per call on a loaded machine against ~0.1 ms of work; run them single-threaded.
  SerialEigen serial(N_ < kSerialBelow);
  if constexpr (std::is_same_v<Mat, SparseMat>) {
    if (opt_.sketch == Sketch::Exact && opt_.sparse_pd_check == 3) factor_inertia(H, G);
    else modify_hessian(H, G);
  } else {
    modify_hessian(H, G);
  }
  assemble(H, G);
  b_.resize(N_);
  b_.head(n_) = -grad_l;
  b_.tail(m_) = -c;
  z_ = Vec::Zero(N_);
  r_ = b_;
  if (opt_.sketch == Sketch::Kaczmarz) {
    row_sq_ = row_sq_norms(K_);
    row_cdf_ = cumsum(row_sq_);
  }
}

template <class Mat>
InnerReport KKTSystem<Mat>::solve(double tol_abs, Index max_steps, double max_seconds) {
  require(tol_abs >= 0.0, "solve: tol must be >= 0");
  InnerReport rep;
  SerialEigen serial(N_ < (std::is_same_v<Mat, SparseMat> ? kSerialSparseBelow : kSerialBelow));
  if (opt_.sketch == Sketch::Exact) {
    if constexpr (std::is_same_v<Mat, DenseMat>) {
      // OpenMP-parallel LU spins badly on a loaded machine for moderate N (measured: 2 s
      // instead of 0.05 s at N = 1011 on 2 shared cores): serial below N = 4000
      SerialEigen serial(N_ < 4000);
      Eigen::PartialPivLU<Eigen::MatrixXd> lu(K_);
      z_ = lu.solve(b_);
      if (!z_.allFinite()) z_ = Eigen::FullPivLU<Eigen::MatrixXd>(K_).solve(b_);
    } else {
      bool done = false;
      if (opt_.sparse_pd_check == 3 && opt_.cache && opt_.cache->impl->valid) {
        auto& ldlt = opt_.cache->impl->ldlt;
        z_ = ldlt.solve(b_);
        // iterative refinement against the unregularized K
        const double target = std::max(tol_abs * 1e-3, 1e-13 * b_.norm());
        for (int it = 0; it < 10 && z_.allFinite(); ++it) {
          r_.noalias() = b_ - K_ * z_;
          if (r_.norm() <= target) break;
          z_ += ldlt.solve(r_);
        }
        r_.noalias() = b_ - K_ * z_;
        done = z_.allFinite() && r_.norm() <= std::max(tol_abs, 1e-8 * b_.norm());
      }
      if (!done) {
        Eigen::SparseMatrix<double> Kc = K_;
        Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
        lu.analyzePattern(Kc);
        lu.factorize(Kc);
        if (lu.info() == Eigen::Success) z_ = lu.solve(b_);
        else z_.setConstant(kNaN);
      }
    }
    if (!z_.allFinite()) z_.setZero();
    r_.noalias() = b_ - K_ * z_;
    rep.steps = 0;
    rep.resid = r_.norm();
    rep.converged = rep.resid <= std::max(tol_abs, 1e-12 * b_.norm());
    last_ = rep;
    return rep;
  }
  Sketcher<Mat> sk{K_, b_, z_, r_, rng_, &row_sq_, &row_cdf_};
  sk.max_seconds = max_seconds;
  rep = run_sketch(sk, opt_.sketch, opt_.sketch_size, tol_abs, max_steps);
  total_steps_ += rep.steps;
  rep.resid = r_.norm();
  last_ = rep;
  return rep;
}

template <class Mat>
bool KKTSystem<Mat>::warm_start(const Vec& z0) {
  require(z0.size() == N_, "warm_start: z0 must have length n + m");
  SerialEigen serial(N_ < kSerialSparseBelow);
  if (!z0.allFinite()) return false;
  Vec r0 = b_ - K_ * z0;
  if (!(r0.squaredNorm() < b_.squaredNorm())) return false;
  z_ = z0;
  r_ = std::move(r0);
  return true;
}

template <class Mat>
double KKTSystem<Mat>::merit_directional(double eta1, double eta2, const Vec* hg) const {
  // Eigen runs a sparse (row-major) matrix-vector product on OpenMP threads once it has
  // 2e4 nonzeros; on a loaded machine the threads spin for ~10 ms per product (measured on
  // Elec with 50 electrons: 87 calls, 0.9 s) against microseconds of work.
  SerialEigen serial(N_ < kSerialSparseBelow);
  Vec gx = gl_;
  if (hg) {
    require(hg->size() == n_, "merit_directional: hg must have length n");
    gx.noalias() += eta2 * (*hg);
  } else {
    gx.noalias() += eta2 * (H_ * gl_);
  }
  Vec gv = c_;
  if (m_ > 0) {
    gx.noalias() += eta1 * (G_.transpose() * c_);
    gv.noalias() += eta2 * (G_ * gl_);
  }
  return gx.dot(z_.head(n_)) + gv.dot(z_.tail(m_));
}

template class KKTSystem<DenseMat>;
template class KKTSystem<SparseMat>;

double merit_value(double f, const Vec& v, const Vec& c, const Vec& grad_l, double eta1,
                   double eta2) {
  require(v.size() == c.size(), "merit_value: v and c must have equal length");
  return f + v.dot(c) + 0.5 * eta1 * c.squaredNorm() + 0.5 * eta2 * grad_l.squaredNorm();
}

double damped_bfgs_update(Eigen::Ref<DenseMat> B, const Vec& s, const Vec& y) {
  const Index n = B.rows();
  require(B.cols() == n && s.size() == n && y.size() == n, "damped_bfgs_update: size mismatch");
  const double ss = s.squaredNorm();
  if (!(ss > 0.0) || !s.allFinite() || !y.allFinite()) return 0.0;
  Vec Bs = B * s;
  const double sBs = s.dot(Bs);
  if (!(sBs > 0.0)) return 0.0;
  const double sy = s.dot(y);
  // Powell's damping keeps B positive definite: r = theta y + (1 - theta) B s.
  double theta = 1.0;
  if (sy < 0.2 * sBs) theta = 0.8 * sBs / (sBs - sy);
  Vec r = theta * y + (1.0 - theta) * Bs;
  const double sr = s.dot(r);
  if (!(sr > 0.0)) return 0.0;
  B.noalias() -= (Bs * Bs.transpose()) / sBs;
  B.noalias() += (r * r.transpose()) / sr;
  return theta;
}

Vec sketch_solve(const DenseMat& K, const Vec& b, Sketch sketch, Index sketch_size, double rtol,
                 Index max_steps, std::uint64_t seed, InnerReport* report) {
  require(K.rows() == K.cols(), "sketch_solve: K must be square");
  require(b.size() == K.rows(), "sketch_solve: b has the wrong length");
  require(sketch != Sketch::Exact, "sketch_solve: use a sketch, not 'exact'");
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
