// Gaussian and CountSketch application for the sketching Newton solver.
//
// S (s x n) is never stored whole: its entries are a counter-based hash of (seed, index), so
// any part of S can be regenerated anywhere (and reproduced by a few lines of NumPy):
//   key(seed, t)  = splitmix64(seed) ^ (t * 0x9E3779B97F4A7C15)
//   Gaussian      S[i, j] = sqrt(-2 ln u1) cos(2 pi u2) / sqrt(s), t = i * n + j,
//                 u1 = ((splitmix64(key) >> 11) + 1) * 2^-53, u2 = (splitmix64(key ^ SALT) >> 11) * 2^-53
//   CountSketch   column j of S has one nonzero: row splitmix64(key(seed, j)) % s, value +-1
//                 from the top bit of splitmix64(key(seed, j) ^ SALT).
// S A is computed by a GEMM against column chunks of S generated on the fly (Gaussian) or by
// one atomic scatter-add pass over A (CountSketch, dense or CSR).
#include <algorithm>
#include <cmath>

#include "common.cuh"

namespace adasolve::cuda {
namespace {
using namespace detail;

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kSalt = 0xD1B54A32D192ED03ull;

__host__ __device__ inline std::uint64_t splitmix64(std::uint64_t z) {
  z += kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
__device__ inline std::uint64_t key_of(std::uint64_t seed_mixed, std::uint64_t t) {
  return seed_mixed ^ (t * kGolden);
}
__device__ inline double gauss(std::uint64_t key) {
  const double u1 = (double)((splitmix64(key) >> 11) + 1) * 0x1.0p-53;
  const double u2 = (double)(splitmix64(key ^ kSalt) >> 11) * 0x1.0p-53;
  return sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);
}
__device__ inline void bucket_sign(std::uint64_t seed_mixed, std::uint64_t j, Index s, Index* row, double* sign) {
  const std::uint64_t k = key_of(seed_mixed, j);
  *row = (Index)(splitmix64(k) % (std::uint64_t)s);
  *sign = (splitmix64(k ^ kSalt) >> 63) ? -1.0 : 1.0;
}

// Column chunk j0..j0+c-1 of the Gaussian S, as a c x s column-major matrix (S^T chunk).
template <class T>
__global__ void k_gauss_chunk(std::uint64_t sm, Index s, Index n, Index j0, Index c, T* out) {
  const double scale = rsqrt((double)s);
  for (Index e = blockIdx.x * (Index)blockDim.x + threadIdx.x; e < c * s; e += (Index)gridDim.x * blockDim.x) {
    const Index t = e % c, i = e / c;
    out[e] = static_cast<T>(gauss(key_of(sm, (std::uint64_t)i * n + (j0 + t))) * scale);
  }
}

template <class T>
__global__ void k_cs_dense(std::uint64_t sm, const T* __restrict__ A, Index n, Index p, Index lda, Index s, T* out) {
  for (Index e = blockIdx.x * (Index)blockDim.x + threadIdx.x; e < n * p; e += (Index)gridDim.x * blockDim.x) {
    const Index j = e / p, col = e % p;
    Index row; double sign;
    bucket_sign(sm, j, s, &row, &sign);
    atomicAdd(out + row * p + col, static_cast<T>(sign) * A[j * lda + col]);
  }
}

template <class T>
__global__ void k_cs_csr(std::uint64_t sm, const int* __restrict__ ip, const int* __restrict__ ix,
                         const T* __restrict__ a, Index n, Index p, Index s, T* out) {
  for (Index j = blockIdx.x * (Index)blockDim.x + threadIdx.x; j < n; j += (Index)gridDim.x * blockDim.x) {
    Index row; double sign;
    bucket_sign(sm, j, s, &row, &sign);
    for (int k = ip[j], e = ip[j + 1]; k < e; ++k) atomicAdd(out + row * p + ix[k], static_cast<T>(sign) * a[k]);
  }
}

template <class T>
__global__ void k_cs_matrix(std::uint64_t sm, Index s, Index n, T* out) {
  for (Index j = blockIdx.x * (Index)blockDim.x + threadIdx.x; j < n; j += (Index)gridDim.x * blockDim.x) {
    Index row; double sign;
    bucket_sign(sm, j, s, &row, &sign);
    out[row * n + j] = static_cast<T>(sign);
  }
}

inline void gemm_nt(cublasHandle_t h, Index M, Index N, Index K, const float* A, Index lda,
                    const float* B, Index ldb, float beta, float* C, Index ldc) {
  const float one = 1.f;
  check(cublasSgemm_64(h, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, A, lda, B, ldb, &beta, C, ldc), "cublasSgemm (sketch)");
}
inline void gemm_nt(cublasHandle_t h, Index M, Index N, Index K, const double* A, Index lda,
                    const double* B, Index ldb, double beta, double* C, Index ldc) {
  const double one = 1.0;
  check(cublasDgemm_64(h, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, A, lda, B, ldb, &beta, C, ldc), "cublasDgemm (sketch)");
}

template <class T>
void gaussian_impl(const T* A, Index n, Index p, Index lda, T* out, Index s, std::uint64_t seed, cudaStream_t st) {
  // out^T (p x s, column-major = out row-major s x p) = A^T (p x n col-major, ld lda) * S^T (n x s).
  const std::uint64_t sm = splitmix64(seed);
  const Index chunk = std::max<Index>(1, std::min<Index>(n, (Index(1) << 24) / std::max<Index>(s, 1)));
  DevBuf<T> St(chunk * s);
  cublasHandle_t h = blas(st);
  for (Index j0 = 0; j0 < n; j0 += chunk) {
    const Index c = std::min(chunk, n - j0);
    k_gauss_chunk<T><<<grid_for(c * s, 256, 8192), 256, 0, st>>>(sm, s, n, j0, c, St.get());
    ADA_LAUNCHED("k_gauss_chunk");
    gemm_nt(h, p, s, c, A + j0 * lda, lda, St.get(), c, j0 == 0 ? T(0) : T(1), out, p);
  }
  ADA_CUDA(cudaStreamSynchronize(st));  // before St is freed
}

void check_sizes(Index n, Index p, Index lda, Index s) {
  if (n < 1 || p < 1) throw std::invalid_argument("A must be non-empty");
  if (lda < p) throw std::invalid_argument("row stride of A must be >= its number of columns");
  if (s < 1) throw std::invalid_argument("sketch size must be >= 1");
}

}  // namespace

void gaussian_sketch(uptr A, Index n, Index p, Index lda, uptr out, Index s, std::uint64_t seed, bool dbl, uptr stream) {
  check_sizes(n, p, lda, s);
  if (dbl) gaussian_impl(as_ptr<const double>(A), n, p, lda, as_ptr<double>(out), s, seed, as_stream(stream));
  else gaussian_impl(as_ptr<const float>(A), n, p, lda, as_ptr<float>(out), s, seed, as_stream(stream));
}

void countsketch_dense(uptr A, Index n, Index p, Index lda, uptr out, Index s, std::uint64_t seed, bool dbl, uptr stream) {
  check_sizes(n, p, lda, s);
  cudaStream_t st = as_stream(stream);
  const std::uint64_t sm = splitmix64(seed);
  const std::size_t es = dbl ? sizeof(double) : sizeof(float);
  ADA_CUDA(cudaMemsetAsync(as_ptr<void>(out), 0, s * p * es, st));
  if (dbl) k_cs_dense<double><<<grid_for(n * p, 256, 8192), 256, 0, st>>>(sm, as_ptr<const double>(A), n, p, lda, s, as_ptr<double>(out));
  else k_cs_dense<float><<<grid_for(n * p, 256, 8192), 256, 0, st>>>(sm, as_ptr<const float>(A), n, p, lda, s, as_ptr<float>(out));
  ADA_LAUNCHED("k_cs_dense");
}

void countsketch_csr(uptr indptr, uptr indices, uptr data, Index n, Index p, uptr out, Index s, std::uint64_t seed, bool dbl, uptr stream) {
  check_sizes(n, p, p, s);
  cudaStream_t st = as_stream(stream);
  const std::uint64_t sm = splitmix64(seed);
  const std::size_t es = dbl ? sizeof(double) : sizeof(float);
  ADA_CUDA(cudaMemsetAsync(as_ptr<void>(out), 0, s * p * es, st));
  if (dbl) k_cs_csr<double><<<grid_for(n, 256, 8192), 256, 0, st>>>(sm, as_ptr<const int>(indptr), as_ptr<const int>(indices), as_ptr<const double>(data), n, p, s, as_ptr<double>(out));
  else k_cs_csr<float><<<grid_for(n, 256, 8192), 256, 0, st>>>(sm, as_ptr<const int>(indptr), as_ptr<const int>(indices), as_ptr<const float>(data), n, p, s, as_ptr<float>(out));
  ADA_LAUNCHED("k_cs_csr");
}

void sketch_matrix(int kind, Index s, Index n, std::uint64_t seed, uptr out, bool dbl, uptr stream) {
  check_sizes(n, 1, 1, s);
  cudaStream_t st = as_stream(stream);
  const std::uint64_t sm = splitmix64(seed);
  const std::size_t es = dbl ? sizeof(double) : sizeof(float);
  if (kind == 0) {
    // S row-major s x n: element (i, j) at i*n + j == column-major n x s chunk with c = n.
    if (dbl) k_gauss_chunk<double><<<grid_for(n * s, 256, 8192), 256, 0, st>>>(sm, s, n, 0, n, as_ptr<double>(out));
    else k_gauss_chunk<float><<<grid_for(n * s, 256, 8192), 256, 0, st>>>(sm, s, n, 0, n, as_ptr<float>(out));
  } else {
    ADA_CUDA(cudaMemsetAsync(as_ptr<void>(out), 0, s * n * es, st));
    if (dbl) k_cs_matrix<double><<<grid_for(n, 256, 8192), 256, 0, st>>>(sm, s, n, as_ptr<double>(out));
    else k_cs_matrix<float><<<grid_for(n, 256, 8192), 256, 0, st>>>(sm, s, n, as_ptr<float>(out));
  }
  ADA_LAUNCHED("sketch_matrix");
}

}  // namespace adasolve::cuda

// ---- device queries (here to keep the file count small) --------------------------------------
namespace adasolve::cuda {
int device_count() {
  int n = 0;
  detail::check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
  return n;
}
std::string device_name(int device) {
  cudaDeviceProp prop;
  detail::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}
namespace {
template <class T>
__global__ void k_all_finite(const T* __restrict__ x, Index n, int* bad) {
  int local = 0;
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    local |= !isfinite(x[i]);
  if (__syncthreads_or(local) && threadIdx.x == 0) *bad = 1;
}
}  // namespace
bool all_finite(uptr x, Index n, bool dbl, uptr stream) {
  cudaStream_t st = detail::as_stream(stream);
  detail::DevBuf<int> flag(1);
  detail::check(cudaMemsetAsync(flag.get(), 0, sizeof(int), st), "cudaMemsetAsync");
  if (n > 0) {
    const unsigned g = detail::grid_for(n, 256, 4096);
    if (dbl) k_all_finite<double><<<g, 256, 0, st>>>(detail::as_ptr<const double>(x), n, flag.get());
    else k_all_finite<float><<<g, 256, 0, st>>>(detail::as_ptr<const float>(x), n, flag.get());
    detail::check(cudaGetLastError(), "k_all_finite");
  }
  int h = 0;
  detail::check(cudaMemcpyAsync(&h, flag.get(), sizeof(int), cudaMemcpyDeviceToHost, st), "cudaMemcpyAsync");
  detail::check(cudaStreamSynchronize(st), "cudaStreamSynchronize");
  return h == 0;
}
void synchronize(uptr stream) {
  detail::check(cudaStreamSynchronize(detail::as_stream(stream)), "cudaStreamSynchronize");
}
}  // namespace adasolve::cuda
