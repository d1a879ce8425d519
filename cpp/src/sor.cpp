#include "adasolve/sor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve::sor {

namespace {

// Below this many rows in a colour, threads cost more than they save.
constexpr Index kParallelRows = 4096;

template <class T>
inline bool all_finite(const T* v, Index n) {
  for (Index i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

// One relaxation of row i, nrhs == 1. Including the diagonal in the row sum turns
// the SOR update into x_i += omega * (b_i - (A x)_i) / a_ii: no test for j == i.
template <class Scalar, class Idx>
inline Scalar relax_row(const Idx* __restrict ptr, const Idx* __restrict idx,
                        const Scalar* __restrict val, const Scalar* __restrict b,
                        Scalar* __restrict x, const Scalar* __restrict inv, Index i,
                        Scalar omega) {
  Scalar s = b[i];
  const Idx end = ptr[i + 1];
  for (Idx jj = ptr[i]; jj < end; ++jj) s -= val[jj] * x[idx[jj]];
  const Scalar dx = omega * s * inv[i];
  x[i] += dx;
  return dx;
}

template <class Scalar, class Idx>
inline double relax_row_multi(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x,
                              const Scalar* inv, Index i, Index nrhs, Scalar omega,
                              Scalar* acc) {
  for (Index c = 0; c < nrhs; ++c) acc[c] = b[i * nrhs + c];
  for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) {
    const Scalar a = A.data[jj];
    const Scalar* xj = x + Index(A.indices[jj]) * nrhs;
    for (Index c = 0; c < nrhs; ++c) acc[c] -= a * xj[c];
  }
  double d2 = 0;
  const Scalar w = omega * inv[i];
  for (Index c = 0; c < nrhs; ++c) {
    const Scalar dx = w * acc[c];
    x[i * nrhs + c] += dx;
    d2 += double(dx) * double(dx);
  }
  return d2;
}

// One directional pass over the rows; returns sum of squared updates if track.
template <class Scalar, class Idx>
double pass(const CsrView<Scalar, Idx>& A, const Scalar* inv, const Scalar* b, Scalar* x,
            Index nrhs, Scalar omega, bool forward, const Coloring* col, bool track) {
  const Index n = A.n_rows;
  double d2 = 0;
  if (!col) {
    if (nrhs == 1) {
      const Idx* __restrict ptr = A.indptr;
      const Idx* __restrict idx = A.indices;
      const Scalar* __restrict val = A.data;
      if (forward) {
        if (track) {
          for (Index i = 0; i < n; ++i) {
            const double dx = relax_row(ptr, idx, val, b, x, inv, i, omega);
            d2 += dx * dx;
          }
        } else {
          for (Index i = 0; i < n; ++i) relax_row(ptr, idx, val, b, x, inv, i, omega);
        }
      } else {
        if (track) {
          for (Index i = n - 1; i >= 0; --i) {
            const double dx = relax_row(ptr, idx, val, b, x, inv, i, omega);
            d2 += dx * dx;
          }
        } else {
          for (Index i = n - 1; i >= 0; --i) relax_row(ptr, idx, val, b, x, inv, i, omega);
        }
      }
    } else {
      std::vector<Scalar> acc(nrhs);
      if (forward) {
        for (Index i = 0; i < n; ++i) d2 += relax_row_multi(A, b, x, inv, i, nrhs, omega, acc.data());
      } else {
        for (Index i = n - 1; i >= 0; --i)
          d2 += relax_row_multi(A, b, x, inv, i, nrhs, omega, acc.data());
      }
    }
    return d2;
  }
  // Multicolour: colours in order (reverse order backward), rows of one colour in parallel.
  const Index nc = col->n_colors();
  const Index* rows = col->rows.data();
  const Index* cptr = col->color_ptr.data();
  const bool par = n >= 2 * kParallelRows;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel if (par) reduction(+ : d2)
#endif
  {
    std::vector<Scalar> acc(nrhs);
    for (Index cc = 0; cc < nc; ++cc) {
      const Index c = forward ? cc : nc - 1 - cc;
      const Index lo = cptr[c], hi = cptr[c + 1];
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
      for (Index t = lo; t < hi; ++t) {
        const Index i = rows[t];
        if (nrhs == 1) {
          const double dx = relax_row(A.indptr, A.indices, A.data, b, x, inv, i, omega);
          if (track) d2 += dx * dx;
        } else {
          d2 += relax_row_multi(A, b, x, inv, i, nrhs, omega, acc.data());
        }
      }
      // implicit barrier of `omp for` separates the colours
    }
  }
  (void)par;
  return d2;
}

template <class Scalar>
double col_norms_max_ratio(const Scalar* r, Index n, Index nrhs, const std::vector<double>& tol,
                           double* max_norm) {
  std::vector<double> s(nrhs, 0.0);
  for (Index i = 0; i < n; ++i)
    for (Index c = 0; c < nrhs; ++c) {
      const double v = r[i * nrhs + c];
      s[c] += v * v;
    }
  double q = 0, mx = 0;
  for (Index c = 0; c < nrhs; ++c) {
    const double nr = std::sqrt(s[c]);
    if (!std::isfinite(nr)) {
      *max_norm = nr;
      return std::numeric_limits<double>::quiet_NaN();
    }
    mx = std::max(mx, nr);
    const double ratio = tol[c] > 0 ? nr / tol[c] : (nr > 0 ? std::numeric_limits<double>::max() : 0.0);
    q = std::max(q, ratio);
  }
  *max_norm = mx;
  return q;
}

}  // namespace

void set_num_threads(int n) {
#ifdef ADASOLVE_HAVE_OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

template <class Idx>
Coloring greedy_coloring(Index n, const Idx* indptr, const Idx* indices) {
  // Symmetrize the pattern (a colour must avoid a_ij != 0 and a_ji != 0).
  std::vector<Index> deg(n + 1, 0);
  for (Index i = 0; i < n; ++i)
    for (Idx jj = indptr[i]; jj < indptr[i + 1]; ++jj) {
      const Index j = indices[jj];
      if (j != i) {
        ++deg[i + 1];
        ++deg[j + 1];
      }
    }
  for (Index i = 0; i < n; ++i) deg[i + 1] += deg[i];
  std::vector<Index> adj(deg[n]);
  std::vector<Index> fill(deg.begin(), deg.end() - 1);
  for (Index i = 0; i < n; ++i)
    for (Idx jj = indptr[i]; jj < indptr[i + 1]; ++jj) {
      const Index j = indices[jj];
      if (j != i) {
        adj[fill[i]++] = j;
        adj[fill[j]++] = i;
      }
    }
  std::vector<Index> color(n, -1);
  std::vector<Index> mark;  // mark[c] == i: colour c is used by a neighbour of i
  Index ncol = 0;
  for (Index i = 0; i < n; ++i) {
    for (Index t = deg[i]; t < deg[i + 1]; ++t) {
      const Index c = color[adj[t]];
      if (c >= 0) mark[c] = i;
    }
    Index c = 0;
    while (c < ncol && mark[c] == i) ++c;
    if (c == ncol) {
      ++ncol;
      mark.push_back(-1);
    }
    color[i] = c;
  }
  Coloring out;
  out.color_ptr.assign(ncol + 1, 0);
  for (Index i = 0; i < n; ++i) ++out.color_ptr[color[i] + 1];
  for (Index c = 0; c < ncol; ++c) out.color_ptr[c + 1] += out.color_ptr[c];
  out.rows.resize(n);
  std::vector<Index> pos(out.color_ptr.begin(), out.color_ptr.end() - 1);
  for (Index i = 0; i < n; ++i) out.rows[pos[color[i]]++] = i;
  return out;
}

template <class Scalar, class Idx>
Index inverse_diagonal(const CsrView<Scalar, Idx>& A, Scalar* inv_diag) {
  const Index n = A.n_rows;
  for (Index i = 0; i < n; ++i) {
    Scalar d = 0;
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj)
      if (Index(A.indices[jj]) == i) d += A.data[jj];
    if (d == Scalar(0)) return i;
    inv_diag[i] = Scalar(1) / d;
  }
  return -1;
}

template <class Scalar, class Idx>
void sweep(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b, Scalar* x,
           Index nrhs, Scalar omega, Direction dir, Index iterations, const Coloring* coloring) {
  require(A.n_rows == A.n_cols, "sweep: A must be square");
  require(nrhs >= 1, "sweep: nrhs must be >= 1");
  for (Index it = 0; it < iterations; ++it) {
    if (dir == Direction::Forward || dir == Direction::Symmetric)
      pass(A, inv_diag, b, x, nrhs, omega, true, coloring, false);
    if (dir == Direction::Backward || dir == Direction::Symmetric)
      pass(A, inv_diag, b, x, nrhs, omega, false, coloring, false);
  }
}

template <class Scalar, class Idx>
double residual(const CsrView<Scalar, Idx>& A, const Scalar* b, const Scalar* x, Scalar* r,
                Index nrhs) {
  const Index n = A.n_rows;
  std::vector<double> s(nrhs, 0.0);
  if (nrhs == 1) {
    double acc = 0;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(+ : acc) if (n > 200000)
#endif
    for (Index i = 0; i < n; ++i) {
      Scalar t = b[i];
      for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) t -= A.data[jj] * x[A.indices[jj]];
      r[i] = t;
      acc += double(t) * double(t);
    }
    return std::sqrt(acc);
  }
  for (Index i = 0; i < n; ++i) {
    for (Index c = 0; c < nrhs; ++c) r[i * nrhs + c] = b[i * nrhs + c];
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) {
      const Scalar a = A.data[jj];
      const Scalar* xj = x + Index(A.indices[jj]) * nrhs;
      for (Index c = 0; c < nrhs; ++c) r[i * nrhs + c] -= a * xj[c];
    }
    for (Index c = 0; c < nrhs; ++c) s[c] += double(r[i * nrhs + c]) * double(r[i * nrhs + c]);
  }
  double mx = 0;
  for (double v : s) mx = std::max(mx, std::sqrt(v));
  return mx;
}

// ---------------------------------------------------------------------------------------
// SOR iteration

template <class Scalar, class Idx>
SorIteration<Scalar, Idx>::SorIteration(const CsrView<Scalar, Idx>& A, const Scalar* b,
                                        Scalar* x, Index nrhs, const SolveOptions& opt,
                                        const Coloring* coloring)
    : A_(A), b_(b), x_(x), n_(A.n_rows), nrhs_(nrhs), opt_(opt), coloring_(coloring),
      omega_(Scalar(opt.omega)) {
  require(A.n_rows == A.n_cols, "solve: A must be square");
  require(nrhs >= 1, "solve: nrhs must be >= 1");
  require(opt.omega > 0 && opt.omega < 2, "solve: omega must be in (0, 2)");
  require(opt.maxiter >= 0, "solve: maxiter must be >= 0");
  inv_diag_.resize(n_);
  require(inverse_diagonal(A, inv_diag_.data()) < 0, "solve: A has a zero or missing diagonal entry");
  r_.resize(n_ * nrhs_);
  // Per-column tolerance max(rtol ||b_c||, atol).
  std::vector<double> bn(nrhs_, 0.0);
  for (Index i = 0; i < n_; ++i)
    for (Index c = 0; c < nrhs_; ++c) bn[c] += double(b[i * nrhs_ + c]) * double(b[i * nrhs_ + c]);
  tol_.resize(nrhs_);
  for (Index c = 0; c < nrhs_; ++c) tol_[c] = std::max(opt.rtol * std::sqrt(bn[c]), opt.atol);
  rep_.omega = opt.omega;
  double rn;
  residual(A_, b_, x_, r_.data(), nrhs_);
  q0_ = col_norms_max_ratio(r_.data(), n_, nrhs_, tol_, &rn);
  rep_.r0 = rn;
  rep_.resid = rn;
  rep_.n_checks = 1;
  q_last_ = q0_;
  q_first_ = q0_;
  if (!std::isfinite(rn)) {
    rep_.info = -1;
    finished_ = true;
  } else if (q0_ <= 1.0) {
    rep_.info = 0;
    finished_ = true;
  } else {
    rep_.info = 1;
  }
}

template <class Scalar, class Idx>
double SorIteration<Scalar, Idx>::check() {
  double rn;
  residual(A_, b_, x_, r_.data(), nrhs_);
  const double q = col_norms_max_ratio(r_.data(), n_, nrhs_, tol_, &rn);
  rep_.resid = rn;
  ++rep_.n_checks;
  return q;
}

template <class Scalar, class Idx>
void SorIteration<Scalar, Idx>::adapt(double d) {
  // Hageman & Young, adaptive SOR: the pseudo-residual ratio estimates the spectral
  // radius at the current omega; once it settles, Young's relation yields mu.
  // Guard: the pseudo-residual ratio of a non-normal iteration can overstate the
  // spectral radius, and omega above the optimum is costly, so an omega whose observed
  // rate is worse than the best seen so far is reverted and adaptation stops.
  if (frozen_ || !(d > 0)) {
    d_prev_ = d;
    return;
  }
  ++sweeps_at_omega_;
  if (sweeps_at_omega_ == 50) d_start_ = d;  // skip the transient after a change
  const double w = double(omega_);
  if (d_prev_ > 0) {
    const double ratio = d / d_prev_;
    if (ratio_prev_ > 0 && std::abs(ratio - ratio_prev_) <= 2e-3 * ratio)
      ++stable_count_;
    else
      stable_count_ = 0;
    ratio_prev_ = ratio;
    // Average rate since omega last changed (robust when the ratio oscillates).
    const double mean_rate =
        sweeps_at_omega_ > 50 ? std::pow(d / d_start_, 1.0 / double(sweeps_at_omega_ - 50)) : 1.0;
    if (best_rate_ > 0 && sweeps_at_omega_ >= 150 && mean_rate > best_rate_ * 1.01) {
      omega_ = Scalar(best_omega_);
      frozen_ = true;
      return;
    }
    if (sweeps_at_omega_ >= 6 && stable_count_ >= 3 && ratio < 1.0) {
      if (best_rate_ > 0 && ratio > best_rate_) {
        d_prev_ = d;  // not better than the best omega (yet): wait for the mean-rate test
        return;
      }
      best_rate_ = ratio;
      best_omega_ = w;
      if (ratio > w - 1.0 + 1e-6) {
        double mu2 = (ratio + w - 1.0) * (ratio + w - 1.0) / (ratio * w * w);
        mu2 = std::min(mu2, 1.0 - 1e-12);
        if (mu2 > mu2_) {
          mu2_ = mu2;
          const double w_new = 2.0 / (1.0 + std::sqrt(1.0 - mu2_));
          if (w_new > w + 1e-4) {
            omega_ = Scalar(std::min(w_new, 1.999));
            sweeps_at_omega_ = 0;
            stable_count_ = 0;
            ratio_prev_ = -1;
          } else {
            frozen_ = true;
          }
        }
      } else {
        frozen_ = true;  // the rate equals omega - 1: at (or past) the optimum
      }
    }
  }
  d_prev_ = d;
}

template <class Scalar, class Idx>
void SorIteration<Scalar, Idx>::one_sweep(bool track) {
  double d2 = 0;
  d2 += pass(A_, inv_diag_.data(), b_, x_, nrhs_, omega_, true, coloring_, track);
  if (opt_.symmetric) d2 += pass(A_, inv_diag_.data(), b_, x_, nrhs_, omega_, false, coloring_, track);
  if (track) adapt(std::sqrt(d2));
}

template <class Scalar, class Idx>
SolveReport SorIteration<Scalar, Idx>::run(Index max_sweeps) {
  const Index stop_at = std::min(opt_.maxiter, rep_.nit + std::max<Index>(max_sweeps, 0));
  while (!finished_ && rep_.nit < stop_at) {
    const Index target = std::min(next_check_, stop_at);
    while (rep_.nit < target) {
      one_sweep(opt_.adaptive);
      ++rep_.nit;
    }
    if (rep_.nit < next_check_ && rep_.nit < opt_.maxiter) break;  // chunk ended before a check
    const double q = check();
    if (!std::isfinite(q) || q > 1e12 * std::max(q0_, 1.0)) {
      rep_.info = -1;
      finished_ = true;
      break;
    }
    if (q <= 1.0) {
      rep_.info = 0;
      finished_ = true;
      q_last_ = q;
      break;
    }
    // Predict the sweeps left from the rate since the last check.
    const Index span = rep_.nit - k_last_check_;
    const double rho = span > 0 && q_last_ > 0 ? std::pow(q / q_last_, 1.0 / double(span)) : 1.0;
    Index step;
    if (rho < 0.999 && rho > 0) {
      const double left = std::log(q) / -std::log(rho);
      step = Index(std::floor(0.5 * left));
      step = std::max<Index>(1, std::min(step, opt_.max_between_checks));
    } else {
      step = std::min<Index>(std::max<Index>(1, 2 * step_), opt_.max_between_checks);
    }
    step_ = step;
    q_last_ = q;
    k_last_check_ = rep_.nit;
    next_check_ = rep_.nit + step;
    if (rep_.nit >= opt_.maxiter) {
      rep_.info = int(std::min<Index>(rep_.nit, std::numeric_limits<int>::max()));
      finished_ = true;
    }
  }
  if (!finished_ && rep_.nit >= opt_.maxiter) {
    const double q = check();
    if (q <= 1.0) {
      rep_.info = 0;
    } else {
      rep_.info = std::isfinite(q) ? int(std::min<Index>(std::max<Index>(rep_.nit, 1), std::numeric_limits<int>::max())) : -1;
    }
    finished_ = true;
  }
  if (finished_ && rep_.info > 0) rep_.info = int(std::max<Index>(rep_.nit, 1));
  rep_.omega = double(omega_);
  rep_.spectral_radius_jacobi = mu2_ > 0 ? std::sqrt(mu2_) : -1.0;
  rep_.convergence_factor = rep_.nit > 0 && rep_.r0 > 0
                                ? std::pow(rep_.resid / rep_.r0, 1.0 / double(rep_.nit))
                                : std::numeric_limits<double>::quiet_NaN();
  return rep_;
}

template <class Scalar, class Idx>
SolveReport solve(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x, Index nrhs,
                  const SolveOptions& opt, const Coloring* coloring) {
  SorIteration<Scalar, Idx> it(A, b, x, nrhs, opt, coloring);
  return it.run(opt.maxiter);
}

// ---------------------------------------------------------------------------------------
// SSOR preconditioner and PCG

template <class Scalar, class Idx>
void ssor_apply(const CsrView<Scalar, Idx>& A, const Scalar* inv, Scalar omega, const Scalar* r,
                Scalar* z, Index nrhs) {
  const Index n = A.n_rows;
  const Idx* __restrict ptr = A.indptr;
  const Idx* __restrict idx = A.indices;
  const Scalar* __restrict val = A.data;
  const Scalar scale = omega * (Scalar(2) - omega);
  if (nrhs == 1) {
    // (D + wL) y = r, indices sorted: the strictly lower part is a row prefix.
    for (Index i = 0; i < n; ++i) {
      Scalar s = r[i];
      for (Idx jj = ptr[i]; jj < ptr[i + 1] && Index(idx[jj]) < i; ++jj) s -= omega * val[jj] * z[idx[jj]];
      z[i] = s * inv[i];
    }
    // (D + wU) z = D y  <=>  z_i = y_i - w inv_i sum_{j>i} a_ij z_j
    for (Index i = n - 1; i >= 0; --i) {
      Scalar s = 0;
      for (Idx jj = ptr[i + 1] - 1; jj >= ptr[i] && Index(idx[jj]) > i; --jj) s += val[jj] * z[idx[jj]];
      z[i] = z[i] - omega * inv[i] * s;
    }
    for (Index i = 0; i < n; ++i) z[i] *= scale;
    return;
  }
  std::vector<Scalar> acc(nrhs);
  for (Index i = 0; i < n; ++i) {
    for (Index c = 0; c < nrhs; ++c) acc[c] = r[i * nrhs + c];
    for (Idx jj = ptr[i]; jj < ptr[i + 1] && Index(idx[jj]) < i; ++jj)
      for (Index c = 0; c < nrhs; ++c) acc[c] -= omega * val[jj] * z[Index(idx[jj]) * nrhs + c];
    for (Index c = 0; c < nrhs; ++c) z[i * nrhs + c] = acc[c] * inv[i];
  }
  for (Index i = n - 1; i >= 0; --i) {
    for (Index c = 0; c < nrhs; ++c) acc[c] = 0;
    for (Idx jj = ptr[i + 1] - 1; jj >= ptr[i] && Index(idx[jj]) > i; --jj)
      for (Index c = 0; c < nrhs; ++c) acc[c] += val[jj] * z[Index(idx[jj]) * nrhs + c];
    for (Index c = 0; c < nrhs; ++c) z[i * nrhs + c] -= omega * inv[i] * acc[c];
  }
  for (Index t = 0; t < n * nrhs; ++t) z[t] *= scale;
}

template <class Scalar, class Idx>
SsorPcgIteration<Scalar, Idx>::SsorPcgIteration(const CsrView<Scalar, Idx>& A, const Scalar* b,
                                                Scalar* x, const SolveOptions& opt)
    : A_(A), b_(b), x_(x), n_(A.n_rows), opt_(opt) {
  require(A.n_rows == A.n_cols, "ssor_pcg: A must be square");
  require(opt.omega > 0 && opt.omega < 2, "ssor_pcg: omega must be in (0, 2)");
  inv_diag_.resize(n_);
  require(inverse_diagonal(A, inv_diag_.data()) < 0, "ssor_pcg: A has a zero or missing diagonal entry");
  r_.resize(n_);
  z_.resize(n_);
  p_.resize(n_);
  q_.resize(n_);
  double bn = 0;
  for (Index i = 0; i < n_; ++i) bn += double(b[i]) * double(b[i]);
  bnorm_ = std::sqrt(bn);
  tol_ = std::max(opt.rtol * bnorm_, opt.atol);
  const double rn = residual(A_, b_, x_, r_.data(), 1);
  rep_.r0 = rn;
  rep_.resid = rn;
  rep_.omega = opt.omega;
  rep_.n_checks = 1;
  if (!std::isfinite(rn)) {
    rep_.info = -1;
    finished_ = true;
    return;
  }
  if (rn <= tol_) {
    finished_ = true;
    return;
  }
  rep_.info = 1;
  ssor_apply(A_, inv_diag_.data(), Scalar(opt.omega), r_.data(), z_.data(), 1);
  double rz = 0;
  for (Index i = 0; i < n_; ++i) {
    p_[i] = z_[i];
    rz += double(r_[i]) * double(z_[i]);
  }
  rz_ = rz;
  if (!(rz > 0)) {
    rep_.info = -10;
    finished_ = true;
  }
}

template <class Scalar, class Idx>
SolveReport SsorPcgIteration<Scalar, Idx>::run(Index max_iters) {
  const Index stop_at = std::min(opt_.maxiter, rep_.nit + std::max<Index>(max_iters, 0));
  const Index n = n_;
  const Idx* __restrict ptr = A_.indptr;
  const Idx* __restrict idx = A_.indices;
  const Scalar* __restrict val = A_.data;
  Scalar* __restrict x = x_;
  Scalar* __restrict r = r_.data();
  Scalar* __restrict z = z_.data();
  Scalar* __restrict p = p_.data();
  Scalar* __restrict q = q_.data();
  const bool par = n > 200000;
  while (!finished_ && rep_.nit < stop_at) {
    double pq = 0;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(+ : pq) if (par)
#endif
    for (Index i = 0; i < n; ++i) {
      Scalar t = 0;
      for (Idx jj = ptr[i]; jj < ptr[i + 1]; ++jj) t += val[jj] * p[idx[jj]];
      q[i] = t;
      pq += double(p[i]) * double(t);
    }
    if (!(pq > 0) || !std::isfinite(pq)) {
      rep_.info = std::isfinite(pq) ? -10 : -1;
      finished_ = true;
      break;
    }
    const Scalar alpha = Scalar(rz_ / pq);
    double rr = 0;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(+ : rr) if (par)
#endif
    for (Index i = 0; i < n; ++i) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
      rr += double(r[i]) * double(r[i]);
    }
    ++rep_.nit;
    rep_.resid = std::sqrt(rr);
    if (!std::isfinite(rep_.resid)) {
      rep_.info = -1;
      finished_ = true;
      break;
    }
    if (rep_.resid <= tol_) {
      rep_.info = 0;
      finished_ = true;
      break;
    }
    ssor_apply(A_, inv_diag_.data(), Scalar(opt_.omega), r, z, 1);
    double rz = 0;
    for (Index i = 0; i < n; ++i) rz += double(r[i]) * double(z[i]);
    if (!(rz > 0)) {
      rep_.info = -10;
      finished_ = true;
      break;
    }
    const Scalar beta = Scalar(rz / rz_);
    rz_ = rz;
    for (Index i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
  }
  if (!finished_ && rep_.nit >= opt_.maxiter) {
    finished_ = true;
    rep_.info = int(std::max<Index>(rep_.nit, 1));
  }
  rep_.convergence_factor = rep_.nit > 0 && rep_.r0 > 0
                                ? std::pow(rep_.resid / rep_.r0, 1.0 / double(rep_.nit))
                                : std::numeric_limits<double>::quiet_NaN();
  return rep_;
}

template <class Scalar, class Idx>
SolveReport ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x,
                     const SolveOptions& opt) {
  SsorPcgIteration<Scalar, Idx> it(A, b, x, opt);
  return it.run(opt.maxiter);
}

// ---------------------------------------------------------------------------------------
// Explicit instantiations: {float, double} x {int32, int64}.

#define ADASOLVE_SOR_INSTANTIATE(S, I)                                                        \
  template Index inverse_diagonal<S, I>(const CsrView<S, I>&, S*);                             \
  template void sweep<S, I>(const CsrView<S, I>&, const S*, const S*, S*, Index, S, Direction, \
                            Index, const Coloring*);                                           \
  template double residual<S, I>(const CsrView<S, I>&, const S*, const S*, S*, Index);        \
  template SolveReport solve<S, I>(const CsrView<S, I>&, const S*, S*, Index,                 \
                                   const SolveOptions&, const Coloring*);                      \
  template void ssor_apply<S, I>(const CsrView<S, I>&, const S*, S, const S*, S*, Index);     \
  template SolveReport ssor_pcg<S, I>(const CsrView<S, I>&, const S*, S*, const SolveOptions&); \
  template class SorIteration<S, I>;                                                           \
  template class SsorPcgIteration<S, I>;

ADASOLVE_SOR_INSTANTIATE(float, std::int32_t)
ADASOLVE_SOR_INSTANTIATE(double, std::int32_t)
ADASOLVE_SOR_INSTANTIATE(float, std::int64_t)
ADASOLVE_SOR_INSTANTIATE(double, std::int64_t)

template Coloring greedy_coloring<std::int32_t>(Index, const std::int32_t*, const std::int32_t*);
template Coloring greedy_coloring<std::int64_t>(Index, const std::int64_t*, const std::int64_t*);

}  // namespace adasolve::sor
