// M-FAC on the GPU: the Woodbury form of the CPU core (cpp/include/adasolve/mfac.hpp).
//
//   F = damp I + G^T G / m,   K = m damp I + G G^T = L L^T (m x m, double, on the device),
//   F^{-1} v = (v - G^T K^{-1} G v) / damp.
//
// G is m x d row-major, i.e. a column-major d x m matrix Gc with leading dimension ld: the d x m
// passes are cuBLAS GEMV (one vector) or GEMM (a batch) on Gc, reading G once per pass. The
// m-sized work (Gram, Cholesky, triangular solves) runs in double on the device.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.cuh"

namespace adasolve::cuda {
namespace {
using namespace detail;

// ---- cuBLAS by type -------------------------------------------------------------------------
inline void gemv(cublasHandle_t h, cublasOperation_t op, Index rows, Index cols, float alpha,
                 const float* A, Index lda, const float* x, float beta, float* y) {
  check(cublasSgemv_64(h, op, rows, cols, &alpha, A, lda, x, 1, &beta, y, 1), "cublasSgemv");
}
inline void gemv(cublasHandle_t h, cublasOperation_t op, Index rows, Index cols, double alpha,
                 const double* A, Index lda, const double* x, double beta, double* y) {
  check(cublasDgemv_64(h, op, rows, cols, &alpha, A, lda, x, 1, &beta, y, 1), "cublasDgemv");
}
inline void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, Index M, Index N,
                 Index K, float alpha, const float* A, Index lda, const float* B, Index ldb,
                 float beta, float* C, Index ldc) {
  check(cublasSgemm_64(h, ta, tb, M, N, K, &alpha, A, lda, B, ldb, &beta, C, ldc), "cublasSgemm");
}
inline void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, Index M, Index N,
                 Index K, double alpha, const double* A, Index lda, const double* B, Index ldb,
                 double beta, double* C, Index ldc) {
  check(cublasDgemm_64(h, ta, tb, M, N, K, &alpha, A, lda, B, ldb, &beta, C, ldc), "cublasDgemm");
}
// ---- small kernels --------------------------------------------------------------------------
template <class S, class D>
__global__ void k_convert(const S* __restrict__ src, D* __restrict__ dst, Index n) {
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    dst[i] = static_cast<D>(src[i]);
}

template <class S, class D>
void convert(const S* src, D* dst, Index n, cudaStream_t st) {
  k_convert<S, D><<<grid_for(n, 256, 4096), 256, 0, st>>>(src, dst, n);
  ADA_LAUNCHED("k_convert");
}

// L = Gram + shift * I (copy of the lower triangle).
__global__ void k_shift_copy(const double* __restrict__ gram, double* __restrict__ L, Index m, double shift) {
  for (Index t = blockIdx.x * (Index)blockDim.x + threadIdx.x; t < m * m; t += (Index)gridDim.x * blockDim.x) {
    Index r = t % m, c = t / m;
    L[t] = r >= c ? gram[t] + (r == c ? shift : 0.0) : 0.0;
  }
}

// Cholesky of one nb x nb (nb <= 32) diagonal block in shared memory: A = L L^T, lower.
// A non-positive pivot (impossible for K = m damp I + G G^T with damp > 0 unless the data
// overflowed) leaves a NaN that the host sees in every result.
__global__ void k_potrf_diag(double* A, Index lda, int n) {
  __shared__ double s[32][33];
  const int r = threadIdx.x, c = threadIdx.y;
  if (r < n && c < n) s[r][c] = A[r + c * lda];
  __syncthreads();
  for (int k = 0; k < n; ++k) {
    if (r == k && c == k) s[k][k] = sqrt(s[k][k]);
    __syncthreads();
    if (c == k && r > k && r < n) s[r][k] /= s[k][k];
    __syncthreads();
    if (r > k && c > k && c <= r && r < n) s[r][c] -= s[r][k] * s[c][k];
    __syncthreads();
  }
  if (r < n && c < n) A[r + c * lda] = c <= r ? s[r][c] : 0.0;
}

// Blocked right-looking Cholesky of the m x m column-major matrix A (lower), in place.
void potrf(double* A, Index m, cudaStream_t st) {
  cublasHandle_t h = blas(st);
  const double one = 1.0, minus_one = -1.0;
  for (Index j = 0; j < m; j += 32) {
    const int nb = static_cast<int>(std::min<Index>(32, m - j));
    k_potrf_diag<<<1, dim3(32, 32), 0, st>>>(A + j + j * m, m, nb);
    ADA_LAUNCHED("k_potrf_diag");
    const Index rest = m - j - nb;
    if (rest > 0) {
      check(cublasDtrsm_64(h, CUBLAS_SIDE_RIGHT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T,
                           CUBLAS_DIAG_NON_UNIT, rest, nb, &one, A + j + j * m, m,
                           A + (j + nb) + j * m, m), "cublasDtrsm (potrf)");
      check(cublasDsyrk_64(h, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, rest, nb, &minus_one,
                           A + (j + nb) + j * m, m, &one, A + (j + nb) + (j + nb) * m, m),
            "cublasDsyrk (potrf)");
    }
  }
}

// C (m x k, column-major) = K^{-1} C with K = L L^T.
void chol_solve(const double* L, Index m, double* C, Index k, cudaStream_t st, bool half = false) {
  cublasHandle_t h = blas(st);
  const double one = 1.0;
  check(cublasDtrsm_64(h, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT,
                       m, k, &one, L, m, C, m), "cublasDtrsm (L)");
  if (half) return;
  check(cublasDtrsm_64(h, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, CUBLAS_DIAG_NON_UNIT,
                       m, k, &one, L, m, C, m), "cublasDtrsm (L^T)");
}

// out[j] (+)= sum_r X[r + j*ld]^2 for j < cols: one block row-chunk per (blockIdx.x, j).
template <class T>
__global__ void k_colsumsq(const T* __restrict__ X, Index rows, Index ld, double* __restrict__ out) {
  const Index j = blockIdx.y;
  double acc = 0.0;
  for (Index r = blockIdx.x * (Index)blockDim.x + threadIdx.x; r < rows; r += (Index)gridDim.x * blockDim.x) {
    double v = static_cast<double>(X[r + j * ld]);
    acc += v * v;
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) atomicAdd(out + j, acc);
}

template <class T>
void colsumsq(const T* X, Index rows, Index cols, Index ld, double* out, cudaStream_t st) {
  ADA_CUDA(cudaMemsetAsync(out, 0, cols * sizeof(double), st));
  dim3 grid(grid_for(rows, 256, 1024), static_cast<unsigned>(cols));
  k_colsumsq<T><<<grid, 256, 0, st>>>(X, rows, ld, out);
  ADA_LAUNCHED("k_colsumsq");
}

__global__ void k_quad_finish(const double* vv, const double* cc, double inv_damp, double* out, Index k) {
  Index j = blockIdx.x * (Index)blockDim.x + threadIdx.x;
  if (j < k) out[j] = (vv[j] - cc[j]) * inv_damp;
}

// Chunk of G's columns t0..t0+c-1, transposed into a c x m column-major double matrix.
template <class T>
__global__ void k_gather_cols(const T* __restrict__ G, Index ld, Index m, Index t0, Index c,
                              double* __restrict__ out) {
  for (Index e = blockIdx.x * (Index)blockDim.x + threadIdx.x; e < c * m; e += (Index)gridDim.x * blockDim.x) {
    Index t = e % c, i = e / c;
    out[e] = static_cast<double>(G[i * ld + t0 + t]);
  }
}

// diag[t0 + t] = (1 - ||row t of W||^2) / damp for W (c x m column-major).
__global__ void k_diag_finish(const double* __restrict__ W, Index c, Index m, double inv_damp,
                              double* __restrict__ out) {
  Index t = blockIdx.x * (Index)blockDim.x + threadIdx.x;
  if (t >= c) return;
  double acc = 0.0;
  for (Index i = 0; i < m; ++i) {
    double w = W[t + i * c];
    acc += w * w;
  }
  out[t] = (1.0 - acc) * inv_damp;
}

template <class T>
__global__ void k_gather_col(const T* __restrict__ G, Index ld, Index m, Index col, double* out) {
  Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x;
  if (i < m) out[i] = static_cast<double>(G[i * ld + col]);
}

// Gram row/column `slot` from r = G g (length m, T), in double; the diagonal entry too.
template <class T>
__global__ void k_set_gram_row(const T* __restrict__ r, Index m, Index slot, double* __restrict__ gram) {
  Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x;
  if (i >= m) return;
  double v = static_cast<double>(r[i]);
  gram[i + slot * m] = v;  // column slot
  gram[slot + i * m] = v;  // row slot
}

// ---- first pass y = G v (K = 1 or 2 vectors): custom streaming kernel ------------------------
// cuBLAS GEMV-T / GEMM-TN with m (or m x 2) outputs and a reduction over d ~ 1e7..1e8 leaves
// most of the GPU idle (the reduction runs inside few output tiles). Here every block owns a
// 512-column chunk of G: its 8 warps take rows w, w+8, ..., each lane dots 16 contiguous
// entries (four 16-byte loads) with the matching entries of v held in registers, and a warp
// shuffle reduces them; partial sums per (row, chunk) are then summed in double.
template <class T> struct Vec;
template <> struct Vec<float> { using type = float4; static constexpr int n = 4; };
template <> struct Vec<double> { using type = double2; static constexpr int n = 2; };

template <class T, int K>
__global__ void __launch_bounds__(256) k_first_pass(const T* __restrict__ G, Index m, Index d, Index ld,
                                                    const T* __restrict__ V, Index ldv,
                                                    T* __restrict__ partial, Index nchunks) {
  using VT = typename Vec<T>::type;
  constexpr int NV = 4;                              // vector loads per lane per row
  constexpr int PER = NV * Vec<T>::n;                // entries per lane
  constexpr int CHUNK = 32 * PER;
  const Index chunk = blockIdx.x;
  const Index c0 = chunk * CHUNK;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const Index j0 = c0 + (Index)lane * PER;
  const bool full = c0 + CHUNK <= d;
  T vr[K][PER];
#pragma unroll
  for (int q = 0; q < K; ++q)
#pragma unroll
    for (int e = 0; e < PER; ++e) {
      const Index j = j0 + e;
      vr[q][e] = j < d ? V[q * ldv + j] : T(0);
    }
  for (Index r = warp; r < m; r += 8) {
    const T* row = G + r * ld;
    T acc[K];
#pragma unroll
    for (int q = 0; q < K; ++q) acc[q] = T(0);
    if (full) {
      VT buf[NV];
#pragma unroll
      for (int u = 0; u < NV; ++u) buf[u] = reinterpret_cast<const VT*>(row + j0)[u];
#pragma unroll
      for (int u = 0; u < NV; ++u) {
        const T* b = reinterpret_cast<const T*>(&buf[u]);
#pragma unroll
        for (int e = 0; e < Vec<T>::n; ++e)
#pragma unroll
          for (int q = 0; q < K; ++q) acc[q] += b[e] * vr[q][u * Vec<T>::n + e];
      }
    } else {
#pragma unroll
      for (int e = 0; e < PER; ++e) {
        const Index j = j0 + e;
        const T g = j < d ? row[j] : T(0);
#pragma unroll
        for (int q = 0; q < K; ++q) acc[q] += g * vr[q][e];
      }
    }
#pragma unroll
    for (int q = 0; q < K; ++q) {
      T a = acc[q];
      for (int o = 16; o > 0; o >>= 1) a += __shfl_down_sync(0xffffffffu, a, o);
      if (lane == 0) partial[(q * m + r) * nchunks + chunk] = a;
    }
  }
}

// y[q * m + r] = sum over chunks of partial[(q*m + r) * nchunks + chunk], one block per output.
template <class T>
__global__ void k_sum_chunks(const T* __restrict__ partial, Index nchunks, T* __restrict__ y) {
  const Index o = blockIdx.x;
  double acc = 0.0;
  for (Index c = threadIdx.x; c < nchunks; c += blockDim.x) acc += static_cast<double>(partial[o * nchunks + c]);
  acc = block_sum(acc);
  if (threadIdx.x == 0) y[o] = static_cast<T>(acc);
}

template <class T>
bool first_pass_custom(const T* G, Index m, Index d, Index ld, const T* V, Index k, T* y, DevBuf<T>& partial,
                       cudaStream_t st) {
  constexpr int CHUNK = 32 * 4 * Vec<T>::n;
  const bool aligned = (reinterpret_cast<std::uintptr_t>(G) % 16 == 0) && (ld * sizeof(T)) % 16 == 0;
  if (!aligned || k > 2) return false;
  const Index nchunks = (d + CHUNK - 1) / CHUNK;
  if (nchunks > 2147483647LL) return false;
  partial.resize(nchunks * m * k);
  if (k == 1)
    k_first_pass<T, 1><<<(unsigned)nchunks, 256, 0, st>>>(G, m, d, ld, V, d, partial.get(), nchunks);
  else
    k_first_pass<T, 2><<<(unsigned)nchunks, 256, 0, st>>>(G, m, d, ld, V, d, partial.get(), nchunks);
  ADA_LAUNCHED("k_first_pass");
  k_sum_chunks<T><<<(unsigned)(m * k), 256, 0, st>>>(partial.get(), nchunks, y);
  ADA_LAUNCHED("k_sum_chunks");
  return true;
}

// Batches k > 2: chunks of 2^16 columns through one strided-batched GEMM, summed in double.
inline void gemm_tn_batched(cublasHandle_t h, Index m, Index k, Index c, const float* A, Index lda,
                            const float* B, Index ldb, Index stride, float* C, Index nb) {
  const float one = 1.f, zero = 0.f;
  check(cublasSgemmStridedBatched_64(h, CUBLAS_OP_T, CUBLAS_OP_N, m, k, c, &one, A, lda, stride, B, ldb,
                                     stride, &zero, C, m, m * k, nb), "cublasSgemmStridedBatched (pass 1)");
}
inline void gemm_tn_batched(cublasHandle_t h, Index m, Index k, Index c, const double* A, Index lda,
                            const double* B, Index ldb, Index stride, double* C, Index nb) {
  const double one = 1.0, zero = 0.0;
  check(cublasDgemmStridedBatched_64(h, CUBLAS_OP_T, CUBLAS_OP_N, m, k, c, &one, A, lda, stride, B, ldb,
                                     stride, &zero, C, m, m * k, nb), "cublasDgemmStridedBatched (pass 1)");
}
template <class T>
__global__ void k_reduce_to(const T* __restrict__ parts, Index nb, Index n, T* __restrict__ y) {
  for (Index e = blockIdx.x * (Index)blockDim.x + threadIdx.x; e < n; e += (Index)gridDim.x * blockDim.x) {
    double acc = 0.0;
    for (Index b = 0; b < nb; ++b) acc += static_cast<double>(parts[b * n + e]);
    y[e] = static_cast<T>(acc);
  }
}
template <class T>
void first_pass_batched(const T* G, Index m, Index d, Index ld, const T* V, Index k, T* y, DevBuf<T>& parts,
                        cudaStream_t st) {
  const Index c = std::min<Index>(d, Index(1) << 16);
  const Index nfull = d / c, rem = d - nfull * c;
  const Index nb = nfull + (rem > 0);
  parts.resize(nb * m * k);
  cublasHandle_t h = blas(st);
  gemm_tn_batched(h, m, k, c, G, ld, V, d, c, parts.get(), nfull);
  if (rem > 0) gemm_tn_batched(h, m, k, rem, G + nfull * c, ld, V + nfull * c, d, rem, parts.get() + nfull * m * k, 1);
  k_reduce_to<T><<<grid_for(m * k, 256, 4096), 256, 0, st>>>(parts.get(), nb, m * k, y);
  ADA_LAUNCHED("k_reduce_to");
}

// ---- the shared Woodbury machinery --------------------------------------------------------
template <class T>
struct Woodbury {
  Index m = 0, d = 0, ld = 0;
  double damp = 1.0;
  DevBuf<double> L;    // m x m Cholesky factor of K (column-major, lower)
  DevBuf<double> Yd;   // m x k, double
  DevBuf<T> Yt;        // m x k, T
  DevBuf<double> sc;   // scratch for norms
  DevBuf<T> part;      // first-pass partial sums

  void init(Index m_, Index d_, Index ld_, double damp_) {
    m = m_; d = d_; ld = ld_; damp = damp_;
    L.resize(m * m);
  }
  void factor_from_gram(const double* gram, cudaStream_t st) {
    k_shift_copy<<<grid_for(m * m, 256, 4096), 256, 0, st>>>(gram, L.get(), m, m * damp);
    ADA_LAUNCHED("k_shift_copy");
    potrf(L.get(), m, st);
  }
  // Yt (m x k) = G V^T for V (k x d row-major): the first pass over G.
  void first_pass(const T* G, const T* V, Index k, cudaStream_t st) {
    Yt.resize(m * k);
    if (first_pass_custom(G, m, d, ld, V, k, Yt.get(), part, st)) return;
    if (k == 1)
      gemv(blas(st), CUBLAS_OP_T, d, m, T(1), G, ld, V, T(0), Yt.get());
    else
      first_pass_batched(G, m, d, ld, V, k, Yt.get(), part, st);
  }
  // Yd = K^{-1} Yt (columns off..off+k-1 of Yt), back into Yt as T.
  void solve(Index off, Index k, cudaStream_t st) {
    Yd.resize(m * k);
    convert(Yt.get() + off * m, Yd.get(), m * k, st);
    chol_solve(L.get(), m, Yd.get(), k, st);
    convert(Yd.get(), Yt.get() + off * m, m * k, st);
  }
  // X = (V - G^T C) / damp with C = columns off.. of Yt: the second pass over G.
  void second_pass(const T* G, const T* V, Index k, T* X, Index off, cudaStream_t st) {
    if (X != V) ADA_CUDA(cudaMemcpyAsync(X, V, k * d * sizeof(T), cudaMemcpyDeviceToDevice, st));
    cublasHandle_t h = blas(st);
    const T a = static_cast<T>(-1.0 / damp), b = static_cast<T>(1.0 / damp);
    if (k == 1)
      gemv(h, CUBLAS_OP_N, d, m, a, G, ld, Yt.get() + off * m, b, X);
    else
      gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, d, k, m, a, G, ld, Yt.get() + off * m, m, b, X, d);
  }
  void ihvp(const T* G, const T* V, Index k, T* X, cudaStream_t st) {
    first_pass(G, V, k, st);
    solve(0, k, st);
    second_pass(G, V, k, X, 0, st);
  }
  void quad(const T* G, const T* V, Index k, double* out, cudaStream_t st) {
    first_pass(G, V, k, st);
    Yd.resize(m * k);
    convert(Yt.get(), Yd.get(), m * k, st);
    chol_solve(L.get(), m, Yd.get(), k, st, /*half=*/true);
    sc.resize(2 * k);
    colsumsq(V, d, k, d, sc.get(), st);
    colsumsq(Yd.get(), m, k, m, sc.get() + k, st);
    k_quad_finish<<<grid_for(k, 128), 128, 0, st>>>(sc.get(), sc.get() + k, 1.0 / damp, out, k);
    ADA_LAUNCHED("k_quad_finish");
  }
  void diag(const T* G, double* out, cudaStream_t st) {
    const Index chunk = std::max<Index>(1, std::min<Index>(d, (Index(1) << 24) / m));
    DevBuf<double> W(chunk * m);
    cublasHandle_t h = blas(st);
    const double one = 1.0;
    for (Index t0 = 0; t0 < d; t0 += chunk) {
      const Index c = std::min(chunk, d - t0);
      k_gather_cols<T><<<grid_for(c * m, 256, 8192), 256, 0, st>>>(G, ld, m, t0, c, W.get());
      ADA_LAUNCHED("k_gather_cols");
      check(cublasDtrsm_64(h, CUBLAS_SIDE_RIGHT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T,
                           CUBLAS_DIAG_NON_UNIT, c, m, &one, L.get(), m, W.get(), c), "cublasDtrsm (diag)");
      k_diag_finish<<<grid_for(c, 256), 256, 0, st>>>(W.get(), c, m, 1.0 / damp, out + t0);
      ADA_LAUNCHED("k_diag_finish");
    }
    // W is freed here: wait for the kernels that read it.
    ADA_CUDA(cudaStreamSynchronize(st));
  }
  double element(const T* G, Index i, Index j, cudaStream_t st) {
    sc.resize(2 * m);
    k_gather_col<T><<<grid_for(m, 128), 128, 0, st>>>(G, ld, m, i, sc.get());
    k_gather_col<T><<<grid_for(m, 128), 128, 0, st>>>(G, ld, m, j, sc.get() + m);
    ADA_LAUNCHED("k_gather_col");
    chol_solve(L.get(), m, sc.get(), 2, st, /*half=*/true);
    std::vector<double> h(2 * m);
    ADA_CUDA(cudaMemcpyAsync(h.data(), sc.get(), 2 * m * sizeof(double), cudaMemcpyDeviceToHost, st));
    ADA_CUDA(cudaStreamSynchronize(st));
    double dot = 0.0;
    for (Index t = 0; t < m; ++t) dot += h[t] * h[m + t];
    return ((i == j ? 1.0 : 0.0) - dot) / damp;
  }
};

// gram (m x m, double) = G G^T. A single GEMM/SYRK with k = d has too few output tiles to fill
// the GPU (its reduction over d runs inside each tile), so d is cut into chunks of 2^16 columns
// that one strided-batched GEMM multiplies in parallel; the partial products are summed in
// double (also keeping float32 accumulation error independent of d).
inline void gemm_batched(cublasHandle_t h, Index m, Index c, const float* A, Index lda, Index strideA,
                         float* C, Index nb) {
  const float one = 1.f, zero = 0.f;
  check(cublasSgemmStridedBatched_64(h, CUBLAS_OP_T, CUBLAS_OP_N, m, m, c, &one, A, lda, strideA, A, lda,
                                     strideA, &zero, C, m, m * m, nb), "cublasSgemmStridedBatched");
}
inline void gemm_batched(cublasHandle_t h, Index m, Index c, const double* A, Index lda, Index strideA,
                         double* C, Index nb) {
  const double one = 1.0, zero = 0.0;
  check(cublasDgemmStridedBatched_64(h, CUBLAS_OP_T, CUBLAS_OP_N, m, m, c, &one, A, lda, strideA, A, lda,
                                     strideA, &zero, C, m, m * m, nb), "cublasDgemmStridedBatched");
}

template <class T>
__global__ void k_reduce_batches(const T* __restrict__ parts, Index nb, Index mm, double* __restrict__ gram) {
  for (Index e = blockIdx.x * (Index)blockDim.x + threadIdx.x; e < mm; e += (Index)gridDim.x * blockDim.x) {
    double acc = gram[e];
    for (Index b = 0; b < nb; ++b) acc += static_cast<double>(parts[b * mm + e]);
    gram[e] = acc;
  }
}

template <class T>
void gram_matrix(const T* G, Index m, Index d, Index ld, double* gram, cudaStream_t st) {
  const Index mm = m * m;
  const Index c = std::min<Index>(d, Index(1) << 16);
  const Index nfull = d / c, rem = d - nfull * c;
  const Index batch = std::max<Index>(1, std::min<Index>(nfull, (Index(1) << 26) / mm));
  DevBuf<T> parts(batch * mm);
  cublasHandle_t h = blas(st);
  ADA_CUDA(cudaMemsetAsync(gram, 0, mm * sizeof(double), st));
  auto reduce = [&](Index nb) {
    k_reduce_batches<T><<<grid_for(mm, 256, 4096), 256, 0, st>>>(parts.get(), nb, mm, gram);
    ADA_LAUNCHED("k_reduce_batches");
  };
  for (Index b0 = 0; b0 < nfull; b0 += batch) {
    const Index nb = std::min(batch, nfull - b0);
    gemm_batched(h, m, c, G + b0 * c, ld, c, parts.get(), nb);
    reduce(nb);
  }
  if (rem > 0) {
    gemm_batched(h, m, rem, G + nfull * c, ld, rem, parts.get(), 1);
    reduce(1);
  }
  ADA_CUDA(cudaStreamSynchronize(st));  // before `parts` is freed
}

void check_args(Index m, Index d, Index ld, double damp) {
  if (m < 1) throw std::invalid_argument("m must be >= 1");
  if (d < 1) throw std::invalid_argument("d must be >= 1");
  if (ld < d) throw std::invalid_argument("row stride must be >= d");
  if (!(damp > 0.0) || !std::isfinite(damp)) throw std::invalid_argument("damp must be > 0");
}

}  // namespace

// ---- MfacStatic -----------------------------------------------------------------------------
struct MfacStatic::Impl {
  bool dbl;
  int device;
  uptr G;
  Woodbury<float> wf;
  Woodbury<double> wd;
};

MfacStatic::MfacStatic(uptr grads, Index m, Index d, Index ld, bool dbl, double damp, int device,
                       uptr stream)
    : p_(new Impl), m_(m), d_(d) {
  check_args(m, d, ld, damp);
  DeviceGuard g(device);
  p_->dbl = dbl;
  p_->device = device;
  p_->G = grads;
  cudaStream_t st = as_stream(stream);
  DevBuf<double> gram(m * m);
  if (dbl) {
    p_->wd.init(m, d, ld, damp);
    gram_matrix(as_ptr<const double>(grads), m, d, ld, gram.get(), st);
    p_->wd.factor_from_gram(gram.get(), st);
  } else {
    p_->wf.init(m, d, ld, damp);
    gram_matrix(as_ptr<const float>(grads), m, d, ld, gram.get(), st);
    p_->wf.factor_from_gram(gram.get(), st);
  }
  ADA_CUDA(cudaStreamSynchronize(st));  // before `gram` is freed
}
MfacStatic::~MfacStatic() = default;

void MfacStatic::ihvp(uptr V, Index k, uptr X, uptr stream) {
  DeviceGuard g(p_->device);
  if (p_->dbl) p_->wd.ihvp(as_ptr<const double>(p_->G), as_ptr<const double>(V), k, as_ptr<double>(X), as_stream(stream));
  else p_->wf.ihvp(as_ptr<const float>(p_->G), as_ptr<const float>(V), k, as_ptr<float>(X), as_stream(stream));
}
void MfacStatic::quad(uptr V, Index k, uptr out, uptr stream) {
  DeviceGuard g(p_->device);
  if (p_->dbl) p_->wd.quad(as_ptr<const double>(p_->G), as_ptr<const double>(V), k, as_ptr<double>(out), as_stream(stream));
  else p_->wf.quad(as_ptr<const float>(p_->G), as_ptr<const float>(V), k, as_ptr<double>(out), as_stream(stream));
}
void MfacStatic::diag(uptr out, uptr stream) {
  DeviceGuard g(p_->device);
  if (p_->dbl) p_->wd.diag(as_ptr<const double>(p_->G), as_ptr<double>(out), as_stream(stream));
  else p_->wf.diag(as_ptr<const float>(p_->G), as_ptr<double>(out), as_stream(stream));
}
double MfacStatic::element(Index i, Index j, uptr stream) {
  if (i < 0 || j < 0 || i >= d_ || j >= d_) throw std::invalid_argument("index out of range");
  DeviceGuard g(p_->device);
  return p_->dbl ? p_->wd.element(as_ptr<const double>(p_->G), i, j, as_stream(stream))
                 : p_->wf.element(as_ptr<const float>(p_->G), i, j, as_stream(stream));
}

// ---- MfacSliding ----------------------------------------------------------------------------
struct MfacSliding::Impl {
  bool dbl;
  int device;
  uptr G;
  DevBuf<double> gram;
  Woodbury<float> wf;
  Woodbury<double> wd;

  template <class T>
  Woodbury<T>& w();
  // Overwrite row `slot` with g, then Y = G [g, v] (k = 1 or 2) in one pass, Gram row from Y[:, 0].
  template <class T>
  void step(Index slot, const T* g, const T* v, T* x, cudaStream_t st) {
    Woodbury<T>& W = w<T>();
    T* Gp = as_ptr<T>(G);
    ADA_CUDA(cudaMemcpyAsync(Gp + slot * W.d, g, W.d * sizeof(T), cudaMemcpyDeviceToDevice, st));
    if (v == nullptr) {
      W.first_pass(Gp, g, 1, st);
    } else {
      // [g; v] as a 2 x d row-major batch needs them adjacent: two GEMVs are as cheap when the
      // buffer is far larger than the L2, but one GEMM reads G once.
      scratch2.resize(2 * W.d * sizeof(T));
      T* gv = reinterpret_cast<T*>(scratch2.get());
      ADA_CUDA(cudaMemcpyAsync(gv, g, W.d * sizeof(T), cudaMemcpyDeviceToDevice, st));
      ADA_CUDA(cudaMemcpyAsync(gv + W.d, v, W.d * sizeof(T), cudaMemcpyDeviceToDevice, st));
      W.first_pass(Gp, gv, 2, st);
    }
    k_set_gram_row<T><<<grid_for(W.m, 128), 128, 0, st>>>(W.Yt.get(), W.m, slot, gram.get());
    ADA_LAUNCHED("k_set_gram_row");
    W.factor_from_gram(gram.get(), st);
    if (x != nullptr) {
      const Index off = v == nullptr ? 0 : 1;
      const T* vv = v == nullptr ? g : v;
      W.solve(off, 1, st);
      W.second_pass(Gp, vv, 1, x, off, st);
    }
  }
  DevBuf<char> scratch2;
};
template <>
Woodbury<float>& MfacSliding::Impl::w<float>() { return wf; }
template <>
Woodbury<double>& MfacSliding::Impl::w<double>() { return wd; }

MfacSliding::MfacSliding(uptr buffer, Index m, Index d, bool dbl, double damp, int device, uptr stream)
    : p_(new Impl), m_(m), d_(d) {
  check_args(m, d, d, damp);
  DeviceGuard g(device);
  p_->dbl = dbl;
  p_->device = device;
  p_->G = buffer;
  p_->gram.resize(m * m);
  if (dbl) p_->wd.init(m, d, d, damp); else p_->wf.init(m, d, d, damp);
  reset(stream);
}
MfacSliding::~MfacSliding() = default;

void MfacSliding::reset(uptr stream) {
  DeviceGuard g(p_->device);
  cudaStream_t st = as_stream(stream);
  ADA_CUDA(cudaMemsetAsync(p_->gram.get(), 0, m_ * m_ * sizeof(double), st));
  if (p_->dbl) p_->wd.factor_from_gram(p_->gram.get(), st);
  else p_->wf.factor_from_gram(p_->gram.get(), st);
  slot_ = 0;
  count_ = 0;
}
void MfacSliding::load(Index count, uptr stream) {
  if (count < 0 || count > m_) throw std::invalid_argument("count must be in [0, m]");
  DeviceGuard g(p_->device);
  cudaStream_t st = as_stream(stream);
  if (p_->dbl) {
    gram_matrix(as_ptr<const double>(p_->G), m_, d_, d_, p_->gram.get(), st);
    p_->wd.factor_from_gram(p_->gram.get(), st);
  } else {
    gram_matrix(as_ptr<const float>(p_->G), m_, d_, d_, p_->gram.get(), st);
    p_->wf.factor_from_gram(p_->gram.get(), st);
  }
  slot_ = count % m_;
  count_ = count;
}
void MfacSliding::update(uptr g, uptr stream) {
  DeviceGuard gd(p_->device);
  if (p_->dbl) p_->step<double>(slot_, as_ptr<const double>(g), nullptr, nullptr, as_stream(stream));
  else p_->step<float>(slot_, as_ptr<const float>(g), nullptr, nullptr, as_stream(stream));
  slot_ = (slot_ + 1) % m_;
  ++count_;
}
void MfacSliding::update_and_ihvp(uptr g, uptr v, uptr x, uptr stream) {
  DeviceGuard gd(p_->device);
  if (p_->dbl) p_->step<double>(slot_, as_ptr<const double>(g), as_ptr<const double>(v), as_ptr<double>(x), as_stream(stream));
  else p_->step<float>(slot_, as_ptr<const float>(g), as_ptr<const float>(v), as_ptr<float>(x), as_stream(stream));
  slot_ = (slot_ + 1) % m_;
  ++count_;
}
void MfacSliding::ihvp(uptr V, Index k, uptr X, uptr stream) {
  DeviceGuard g(p_->device);
  if (p_->dbl) p_->wd.ihvp(as_ptr<const double>(p_->G), as_ptr<const double>(V), k, as_ptr<double>(X), as_stream(stream));
  else p_->wf.ihvp(as_ptr<const float>(p_->G), as_ptr<const float>(V), k, as_ptr<float>(X), as_stream(stream));
}

}  // namespace adasolve::cuda
