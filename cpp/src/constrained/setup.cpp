// Setup of one outer iteration's KKT system: the test of the reduced Hessian and the
// Hessian shift it decides, the assembly of K, and the dispatch of solve() to the inner
// solver (inner_sketch.cpp, inner_exact.cpp, inner_minres.cpp).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SparseCholesky>
#include <cstdint>

#include "detail.hpp"

namespace adasolve::constrained {

using namespace detail;

namespace {

// ||H||_2 of a Hessian given by products: 20 power iterations (a few percent low at worst
// for the uses here: the scale of rho in the curvature test and of the fallback shift).
double hessp_norm_estimate(const HessProd& hp, Index n, std::uint64_t seed) {
  std::mt19937_64 g(seed ^ 0x5851f42d4c957f2dULL);
  std::normal_distribution<double> nd(0.0, 1.0);
  Vec p(n), q(n);
  for (Index i = 0; i < n; ++i) p[i] = nd(g);
  double est = 0.0;
  for (int it = 0; it < 20; ++it) {
    const double pn = p.norm();
    if (!(pn > 0.0)) break;
    p /= pn;
    hp(p, q);
    est = q.norm();
    p.swap(q);
  }
  return est;
}

}  // namespace

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
  if (!opt_.modify_hessian() || m_ >= n_) return;
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
  if (!opt_.modify_hessian() || m_ >= n_) return;
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
  if (n_ <= kEigenShiftMaxN && !opt_.hessp) {
    eig_shift(Eigen::MatrixXd(H.toDense()), Eigen::MatrixXd(G.toDense()));
    return;
  }
  h_norm_ = opt_.hessp ? hessp_norm_estimate(opt_.hessp, n_, opt_.seed) : inf_norm(H);
  if (!opt_.modify_hessian() || m_ >= n_) return;
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
  if (opt_.hessian_check == HessianCheck::CG) {
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
        if (opt_.hessp) opt_.hessp(p, Ap);
        else Ap.noalias() = H * p;
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
  require(!opt.hessp || (std::is_same_v<Mat, SparseMat> && opt.sketch == Sketch::Minres &&
                         (opt.hessian_check == HessianCheck::CG ||
                          opt.hessian_check == HessianCheck::None)),
          "KKTSystem: a Hessian given by products needs sparse G, the MINRES inner solver "
          "and the CG (or no) Hessian check");
  require(!opt.hessp || H.nonZeros() == 0,
          "KKTSystem: with a Hessian given by products, H must be the empty n x n matrix");
  // Small dense systems: OpenMP-parallel GEMM inside the eigen/QR tests spins for ~50 ms
  // per call on a loaded machine against ~0.1 ms of work; run them single-threaded.
  // Sparse: the products of the CG curvature test, likewise (each spun ~20 ms on OpenMP
  // threads on a loaded machine: 2.7 s for the 150 products of one test at N = 1.1e4).
  SerialEigen serial(N_ < (std::is_same_v<Mat, SparseMat> ? kSerialSparseBelow : kSerialBelow));
  if constexpr (std::is_same_v<Mat, SparseMat>) {
    if (opt_.sketch == Sketch::Exact && opt_.hessian_check == HessianCheck::Inertia) factor_inertia(H, G);
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
  SerialEigen serial(N_ < (std::is_same_v<Mat, SparseMat> ? kSerialSparseBelow : kSerialBelow));
  InnerReport rep;
  switch (opt_.sketch) {
    case Sketch::Exact: rep = solve_exact(tol_abs); break;
    case Sketch::Minres: rep = solve_minres(tol_abs, max_steps, max_seconds); break;
    default: rep = solve_sketch(tol_abs, max_steps, max_seconds); break;
  }
  total_steps_ += rep.steps;
  last_ = rep;
  return rep;
}

template <class Mat>
bool KKTSystem<Mat>::warm_start(const Vec& z0) {
  require(z0.size() == N_, "warm_start: z0 must have length n + m");
  SerialEigen serial(N_ < kSerialSparseBelow);
  if (!z0.allFinite()) return false;
  Vec kz0(N_);
  apply_K(z0, kz0);
  Vec r0 = b_ - kz0;
  if (!(r0.squaredNorm() < b_.squaredNorm())) return false;
  z_ = z0;
  r_ = std::move(r0);
  return true;
}


template KKTSystem<DenseMat>::KKTSystem(const DenseMat&, const DenseMat&, const Vec&,
                                        const Vec&, const KKTOptions&);
template KKTSystem<SparseMat>::KKTSystem(const SparseMat&, const SparseMat&, const Vec&,
                                         const Vec&, const KKTOptions&);
template InnerReport KKTSystem<DenseMat>::solve(double, Index, double);
template InnerReport KKTSystem<SparseMat>::solve(double, Index, double);
template bool KKTSystem<DenseMat>::warm_start(const Vec&);
template bool KKTSystem<SparseMat>::warm_start(const Vec&);
template void KKTSystem<SparseMat>::eig_shift(const Eigen::MatrixXd&, const Eigen::MatrixXd&);

}  // namespace adasolve::constrained
