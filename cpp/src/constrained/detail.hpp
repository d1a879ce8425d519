// Private header of the constrained family's C++ sources (not installed): helpers shared
// by setup.cpp, inner_sketch.cpp, inner_exact.cpp, inner_minres.cpp and globalization.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>
#include <Eigen/OrderingMethods>
#include <Eigen/SparseCholesky>

#include "adasolve/constrained.hpp"

namespace adasolve::constrained {
namespace detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Index kSerialBelow = 512;          // KKT sizes below this run Eigen single-threaded
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

inline std::vector<double> cumsum(const Vec& w) {
  std::vector<double> c(static_cast<size_t>(w.size()));
  double s = 0.0;
  for (Index i = 0; i < w.size(); ++i) { s += w[i]; c[static_cast<size_t>(i)] = s; }
  return c;
}

inline double inf_norm(const SparseMat& A) {
  double best = 0.0;
  for (int i = 0; i < A.outerSize(); ++i) {
    double s = 0.0;
    for (SparseMat::InnerIterator it(A, i); it; ++it) s += std::abs(it.value());
    best = std::max(best, s);
  }
  return best;
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

// Eigen's simplicial Cholesky (LLT or LDLT) with its symbolic analysis readable: the column
// counts of L are the predicted fill-in, known before any numeric work.
template <class Solver>
class WithCounts : public Solver {
 public:
  FillEstimate fill() const {
    FillEstimate e;
    const auto& cnt = this->m_nonZerosPerCol;
    for (Index j = 0; j < cnt.size(); ++j) {
      const double c = static_cast<double>(cnt[j]);
      e.factor_nnz += c;
      e.flops += (c + 1.0) * (c + 1.0);
    }
    return e;
  }
};

}  // namespace detail

// Exact sparse mode: LDL^T of the regularized (quasi-definite) KKT matrix
//   Kreg = [[H + t I, G^T], [G, -delta_c I]]
// with an AMD fill-reducing ordering (see inner_exact.cpp).
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

// Explicit specializations defined in one source file and called from another.
template <> void KKTSystem<DenseMat>::factor_inertia(const DenseMat&, const DenseMat&);
template <> void KKTSystem<SparseMat>::factor_inertia(const SparseMat&, const SparseMat&);

}  // namespace adasolve::constrained
