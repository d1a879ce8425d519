// Multicolour SOR and SSOR-preconditioned CG on the GPU.
//
// The plan receives the matrix coloured and permuted on the host by the CPU library
// (colour_permute in sor_host.cpp: the greedy colouring of the symmetrized pattern that the
// CPU multicolour kernels use, red-black for 5-point stencils), so that every colour is a
// contiguous range of rows: a colour's sweep is then one kernel launch over contiguous rows
// (coalesced reads of the CSR arrays), and rows of one colour never read each other's
// unknowns, so the parallel update is exactly the sequential Gauss-Seidel/SOR sweep in the
// permuted order. Vectors are permuted on entry and back on exit; all work vectors live in
// the plan.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.cuh"

namespace adasolve::cuda {

namespace {
using namespace detail;

// x_i += omega * (b_i - (A x)_i) / a_ii for rows r0..r1-1 (one colour: independent rows).
template <class T>
__global__ void k_sor_color(Index r0, Index r1, const int* __restrict__ ip, const int* __restrict__ ix,
                            const T* __restrict__ a, const T* __restrict__ dinv, const T* __restrict__ b,
                            T* __restrict__ x, T omega) {
  const Index i = r0 + blockIdx.x * (Index)blockDim.x + threadIdx.x;
  if (i >= r1) return;
  T s = b[i];
  for (int k = ip[i], e = ip[i + 1]; k < e; ++k) s -= a[k] * x[ix[k]];
  x[i] += omega * s * dinv[i];
}

// r = b - A x (stored when r != nullptr); acc += ||r||^2.
template <class T>
__global__ void k_residual(Index n, const int* __restrict__ ip, const int* __restrict__ ix,
                           const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ x,
                           T* __restrict__ r, double* acc) {
  double local = 0.0;
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
    T s = b[i];
    for (int k = ip[i], e = ip[i + 1]; k < e; ++k) s -= a[k] * x[ix[k]];
    if (r) r[i] = s;
    local += double(s) * double(s);
  }
  local = block_sum(local);
  if (threadIdx.x == 0) atomicAdd(acc, local);
}

// q = A p; acc += p.q
template <class T>
__global__ void k_spmv_dot(Index n, const int* __restrict__ ip, const int* __restrict__ ix,
                           const T* __restrict__ a, const T* __restrict__ p, T* __restrict__ q,
                           double* acc) {
  double local = 0.0;
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
    T s = 0;
    for (int k = ip[i], e = ip[i + 1]; k < e; ++k) s += a[k] * p[ix[k]];
    q[i] = s;
    if (acc) local += double(s) * double(p[i]);
  }
  if (!acc) return;
  local = block_sum(local);
  if (threadIdx.x == 0) atomicAdd(acc, local);
}

enum { RZ = 0, PQ = 1, RR = 2, RZNEW = 3, NSCAL = 4 };

// alpha = rz / pq; x += alpha p; r -= alpha q; acc(RR) += r.r
template <class T>
__global__ void k_cg_xr(Index n, T* __restrict__ x, T* __restrict__ r, const T* __restrict__ p,
                        const T* __restrict__ q, double* sc) {
  const T alpha = static_cast<T>(sc[RZ] / sc[PQ]);
  double local = 0.0;
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
    x[i] += alpha * p[i];
    const T ri = r[i] - alpha * q[i];
    r[i] = ri;
    local += double(ri) * double(ri);
  }
  local = block_sum(local);
  if (threadIdx.x == 0) atomicAdd(sc + RR, local);
}

template <class T>
__global__ void k_dot(Index n, const T* __restrict__ u, const T* __restrict__ v, double* acc) {
  double local = 0.0;
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    local += double(u[i]) * double(v[i]);
  local = block_sum(local);
  if (threadIdx.x == 0) atomicAdd(acc, local);
}

// p = z + beta p with beta = rznew / rz (beta = 0 on the first step: p = z).
template <class T>
__global__ void k_cg_p(Index n, T* __restrict__ p, const T* __restrict__ z, const double* sc, bool first) {
  const T beta = first ? T(0) : static_cast<T>(sc[RZNEW] / sc[RZ]);
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    p[i] = first ? z[i] : z[i] + beta * p[i];
}

__global__ void k_cg_roll(double* sc) {
  sc[RZ] = sc[RZNEW];
  sc[PQ] = sc[RR] = sc[RZNEW] = 0.0;
}

template <class T>
__global__ void k_gather(Index n, const int* __restrict__ perm, const T* __restrict__ src, T* __restrict__ dst) {
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    dst[i] = src[perm[i]];
}
template <class T>
__global__ void k_scatter(Index n, const int* __restrict__ perm, const T* __restrict__ src, T* __restrict__ dst) {
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x)
    dst[perm[i]] = src[i];
}

constexpr int kThreads = 256;

}  // namespace

struct SorPlan::Impl {
  int device = 0;
  Index n = 0;
  bool dbl = true;
  DevBuf<int> ip, ix, perm;
  DevBuf<char> a, dinv;                 // T arrays
  DevBuf<char> xb, bb, r, z, p, q;      // work vectors (T), permuted order
  DevBuf<double> sc;
  double* host_sc = nullptr;            // pinned
  std::vector<Index> cptr;
  ~Impl() { if (host_sc) cudaFreeHost(host_sc); }

  template <class T> T* v(DevBuf<char>& b) { return reinterpret_cast<T*>(b.get()); }

  template <class T>
  void color_sweep(int c, T* x, const T* b, T omega, cudaStream_t st) {
    const Index r0 = cptr[c], r1 = cptr[c + 1];
    if (r1 <= r0) return;
    k_sor_color<T><<<grid_for(r1 - r0, kThreads, 1u << 30), kThreads, 0, st>>>(
        r0, r1, ip.get(), ix.get(), v<T>(a), v<T>(dinv), b, x, omega);
    ADA_LAUNCHED("k_sor_color");
  }
  template <class T>
  void full_sweep(T* x, const T* b, T omega, int direction, cudaStream_t st) {
    const int nc = (int)cptr.size() - 1;
    if (direction == 0 || direction == 2)
      for (int c = 0; c < nc; ++c) color_sweep<T>(c, x, b, omega, st);
    if (direction == 1 || direction == 2)
      for (int c = nc - 1; c >= 0; --c) color_sweep<T>(c, x, b, omega, st);
  }
  template <class T>
  double resid2(const T* b, const T* x, T* r, cudaStream_t st, int slot = RR) {
    ADA_CUDA(cudaMemsetAsync(sc.get() + slot, 0, sizeof(double), st));
    k_residual<T><<<grid_for(n, kThreads, 4096), kThreads, 0, st>>>(n, ip.get(), ix.get(), v<T>(a), b, x, r, sc.get() + slot);
    ADA_LAUNCHED("k_residual");
    return fetch(slot, st);
  }
  double fetch(int slot, cudaStream_t st) {
    ADA_CUDA(cudaMemcpyAsync(host_sc, sc.get(), NSCAL * sizeof(double), cudaMemcpyDeviceToHost, st));
    ADA_CUDA(cudaStreamSynchronize(st));
    return host_sc[slot];
  }
  template <class T>
  double norm2(const T* u, cudaStream_t st) {
    ADA_CUDA(cudaMemsetAsync(sc.get() + RZNEW, 0, sizeof(double), st));
    k_dot<T><<<grid_for(n, kThreads, 4096), kThreads, 0, st>>>(n, u, u, sc.get() + RZNEW);
    ADA_LAUNCHED("k_dot");
    return fetch(RZNEW, st);
  }
  template <class T>
  void load(uptr bsrc, uptr xsrc, cudaStream_t st) {
    k_gather<T><<<grid_for(n, kThreads, 4096), kThreads, 0, st>>>(n, perm.get(), as_ptr<const T>(bsrc), v<T>(bb));
    if (xsrc)
      k_gather<T><<<grid_for(n, kThreads, 4096), kThreads, 0, st>>>(n, perm.get(), as_ptr<const T>(xsrc), v<T>(xb));
    ADA_LAUNCHED("k_gather");
  }
  template <class T>
  void store(uptr xdst, cudaStream_t st) {
    k_scatter<T><<<grid_for(n, kThreads, 4096), kThreads, 0, st>>>(n, perm.get(), v<T>(xb), as_ptr<T>(xdst));
    ADA_LAUNCHED("k_scatter");
  }

  template <class T>
  SolveReport sor(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter, bool symmetric,
                  Index check_every, cudaStream_t st) {
    load<T>(b, x, st);
    SolveReport rep;
    T* X = v<T>(xb);
    const T* B = v<T>(bb);
    rep.bnorm = std::sqrt(norm2<T>(B, st));
    const double tol = std::max(rtol * rep.bnorm, atol);
    double res = std::sqrt(resid2<T>(B, X, nullptr, st));
    rep.resid = res;
    rep.info = 0;
    if (res <= tol) { store<T>(x, st); return rep; }
    rep.info = (int)std::min<Index>(maxiter, 1 << 30);
    for (Index it = 1; it <= maxiter; ++it) {
      full_sweep<T>(X, B, (T)omega, symmetric ? 2 : 0, st);
      rep.nit = it;
      if (it % check_every == 0 || it == maxiter) {
        res = std::sqrt(resid2<T>(B, X, nullptr, st));
        rep.resid = res;
        if (!std::isfinite(res)) { rep.info = -1; break; }  // diverged / overflow
        if (res <= tol) { rep.info = 0; break; }
      }
    }
    if (rep.info > 0) rep.info = (int)std::min<Index>(rep.nit, 1 << 30);
    store<T>(x, st);
    ADA_CUDA(cudaStreamSynchronize(st));
    return rep;
  }

  template <class T>
  void precond(const T* R, T* Z, T omega, cudaStream_t st) {
    // One symmetric sweep from zero: Z = M_SSOR^{-1} R in the coloured order.
    ADA_CUDA(cudaMemsetAsync(Z, 0, n * sizeof(T), st));
    full_sweep<T>(Z, R, omega, 2, st);
  }

  template <class T>
  SolveReport ssor_cg(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter, cudaStream_t st) {
    load<T>(b, x, st);
    SolveReport rep;
    T *X = v<T>(xb), *R = v<T>(r), *Z = v<T>(z), *P = v<T>(p), *Q = v<T>(q);
    const T* B = v<T>(bb);
    const Index g = grid_for(n, kThreads, 4096);
    rep.bnorm = std::sqrt(norm2<T>(B, st));
    const double tol = std::max(rtol * rep.bnorm, atol);
    double res = std::sqrt(resid2<T>(B, X, R, st));
    rep.resid = res;
    if (res <= tol) { store<T>(x, st); ADA_CUDA(cudaStreamSynchronize(st)); return rep; }
    ADA_CUDA(cudaMemsetAsync(sc.get(), 0, NSCAL * sizeof(double), st));
    precond<T>(R, Z, (T)omega, st);
    k_dot<T><<<g, kThreads, 0, st>>>(n, R, Z, sc.get() + RZNEW);
    k_cg_p<T><<<g, kThreads, 0, st>>>(n, P, Z, sc.get(), true);
    k_cg_roll<<<1, 1, 0, st>>>(sc.get());
    ADA_LAUNCHED("ssor_cg setup");
    rep.info = 1;
    for (Index it = 1; it <= maxiter; ++it) {
      k_spmv_dot<T><<<g, kThreads, 0, st>>>(n, ip.get(), ix.get(), v<T>(a), P, Q, sc.get() + PQ);
      k_cg_xr<T><<<g, kThreads, 0, st>>>(n, X, R, P, Q, sc.get());
      ADA_LAUNCHED("ssor_cg step");
      fetch(RR, st);
      rep.nit = it;
      const double pq = host_sc[PQ], rr = host_sc[RR];
      rep.resid = std::sqrt(rr);
      if (!(pq > 0.0) || !std::isfinite(rr)) { rep.info = -10; break; }  // not SPD / breakdown
      if (rep.resid <= tol) { rep.info = 0; break; }
      precond<T>(R, Z, (T)omega, st);
      k_dot<T><<<g, kThreads, 0, st>>>(n, R, Z, sc.get() + RZNEW);
      k_cg_p<T><<<g, kThreads, 0, st>>>(n, P, Z, sc.get(), false);
      k_cg_roll<<<1, 1, 0, st>>>(sc.get());
      ADA_LAUNCHED("ssor_cg update");
    }
    if (rep.info > 0) rep.info = (int)std::min<Index>(rep.nit, 1 << 30);
    store<T>(x, st);
    ADA_CUDA(cudaStreamSynchronize(st));
    return rep;
  }
};

SorPlan::SorPlan(const ColouredCsr& A, int device) : p_(new Impl), n_(A.n), dbl_(A.dbl) {
  const Index n = A.n;
  if (n < 1) throw std::invalid_argument("A is empty");
  nnz_ = A.nnz();
  perm_ = A.perm;
  color_ptr_ = A.color_ptr;
  DeviceGuard guard(device);
  p_->device = device;
  p_->n = n;
  p_->dbl = dbl_;
  const std::size_t es = dbl_ ? sizeof(double) : sizeof(float);
  p_->cptr = color_ptr_;
  p_->ip.resize(n + 1);
  p_->ix.resize(std::max<Index>(nnz_, 1));
  p_->perm.resize(n);
  p_->a.resize(std::max<Index>(nnz_, 1) * es);
  p_->dinv.resize(n * es);
  for (auto* b : {&p_->xb, &p_->bb, &p_->r, &p_->z, &p_->p, &p_->q}) b->resize(n * es);
  p_->sc.resize(NSCAL);
  ADA_CUDA(cudaMallocHost(&p_->host_sc, NSCAL * sizeof(double)));
  ADA_CUDA(cudaMemcpy(p_->ip.get(), A.indptr.data(), (n + 1) * sizeof(int), cudaMemcpyHostToDevice));
  if (nnz_ > 0) {
    ADA_CUDA(cudaMemcpy(p_->ix.get(), A.indices.data(), nnz_ * sizeof(int), cudaMemcpyHostToDevice));
    ADA_CUDA(cudaMemcpy(p_->a.get(), A.data.data(), nnz_ * es, cudaMemcpyHostToDevice));
  }
  ADA_CUDA(cudaMemcpy(p_->perm.get(), perm_.data(), n * sizeof(int), cudaMemcpyHostToDevice));
  ADA_CUDA(cudaMemcpy(p_->dinv.get(), A.inv_diag.data(), n * es, cudaMemcpyHostToDevice));
}
SorPlan::~SorPlan() = default;

SolveReport SorPlan::sor(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter,
                         bool symmetric, Index check_every, uptr stream) {
  if (check_every < 1) throw std::invalid_argument("check_every must be >= 1");
  if (maxiter < 1) throw std::invalid_argument("maxiter must be >= 1");
  DeviceGuard g(p_->device);
  return dbl_ ? p_->sor<double>(b, x, omega, rtol, atol, maxiter, symmetric, check_every, as_stream(stream))
              : p_->sor<float>(b, x, omega, rtol, atol, maxiter, symmetric, check_every, as_stream(stream));
}
SolveReport SorPlan::ssor_cg(uptr b, uptr x, double omega, double rtol, double atol, Index maxiter, uptr stream) {
  if (maxiter < 1) throw std::invalid_argument("maxiter must be >= 1");
  DeviceGuard g(p_->device);
  return dbl_ ? p_->ssor_cg<double>(b, x, omega, rtol, atol, maxiter, as_stream(stream))
              : p_->ssor_cg<float>(b, x, omega, rtol, atol, maxiter, as_stream(stream));
}
void SorPlan::sweep(uptr x, uptr b, double omega, Index iterations, int direction, uptr stream) {
  if (direction < 0 || direction > 2) throw std::invalid_argument("bad direction");
  DeviceGuard g(p_->device);
  cudaStream_t st = as_stream(stream);
  if (dbl_) {
    p_->load<double>(b, x, st);
    for (Index it = 0; it < iterations; ++it) p_->full_sweep<double>(p_->v<double>(p_->xb), p_->v<double>(p_->bb), omega, direction, st);
    p_->store<double>(x, st);
  } else {
    p_->load<float>(b, x, st);
    for (Index it = 0; it < iterations; ++it) p_->full_sweep<float>(p_->v<float>(p_->xb), p_->v<float>(p_->bb), (float)omega, direction, st);
    p_->store<float>(x, st);
  }
}
void SorPlan::spmv_permuted(uptr x, uptr y, uptr stream) {
  DeviceGuard g(p_->device);
  cudaStream_t st = as_stream(stream);
  const unsigned grid = grid_for(n_, kThreads, 4096);
  if (dbl_) k_spmv_dot<double><<<grid, kThreads, 0, st>>>(n_, p_->ip.get(), p_->ix.get(), p_->v<double>(p_->a), as_ptr<const double>(x), as_ptr<double>(y), nullptr);
  else k_spmv_dot<float><<<grid, kThreads, 0, st>>>(n_, p_->ip.get(), p_->ix.get(), p_->v<float>(p_->a), as_ptr<const float>(x), as_ptr<float>(y), nullptr);
  ADA_LAUNCHED("k_spmv");
}
void SorPlan::sweep_permuted(double omega, uptr stream) {
  DeviceGuard g(p_->device);
  cudaStream_t st = as_stream(stream);
  if (dbl_) p_->full_sweep<double>(p_->v<double>(p_->xb), p_->v<double>(p_->bb), omega, 0, st);
  else p_->full_sweep<float>(p_->v<float>(p_->xb), p_->v<float>(p_->bb), (float)omega, 0, st);
}

}  // namespace adasolve::cuda
