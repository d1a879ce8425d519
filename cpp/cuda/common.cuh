// Shared device helpers for the .cu files: error checks, cuBLAS handles, reductions.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "adasolve_cuda.hpp"

namespace adasolve::cuda::detail {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}
inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS error in ") + what + ": " +
                             cublasGetStatusString(s));
}
#define ADA_CUDA(call) ::adasolve::cuda::detail::check((call), #call)
#define ADA_LAUNCHED(name) ::adasolve::cuda::detail::check(cudaGetLastError(), name)

inline cudaStream_t as_stream(uptr s) { return reinterpret_cast<cudaStream_t>(s); }
template <class T>
inline T* as_ptr(uptr p) { return reinterpret_cast<T*>(p); }

/// One cuBLAS handle per device, bound to the caller's stream on every use.
inline cublasHandle_t blas(cudaStream_t stream) {
  static std::mutex mu;
  static std::map<int, cublasHandle_t> handles;
  int dev = 0;
  ADA_CUDA(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles.find(dev);
  if (it == handles.end()) {
    cublasHandle_t h;
    check(cublasCreate(&h), "cublasCreate");
    // Plain IEEE arithmetic: no TF32 for float32 GEMMs (results are compared at 1e-4).
    check(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    it = handles.emplace(dev, h).first;
  }
  check(cublasSetStream(it->second, stream), "cublasSetStream");
  check(cublasSetPointerMode(it->second, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  return it->second;
}

/// Device buffer owned by an object of the backend (plain cudaMalloc, freed in the destructor).
template <class T>
struct DevBuf {
  T* ptr = nullptr;
  std::size_t count = 0;
  DevBuf() = default;
  explicit DevBuf(std::size_t n) { resize(n); }
  ~DevBuf() { if (ptr) cudaFree(ptr); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void resize(std::size_t n) {
    if (n <= count) return;
    if (ptr) cudaFree(ptr);
    ptr = nullptr;
    count = 0;
    ADA_CUDA(cudaMalloc(&ptr, n * sizeof(T) + 16));
    count = n;
  }
  T* get() { return ptr; }
};

struct DeviceGuard {
  int prev = 0;
  explicit DeviceGuard(int dev) {
    ADA_CUDA(cudaGetDevice(&prev));
    if (prev != dev) ADA_CUDA(cudaSetDevice(dev));
  }
  ~DeviceGuard() { cudaSetDevice(prev); }
};

/// Block-wide sum (blockDim.x a multiple of 32, at most 1024); result valid in thread 0.
__device__ inline double block_sum(double v) {
  __shared__ double warp_sums[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int nw = (blockDim.x + 31) >> 5;
    v = lane < nw ? warp_sums[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  return v;
}

inline unsigned grid_for(Index n, int threads, unsigned cap = 65535u * 16u) {
  Index g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  if (g > static_cast<Index>(cap)) g = cap;
  return static_cast<unsigned>(g);
}

}  // namespace adasolve::cuda::detail
