// SOR / SSOR kernels. The sweeps are memory-bound: each stored entry is read once
// per half-sweep, the diagonal is not split out (x_i += w (b_i - sum_j a_ij x_j) / a_ii
// over the whole row equals the textbook update, and saves the per-entry j == i test),
// and the in-sweep residual b_i - sum_j a_ij x_j comes for free, which drives the
// stopping test and the adaptive omega without extra passes over A.
#include "adasolve/sor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve::sor {

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define ADA_RESTRICT __restrict__
#else
#define ADA_RESTRICT
#endif

// One row, one right-hand side, entries visited from the end of the row: in a
// forward sweep the just-updated x_{i-1} then enters the sum last, so the
// loop-carried dependency between consecutive rows is one FMA long instead of
// the whole row (the sweep is latency-bound otherwise).
template <class Scalar, class Idx>
inline Scalar row1_rev(const Idx* ADA_RESTRICT indptr, const Idx* ADA_RESTRICT indices,
                       const Scalar* ADA_RESTRICT data, const Scalar* ADA_RESTRICT inv_diag,
                       Scalar* ADA_RESTRICT x, const Scalar* ADA_RESTRICT b, Scalar w, Index i) {
  Scalar s = b[i];
  const Idx beg = indptr[i];
  for (Idx jj = indptr[i + 1] - 1; jj >= beg; --jj) s -= data[jj] * x[indices[jj]];
  x[i] += w * s * inv_diag[i];
  return s;
}

// One row, one right-hand side. Returns the in-sweep residual.
template <class Scalar, class Idx>
inline Scalar row1(const Idx* ADA_RESTRICT indptr, const Idx* ADA_RESTRICT indices,
                   const Scalar* ADA_RESTRICT data, const Scalar* ADA_RESTRICT inv_diag,
                   Scalar* ADA_RESTRICT x, const Scalar* ADA_RESTRICT b, Scalar w, Index i) {
  Scalar s = b[i];
  const Idx end = indptr[i + 1];
  for (Idx jj = indptr[i]; jj < end; ++jj) s -= data[jj] * x[indices[jj]];
  x[i] += w * s * inv_diag[i];
  return s;
}

// One row, k right-hand sides (row-major); acc has k entries, psum accumulates squares.
template <class Scalar, class Idx>
inline void rowk(const Idx* ADA_RESTRICT indptr, const Idx* ADA_RESTRICT indices,
                 const Scalar* ADA_RESTRICT data, const Scalar* ADA_RESTRICT inv_diag,
                 Scalar* ADA_RESTRICT x, const Scalar* ADA_RESTRICT b, Scalar w, Index i,
                 Index k, Scalar* ADA_RESTRICT acc, double* ADA_RESTRICT psum) {
  const Scalar* bi = b + i * k;
  for (Index c = 0; c < k; ++c) acc[c] = bi[c];
  for (Idx jj = indptr[i]; jj < indptr[i + 1]; ++jj) {
    const Scalar a = data[jj];
    const Scalar* xj = x + static_cast<Index>(indices[jj]) * k;
    for (Index c = 0; c < k; ++c) acc[c] -= a * xj[c];
  }
  const Scalar f = w * inv_diag[i];
  Scalar* xi = x + i * k;
  for (Index c = 0; c < k; ++c) {
    xi[c] += f * acc[c];
    psum[c] += static_cast<double>(acc[c]) * acc[c];
  }
}

template <class Scalar, class Idx>
void half_natural(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x,
                  const Scalar* b, Index k, Scalar w, bool forward, double* psum) {
  const Index n = A.n_rows;
  const Idx* ADA_RESTRICT indptr = A.indptr;
  const Idx* ADA_RESTRICT indices = A.indices;
  const Scalar* ADA_RESTRICT data = A.data;
  if (k == 1) {
    double ps = 0.0;
    if (forward) {
      for (Index i = 0; i < n; ++i) {
        const Scalar s = row1_rev(indptr, indices, data, inv_diag, x, b, w, i);
        ps += static_cast<double>(s) * s;
      }
    } else {
      for (Index i = n - 1; i >= 0; --i) {
        const Scalar s = row1(indptr, indices, data, inv_diag, x, b, w, i);
        ps += static_cast<double>(s) * s;
      }
    }
    psum[0] = ps;
    return;
  }
  std::vector<Scalar> acc(k);
  std::fill(psum, psum + k, 0.0);
  if (forward) {
    for (Index i = 0; i < n; ++i) rowk(indptr, indices, data, inv_diag, x, b, w, i, k, acc.data(), psum);
  } else {
    for (Index i = n - 1; i >= 0; --i) rowk(indptr, indices, data, inv_diag, x, b, w, i, k, acc.data(), psum);
  }
}

template <class Scalar, class Idx>
void half_colored(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x,
                  const Scalar* b, Index k, Scalar w, bool forward, const Coloring& col,
                  double* psum) {
  const Idx* indptr = A.indptr;
  const Idx* indices = A.indices;
  const Scalar* data = A.data;
  const Index nc = col.n_colors();
  std::fill(psum, psum + k, 0.0);
  for (Index cc = 0; cc < nc; ++cc) {
    const Index c = forward ? cc : nc - 1 - cc;
    const Index lo = col.ptr[c], hi = col.ptr[c + 1];
    const Index* rows = col.rows.data();
    if (k == 1) {
      double ps = 0.0;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(+ : ps) if (hi - lo > 4096)
#endif
      for (Index t = lo; t < hi; ++t) {
        const Scalar s = row1(indptr, indices, data, inv_diag, x, b, w, rows[t]);
        ps += static_cast<double>(s) * s;
      }
      psum[0] += ps;
    } else {
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel if (hi - lo > 4096)
#endif
      {
        std::vector<Scalar> acc(k);
        std::vector<double> local(k, 0.0);
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (Index t = lo; t < hi; ++t)
          rowk(indptr, indices, data, inv_diag, x, b, w, rows[t], k, acc.data(), local.data());
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp critical
#endif
        for (Index c2 = 0; c2 < k; ++c2) psum[c2] += local[c2];
      }
    }
  }
}

}  // namespace

template <class Idx>
Coloring greedy_coloring(Index n, const Idx* indptr, const Idx* indices) {
  // Transposed pattern, so that rows i and j share no colour when a_ij or a_ji != 0.
  std::vector<Index> tptr(n + 1, 0);
  const Index nnz = indptr[n];
  for (Index jj = 0; jj < nnz; ++jj) tptr[static_cast<Index>(indices[jj]) + 1]++;
  for (Index i = 0; i < n; ++i) tptr[i + 1] += tptr[i];
  std::vector<Index> tind(nnz), fill(tptr.begin(), tptr.end() - 1);
  for (Index i = 0; i < n; ++i)
    for (Idx jj = indptr[i]; jj < indptr[i + 1]; ++jj) tind[fill[indices[jj]]++] = i;
  std::vector<Index> color(n, -1), stamp;
  Index ncol = 0;
  for (Index i = 0; i < n; ++i) {
    auto mark = [&](Index j) {
      if (j == i) return;
      const Index cj = color[j];
      if (cj >= 0) stamp[cj] = i;
    };
    for (Idx jj = indptr[i]; jj < indptr[i + 1]; ++jj) mark(indices[jj]);
    for (Index jj = tptr[i]; jj < tptr[i + 1]; ++jj) mark(tind[jj]);
    Index c = 0;
    while (c < ncol && stamp[c] == i) ++c;
    if (c == ncol) {
      ++ncol;
      stamp.push_back(-1);
    }
    color[i] = c;
  }
  Coloring out;
  out.ptr.assign(ncol + 1, 0);
  for (Index i = 0; i < n; ++i) out.ptr[color[i] + 1]++;
  for (Index c = 0; c < ncol; ++c) out.ptr[c + 1] += out.ptr[c];
  out.rows.resize(n);
  std::vector<Index> pos(out.ptr.begin(), out.ptr.end() - 1);
  for (Index i = 0; i < n; ++i) out.rows[pos[color[i]]++] = i;
  return out;
}

template <class Scalar, class Idx>
std::vector<Scalar> inverse_diagonal(const CsrView<Scalar, Idx>& A) {
  require(A.n_rows == A.n_cols, "A must be square");
  std::vector<Scalar> inv(A.n_rows);
  for (Index i = 0; i < A.n_rows; ++i) {
    Scalar d = 0;
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj)
      if (static_cast<Index>(A.indices[jj]) == i) d += A.data[jj];
    require(d != Scalar(0), "A has a zero or missing diagonal entry at row " + std::to_string(i));
    inv[i] = Scalar(1) / d;
  }
  return inv;
}

template <class Scalar, class Idx>
void sweep(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x, const Scalar* b,
           Index k, double omega, Index iterations, Direction dir, const Coloring* coloring,
           double* pseudo) {
  std::vector<double> tmp(k);
  double* ps = pseudo ? pseudo : tmp.data();
  const Scalar w = static_cast<Scalar>(omega);
  for (Index it = 0; it < iterations; ++it) {
    auto half = [&](bool fwd) {
      if (coloring)
        half_colored(A, inv_diag, x, b, k, w, fwd, *coloring, ps);
      else
        half_natural(A, inv_diag, x, b, k, w, fwd, ps);
    };
    if (dir == Direction::Forward || dir == Direction::Symmetric) half(true);
    if (dir == Direction::Backward || dir == Direction::Symmetric) half(false);
  }
}

template <class Scalar, class Idx>
void residual_norms(const CsrView<Scalar, Idx>& A, const Scalar* x, const Scalar* b, Index k,
                    double* out) {
  const Index n = A.n_rows;
  if (k == 1) {
    double ss = 0.0;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(+ : ss) if (n > 20000)
#endif
    for (Index i = 0; i < n; ++i) {
      Scalar s = b[i];
      for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) s -= A.data[jj] * x[A.indices[jj]];
      ss += static_cast<double>(s) * s;
    }
    out[0] = std::sqrt(ss);
    return;
  }
  std::vector<double> ss(k, 0.0);
  std::vector<Scalar> acc(k);
  for (Index i = 0; i < n; ++i) {
    for (Index c = 0; c < k; ++c) acc[c] = b[i * k + c];
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) {
      const Scalar a = A.data[jj];
      const Scalar* xj = x + static_cast<Index>(A.indices[jj]) * k;
      for (Index c = 0; c < k; ++c) acc[c] -= a * xj[c];
    }
    for (Index c = 0; c < k; ++c) ss[c] += static_cast<double>(acc[c]) * acc[c];
  }
  for (Index c = 0; c < k; ++c) out[c] = std::sqrt(ss[c]);
}

namespace {
double scaled_max(const std::vector<double>& v, const double* target) {
  double m = 0.0;
  for (size_t c = 0; c < v.size(); ++c) {
    double s;
    if (!std::isfinite(v[c])) return std::numeric_limits<double>::infinity();
    if (target[c] > 0) s = v[c] / target[c];
    else s = v[c] > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    m = std::max(m, s);
  }
  return m;
}
}  // namespace

template <class Scalar, class Idx>
Report solve(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, Scalar* x, const Scalar* b,
             Index k, bool symmetric, const Coloring* coloring, Index maxiter,
             const double* target, SolveState& st) {
  require(maxiter >= 1, "maxiter must be >= 1");
  Report rep;
  std::vector<double> rn(k), ps(k);
  residual_norms(A, x, b, k, rn.data());
  double rmax = *std::max_element(rn.begin(), rn.end());
  if (st.r0 < 0) st.r0 = rmax;
  rep.resid = rmax;
  if (!std::isfinite(rmax)) {
    rep.info = -1;
    return rep;
  }
  if (scaled_max(rn, target) <= 1.0) return rep;
  const Direction dir = symmetric ? Direction::Symmetric : Direction::Forward;
  const double blowup = 1e10 * std::max(st.r0, std::numeric_limits<double>::min());
  Index last_check = 0;
  for (Index it = 1; it <= maxiter; ++it) {
    sweep(A, inv_diag, x, b, k, st.omega, 1, dir, coloring, ps.data());
    ++st.total;
    ++st.since_change;
    rep.nit = it;
    for (auto& v : ps) v = std::sqrt(v);
    const double pn = *std::max_element(ps.begin(), ps.end());
    if (!std::isfinite(pn) || pn > blowup) {
      residual_norms(A, x, b, k, rn.data());
      rep.resid = *std::max_element(rn.begin(), rn.end());
      rep.info = -1;
      return rep;
    }
    // Adaptive omega: the asymptotic per-sweep reduction ratio lambda of SOR(omega)
    // gives the Jacobi spectral radius mu through Young's relation
    // (lambda + w - 1)^2 = lambda w^2 mu^2 (consistently ordered A); then
    // w_opt = 2 / (1 + sqrt(1 - mu^2)). Only once the ratio has settled, and
    // only upwards: below w_opt lambda is real and the estimate of mu is a lower bound.
    if (st.adaptive) {
      // Windowed geometric-mean ratio over m sweeps; two consecutive windows must
      // agree (the asymptotic regime) before omega moves.
      const Index m = 8;
      if (st.since_change % m == 0) {
        if (st.prev_pseudo > 0) {
          const double ratio = std::pow(pn / st.prev_pseudo, 1.0 / m);
          const double w = st.omega;
          if (st.since_change >= 2 * m && ratio < 1.0 && std::fabs(ratio - st.rate) < 0.002 &&
              ratio > w - 1.0 + 1e-3) {
            double mu2 = (ratio + w - 1.0) * (ratio + w - 1.0) / (ratio * w * w);
            mu2 = std::min(mu2, 1.0 - 1e-12);
            double wn = 2.0 / (1.0 + std::sqrt(1.0 - mu2));
            wn = std::min(wn, 2.0 - 1e-6);
            if (wn > w + 1e-3) {
              st.omega = wn;
              st.since_change = 0;
            }
          }
          st.rate = ratio;
        }
        st.prev_pseudo = pn;
      }
    }
    const double sp = scaled_max(ps, target);
    const bool due = sp * st.q <= 1.0 || it == maxiter ||
                     (it - last_check) >= std::max<Index>(8, st.total / 4);
    if (!due) continue;
    last_check = it;
    residual_norms(A, x, b, k, rn.data());
    rep.resid = *std::max_element(rn.begin(), rn.end());
    const double sr = scaled_max(rn, target);
    if (!std::isfinite(sr)) {
      rep.info = -1;
      return rep;
    }
    if (sp > 0) st.q = std::max(sr / sp, 1e-3);
    if (sr <= 1.0) return rep;
  }
  rep.info = static_cast<int>(std::min<Index>(rep.nit, std::numeric_limits<int>::max()));
  return rep;
}

template <class Scalar, class Idx>
void ssor_apply(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, double omega,
                const Scalar* r, Scalar* z, Index k) {
  std::fill(z, z + A.n_rows * k, Scalar(0));
  sweep(A, inv_diag, z, r, k, omega, 1, Direction::Symmetric, nullptr, nullptr);
}

namespace {
template <class Scalar, class Idx>
void spmv(const CsrView<Scalar, Idx>& A, const Scalar* x, Scalar* y) {
  const Index n = A.n_rows;
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n > 20000)
#endif
  for (Index i = 0; i < n; ++i) {
    Scalar s = 0;
    for (Idx jj = A.indptr[i]; jj < A.indptr[i + 1]; ++jj) s += A.data[jj] * x[A.indices[jj]];
    y[i] = s;
  }
}
template <class Scalar>
double dot(const Scalar* a, const Scalar* b, Index n) {
  double s = 0;
  for (Index i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}
}  // namespace

template <class Scalar, class Idx>
Report ssor_pcg(const CsrView<Scalar, Idx>& A, const Scalar* inv_diag, double omega,
                const Scalar* b, Scalar* x, Index maxiter, double target, CgState<Scalar>& st) {
  require(maxiter >= 1, "maxiter must be >= 1");
  const Index n = A.n_rows;
  Report rep;
  if (!st.started) {
    st.r.assign(n, 0);
    st.z.assign(n, 0);
    st.p.assign(n, 0);
    st.q.assign(n, 0);
    spmv(A, x, st.q.data());
    for (Index i = 0; i < n; ++i) st.r[i] = b[i] - st.q[i];
    st.r0 = std::sqrt(dot(st.r.data(), st.r.data(), n));
    rep.resid = st.r0;
    if (!std::isfinite(st.r0)) {
      rep.info = -1;
      return rep;
    }
    if (st.r0 <= target) return rep;
    ssor_apply(A, inv_diag, omega, st.r.data(), st.z.data(), 1);
    st.p = st.z;
    st.rz = dot(st.r.data(), st.z.data(), n);
    st.started = true;
  }
  for (Index it = 1; it <= maxiter; ++it) {
    rep.nit = it;
    spmv(A, st.p.data(), st.q.data());
    const double pq = dot(st.p.data(), st.q.data(), n);
    if (!(pq > 0) || !std::isfinite(pq) || !(st.rz > 0)) {
      rep.info = -1;  // A (or M) not positive definite, or non-finite values
      rep.resid = std::sqrt(dot(st.r.data(), st.r.data(), n));
      return rep;
    }
    const Scalar alpha = static_cast<Scalar>(st.rz / pq);
    for (Index i = 0; i < n; ++i) {
      x[i] += alpha * st.p[i];
      st.r[i] -= alpha * st.q[i];
    }
    const double rn = std::sqrt(dot(st.r.data(), st.r.data(), n));
    rep.resid = rn;
    if (!std::isfinite(rn)) {
      rep.info = -1;
      return rep;
    }
    if (rn <= target) return rep;
    ssor_apply(A, inv_diag, omega, st.r.data(), st.z.data(), 1);
    const double rz = dot(st.r.data(), st.z.data(), n);
    const Scalar beta = static_cast<Scalar>(rz / st.rz);
    st.rz = rz;
    for (Index i = 0; i < n; ++i) st.p[i] = st.z[i] + beta * st.p[i];
  }
  rep.info = static_cast<int>(std::min<Index>(rep.nit, std::numeric_limits<int>::max()));
  return rep;
}

#define ADA_SOR_INST(S, I)                                                                      \
  template std::vector<S> inverse_diagonal<S, I>(const CsrView<S, I>&);                         \
  template void sweep<S, I>(const CsrView<S, I>&, const S*, S*, const S*, Index, double, Index, \
                            Direction, const Coloring*, double*);                               \
  template Report solve<S, I>(const CsrView<S, I>&, const S*, S*, const S*, Index, bool,        \
                              const Coloring*, Index, const double*, SolveState&);              \
  template void residual_norms<S, I>(const CsrView<S, I>&, const S*, const S*, Index, double*); \
  template void ssor_apply<S, I>(const CsrView<S, I>&, const S*, double, const S*, S*, Index);  \
  template Report ssor_pcg<S, I>(const CsrView<S, I>&, const S*, double, const S*, S*, Index,   \
                                 double, CgState<S>&);

ADA_SOR_INST(double, std::int32_t)
ADA_SOR_INST(double, std::int64_t)
ADA_SOR_INST(float, std::int32_t)
ADA_SOR_INST(float, std::int64_t)
template Coloring greedy_coloring<std::int32_t>(Index, const std::int32_t*, const std::int32_t*);
template Coloring greedy_coloring<std::int64_t>(Index, const std::int64_t*, const std::int64_t*);

}  // namespace adasolve::sor
