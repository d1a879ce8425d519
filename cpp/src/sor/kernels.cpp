#include "adasolve/sor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "adasolve/common/coloring.hpp"
#include "adasolve/common/parallel.hpp"

namespace adasolve::sor {

namespace {

// Below this many rows, a parallel phase costs more than it saves; above it the Governor
// times both modes and keeps the faster.
constexpr Index kParallelRows = 8192;
// Rows per chunk of a parallel phase. Partial sums are formed per chunk and added in chunk
// order, so results do not depend on the number of threads.
constexpr Index kChunk = 2048;

// Split rows [lo, hi) into kChunk-row chunks over the participants of a parallel run;
// f(chunk_lo, chunk_hi) returns a partial sum stored per chunk.
template <class F>
void for_chunks(Index lo, Index hi, int tid, int nt, double* sums, F&& f) {
  const Index nchunks = (hi - lo + kChunk - 1) / kChunk;
  const Index c0 = nchunks * tid / nt, c1 = nchunks * (tid + 1) / nt;
  for (Index c = c0; c < c1; ++c) {
    const Index a = lo + c * kChunk;
    sums[c] = f(a, std::min(hi, a + kChunk));
  }
}

// sum_c f(chunk c) over rows [0, n), in parallel when large and faster (see Governor);
// deterministic whatever the thread count.
template <class F>
double chunked_sum(Index n, double work, F&& f) {
  const Index nchunks = (n + kChunk - 1) / kChunk;
  if (n < 4 * kParallelRows || parallel::num_threads() < 2) {
    double total = 0;
    for (Index c = 0; c < nchunks; ++c) {
      const Index a = c * kChunk;
      total += f(a, std::min(n, a + kChunk));
    }
    return total;
  }
  std::vector<double> sums(nchunks, 0.0);
  parallel::Governor::run(work, [&](int tid, int nt) { for_chunks(0, n, tid, nt, sums.data(), f); });
  double total = 0;
  for (double v : sums) total += v;
  return total;
}

// One relaxation of row i, nrhs == 1. Including the diagonal in the row sum turns
// the SOR update into x_i += omega * (b_i - (A x)_i) / a_ii: no test for j == i.
// Returns the relaxed residual s_i = b_i - (A x)_i (before the update), whose norm over a
// sweep tracks the true residual at no extra memory traffic.
//
// Entry order within the row: in a forward sweep the entries are visited from the end
// of the row, so that the just-updated x_{i-1} enters the sum last and the loop-carried
// dependency between consecutive rows is one FMA long instead of the whole row (the
// natural-order sweep is latency-bound otherwise); a backward sweep visits them in order
// for the same reason.
template <bool Reverse, class Scalar, class Idx>
inline Scalar relax_row(const Idx* __restrict ptr, const Idx* __restrict idx,
                        const Scalar* __restrict val, const Scalar* __restrict b,
                        Scalar* __restrict x, const Scalar* __restrict inv, Index i,
                        Scalar omega) {
  Scalar s = b[i];
  if (Reverse) {
    const Idx beg = ptr[i];
    for (Idx jj = ptr[i + 1] - 1; jj >= beg; --jj) s -= val[jj] * x[idx[jj]];
  } else {
    const Idx end = ptr[i + 1];
    for (Idx jj = ptr[i]; jj < end; ++jj) s -= val[jj] * x[idx[jj]];
  }
  x[i] += omega * s * inv[i];
  return s;
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
  double s2 = 0;
  const Scalar w = omega * inv[i];
  for (Index c = 0; c < nrhs; ++c) {
    x[i * nrhs + c] += w * acc[c];
    s2 += double(acc[c]) * double(acc[c]);
  }
  return s2;
}

// The natural-order pass (one serial chain of row updates): cloned for FMA hardware.
template <class Scalar, class Idx>
ADASOLVE_FMA_CLONES double natural_pass(const CsrView<Scalar, Idx>& A, const Scalar* inv,
                                        const Scalar* b, Scalar* x, Index nrhs, Scalar omega,
                                        bool forward, bool track) {
  const Index n = A.n_rows;
  double d2 = 0;
  if (nrhs == 1) {
    const Idx* __restrict ptr = A.indptr;
    const Idx* __restrict idx = A.indices;
    const Scalar* __restrict val = A.data;
    if (forward) {
      if (track) {
        for (Index i = 0; i < n; ++i) {
          const double s = relax_row<true>(ptr, idx, val, b, x, inv, i, omega);
          d2 += s * s;
        }
      } else {
        for (Index i = 0; i < n; ++i) relax_row<true>(ptr, idx, val, b, x, inv, i, omega);
      }
    } else {
      if (track) {
        for (Index i = n - 1; i >= 0; --i) {
          const double s = relax_row<false>(ptr, idx, val, b, x, inv, i, omega);
          d2 += s * s;
        }
      } else {
        for (Index i = n - 1; i >= 0; --i) relax_row<false>(ptr, idx, val, b, x, inv, i, omega);
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

// Rows lo..hi-1 of a colour's row list (independent rows): cloned for FMA hardware.
template <class Scalar, class Idx>
ADASOLVE_FMA_CLONES double colour_rows(const CsrView<Scalar, Idx>& A, const Scalar* inv,
                                       const Scalar* b, Scalar* x, Index nrhs, Scalar omega,
                                       const Index* rows, Index lo, Index hi, Scalar* acc) {
  double acc2 = 0;
  for (Index t = lo; t < hi; ++t) {
    const Index i = rows[t];
    if (nrhs == 1) {
      const double s = relax_row<false>(A.indptr, A.indices, A.data, b, x, inv, i, omega);
      acc2 += s * s;
    } else {
      acc2 += relax_row_multi(A, b, x, inv, i, nrhs, omega, acc);
    }
  }
  return acc2;
}

// One directional pass over the rows; returns the sum of squared relaxed residuals if track.
template <class Scalar, class Idx>
double pass(const CsrView<Scalar, Idx>& A, const Scalar* inv, const Scalar* b, Scalar* x,
            Index nrhs, Scalar omega, bool forward, const Coloring* col, bool track) {
  if (!col) return natural_pass(A, inv, b, x, nrhs, omega, forward, track);
  const Index n = A.n_rows;
  double d2 = 0;
  // Multicolour: colours in order (reverse order backward), rows of one colour relaxed in
  // parallel by the team (adasolve/common/parallel.hpp), which the Governor replaces by the serial
  // loop whenever that is faster (small systems, busy cores). The rows of one colour are
  // independent, so both give the same x; partial sums are per chunk, so the same d2.
  const Index nc = col->n_colors();
  const Index* rows = col->rows.data();
  const Index* cptr = col->color_ptr.data();
  Index nchunks = 0;
  std::vector<Index> chunk0(nc + 1, 0);
  for (Index c = 0; c < nc; ++c) {
    chunk0[c] = nchunks;
    nchunks += (cptr[c + 1] - cptr[c] + kChunk - 1) / kChunk;
  }
  chunk0[nc] = nchunks;
  std::vector<double> sums(track ? nchunks : 0, 0.0);
  auto body = [&](int tid, int nt) {
    std::vector<Scalar> acc(nrhs);
    for (Index cc = 0; cc < nc; ++cc) {
      const Index c = forward ? cc : nc - 1 - cc;
      double* out = track ? sums.data() + chunk0[c] : nullptr;
      double scratch = 0;
      const Index nch = chunk0[c + 1] - chunk0[c];
      const Index c0 = nch * tid / nt, c1 = nch * (tid + 1) / nt;
      for (Index k = c0; k < c1; ++k) {
        const Index lo = cptr[c] + k * kChunk, hi = std::min(cptr[c + 1], lo + kChunk);
        (out ? out[k] : scratch) = colour_rows(A, inv, b, x, nrhs, omega, rows, lo, hi, acc.data());
      }
      if (nt > 1) parallel::barrier();  // the next colour reads this one's x
    }
  };
  const double work = double(A.nnz()) * double(nrhs);
  if (n >= kParallelRows && parallel::num_threads() > 1) {
    parallel::Governor::run(work, body);
  } else {
    body(0, 1);
  }
  for (double v : sums) d2 += v;
  return d2;
}

// Norm of column c of a row-major (n, nrhs) block given its plain sum of squares: recomputed
// with scaling when the sum under- or overflowed.
template <class Scalar>
double column_norm(const Scalar* r, Index n, Index nrhs, Index c, double sumsq) {
  if (sumsq > 1e-280 && sumsq < 1e280) return std::sqrt(sumsq);
  return norm2(r + c, n, nrhs);
}

template <class Scalar>
double col_norms_max_ratio(const Scalar* r, Index n, Index nrhs, const std::vector<double>& tol,
                           const double* sumsq, double* max_norm) {
  double q = 0, mx = 0;
  for (Index c = 0; c < nrhs; ++c) {
    const double nr = column_norm(r, n, nrhs, c, sumsq[c]);
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

// r = b - A x for one right-hand side, in parallel chunks when large; returns sum r_i^2.
template <class Scalar, class Idx>
double residual1(const CsrView<Scalar, Idx>& A, const Scalar* b, const Scalar* x, Scalar* r) {
  const Idx* __restrict ptr = A.indptr;
  const Idx* __restrict idx = A.indices;
  const Scalar* __restrict val = A.data;
  return chunked_sum(A.n_rows, double(A.nnz()), [&](Index lo, Index hi) {
    double acc = 0;
    for (Index i = lo; i < hi; ++i) {
      Scalar t = b[i];
      for (Idx jj = ptr[i]; jj < ptr[i + 1]; ++jj) t -= val[jj] * x[idx[jj]];
      r[i] = t;
      acc += double(t) * double(t);
    }
    return acc;
  });
}

// r = b - A x for (n, nrhs) blocks; sumsq[c] = sum of squares of column c.
template <class Scalar, class Idx>
void residual_block(const CsrView<Scalar, Idx>& A, const Scalar* b, const Scalar* x, Scalar* r,
                    Index nrhs, double* sumsq) {
  if (nrhs == 1) {
    sumsq[0] = residual1(A, b, x, r);
    return;
  }
  const Index n = A.n_rows;
  for (Index c = 0; c < nrhs; ++c) sumsq[c] = 0;
  for (Index i = 0; i < n; ++i) {
    for (Index c = 0; c < nrhs; ++c) r[i * nrhs + c] = b[i * nrhs + c];
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) {
      const Scalar a = A.data[jj];
      const Scalar* xj = x + Index(A.indices[jj]) * nrhs;
      for (Index c = 0; c < nrhs; ++c) r[i * nrhs + c] -= a * xj[c];
    }
    for (Index c = 0; c < nrhs; ++c) sumsq[c] += double(r[i * nrhs + c]) * double(r[i * nrhs + c]);
  }
}

int clamp_info(Index nit) {
  return int(std::min<Index>(std::max<Index>(nit, 1), std::numeric_limits<int>::max()));
}

}  // namespace

void require_ok(const MatrixCheck& check, const char* name) {
  if (check.nonfinite_row >= 0)
    throw std::invalid_argument(std::string(name) + " contains NaN or Inf (row " +
                                std::to_string(check.nonfinite_row) + ")");
  if (check.zero_diagonal_row >= 0)
    throw std::invalid_argument(std::string(name) + " has a zero or missing diagonal entry in row " +
                                std::to_string(check.zero_diagonal_row) +
                                "; SOR-type methods divide by the diagonal");
}

template <class Scalar>
double norm2(const Scalar* v, Index n, Index stride) {
  double s = 0;
  for (Index i = 0; i < n; ++i) s += double(v[i * stride]) * double(v[i * stride]);
  if (s > 1e-280 && s < 1e280) return std::sqrt(s);
  double mx = 0;
  for (Index i = 0; i < n; ++i) mx = std::max(mx, std::abs(double(v[i * stride])));
  if (mx == 0 || !std::isfinite(mx)) return mx;
  s = 0;
  for (Index i = 0; i < n; ++i) {
    const double t = double(v[i * stride]) / mx;
    s += t * t;
  }
  return mx * std::sqrt(s);
}

template <class Idx>
Coloring greedy_coloring(Index n, const Idx* indptr, const Idx* indices) {
  std::vector<Index> order(n);
  for (Index i = 0; i < n; ++i) order[i] = i;
  const std::vector<Index> color =
      greedy_colouring(order, n, symmetric_pattern(n, indptr, indices), ColourRule::first_fit);
  Index ncol = 0;
  for (Index i = 0; i < n; ++i) ncol = std::max(ncol, color[i] + 1);
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
MatrixCheck inverse_diagonal(const CsrView<Scalar, Idx>& A, Scalar* inv_diag) {
  MatrixCheck out;
  const Index n = A.n_rows;
  for (Index i = 0; i < n; ++i) {
    Scalar d = 0;
    bool finite = true;
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) {
      const Scalar v = A.data[jj];
      finite = finite && std::isfinite(v);
      if (Index(A.indices[jj]) == i) d += v;
    }
    if (!finite && out.nonfinite_row < 0) out.nonfinite_row = i;
    if (d == Scalar(0) && out.zero_diagonal_row < 0) out.zero_diagonal_row = i;
    if (out.nonfinite_row >= 0) break;  // the first NaN/Inf decides the error
    inv_diag[i] = d == Scalar(0) ? Scalar(0) : Scalar(1) / d;
  }
  return out;
}

template <class Scalar, class Idx>
void sweep(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b, Scalar* x,
           Index nrhs, Scalar omega, Direction dir, Index iterations, const Coloring* coloring) {
  require(A.n_rows == A.n_cols, "sweep: A must be square");
  require(nrhs >= 1, "sweep: nrhs must be >= 1");
  InterruptCheck interrupt;
  const double work = double(A.nnz()) * double(nrhs);
  for (Index it = 0; it < iterations; ++it) {
    if (dir == Direction::Forward || dir == Direction::Symmetric)
      pass(A, inv_diag, b, x, nrhs, omega, true, coloring, false);
    if (dir == Direction::Backward || dir == Direction::Symmetric)
      pass(A, inv_diag, b, x, nrhs, omega, false, coloring, false);
    interrupt(work);
  }
}

template <class Scalar, class Idx>
double residual(const CsrView<Scalar, Idx>& A, const Scalar* b, const Scalar* x, Scalar* r,
                Index nrhs) {
  std::vector<double> s(nrhs, 0.0);
  residual_block(A, b, x, r, nrhs, s.data());
  double mx = 0;
  for (Index c = 0; c < nrhs; ++c) mx = std::max(mx, column_norm(r, A.n_rows, nrhs, c, s[c]));
  return mx;
}

// ---------------------------------------------------------------------------------------
// SOR iteration

template <class Scalar, class Idx>
SorIteration<Scalar, Idx>::SorIteration(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag,
                                        const Scalar* b, Scalar* x, Index nrhs,
                                        const SolveOptions& opt, const Coloring* coloring)
    : A_(A), inv_diag_(inv_diag), b_(b), x_(x), n_(A.n_rows), nrhs_(nrhs), opt_(opt),
      coloring_(coloring), omega_(Scalar(opt.omega)) {
  require(A.n_rows == A.n_cols, "solve: A must be square");
  require(nrhs >= 1, "solve: nrhs must be >= 1");
  require(opt.omega > 0 && opt.omega < 2, "solve: omega must be in (0, 2)");
  require(opt.maxiter >= 0, "solve: maxiter must be >= 0");
  r_.resize(n_ * nrhs_);
  for (Index t = 0; t < n_ * nrhs_; ++t)
    require(std::isfinite(x_[t]), "x0 contains NaN or Inf");
  // Per-column tolerance max(rtol ||b_c||, atol); a column with b_c = 0 has the solution 0
  // whatever x0 is (SciPy returns x = 0, info = 0 there).
  tol_.resize(nrhs_);
  for (Index c = 0; c < nrhs_; ++c) {
    const double bn = norm2(b + c, n_, nrhs_);
    require(std::isfinite(bn), "b contains NaN or Inf");
    if (bn == 0)
      for (Index i = 0; i < n_; ++i) x_[i * nrhs_ + c] = Scalar(0);
    tol_[c] = std::max(opt.rtol * bn, opt.atol);
  }
  rep_.omega = opt.omega;
  double rn;
  std::vector<double> sumsq(nrhs_);
  residual_block(A_, b_, x_, r_.data(), nrhs_, sumsq.data());
  q0_ = col_norms_max_ratio(r_.data(), n_, nrhs_, tol_, sumsq.data(), &rn);
  rep_.r0 = rn;
  rep_.resid = rn;
  rep_.n_checks = 1;
  q_last_ = q0_;
  if (!std::isfinite(rn)) {
    rep_.info = -1;
    rep_.why = StopReason::NonfiniteStart;
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
  std::vector<double> sumsq(nrhs_);
  residual_block(A_, b_, x_, r_.data(), nrhs_, sumsq.data());
  const double q = col_norms_max_ratio(r_.data(), n_, nrhs_, tol_, sumsq.data(), &rn);
  rep_.resid = rn;
  ++rep_.n_checks;
  return q;
}

template <class Scalar, class Idx>
void SorIteration<Scalar, Idx>::adapt(double d) {
  // Hageman & Young, adaptive SOR. The asymptotic per-sweep reduction ratio lambda of
  // the relaxed residual at the current omega gives the Jacobi spectral radius mu through
  // Young's relation (lambda + w - 1)^2 = lambda w^2 mu^2 (consistently ordered A), then
  // w_opt = 2 / (1 + sqrt(1 - mu^2)). The ratio is a geometric mean over windows of
  // kWindow sweeps, and two consecutive windows must agree before omega moves:
  // single-sweep ratios of the non-normal SOR iteration overstate the spectral radius
  // during the transient. Omega only moves up: below w_opt lambda is real and the
  // estimate of mu is a lower bound, so omega approaches the optimum from below, where
  // the convergence rate is least sensitive to errors.
  constexpr Index kWindow = 8;
  if (frozen_) return;
  ++sweeps_at_omega_;
  if (sweeps_at_omega_ % kWindow != 0 || !(d > 0)) return;
  if (d_prev_ > 0) {
    const double ratio = std::pow(d / d_prev_, 1.0 / double(kWindow));
    const double w = double(omega_);
    // Guard against an overshoot past w_opt (where the estimate is no longer a lower
    // bound): once settled, a rate worse than the best seen reverts omega and stops.
    if (sweeps_at_omega_ >= 4 * kWindow && std::abs(ratio - ratio_prev_) < 2e-3) {
      if (best_rate_ > 0 && ratio > best_rate_ + 1e-4) {
        omega_ = Scalar(best_omega_);
        frozen_ = true;
        return;
      }
      if (best_rate_ < 0 || ratio < best_rate_) {
        best_rate_ = ratio;
        best_omega_ = w;
      }
    }
    if (sweeps_at_omega_ >= 2 * kWindow && ratio < 1.0 && std::abs(ratio - ratio_prev_) < 2e-3 &&
        ratio > w - 1.0 + 1e-3) {
      double mu2 = (ratio + w - 1.0) * (ratio + w - 1.0) / (ratio * w * w);
      mu2 = std::min(mu2, 1.0 - 1e-12);
      mu2_ = std::max(mu2_, mu2);
      const double w_new = std::min(2.0 / (1.0 + std::sqrt(1.0 - mu2_)), 2.0 - 1e-6);
      if (w_new > w + 1e-3) {
        omega_ = Scalar(w_new);
        sweeps_at_omega_ = 0;
        ratio_prev_ = -1;
        d_prev_ = -1;
        return;
      }
    }
    ratio_prev_ = ratio;
  }
  d_prev_ = d;
}

template <class Scalar, class Idx>
double SorIteration<Scalar, Idx>::one_sweep() {
  double s2 = pass(A_, inv_diag_, b_, x_, nrhs_, omega_, true, coloring_, true);
  if (opt_.symmetric) s2 = pass(A_, inv_diag_, b_, x_, nrhs_, omega_, false, coloring_, true);
  const double s = std::sqrt(s2);
  if (opt_.adaptive) adapt(s);
  return s;
}

template <class Scalar, class Idx>
SolveReport SorIteration<Scalar, Idx>::run(Index max_sweeps) {
  const Index stop_at = std::min(opt_.maxiter, rep_.nit + std::max<Index>(max_sweeps, 0));
  InterruptCheck interrupt;
  const double work = double(A_.nnz()) * double(nrhs_) * (opt_.symmetric ? 2.0 : 1.0);
  while (!finished_ && rep_.nit < stop_at) {
    s_last_ = one_sweep();
    ++rep_.nit;
    interrupt(work);
    // Check when the schedule says so, or when the calibrated estimate kappa * ||s|| says
    // the tolerance is (about to be) met, or at the last allowed sweep.
    const bool due = rep_.nit >= next_check_ || rep_.nit >= opt_.maxiter ||
                     (kappa_ > 0 && kappa_ * s_last_ <= 1.0) || !std::isfinite(s_last_);
    if (!due) continue;
    const double q = check();
    if (s_last_ > 0 && std::isfinite(q)) kappa_ = q / s_last_;
    if (!std::isfinite(q) || q > 1e12 * std::max(q0_, 1.0)) {
      rep_.info = -1;
      rep_.why = StopReason::Diverged;
      finished_ = true;
      break;
    }
    if (q <= 1.0) {
      rep_.info = 0;
      finished_ = true;
      q_last_ = q;
      break;
    }
    if (rep_.nit >= opt_.maxiter) {
      rep_.info = clamp_info(rep_.nit);
      finished_ = true;
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
  }
  if (!finished_ && rep_.nit >= opt_.maxiter) {
    // maxiter == 0, or a callback-driven run that reached maxiter without a check
    const double q = rep_.nit > k_last_check_ ? check() : q_last_;
    if (q <= 1.0) {
      rep_.info = 0;
    } else if (std::isfinite(q)) {
      rep_.info = clamp_info(rep_.nit);
    } else {
      rep_.info = -1;
      rep_.why = StopReason::Diverged;
    }
    finished_ = true;
  }
  if (finished_ && rep_.info > 0) rep_.info = clamp_info(rep_.nit);
  rep_.omega = double(omega_);
  rep_.spectral_radius_jacobi = mu2_ > 0 ? std::sqrt(mu2_) : -1.0;
  rep_.convergence_factor = rep_.nit > 0 && rep_.r0 > 0
                                ? std::pow(rep_.resid / rep_.r0, 1.0 / double(rep_.nit))
                                : std::numeric_limits<double>::quiet_NaN();
  return rep_;
}

template <class Scalar, class Idx>
SolveReport solve(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b,
                  Scalar* x, Index nrhs, const SolveOptions& opt, const Coloring* coloring) {
  SorIteration<Scalar, Idx> it(A, inv_diag, b, x, nrhs, opt, coloring);
  return it.run(opt.maxiter);
}

template <class Scalar, class Idx>
SolveReport solve(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x, Index nrhs,
                  const SolveOptions& opt, const Coloring* coloring) {
  std::vector<Scalar> inv(A.n_rows);
  require_ok(inverse_diagonal(A, inv.data()), "A");
  return solve(A, inv.data(), b, x, nrhs, opt, coloring);
}

// ---------------------------------------------------------------------------------------
// SSOR preconditioner and PCG

namespace {

// z = (omega (2 - omega)) M^{-1} r for one right-hand side: the SSOR solve without its
// scalar factor (CG does not need it, and omitting it keeps tiny omegas from underflowing).
template <class Scalar, class Idx>
void ssor_solve_unscaled(const CsrView<Scalar, Idx>& A, const Scalar* inv, Scalar omega,
                         const Scalar* r, Scalar* z) {
  const Index n = A.n_rows;
  const Idx* __restrict ptr = A.indptr;
  const Idx* __restrict idx = A.indices;
  const Scalar* __restrict val = A.data;
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
}

}  // namespace

template <class Scalar, class Idx>
void ssor_apply(const CsrView<Scalar, Idx>& A, const Scalar* inv, Scalar omega, const Scalar* r,
                Scalar* z, Index nrhs) {
  const Index n = A.n_rows;
  const Idx* __restrict ptr = A.indptr;
  const Idx* __restrict idx = A.indices;
  const Scalar* __restrict val = A.data;
  const Scalar scale = omega * (Scalar(2) - omega);
  if (nrhs == 1) {
    ssor_solve_unscaled(A, inv, omega, r, z);
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
SsorPcgIteration<Scalar, Idx>::SsorPcgIteration(const CsrView<Scalar, Idx>& A,
                                                const Scalar* inv_diag, const Scalar* b,
                                                Scalar* x, const SolveOptions& opt)
    : A_(A), inv_diag_(inv_diag), b_(b), x_(x), n_(A.n_rows), opt_(opt) {
  require(A.n_rows == A.n_cols, "ssor_pcg: A must be square");
  require(opt.omega > 0 && opt.omega < 2, "ssor_pcg: omega must be in (0, 2)");
  r_.resize(n_);
  z_.resize(n_);
  p_.resize(n_);
  q_.resize(n_);
  for (Index i = 0; i < n_; ++i) require(std::isfinite(x_[i]), "x0 contains NaN or Inf");
  bnorm_ = norm2(b, n_);
  require(std::isfinite(bnorm_), "b contains NaN or Inf");
  tol_ = std::max(opt.rtol * bnorm_, opt.atol);
  rep_.omega = opt.omega;
  rep_.n_checks = 1;
  if (bnorm_ == 0) {  // SciPy: b == 0 gives x = 0, info = 0 whatever x0 is
    std::fill(x_, x_ + n_, Scalar(0));
    finished_ = true;
    return;
  }
  // CG's inner products square the values: for b near the ends of the double range they
  // under- or overflow. CG commutes with scaling, so such a system is solved scaled by a
  // power of two (exact), and x is unscaled whenever control returns to the caller.
  if (bnorm_ < 1e-100 || bnorm_ > 1e100) {
    scale_ = std::ldexp(1.0, -std::ilogb(bnorm_));
    b_scaled_.resize(n_);
    for (Index i = 0; i < n_; ++i) b_scaled_[i] = Scalar(double(b[i]) * scale_);
    b_ = b_scaled_.data();
    for (Index i = 0; i < n_; ++i) x_[i] = Scalar(double(x_[i]) * scale_);
    scaled_in_ = true;
    tol_ *= scale_;
  }
  const double rn = column_norm(r_.data(), n_, 1, 0, residual1(A_, b_, x_, r_.data()));
  rep_.r0 = rn / scale_;
  rep_.resid = rn / scale_;
  if (!std::isfinite(rn)) {
    rep_.info = -1;
    rep_.why = StopReason::NonfiniteStart;
    finished_ = true;
    rescale(false);
    return;
  }
  if (rn <= tol_) {
    finished_ = true;
    rescale(false);
    return;
  }
  rep_.info = 1;
  ssor_solve_unscaled(A_, inv_diag_, Scalar(opt.omega), r_.data(), z_.data());
  double rz = 0;
  for (Index i = 0; i < n_; ++i) {
    p_[i] = z_[i];
    rz += double(r_[i]) * double(z_[i]);
  }
  rz_ = rz;
  if (!(rz > 0)) {
    rep_.info = std::isfinite(rz) ? -10 : -1;
    rep_.why = std::isfinite(rz) ? StopReason::NotPositiveDefinite : StopReason::Diverged;
    finished_ = true;
  }
  rescale(false);
}

template <class Scalar, class Idx>
void SsorPcgIteration<Scalar, Idx>::rescale(bool to_internal) {
  if (scale_ == 1.0 || scaled_in_ == to_internal) return;
  const double f = to_internal ? scale_ : 1.0 / scale_;
  for (Index i = 0; i < n_; ++i) x_[i] = Scalar(double(x_[i]) * f);
  scaled_in_ = to_internal;
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
  InterruptCheck interrupt;
  const double work = 3.0 * double(A_.nnz());
  if (!finished_) rescale(true);
  while (!finished_ && rep_.nit < stop_at) {
    const double pq = chunked_sum(n, double(A_.nnz()), [&](Index lo, Index hi) {
      double acc = 0;
      for (Index i = lo; i < hi; ++i) {
        Scalar t = 0;
        for (Idx jj = ptr[i]; jj < ptr[i + 1]; ++jj) t += val[jj] * p[idx[jj]];
        q[i] = t;
        acc += double(p[i]) * double(t);
      }
      return acc;
    });
    if (!(pq > 0) || !std::isfinite(pq)) {
      rep_.info = std::isfinite(pq) ? -10 : -1;
      rep_.why = std::isfinite(pq) ? StopReason::NotPositiveDefinite : StopReason::Diverged;
      finished_ = true;
      break;
    }
    const Scalar alpha = Scalar(rz_ / pq);
    const double rr = chunked_sum(n, double(n), [&](Index lo, Index hi) {
      double acc = 0;
      for (Index i = lo; i < hi; ++i) {
        x[i] += alpha * p[i];
        r[i] -= alpha * q[i];
        acc += double(r[i]) * double(r[i]);
      }
      return acc;
    });
    ++rep_.nit;
    interrupt(work);
    rep_.resid = column_norm(r, n, 1, 0, rr) / scale_;
    if (!std::isfinite(rep_.resid)) {
      rep_.info = -1;
      rep_.why = StopReason::Diverged;
      finished_ = true;
      break;
    }
    if (rep_.resid * scale_ <= tol_) {
      rep_.info = 0;
      finished_ = true;
      break;
    }
    ssor_solve_unscaled(A_, inv_diag_, Scalar(opt_.omega), r, z);
    double rz = 0;
    for (Index i = 0; i < n; ++i) rz += double(r[i]) * double(z[i]);
    if (!(rz > 0)) {
      rep_.info = std::isfinite(rz) ? -10 : -1;
      rep_.why = std::isfinite(rz) ? StopReason::NotPositiveDefinite : StopReason::Diverged;
      finished_ = true;
      break;
    }
    const Scalar beta = Scalar(rz / rz_);
    rz_ = rz;
    for (Index i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
  }
  if (!finished_ && rep_.nit >= opt_.maxiter) {
    finished_ = true;
    rep_.info = clamp_info(rep_.nit);
  }
  rescale(false);
  rep_.convergence_factor = rep_.nit > 0 && rep_.r0 > 0
                                ? std::pow(rep_.resid / rep_.r0, 1.0 / double(rep_.nit))
                                : std::numeric_limits<double>::quiet_NaN();
  return rep_;
}

template <class Scalar, class Idx>
SolveReport ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, const Scalar* b,
                     Scalar* x, const SolveOptions& opt) {
  SsorPcgIteration<Scalar, Idx> it(A, inv_diag, b, x, opt);
  return it.run(opt.maxiter);
}

template <class Scalar, class Idx>
SolveReport ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* b, Scalar* x,
                     const SolveOptions& opt) {
  std::vector<Scalar> inv(A.n_rows);
  require_ok(inverse_diagonal(A, inv.data()), "A");
  return ssor_pcg(A, inv.data(), b, x, opt);
}

// ---------------------------------------------------------------------------------------
// Explicit instantiations: {float, double} x {int32, int64}.

#define ADASOLVE_SOR_INSTANTIATE(S, I)                                                        \
  template MatrixCheck inverse_diagonal<S, I>(const CsrView<S, I>&, S*);                       \
  template void sweep<S, I>(const CsrView<S, I>&, const S*, const S*, S*, Index, S, Direction, \
                            Index, const Coloring*);                                           \
  template double residual<S, I>(const CsrView<S, I>&, const S*, const S*, S*, Index);        \
  template SolveReport solve<S, I>(const CsrView<S, I>&, const S*, S*, Index,                 \
                                   const SolveOptions&, const Coloring*);                      \
  template SolveReport solve<S, I>(const CsrView<S, I>&, const S*, const S*, S*, Index,       \
                                   const SolveOptions&, const Coloring*);                      \
  template void ssor_apply<S, I>(const CsrView<S, I>&, const S*, S, const S*, S*, Index);     \
  template SolveReport ssor_pcg<S, I>(const CsrView<S, I>&, const S*, S*, const SolveOptions&); \
  template SolveReport ssor_pcg<S, I>(const CsrView<S, I>&, const S*, const S*, S*,           \
                                      const SolveOptions&);                                    \
  template class SorIteration<S, I>;                                                           \
  template class SsorPcgIteration<S, I>;

ADASOLVE_SOR_INSTANTIATE(float, std::int32_t)
ADASOLVE_SOR_INSTANTIATE(double, std::int32_t)
ADASOLVE_SOR_INSTANTIATE(float, std::int64_t)
ADASOLVE_SOR_INSTANTIATE(double, std::int64_t)

template double norm2<float>(const float*, Index, Index);
template double norm2<double>(const double*, Index, Index);
template Coloring greedy_coloring<std::int32_t>(Index, const std::int32_t*, const std::int32_t*);
template Coloring greedy_coloring<std::int64_t>(Index, const std::int64_t*, const std::int64_t*);

}  // namespace adasolve::sor
