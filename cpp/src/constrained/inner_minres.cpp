// Scalable inner solver: MINRES (Paige and Saunders) on the symmetric indefinite KKT system
// with the block-diagonal SPD preconditioner P = diag(D, S), D a positive diagonal
// approximation of the (1,1) block H + t I and S = G D^{-1} G^T (+ delta_c I) its Schur
// complement, factorized by a sparse Cholesky when its predicted fill is affordable (else
// its diagonal). MINRES needs no sketch of K's Frobenius norm, only products with K, so
// the Hessian may be given by products (KKTOptions::hessp). The 2-norm residual
// r = b - K z is kept up to date along the recurrences (one extra vector recurrence, no
// extra product), so the paper's accuracy test ||r|| <= delta ||b|| is checked exactly at
// every step, and a call resumes from the current z with a tighter tolerance.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>

#include <Eigen/Cholesky>
#include <Eigen/OrderingMethods>
#include <Eigen/SparseCholesky>

#include "detail.hpp"

namespace adasolve::constrained {

using namespace detail;

namespace {
// Numeric work allowed for the Schur complement's sparse Cholesky (sum of squared column
// counts): past this the diagonal of S is used instead.
constexpr double kSchurFlopsMax = 2e9;
}  // namespace

template <class Mat>
struct KKTSystem<Mat>::Preconditioner {
  Vec d_inv;  // inverse of D
  int schur = 0;  // 0: m = 0, 1: sparse Cholesky of S, 2: dense Cholesky, 3: diag(S)
  Eigen::SimplicialLLT<Eigen::SparseMatrix<double>, Eigen::Lower, Eigen::AMDOrdering<int>> sllt;
  Eigen::LLT<Eigen::MatrixXd> dllt;
  Vec s_inv;

  void apply(const Vec& r, Vec& out, Index n) const {
    out.head(n) = d_inv.cwiseProduct(r.head(n));
    const Index m = r.size() - n;
    if (m == 0) return;
    switch (schur) {
      case 1: out.tail(m) = sllt.solve(r.tail(m)); break;
      case 2: out.tail(m) = dllt.solve(r.tail(m)); break;
      default: out.tail(m) = s_inv.cwiseProduct(r.tail(m)); break;
    }
  }
};

template <class Mat>
void KKTSystem<Mat>::apply_K(const Vec& x, Vec& y) const {
  y.noalias() = K_ * x;
  if (opt_.hessp) {
    Vec hx(n_);
    opt_.hessp(x.head(n_), hx);
    y.head(n_) += hx;
  }
}

template <class Mat>
void KKTSystem<Mat>::build_preconditioner() {
  auto P = std::make_shared<Preconditioner>();
  // D: |diag(H + tI)|, or for a Hessian given by products a Hutchinson estimate of diag(H)
  // from 8 Rademacher probes (E[z .* Hz] = diag(H)), plus t.
  Vec d(n_);
  if (opt_.hessp) {
    std::mt19937_64 g(opt_.seed ^ 0xd1b54a32d192ed03ULL);
    Vec zp(n_), hz(n_);
    d.setZero();
    const int probes = 8;
    for (int k = 0; k < probes; ++k) {
      for (Index i = 0; i < n_; ++i) zp[i] = (g() & 1u) ? 1.0 : -1.0;
      opt_.hessp(zp, hz);
      d += zp.cwiseProduct(hz);
    }
    d /= probes;
    d.array() += shift_;
  } else {
    d = K_.diagonal().head(n_);
  }
  d = d.cwiseAbs();
  // Floor: a zero diagonal entry (a variable absent from f) must not make S blow up.
  const double mean = d.size() ? d.mean() : 0.0;
  const double floor = std::max(1e-3 * mean, 1e-12);
  d = d.cwiseMax(floor);
  if (!(mean > 0.0) || !d.allFinite()) d.setOnes();
  P->d_inv = d.cwiseInverse();
  P->schur = 0;
  if (m_ > 0) {
    const Vec sq = P->d_inv.cwiseSqrt();
    const double reg = opt_.delta_c;
    if constexpr (std::is_same_v<Mat, SparseMat>) {
      Eigen::SparseMatrix<double> Gs = Eigen::SparseMatrix<double>(G_) * sq.asDiagonal();
      Eigen::SparseMatrix<double> S = Gs * Gs.transpose();
      if (reg > 0.0) {
        Eigen::SparseMatrix<double> I(m_, m_);
        I.setIdentity();
        S += reg * I;
      }
      Vec sd = S.diagonal();
      WithCounts<Eigen::SimplicialLLT<Eigen::SparseMatrix<double>, Eigen::Lower,
                                      Eigen::AMDOrdering<int>>> probe;
      probe.analyzePattern(S);
      if (probe.fill().flops <= kSchurFlopsMax) {
        P->sllt.analyzePattern(S);
        P->sllt.factorize(S);
        if (P->sllt.info() != Eigen::Success) {  // rank-deficient G: regularize slightly
          Eigen::SparseMatrix<double> I(m_, m_);
          I.setIdentity();
          S += (1e-10 * std::max(1.0, sd.maxCoeff())) * I;
          P->sllt.factorize(S);
        }
        if (P->sllt.info() == Eigen::Success) P->schur = 1;
      }
      if (P->schur == 0) {
        P->schur = 3;
        P->s_inv = sd.cwiseMax(1e-12 * std::max(1.0, sd.maxCoeff())).cwiseInverse();
      }
    } else {
      Eigen::MatrixXd Gs = G_ * sq.asDiagonal();
      Eigen::MatrixXd S = Gs * Gs.transpose();
      S.diagonal().array() += reg;
      P->dllt.compute(S);
      if (P->dllt.info() != Eigen::Success) {
        S.diagonal().array() += 1e-10 * std::max(1.0, S.diagonal().maxCoeff());
        P->dllt.compute(S);
      }
      if (P->dllt.info() == Eigen::Success) {
        P->schur = 2;
      } else {
        P->schur = 3;
        Vec sd = S.diagonal();
        P->s_inv = sd.cwiseMax(1e-12 * std::max(1.0, sd.maxCoeff())).cwiseInverse();
      }
    }
  }
  prec_ = std::move(P);
}

template <class Mat>
InnerReport KKTSystem<Mat>::solve_minres(double tol_abs, Index max_steps, double max_seconds) {
  InnerReport rep;
  if (!prec_) build_preconditioner();
  const Preconditioner& P = *prec_;
  const auto start = std::chrono::steady_clock::now();
  InterruptCheck check;
  const double work = 2.0 * static_cast<double>(K_.nonZeros()) + 4.0 * static_cast<double>(N_);
  // A call runs MINRES on K d = r from d = 0 (z += d): a resumed call restarts the
  // Krylov space from the current residual, which keeps the solver's state to z and r.
  for (int restart = 0; restart < 20; ++restart) {
    double rn = r_.norm();
    if (rn <= tol_abs) { rep.converged = true; break; }
    if (rep.steps >= max_steps || rep.timed_out) break;
    Vec r1 = r_, r2 = r_, y(N_), v(N_), Av(N_);
    P.apply(r1, y, n_);
    double beta1 = r1.dot(y);
    if (!(beta1 > 0.0) || !std::isfinite(beta1)) { rep.overflow = !std::isfinite(beta1); break; }
    beta1 = std::sqrt(beta1);
    double beta = beta1, oldb = 0.0, dbar = 0.0, epsln = 0.0, phibar = beta1;
    double cs = -1.0, sn = 0.0;
    Vec w = Vec::Zero(N_), w1(N_), w2 = Vec::Zero(N_);
    Vec kw = Vec::Zero(N_), kw1(N_), kw2 = Vec::Zero(N_);
    bool breakdown = false;
    while (true) {
      if (rep.steps >= max_steps) break;
      check(work);
      if ((rep.steps & 7) == 0 && max_seconds < std::numeric_limits<double>::infinity()) {
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                        start).count();
        if (el > max_seconds) { rep.timed_out = true; break; }
      }
      // preconditioned Lanczos step: v = P^{-1} r2 / beta, Av = K v
      v = y / beta;
      apply_K(v, Av);
      y = Av;
      if (oldb > 0.0) y -= (beta / oldb) * r1;
      const double alfa = v.dot(y);
      y -= (alfa / beta) * r2;
      r1.swap(r2);
      r2 = y;
      P.apply(r2, y, n_);
      oldb = beta;
      const double bb = r2.dot(y);
      if (!std::isfinite(bb) || !std::isfinite(alfa)) { rep.overflow = true; break; }
      beta = std::sqrt(std::max(bb, 0.0));
      // QR of the tridiagonal by Givens rotations
      const double oldeps = epsln;
      const double delta = cs * dbar + sn * alfa;
      const double gbar = sn * dbar - cs * alfa;
      epsln = sn * beta;
      dbar = -cs * beta;
      double gamma = std::hypot(gbar, beta);
      if (!(gamma > 0.0)) gamma = std::numeric_limits<double>::epsilon();
      cs = gbar / gamma;
      sn = beta / gamma;
      const double phi = cs * phibar;
      phibar = sn * phibar;
      // search direction w and its image K w by the same recurrence
      w1.swap(w2);
      w2.swap(w);
      w = (v - oldeps * w1 - delta * w2) / gamma;
      kw1.swap(kw2);
      kw2.swap(kw);
      kw = (Av - oldeps * kw1 - delta * kw2) / gamma;
      z_.noalias() += phi * w;
      r_.noalias() -= phi * kw;
      ++rep.steps;
      if (r_.norm() <= tol_abs) break;
      if (!(beta > 1e-14 * beta1)) { breakdown = true; break; }  // Krylov space exhausted
    }
    // the running residual drifts by rounding: check it against a fresh product
    Vec kz(N_);
    apply_K(z_, kz);
    r_ = b_ - kz;
    if (rep.overflow || rep.timed_out || rep.steps >= max_steps) break;
    if (breakdown && r_.norm() > tol_abs && restart > 0) break;
  }
  rep.resid = r_.norm();
  rep.converged = rep.converged || rep.resid <= tol_abs;
  return rep;
}

template InnerReport KKTSystem<DenseMat>::solve_minres(double, Index, double);
template InnerReport KKTSystem<SparseMat>::solve_minres(double, Index, double);
template void KKTSystem<DenseMat>::apply_K(const Vec&, Vec&) const;
template void KKTSystem<SparseMat>::apply_K(const Vec&, Vec&) const;

}  // namespace adasolve::constrained
