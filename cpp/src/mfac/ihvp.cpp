// M-FAC cores: blocked Gram / Cholesky precomputation and streaming IHVP passes.
#include "adasolve/mfac.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve::mfac {

namespace {

// Column chunk of the streaming passes: a chunk of V (and of the double accumulators of the
// second pass) stays in L1/L2 while the m rows of G stream through once.
constexpr Index kChunk = 16384;
// Column chunk of the Gram GEMMs: products are summed in Scalar within a chunk, in double across.
constexpr Index kGramChunk = 1024;

// Streaming passes below this many entries of G run on one thread: a parallel region costs a
// wake-up of every thread, which dominates small passes (and more so on a loaded machine).
constexpr Index kParallelMinEntries = Index(1) << 22;

int n_threads(bool parallel) {
#ifdef ADASOLVE_HAVE_OPENMP
  return parallel ? omp_get_max_threads() : 1;
#else
  (void)parallel;
  return 1;
#endif
}

int thread_id() {
#ifdef ADASOLVE_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

bool in_parallel_region() {
#ifdef ADASOLVE_HAVE_OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

// Ctrl-C for the long precomputations (Gram matrices, diag, element tables): their loops run
// in waves of parallel work, and the interrupt hook is polled between waves, on the calling
// thread, never inside a parallel region (a kernel called from inside one does not poll; the
// enclosing loop does).
class WavePoll {
 public:
  WavePoll() : active_(!in_parallel_region()), check_(1.0) {}
  void operator()() {
    if (active_) check_();
  }

 private:
  bool active_;
  InterruptCheck check_;
};

// Items [0, n) of about `item_flops` each, `nt` threads: how many items per wave (~50 ms).
Index wave_size(Index n, double item_flops, int nt) {
  const double per_thread = std::max(1.0, 2e8 / std::max(1.0, item_flops));
  return std::max<Index>(1, std::min<Index>(n, static_cast<Index>(per_thread) * nt));
}

// Dot product accumulated in double with independent lanes (hides the FMA latency).
template <class Scalar>
inline double dot_acc(const Scalar* a, const Scalar* b, Index n) {
  double s[16] = {0};
  Index t = 0;
  for (; t + 16 <= n; t += 16) {
#pragma omp simd
    for (int l = 0; l < 16; ++l) s[l] += double(a[t + l]) * double(b[t + l]);
  }
  double r = 0;
  for (; t < n; ++t) r += double(a[t]) * double(b[t]);
  for (int l = 0; l < 16; ++l) r += s[l];
  return r;
}

#ifdef __AVX2__
inline double hsum(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

template <>
inline double dot_acc<float>(const float* a, const float* b, Index n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  Index t = 0;
  for (; t + 16 <= n; t += 16) {
    __m256 a0 = _mm256_loadu_ps(a + t), a1 = _mm256_loadu_ps(a + t + 8);
    __m256 b0 = _mm256_loadu_ps(b + t), b1 = _mm256_loadu_ps(b + t + 8);
    s0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a0)),
                         _mm256_cvtps_pd(_mm256_castps256_ps128(b0)), s0);
    s1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a0, 1)),
                         _mm256_cvtps_pd(_mm256_extractf128_ps(b0, 1)), s1);
    s2 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a1)),
                         _mm256_cvtps_pd(_mm256_castps256_ps128(b1)), s2);
    s3 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a1, 1)),
                         _mm256_cvtps_pd(_mm256_extractf128_ps(b1, 1)), s3);
  }
  double r = hsum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  for (; t < n; ++t) r += double(a[t]) * double(b[t]);
  return r;
}

template <>
inline double dot_acc<double>(const double* a, const double* b, Index n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  Index t = 0;
  for (; t + 16 <= n; t += 16) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + t), _mm256_loadu_pd(b + t), s0);
    s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + t + 4), _mm256_loadu_pd(b + t + 4), s1);
    s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a + t + 8), _mm256_loadu_pd(b + t + 8), s2);
    s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a + t + 12), _mm256_loadu_pd(b + t + 12), s3);
  }
  double r = hsum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  for (; t < n; ++t) r += a[t] * b[t];
  return r;
}
#endif

// Split [0, n) in `parts` contiguous ranges (deterministic reduction order).
inline void split(Index n, int parts, int p, Index& lo, Index& hi) {
  Index q = n / parts, r = n % parts;
  lo = p * q + std::min<Index>(p, r);
  hi = lo + q + (p < r ? 1 : 0);
}

template <class Scalar>
using ConstBlockMap =
    Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
               Eigen::OuterStride<>>;

void check_finite_matrix(const MatrixXdR& A, const char* what) {
  if (!A.allFinite())
    throw std::invalid_argument(std::string("mfac: ") + what +
                                " is not finite (gradients too large: their products overflow)");
}

}  // namespace

// ------------------------------------------------------------------------------------------
// kernels
// ------------------------------------------------------------------------------------------

template <class Scalar>
void gram(const Scalar* G, Index m, Index w, Index ld, double* out, bool parallel) {
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  const Index nchunks = (w + kGramChunk - 1) / kGramChunk;
  const int nt = static_cast<int>(std::min<Index>(n_threads(parallel), std::max<Index>(nchunks, 1)));
  std::vector<MatrixXdR> partial(nt, MatrixXdR::Zero(m, m));
  WavePoll poll;
  const Index wave = wave_size(nchunks, double(m) * double(m) * double(kGramChunk), nt);
  for (Index w0 = 0; w0 < nchunks; w0 += wave) {
    poll();
    const Index nw = std::min(wave, nchunks - w0);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int p = thread_id();
      Index lo, hi;
      split(nw, nt, p, lo, hi);
      Mat P(m, m);
      MatrixXdR& acc = partial[p];
      for (Index c = w0 + lo; c < w0 + hi; ++c) {
        const Index c0 = c * kGramChunk, cw = std::min(kGramChunk, w - c0);
        ConstBlockMap<Scalar> Gc(G + c0, m, cw, Eigen::OuterStride<>(ld));
        P.setZero();
        P.template selfadjointView<Eigen::Lower>().rankUpdate(Gc);
        acc.template triangularView<Eigen::Lower>() +=
            P.template triangularView<Eigen::Lower>().toDenseMatrix().template cast<double>();
      }
    }
  }
  Eigen::Map<MatrixXdR> O(out, m, m);
  O.setZero();
  for (int p = 0; p < nt; ++p) O += partial[p];
  O.template triangularView<Eigen::StrictlyUpper>() = O.transpose();
}

// Dot products of rows i..i+R-1 of a column chunk with one vector, accumulated in double.
template <int R, class Scalar>
inline void dot_rows(const Scalar* const* g, const Scalar* v, Index n, double* out) {
  double s[R][4] = {};
  Index t = 0;
  for (; t + 4 <= n; t += 4) {
    double vv[4];
#pragma omp simd
    for (int l = 0; l < 4; ++l) vv[l] = double(v[t + l]);
    for (int r = 0; r < R; ++r) {
#pragma omp simd
      for (int l = 0; l < 4; ++l) s[r][l] += double(g[r][t + l]) * vv[l];
    }
  }
  for (int r = 0; r < R; ++r) {
    double acc = (s[r][0] + s[r][1]) + (s[r][2] + s[r][3]);
    for (Index u = t; u < n; ++u) acc += double(g[r][u]) * double(v[u]);
    out[r] += acc;
  }
}

#ifdef __AVX2__
// float rows, double accumulation: 4-column loads widened by vcvtps2pd straight from memory.
template <>
inline void dot_rows<4, float>(const float* const* g, const float* v, Index n, double* out) {
  __m256d s[4][2];
  for (int r = 0; r < 4; ++r) s[r][0] = s[r][1] = _mm256_setzero_pd();
  Index t = 0;
  for (; t + 8 <= n; t += 8) {
    const __m256d v0 = _mm256_cvtps_pd(_mm_loadu_ps(v + t));
    const __m256d v1 = _mm256_cvtps_pd(_mm_loadu_ps(v + t + 4));
    for (int r = 0; r < 4; ++r) {
      s[r][0] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(g[r] + t)), v0, s[r][0]);
      s[r][1] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(g[r] + t + 4)), v1, s[r][1]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    double acc = hsum(_mm256_add_pd(s[r][0], s[r][1]));
    for (Index u = t; u < n; ++u) acc += double(g[r][u]) * double(v[u]);
    out[r] += acc;
  }
}

// Rows r < 4 against two vectors at once (the sliding step's g and v): each row segment is
// loaded and widened once for both dot products.
inline void dot_rows2_4(const float* const* g, const float* v0p, const float* v1p, Index n,
                        double* out0, double* out1) {
  __m256d s0[4], s1[4];
  for (int r = 0; r < 4; ++r) s0[r] = s1[r] = _mm256_setzero_pd();
  Index t = 0;
  for (; t + 4 <= n; t += 4) {
    const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(v0p + t));
    const __m256d b = _mm256_cvtps_pd(_mm_loadu_ps(v1p + t));
    for (int r = 0; r < 4; ++r) {
      const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(g[r] + t));
      s0[r] = _mm256_fmadd_pd(x, a, s0[r]);
      s1[r] = _mm256_fmadd_pd(x, b, s1[r]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    double a0 = hsum(s0[r]), a1 = hsum(s1[r]);
    for (Index u = t; u < n; ++u) {
      a0 += double(g[r][u]) * double(v0p[u]);
      a1 += double(g[r][u]) * double(v1p[u]);
    }
    out0[r] += a0;
    out1[r] += a1;
  }
}

// a[t] -= sum_r e[r] * g[r][t] in double for 4 float rows.
inline void axpy4(const float* g0, const float* g1, const float* g2, const float* g3,
                  const double* e, double* a, Index n) {
  const __m256d e0 = _mm256_set1_pd(e[0]), e1 = _mm256_set1_pd(e[1]);
  const __m256d e2 = _mm256_set1_pd(e[2]), e3 = _mm256_set1_pd(e[3]);
  Index t = 0;
  for (; t + 4 <= n; t += 4) {
    __m256d x = _mm256_mul_pd(e0, _mm256_cvtps_pd(_mm_loadu_ps(g0 + t)));
    __m256d y = _mm256_mul_pd(e1, _mm256_cvtps_pd(_mm_loadu_ps(g1 + t)));
    x = _mm256_fmadd_pd(e2, _mm256_cvtps_pd(_mm_loadu_ps(g2 + t)), x);
    y = _mm256_fmadd_pd(e3, _mm256_cvtps_pd(_mm_loadu_ps(g3 + t)), y);
    _mm256_storeu_pd(a + t, _mm256_sub_pd(_mm256_loadu_pd(a + t), _mm256_add_pd(x, y)));
  }
  for (; t < n; ++t)
    a[t] -= (e[0] * double(g0[t]) + e[1] * double(g1[t])) + (e[2] * double(g2[t]) + e[3] * double(g3[t]));
}
#endif

template <class Scalar>
inline void axpy4(const Scalar* g0, const Scalar* g1, const Scalar* g2, const Scalar* g3,
                  const double* e, double* a, Index n) {
  const double e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3];
#pragma omp simd
  for (Index t = 0; t < n; ++t)
    a[t] -= (e0 * double(g0[t]) + e1 * double(g1[t])) + (e2 * double(g2[t]) + e3 * double(g3[t]));
}

template <class Scalar>
void grads_dot(Scalar* G, Index m, Index w, Index ld, const Scalar* const* V, Index k, double* Y,
               bool parallel, const Scalar* new_row, Index slot) {
  parallel = parallel && m * w * k >= kParallelMinEntries;
  const Index nchunks = (w + kChunk - 1) / kChunk;
  const int nt = static_cast<int>(std::min<Index>(n_threads(parallel), std::max<Index>(nchunks, 1)));
  // one partial result per chunk, summed in chunk order: deterministic with dynamic scheduling
  // (which keeps both cores busy when the machine is shared)
  std::vector<double> partial(static_cast<size_t>(nchunks) * k * m, 0.0);
#pragma omp parallel for num_threads(nt) schedule(dynamic) if (nt > 1)
  for (Index c = 0; c < nchunks; ++c) {
    const Index c0 = c * kChunk, cw = std::min(kChunk, w - c0);
    double* acc = partial.data() + c * k * m;
    if (new_row) std::memcpy(G + slot * ld + c0, new_row + c0, sizeof(Scalar) * cw);
    Index i = 0;
    for (; i + 4 <= m; i += 4) {
      const Scalar* g[4] = {G + i * ld + c0, G + (i + 1) * ld + c0, G + (i + 2) * ld + c0,
                            G + (i + 3) * ld + c0};
#ifdef __AVX2__
      if constexpr (std::is_same_v<Scalar, float>) {
        if (k == 2) {
          dot_rows2_4(g, V[0] + c0, V[1] + c0, cw, acc + i, acc + m + i);
          continue;
        }
      }
#endif
      for (Index j = 0; j < k; ++j) {
        double o[4] = {0, 0, 0, 0};
        dot_rows<4>(g, V[j] + c0, cw, o);
        for (int r = 0; r < 4; ++r) acc[j * m + i + r] += o[r];
      }
    }
    for (; i < m; ++i) {
      const Scalar* g[1] = {G + i * ld + c0};
      for (Index j = 0; j < k; ++j) dot_rows<1>(g, V[j] + c0, cw, acc + j * m + i);
    }
  }
  std::fill(Y, Y + k * m, 0.0);
  for (Index c = 0; c < nchunks; ++c)
    for (Index q = 0; q < k * m; ++q) Y[q] += partial[c * k * m + q];
}

template <class Scalar>
void grads_combine(const Scalar* G, Index m, Index w, Index ld, const double* C, Index k,
                   const Scalar* const* V, double scale, Scalar* const* X, bool parallel) {
  parallel = parallel && m * w * k >= kParallelMinEntries;
  const Index nchunks = (w + kChunk - 1) / kChunk;
  const int nt = static_cast<int>(std::min<Index>(n_threads(parallel), std::max<Index>(nchunks, 1)));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<double> acc(k * kChunk);
#pragma omp for schedule(dynamic)
    for (Index c = 0; c < nchunks; ++c) {
      const Index c0 = c * kChunk, cw = std::min(kChunk, w - c0);
      for (Index j = 0; j < k; ++j) {
        double* a = acc.data() + j * kChunk;
        const Scalar* v = V[j] + c0;
#pragma omp simd
        for (Index t = 0; t < cw; ++t) a[t] = double(v[t]);
      }
      // four rows per sweep over the accumulator: one load/store of it per four rows of G
      Index i = 0;
      for (; i + 4 <= m; i += 4) {
        const Scalar* g0 = G + i * ld + c0;
        const Scalar* g1 = g0 + ld;
        const Scalar* g2 = g1 + ld;
        const Scalar* g3 = g2 + ld;
        for (Index j = 0; j < k; ++j) {
          axpy4(g0, g1, g2, g3, C + j * m + i, acc.data() + j * kChunk, cw);
        }
      }
      for (; i < m; ++i) {
        const Scalar* gi = G + i * ld + c0;
        for (Index j = 0; j < k; ++j) {
          const double cji = C[j * m + i];
          double* a = acc.data() + j * kChunk;
#pragma omp simd
          for (Index t = 0; t < cw; ++t) a[t] -= cji * double(gi[t]);
        }
      }
      for (Index j = 0; j < k; ++j) {
        const double* a = acc.data() + j * kChunk;
        Scalar* x = X[j] + c0;
#pragma omp simd
        for (Index t = 0; t < cw; ++t) x[t] = static_cast<Scalar>(a[t] * scale);
      }
    }
  }
}

template <class Scalar>
void column_quadforms(const Scalar* G, Index m, Index w, Index ld, const MatrixXdR& L, double* out,
                      bool parallel) {
  const Index nchunks = (w + kGramChunk - 1) / kGramChunk;
  const int nt = static_cast<int>(std::min<Index>(n_threads(parallel), std::max<Index>(nchunks, 1)));
  WavePoll poll;
  const Index wave = wave_size(nchunks, double(m) * double(m) * double(kGramChunk), nt);
  for (Index w0 = 0; w0 < nchunks; w0 += wave) {
    poll();
    const Index w1 = std::min(nchunks, w0 + wave);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      Eigen::MatrixXd W(m, kGramChunk);
#pragma omp for schedule(static)
      for (Index c = w0; c < w1; ++c) {
        const Index c0 = c * kGramChunk, cw = std::min(kGramChunk, w - c0);
        ConstBlockMap<Scalar> Gc(G + c0, m, cw, Eigen::OuterStride<>(ld));
        auto Wc = W.leftCols(cw);
        Wc = Gc.template cast<double>();
        L.template triangularView<Eigen::Lower>().solveInPlace(Wc);
        for (Index t = 0; t < cw; ++t) out[c0 + t] = Wc.col(t).squaredNorm();
      }
    }
  }
}

template <class Scalar>
void column_solves(const Scalar* G, Index m, Index w, Index ld, const MatrixXdR& L, double* W,
                   bool parallel) {
  const Index nchunks = (w + kGramChunk - 1) / kGramChunk;
  const int nt = static_cast<int>(std::min<Index>(n_threads(parallel), std::max<Index>(nchunks, 1)));
  WavePoll poll;
  const Index wave = wave_size(nchunks, double(m) * double(m) * double(kGramChunk), nt);
  for (Index w0 = 0; w0 < nchunks; w0 += wave) {
    poll();
    const Index w1 = std::min(nchunks, w0 + wave);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (Index c = w0; c < w1; ++c) {
      const Index c0 = c * kGramChunk, cw = std::min(kGramChunk, w - c0);
      ConstBlockMap<Scalar> Gc(G + c0, m, cw, Eigen::OuterStride<>(ld));
      // column-major m x cw view of W's rows c0..c0+cw: column t is w_{c0+t}, contiguous
      Eigen::Map<Eigen::MatrixXd> Wc(W + c0 * m, m, cw);
      Wc = Gc.template cast<double>();
      L.template triangularView<Eigen::Lower>().solveInPlace(Wc);
    }
  }
}

// ------------------------------------------------------------------------------------------
// shared block operations
// ------------------------------------------------------------------------------------------
namespace {

// Preconditions of the C++ API. Python callers never reach them with bad values (the Python
// layer applies adasolve._device.check_damp and its shape checks first, with messages naming
// the argument); they remain for C++ callers, who have no other check.
void validate(Index m, Index d, double damp) {
  require(m >= 1, "mfac: the number of gradients m must be >= 1, got " + std::to_string(m));
  require(d >= 1, "mfac: the dimension d must be >= 1, got " + std::to_string(d));
  require(std::isfinite(damp) && damp > 0,
          "mfac: damp must be a finite number > 0, got " + std::to_string(damp));
}

// Dual factor from the Gram matrix: Cholesky of K = m*damp*I + GG^T. False when the
// factorization fails (K not numerically positive definite: damp too small for the scale of
// the gradients); non-finite input throws.
bool factor_dual(const MatrixXdR& gram, Index m, double damp, BlockFactor& f) {
  check_finite_matrix(gram, "the Gram matrix G G^T");
  MatrixXdR K = gram;
  K.diagonal().array() += double(m) * damp;
  Eigen::LLT<MatrixXdR> llt(K);
  if (llt.info() != Eigen::Success) return false;
  MatrixXdR L = llt.matrixL();
  // Eigen's LLT reports success for tiny or denormal pivots; a factor that cannot be solved
  // with counts as a failure too
  if (!L.allFinite() || !(L.diagonal().array() > 0).all()) return false;
  f.dual = true;
  f.L = std::move(L);
  f.Ainv.resize(0, 0);
  return true;
}

// Primal factor from A = G_b^T G_b: inverse of damp*I + A/m. False when the factorization fails.
bool factor_primal(const MatrixXdR& A, Index m, double damp, BlockFactor& f) {
  check_finite_matrix(A, "the block matrix G_b^T G_b");
  MatrixXdR F = A / double(m);
  F.diagonal().array() += damp;
  Eigen::LLT<MatrixXdR> llt(F);
  if (llt.info() != Eigen::Success) return false;
  MatrixXdR Ainv = llt.solve(MatrixXdR::Identity(A.rows(), A.cols()));
  if (!Ainv.allFinite()) return false;
  f.dual = false;
  f.Ainv = std::move(Ainv);
  // exactly symmetric, so that element(i, j) == element(j, i)
  f.Ainv = (0.5 * (f.Ainv + f.Ainv.transpose())).eval();
  f.L.resize(0, 0);
  return true;
}

// Automatic damping: how many times damp may be multiplied by the growth factor before giving
// up (with the default growth 10: 1e30 times the initial damp; beyond that the gradients are
// not the problem).
constexpr int kMaxDampRaises = 30;

[[noreturn]] void throw_factorization_failed(double damp, bool auto_damp) {
  throw std::invalid_argument(
      std::string("mfac: Cholesky factorization of m*damp*I + G G^T failed with damp = ") +
      std::to_string(damp) +
      (auto_damp ? " after raising damp the maximum number of times"
                 : " (damp too small for the scale of the gradients; raise damp or enable "
                   "automatic damping)"));
}

template <class Scalar>
MatrixXdR block_as_double(const Scalar* Gb, Index m, Index w, Index ld) {
  return ConstBlockMap<Scalar>(Gb, m, w, Eigen::OuterStride<>(ld)).template cast<double>();
}

// X = F_b^{-1} V for one block. Gb: block's first column; Vb/Xb: k pointers at the block.
// `Y` (k x m, from the first pass) may be given to skip that pass.
template <class Scalar>
void apply_block(const Scalar* Gb, Index m, Index w, Index ld, const BlockFactor& f, double damp,
                 const Scalar* const* Vb, Index k, Scalar* const* Xb, bool parallel,
                 const double* Y = nullptr) {
  if (f.dual) {
    MatrixXdR C(k, m);
    if (Y)
      C = Eigen::Map<const MatrixXdR>(Y, k, m);
    else
      grads_dot(const_cast<Scalar*>(Gb), m, w, ld, Vb, k, C.data(), parallel);
    // C <- (K^{-1} Y^T)^T
    MatrixXdR Ct = C.transpose();
    f.L.template triangularView<Eigen::Lower>().solveInPlace(Ct);
    f.L.transpose().template triangularView<Eigen::Upper>().solveInPlace(Ct);
    C = Ct.transpose();
    grads_combine(Gb, m, w, ld, C.data(), k, Vb, 1.0 / damp, Xb, parallel);
  } else {
    Eigen::VectorXd v(w), x(w);
    for (Index j = 0; j < k; ++j) {
      for (Index t = 0; t < w; ++t) v[t] = double(Vb[j][t]);
      x.noalias() = f.Ainv * v;
      for (Index t = 0; t < w; ++t) Xb[j][t] = static_cast<Scalar>(x[t]);
    }
  }
}

int threads_available() { return n_threads(true); }

// Blocks in parallel (one thread each) pay off only with several blocks per thread;
// otherwise the threads split each block's passes over d instead.
bool blocks_in_parallel(const BlockLayout& layout) {
  return layout.count() >= 4 * Index(threads_available()) && threads_available() > 1;
}

// body(b) for every block b < nb: with `outer`, blocks in parallel (one thread each) in waves,
// Ctrl-C polled between waves and a block's exception re-thrown after its wave; otherwise one
// block after the other, each block's kernels using the threads and polling Ctrl-C themselves.
template <class F>
void for_each_block(Index nb, bool outer, double block_flops, F&& body) {
  if (!outer) {
    for (Index b = 0; b < nb; ++b) body(b);
    return;
  }
  WavePoll poll;
  const Index wave = wave_size(nb, block_flops, threads_available());
  std::string err;
  for (Index b0 = 0; b0 < nb; b0 += wave) {
    poll();
    const Index b1 = std::min(nb, b0 + wave);
#pragma omp parallel for schedule(dynamic)
    for (Index b = b0; b < b1; ++b) {
      try {
        body(b);
      } catch (const std::exception& e) {
#pragma omp critical
        err = e.what();
      }
    }
    if (!err.empty()) throw std::invalid_argument(err);
  }
}

// X = F^{-1} V for k vectors (rows of V, X), block by block. Shared by the static and
// sliding-window classes, which differ only in where the gradients live.
template <class Scalar>
void apply_blocks(const BlockLayout& layout, const Scalar* G, Index m, Index ld,
                  const std::vector<BlockFactor>& factors, double damp, const Scalar* V, Index k,
                  Scalar* X) {
  const Index d = layout.d, nb = layout.count();
  const bool outer = blocks_in_parallel(layout);
#pragma omp parallel for schedule(dynamic) if (outer)
  for (Index b = 0; b < nb; ++b) {
    const Index s = layout.start(b);
    std::vector<const Scalar*> Vb(k);
    std::vector<Scalar*> Xb(k);
    for (Index j = 0; j < k; ++j) {
      Vb[j] = V + j * d + s;
      Xb[j] = X + j * d + s;
    }
    apply_block(G + s, m, layout.width(b), ld, factors[b], damp, Vb.data(), k, Xb.data(), !outer);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------
// StaticIHVP
// ------------------------------------------------------------------------------------------

template <class Scalar>
StaticIHVP<Scalar>::StaticIHVP(const Scalar* grads, Index m, Index d, Index ld, double damp,
                               Index block_size, double damp_growth)
    : StaticIHVP(grads, m, ld, damp, (validate(m, d, damp), BlockLayout::uniform(d, block_size)),
                 damp_growth) {}

template <class Scalar>
StaticIHVP<Scalar>::StaticIHVP(const Scalar* grads, Index m, Index ld, double damp,
                               const BlockLayout& layout, double damp_growth)
    : G_(grads), m_(m), ld_(ld), damp_(damp), damp_growth_(damp_growth), layout_(layout) {
  const Index d = layout_.d;
  validate(m, d, damp);
  require(ld >= d, "mfac: row stride must be >= d");
  require(grads != nullptr, "mfac: grads is null");
  const Index nb = layout_.count();
  factors_.resize(nb);
  const bool outer = outer_parallel();
  const bool grow = damp_growth_ > 1.0;
  // Each block is factorized at damp_; a block that fails finds, on its own Gram matrix, the
  // smallest damp_ * growth^k that works. If any block needed more, every block is redone at
  // the largest such damp (one F for all blocks, one damp to report).
  std::vector<int> raises(nb, 0);
  for (int attempt = 0;; ++attempt) {
    const double dmp = damp_;
    for_each_block(nb, outer, double(m_) * double(m_) * double(layout_.block), [&](Index b) {
      const Index w = layout_.width(b);
      const Scalar* Gb = G_ + layout_.start(b);
      MatrixXdR A;
      if (w > m_) {
        A.resize(m_, m_);
        gram(Gb, m_, w, ld_, A.data(), !outer);
      } else {
        MatrixXdR Gd = block_as_double(Gb, m_, w, ld_);
        A.noalias() = Gd.transpose() * Gd;
      }
      double db = dmp;
      int k = 0;
      while (!(w > m_ ? factor_dual(A, m_, db, factors_[b]) : factor_primal(A, m_, db, factors_[b]))) {
        if (!grow || ++k > kMaxDampRaises) throw_factorization_failed(db, grow);
        db *= damp_growth_;
      }
      raises[b] = k;
    });
    const int need = *std::max_element(raises.begin(), raises.end());
    if (need == 0) break;
    require(attempt < kMaxDampRaises, "mfac: automatic damping did not converge");
    for (int k = 0; k < need; ++k) damp_ *= damp_growth_;
    damp_raises_ += need;
  }
}

template <class Scalar>
bool StaticIHVP<Scalar>::outer_parallel() const {
  return blocks_in_parallel(layout_);
}

template <class Scalar>
void StaticIHVP<Scalar>::ihvp(const Scalar* V, Index k, Scalar* X) const {
  apply_blocks(layout_, G_, m_, ld_, factors_, damp_, V, k, X);
}

template <class Scalar>
void StaticIHVP<Scalar>::quad(const Scalar* V, Index k, double* out) const {
  const Index d = layout_.d, nb = layout_.count();
  const bool outer = outer_parallel();
  MatrixXdR per(nb, k);
#pragma omp parallel for schedule(dynamic) if (outer)
  for (Index b = 0; b < nb; ++b) {
    const Index s = layout_.start(b), w = layout_.width(b);
    const BlockFactor& f = factors_[b];
    for (Index j = 0; j < k; ++j) {
      const Scalar* v = V + j * d + s;
      if (f.dual) {
        Eigen::VectorXd y(m_);
        grads_dot(const_cast<Scalar*>(G_ + s), m_, w, ld_, &v, 1, y.data(), !outer);
        f.L.template triangularView<Eigen::Lower>().solveInPlace(y);
        per(b, j) = (dot_acc(v, v, w) - y.squaredNorm()) / damp_;
      } else {
        Eigen::VectorXd vv(w);
        for (Index t = 0; t < w; ++t) vv[t] = double(v[t]);
        per(b, j) = vv.dot(f.Ainv * vv);
      }
    }
  }
  for (Index j = 0; j < k; ++j) out[j] = per.col(j).sum();
}

template <class Scalar>
void StaticIHVP<Scalar>::diag(double* out) {
  const Index nb = layout_.count();
  if (diag_.empty()) {
    std::vector<double> dg(layout_.d);
    const bool outer = outer_parallel();
    for_each_block(nb, outer, double(m_) * double(m_) * double(layout_.block), [&](Index b) {
      const Index s = layout_.start(b), w = layout_.width(b);
      const BlockFactor& f = factors_[b];
      if (f.dual) {
        column_quadforms(G_ + s, m_, w, ld_, f.L, dg.data() + s, !outer);
        for (Index t = 0; t < w; ++t) dg[s + t] = (1.0 - dg[s + t]) / damp_;
      } else {
        for (Index t = 0; t < w; ++t) dg[s + t] = f.Ainv(t, t);
      }
    });
    diag_.swap(dg);
  }
  std::copy(diag_.begin(), diag_.end(), out);
}

template <class Scalar>
void StaticIHVP<Scalar>::prepare_elements() {
  if (!wt_.empty()) return;
  const Index nb = layout_.count();
  std::vector<std::vector<double>> wt(nb);
  const bool outer = outer_parallel();
  for_each_block(nb, outer, double(m_) * double(m_) * double(layout_.block), [&](Index b) {
    const BlockFactor& f = factors_[b];
    if (!f.dual) return;
    const Index s = layout_.start(b), w = layout_.width(b);
    wt[b].resize(static_cast<size_t>(w) * static_cast<size_t>(m_));
    column_solves(G_ + s, m_, w, ld_, f.L, wt[b].data(), !outer);
  });
  wt_.swap(wt);
}

template <class Scalar>
double StaticIHVP<Scalar>::element(Index i, Index j) {
  const Index d = layout_.d;
  if (i < 0 || j < 0 || i >= d || j >= d)
    throw std::out_of_range("mfac: element index out of range for dimension " + std::to_string(d));
  const Index bi = layout_.find(i), bj = layout_.find(j);
  if (bi != bj) return 0.0;
  const BlockFactor& f = factors_[bi];
  const Index s = layout_.start(bi);
  if (!f.dual) return f.Ainv(i - s, j - s);
  prepare_elements();
  const double* wi = wt_[bi].data() + (i - s) * m_;
  const double* wj = wt_[bi].data() + (j - s) * m_;
  return ((i == j ? 1.0 : 0.0) - dot_acc(wi, wj, m_)) / damp_;
}

// ------------------------------------------------------------------------------------------
// SlidingIHVP
// ------------------------------------------------------------------------------------------
namespace {

constexpr Index kRefactorEvery = 32;

// Accuracy budget of the sliding window. An O(m^2) up/downdate of K = L L^T (or a rank-2
// change of G_b^T G_b) commits a rounding error of about eps * (size of the change), and an
// error dK moves F^{-1} v, relative to itself, by at most about |dK| / (m * damp) (m * damp is
// the smallest K can have). The sizes of the changes since the last exact factorization are
// summed per block, and the block is refactored from its exact Gram matrix before that bound
// can exceed kDriftTol. A window where one gradient is much larger than the others is thus
// refactored when it arrives and when it leaves (removing it by a downdate cancels
// catastrophically); with gradients small against m * damp the O(m^2) updates run for long.
// (A fresh factorization is only as accurate when K is well scaled, which is why no allowance
// proportional to |K| is made: measured, it let the window drift 1e-9 from a rebuild.)
constexpr double kDriftTol = 1e-12;
constexpr double kEps = 2.220446049250313e-16;

bool drift_exceeded(double drift, Index m, double damp) {
  return !(kEps * drift <= kDriftTol * double(m) * damp);
}

// K = L L^T (lower). Row and column s of K change from `old_col` to `new_col` (the diagonal
// entry included once): K' - K = e d^T + d e^T - d_s e e^T = e u^T + u e^T with
// u = d - (d_s/2) e, which is a a^T - b b^T for a, b = (alpha e +- u/alpha)/sqrt(2). The
// scale alpha = sqrt(|u|) balances the two terms so that |a|^2 + |b|^2 = 2|u| (with alpha = 1
// a large row change gives |a|^2 ~ |u|^2 and the downdate cancels catastrophically). One Givens
// update then one hyperbolic downdate: O(m^2). Adds 2|u| (the size of the change) to `mass`;
// returns false (L then unusable) when the downdate breaks down.
bool cholesky_replace_row(MatrixXdR& L, const Eigen::VectorXd& old_col,
                          const Eigen::Ref<const Eigen::VectorXd>& new_col, Index s,
                          double& mass) {
  Eigen::VectorXd u = new_col - old_col;
  u[s] *= 0.5;
  const double nu = u.norm();
  if (nu == 0.0) return true;
  if (!std::isfinite(nu)) return false;
  const double alpha = std::sqrt(nu);
  Eigen::VectorXd a = u / alpha, b = -u / alpha;
  a[s] += alpha;
  b[s] += alpha;
  const double r = std::sqrt(0.5);
  a *= r;
  b *= r;
  mass += 2.0 * nu;
  if (Eigen::internal::llt_rank_update_lower(L, a, 1.0) >= 0) return false;
  if (Eigen::internal::llt_rank_update_lower(L, b, -1.0) >= 0) return false;
  return L.allFinite() && (L.diagonal().array() > 0).all();
}

}  // namespace

template <class Scalar>
SlidingIHVP<Scalar>::SlidingIHVP(Index d, Index m, double damp, Index block_size, double damp_growth)
    : SlidingIHVP(m, damp, (validate(m, d, damp), BlockLayout::uniform(d, block_size)),
                  damp_growth) {}

template <class Scalar>
SlidingIHVP<Scalar>::SlidingIHVP(Index m, double damp, const BlockLayout& layout, double damp_growth)
    : m_(m), damp_(damp), damp_growth_(damp_growth), layout_(layout) {
  const Index d = layout_.d;
  validate(m, d, damp);
  G_.assign(static_cast<size_t>(m) * static_cast<size_t>(d), Scalar(0));
  const Index nb = layout_.count();
  gram_.resize(nb);
  factors_.resize(nb);
  drift_.assign(nb, 0.0);
  reset();
}

template <class Scalar>
bool SlidingIHVP<Scalar>::outer_parallel() const {
  return blocks_in_parallel(layout_);
}

template <class Scalar>
void SlidingIHVP<Scalar>::reset() {
  std::fill(G_.begin(), G_.end(), Scalar(0));
  slot_ = 0;
  count_ = 0;
  for (Index b = 0; b < layout_.count(); ++b) {
    const Index w = layout_.width(b);
    const Index n = w > m_ ? m_ : w;
    gram_[b] = MatrixXdR::Zero(n, n);
  }
  refactor_all();
}

template <class Scalar>
void SlidingIHVP<Scalar>::restore(const Scalar* G, Index slot, Index count) {
  require(slot >= 0 && slot < m_, "mfac: slot must be in [0, m), got " + std::to_string(slot));
  require(count >= 0, "mfac: count must be >= 0, got " + std::to_string(count));
  const Index d = layout_.d;
  std::copy(G, G + m_ * d, G_.begin());
  slot_ = slot;
  count_ = count;
  for (Index b = 0; b < layout_.count(); ++b) {
    const Index s = layout_.start(b), w = layout_.width(b);
    if (w > m_) {
      gram_[b].resize(m_, m_);
      gram(G_.data() + s, m_, w, d, gram_[b].data(), true);
    } else {
      MatrixXdR Gd = block_as_double(G_.data() + s, m_, w, d);
      gram_[b].noalias() = Gd.transpose() * Gd;
    }
  }
  refactor_all();
}

template <class Scalar>
void SlidingIHVP<Scalar>::set_state(const Scalar* G, Index slot, Index count, double damp,
                                    Index damp_raises, const std::vector<MatrixXdR>& grams,
                                    const std::vector<MatrixXdR>& factors,
                                    const std::vector<double>& drift) {
  const Index nb = layout_.count(), d = layout_.d;
  require(slot >= 0 && slot < m_, "mfac: slot must be in [0, m), got " + std::to_string(slot));
  require(count >= 0 && damp_raises >= 0, "mfac: count and damp_raises must be >= 0");
  require(std::isfinite(damp) && damp > 0, "mfac: damp must be a finite number > 0");
  require(Index(grams.size()) == nb && Index(factors.size()) == nb && Index(drift.size()) == nb,
          "mfac: the state holds " + std::to_string(grams.size()) + " blocks, the window has " +
              std::to_string(nb));
  for (Index b = 0; b < nb; ++b) {
    const Index n = std::min(m_, layout_.width(b));
    require(grams[b].rows() == n && grams[b].cols() == n && factors[b].rows() == n &&
                factors[b].cols() == n,
            "mfac: block " + std::to_string(b) + " of the state has the wrong shape");
  }
  std::copy(G, G + m_ * d, G_.begin());
  slot_ = slot;
  count_ = count;
  damp_ = damp;
  damp_raises_ = damp_raises;
  for (Index b = 0; b < nb; ++b) {
    gram_[b] = grams[b];
    BlockFactor& f = factors_[b];
    f.dual = layout_.width(b) > m_;
    (f.dual ? f.L : f.Ainv) = factors[b];
    (f.dual ? f.Ainv : f.L).resize(0, 0);
    drift_[b] = drift[b];
  }
}

template <class Scalar>
bool SlidingIHVP<Scalar>::refactor(Index b) {
  drift_[b] = 0.0;
  if (layout_.width(b) > m_) return factor_dual(gram_[b], m_, damp_, factors_[b]);
  return factor_primal(gram_[b], m_, damp_, factors_[b]);
}

template <class Scalar>
void SlidingIHVP<Scalar>::refactor_all() {
  const Index nb = layout_.count();
  for (int k = 0;; ++k) {
    bool ok = true;
    for (Index b = 0; b < nb; ++b) ok = refactor(b) && ok;
    if (ok) return;
    if (!(damp_growth_ > 1.0) || k >= kMaxDampRaises) throw_factorization_failed(damp_, damp_growth_ > 1.0);
    damp_ *= damp_growth_;
    ++damp_raises_;
  }
}

template <class Scalar>
bool SlidingIHVP<Scalar>::update_block(Index b, const Scalar* g, const Scalar* v, MatrixXdR& Y,
                                       bool inner) {
  const Index d = layout_.d, s = layout_.start(b), w = layout_.width(b);
  Scalar* Gb = G_.data() + s;
  MatrixXdR& A = gram_[b];
  if (w > m_) {
    // One pass: write g into the slot and take the dot products of every row with g (and v).
    const Scalar* V[2] = {g + s, v ? v + s : nullptr};
    const Index k = (v && v != g) ? 2 : 1;
    Y.resize(k, m_);
    grads_dot(Gb, m_, w, d, V, k, Y.data(), inner, g + s, slot_);
    const Eigen::VectorXd old_col = A.row(slot_).transpose();
    A.row(slot_) = Y.row(0);
    A.col(slot_) = Y.row(0).transpose();
    // O(m^2): the Cholesky factor follows the rank-2 change of row/column `slot` of K. A full
    // O(m^3) refactorization from the exact Gram matrix A when the rounding budget of the
    // changes since the last one is spent (see kDriftTol), when the downdate breaks down, and
    // every kRefactorEvery steps in any case.
    check_finite_matrix(A, "the Gram matrix G G^T");
    if (count_ % kRefactorEvery == 0 ||
        !cholesky_replace_row(factors_[b].L, old_col, A.col(slot_), slot_, drift_[b]) ||
        drift_exceeded(drift_[b], m_, damp_))
      return refactor(b);
    return true;
  }
  // Primal: A = G_b^T G_b by a rank-2 change, recomputed from the buffer when the ring wraps
  // (bounds the drift of the additions and subtractions; amortized O(w^2) per update).
  Scalar* row = Gb + slot_ * d;
  Eigen::VectorXd gold(w), gnew(w);
  for (Index t = 0; t < w; ++t) {
    gold[t] = double(row[t]);
    gnew[t] = double(g[s + t]);
  }
  std::memcpy(row, g + s, sizeof(Scalar) * w);
  // the rounding error of the rank-2 change is about eps * (|g_old|^2 + |g_new|^2): recompute
  // A exactly when the ring wraps or when that budget is spent (a large gradient leaving)
  const double mass = drift_[b] + gold.squaredNorm() + gnew.squaredNorm();
  if (slot_ == 0 || drift_exceeded(mass, m_, damp_)) {
    MatrixXdR Gd = block_as_double(Gb, m_, w, d);
    A.noalias() = Gd.transpose() * Gd;
    return refactor(b);
  }
  A.noalias() += gnew * gnew.transpose();
  A.noalias() -= gold * gold.transpose();
  const bool ok = refactor(b);
  drift_[b] = mass;  // refactor() reset it, but A itself still carries the changes
  return ok;
}

template <class Scalar>
void SlidingIHVP<Scalar>::update(const Scalar* g) {
  update_and_ihvp(g, nullptr, nullptr);
}

template <class Scalar>
void SlidingIHVP<Scalar>::update_and_ihvp(const Scalar* g, const Scalar* v, Scalar* x) {
  const Index nb = layout_.count(), d = layout_.d;
  if (x && !v) v = g;
  const bool outer = outer_parallel();
  // Phase 1 (every block): the update, with the dot products of the first IHVP pass fused in.
  // Phase 2: the second pass. Between them, a failed factorization raises damp for all blocks
  // (automatic damping); the dot products do not depend on damp, so nothing is recomputed.
  std::vector<MatrixXdR> Y(nb);
  std::vector<char> ok(nb, 1);
  std::string err;
#pragma omp parallel for schedule(dynamic) if (outer)
  for (Index b = 0; b < nb; ++b) {
    try {
      ok[b] = update_block(b, g, v, Y[b], !outer) ? 1 : 0;
    } catch (const std::exception& e) {
#pragma omp critical
      err = e.what();
    }
  }
  slot_ = (slot_ + 1) % m_;
  ++count_;
  if (!err.empty()) throw std::invalid_argument(err);
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) refactor_all();
  if (!x) return;
#pragma omp parallel for schedule(dynamic) if (outer)
  for (Index b = 0; b < nb; ++b) {
    const Index s = layout_.start(b), w = layout_.width(b);
    const Scalar* Vb[1] = {v + s};
    Scalar* Xb[1] = {x + s};
    const double* y = factors_[b].dual ? Y[b].data() + (Y[b].rows() - 1) * m_ : nullptr;
    apply_block(G_.data() + s, m_, w, d, factors_[b], damp_, Vb, 1, Xb, !outer, y);
  }
}

template <class Scalar>
void SlidingIHVP<Scalar>::ihvp(const Scalar* V, Index k, Scalar* X) const {
  apply_blocks(layout_, G_.data(), m_, layout_.d, factors_, damp_, V, k, X);
}

// ------------------------------------------------------------------------------------------
// BlockLayout
// ------------------------------------------------------------------------------------------
Index BlockLayout::find(Index i) const {
  if (starts.empty()) return i / block;
  return Index(std::upper_bound(starts.begin(), starts.end(), i) - starts.begin()) - 1;
}

BlockLayout BlockLayout::uniform(Index d, Index block_size) {
  BlockLayout l;
  l.d = d;
  l.block = (block_size <= 0 || block_size >= d) ? d : block_size;
  return l;
}

BlockLayout BlockLayout::from_sizes(const std::vector<Index>& sizes) {
  require(!sizes.empty(), "mfac: block sizes must not be empty");
  BlockLayout l;
  l.starts.reserve(sizes.size() + 1);
  l.starts.push_back(0);
  for (Index w : sizes) {
    require(w >= 1, "mfac: every block size must be >= 1, got " + std::to_string(w));
    l.starts.push_back(l.starts.back() + w);
    l.block = std::max(l.block, w);
  }
  l.d = l.starts.back();
  if (sizes.size() == 1) l.starts.clear();  // one block: the uniform layout
  return l;
}

// ------------------------------------------------------------------------------------------
// instantiations
// ------------------------------------------------------------------------------------------
#define ADASOLVE_MFAC_INSTANTIATE(S)                                                           \
  template void gram<S>(const S*, Index, Index, Index, double*, bool);                        \
  template void grads_dot<S>(S*, Index, Index, Index, const S* const*, Index, double*, bool,  \
                             const S*, Index);                                                \
  template void grads_combine<S>(const S*, Index, Index, Index, const double*, Index,         \
                                 const S* const*, double, S* const*, bool);                   \
  template void column_quadforms<S>(const S*, Index, Index, Index, const MatrixXdR&, double*, \
                                    bool);                                                    \
  template void column_solves<S>(const S*, Index, Index, Index, const MatrixXdR&, double*,    \
                                 bool);                                                       \
  template class StaticIHVP<S>;                                                               \
  template class SlidingIHVP<S>;

ADASOLVE_MFAC_INSTANTIATE(float)
ADASOLVE_MFAC_INSTANTIATE(double)

}  // namespace adasolve::mfac
