// adasolve's CUDA backend: host-side API of the kernels in cpp/cuda/*.cu.
//
// No CUDA or Python types appear here, so the pybind11 module (module.cpp) compiles with the
// host compiler only. Device pointers and CUDA streams travel as std::uintptr_t; every call
// enqueues its work on the given stream (the caller's framework stream) and returns without
// synchronizing unless it has to hand a number back to the host.
//
// Conventions shared with the CPU cores: row-major arrays (one gradient per row), float or
// double storage, m-sized quantities in double; bad arguments throw std::invalid_argument,
// CUDA / cuBLAS failures throw std::runtime_error with the call that failed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace adasolve::cuda {

using Index = std::int64_t;
using uptr = std::uintptr_t;

int device_count();         ///< cudaGetDeviceCount; throws when the driver is unusable
std::string device_name(int device);
void synchronize(uptr stream);
/// No NaN or Inf among the n contiguous elements at x (one pass, synchronizes the stream).
bool all_finite(uptr x, Index n, bool dbl, uptr stream);

// ------------------------------------------------------------------------------------------
// M-FAC (same math as adasolve::mfac): F = damp I + G^T G / m, K = m damp I + G G^T = L L^T,
// F^{-1} v = (v - G^T K^{-1} G v) / damp. d x m work by cuBLAS GEMV/GEMM, the m x m Cholesky
// by a blocked right-looking factorization (small in-shared-memory diagonal kernel + cuBLAS
// TRSM/SYRK), all on the device.
// ------------------------------------------------------------------------------------------
class MfacStatic {
 public:
  /// grads: m x d row-major device array of float (dbl=false) or double, row stride ld.
  MfacStatic(uptr grads, Index m, Index d, Index ld, bool dbl, double damp, int device, uptr stream);
  ~MfacStatic();
  MfacStatic(const MfacStatic&) = delete;
  MfacStatic& operator=(const MfacStatic&) = delete;
  /// X (k x d, row-major contiguous) = F^{-1} V; X may alias V.
  void ihvp(uptr V, Index k, uptr X, uptr stream);
  /// out (k doubles, device) = v_j^T F^{-1} v_j.
  void quad(uptr V, Index k, uptr out, uptr stream);
  /// out (d doubles, device) = diag(F^{-1}).
  void diag(uptr out, uptr stream);
  /// [F^{-1}]_{ij} (synchronizes the stream).
  double element(Index i, Index j, uptr stream);
  Index m() const { return m_; }
  Index dim() const { return d_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
  Index m_, d_;
};

class MfacSliding {
 public:
  /// buffer: m x d row-major contiguous device array, zero-filled by the caller, owned by it.
  MfacSliding(uptr buffer, Index m, Index d, bool dbl, double damp, int device, uptr stream);
  ~MfacSliding();
  MfacSliding(const MfacSliding&) = delete;
  MfacSliding& operator=(const MfacSliding&) = delete;
  void update(uptr g, uptr stream);
  void ihvp(uptr V, Index k, uptr X, uptr stream);
  /// update(g), then x = F^{-1} v (v = g when v == 0): two passes over the buffer.
  void update_and_ihvp(uptr g, uptr v, uptr x, uptr stream);
  /// The caller zeroes the buffer; this forgets the Gram matrix and the counters.
  void reset(uptr stream);
  /// The caller wrote `count` gradients into rows 0..count-1 (the rest zero): recompute the
  /// Gram matrix (SYRK) and its factor; the next update overwrites row count % m.
  void load(Index count, uptr stream);
  Index count() const { return count_; }
  Index slot() const { return slot_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
  Index m_, d_, slot_ = 0, count_ = 0;
};

// ------------------------------------------------------------------------------------------
// Multicolour SOR / SSOR-CG on CSR. The matrix is coloured and permuted on the host once, by
// the CPU library (colour_permute, in sor_host.cpp), so that each colour is a contiguous range
// of rows; the plan keeps the permuted matrix and work vectors on the device. Solves take and
// return vectors in the caller's (unpermuted) order.
// ------------------------------------------------------------------------------------------

/// A square CSR matrix with rows and columns permuted so that each colour of a greedy
/// colouring of its symmetrized pattern is a contiguous range of rows (host arrays).
struct ColouredCsr {
  Index n = 0;
  bool dbl = true;                      ///< values are double (else float)
  std::vector<std::int32_t> perm;       ///< new row -> old row
  std::vector<Index> color_ptr;         ///< rows of colour c: color_ptr[c] .. color_ptr[c+1]-1
  std::vector<std::int32_t> indptr;     ///< n + 1, permuted
  std::vector<std::int32_t> indices;    ///< permuted column indices
  std::vector<char> data;               ///< values (float or double), permuted
  std::vector<char> inv_diag;           ///< 1 / a_ii in the permuted order (float or double)
  Index nnz() const { return n ? Index(indptr[n]) : 0; }
};

/// Colour and permute a host CSR matrix (int32 indices, float or double values) with the CPU
/// library: adasolve::check_compressed for the index arrays, adasolve::sor::greedy_coloring
/// (the colouring of the CPU multicolour kernels) and adasolve::sor::inverse_diagonal, which
/// rejects NaN/Inf values and zero or missing diagonal entries with messages naming "A".
/// Compiled by the host compiler into adasolve._cuda, which links the CPU library.
ColouredCsr colour_permute(Index n, const std::int32_t* indptr, Index len_indptr,
                           const std::int32_t* indices, Index len_indices, const void* data,
                           bool dbl);
struct SolveReport {
  Index nit = 0;
  int info = 0;
  double resid = 0.0;
  double bnorm = 0.0;
};

class SorPlan {
 public:
  /// Upload a coloured, permuted matrix (see colour_permute) to `device`.
  SorPlan(const ColouredCsr& A, int device);
  ~SorPlan();
  SorPlan(const SorPlan&) = delete;
  SorPlan& operator=(const SorPlan&) = delete;
  Index n() const { return n_; }
  Index nnz() const { return nnz_; }
  int ncolors() const { return static_cast<int>(color_ptr_.size()) - 1; }
  const std::vector<std::int32_t>& perm() const { return perm_; }  ///< new -> old
  const std::vector<Index>& color_ptr() const { return color_ptr_; }
  bool is_double() const { return dbl_; }

  /// x (in/out: initial guess, solution) ; b. Residual checked every `check_every` sweeps.
  SolveReport sor(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter,
                  bool symmetric, Index check_every, uptr stream);
  SolveReport ssor_cg(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter,
                      uptr stream);
  /// In-place sweeps: direction 0 forward, 1 backward, 2 symmetric.
  void sweep(uptr x, uptr b, double omega, Index iterations, int direction, uptr stream);
  /// y = A x (benchmark reference: one SpMV on the permuted matrix, vectors in permuted order).
  void spmv_permuted(uptr x, uptr y, uptr stream);
  /// One colour sweep over all rows on permuted work vectors (benchmark).
  void sweep_permuted(double omega, uptr stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
  Index n_ = 0, nnz_ = 0;
  bool dbl_ = true;
  std::vector<std::int32_t> perm_;
  std::vector<Index> color_ptr_;
};

// ------------------------------------------------------------------------------------------
// Sketches for the sketching Newton solver. S is s x n; entries come from a counter-based hash
// of (seed, index), so the same seed gives the same S on any device and in the NumPy reference:
//   Gaussian:    S[i, j] = N(0,1) / sqrt(s), Box-Muller on two splitmix64 draws of key i*n+j.
//   CountSketch: row j of A goes to bucket h(j) = splitmix64(key_j) % s with sign +-1 from
//                the top bit of splitmix64(key_j ^ SIGN_SALT).
// out (s x p row-major) = S A for A (n x p row-major, lda >= p); out is overwritten.
// ------------------------------------------------------------------------------------------
void gaussian_sketch(uptr A, Index n, Index p, Index lda, uptr out, Index s, std::uint64_t seed,
                     bool dbl, uptr stream);
void countsketch_dense(uptr A, Index n, Index p, Index lda, uptr out, Index s, std::uint64_t seed,
                       bool dbl, uptr stream);
/// A in CSR on the device (int32 indptr/indices), n rows, p columns.
void countsketch_csr(uptr indptr, uptr indices, uptr data, Index n, Index p, uptr out, Index s,
                     std::uint64_t seed, bool dbl, uptr stream);
/// S itself (s x n row-major) for tests and small problems.
void sketch_matrix(int kind, Index s, Index n, std::uint64_t seed, uptr out, bool dbl, uptr stream);

}  // namespace adasolve::cuda
