// adasolve::mfac: matrix-free inverse-Hessian-vector products with the damped empirical Fisher
//
//     F = damp * I + (1/m) * sum_i g_i g_i^T = damp * I + G^T G / m,   G = [g_1; ...; g_m] (m x d)
//
// (Frantar, Kurtic, Alistarh, "M-FAC", NeurIPS 2021). Plain C++17 + Eigen, no Python types.
//
// Formulation. By Woodbury, with the m x m matrix K = m*damp*I + G G^T = L L^T,
//
//     F^{-1} v = (v - G^T K^{-1} G v) / damp,
//
// so an IHVP is two streaming passes over G (y = G v, then v - G^T c) around an O(m^2) solve.
// The paper's recursion (v_i = F_{i-1}^{-1} g_i, den_i) and its sliding-window matrices D and B
// are a factorization of the same K (LU without pivoting of K/damp); we keep the Cholesky factor
// of K instead: same O(m^3) cost, backward stable, and the Gram matrix G G^T is computed by
// blocked GEMMs (compute bound) instead of m sequential GEMVs over a growing d x m store.
//
// Blocks. With block_size = b the parameter vector is cut into contiguous blocks of b
// coordinates (the last one ragged) and F is replaced by its block diagonal: each block is an
// independent problem on the columns G[:, block]. A block of width w <= m is handled in primal
// form (w x w matrix damp*I + G_b^T G_b / m, factorized), a wider one in the Woodbury form above.
//
// Layout. G is row-major (one gradient per row) with a row stride `ld` >= d, exactly as a
// C-contiguous NumPy array; it is never copied by StaticIHVP (the caller keeps it alive).
// Scalar is float or double; every m-sized quantity (Gram, dot products, coefficients) is
// accumulated in double, so float32 storage loses accuracy only in the stored numbers.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "adasolve/common.hpp"

namespace adasolve::mfac {

using MatrixXdR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ------------------------------------------------------------------------------------------
// Kernels over raw pointers (the interface a CUDA implementation mirrors).
// `G` points at the first column of a block: m rows of w entries, row stride `ld` elements.
// `parallel` lets the kernel split the w columns over OpenMP threads (pass false when the
// caller already runs blocks in parallel). Results are deterministic for a fixed thread count.
// ------------------------------------------------------------------------------------------

/// out (m x m, row-major, double) = G G^T. Column chunks are multiplied by Eigen's blocked
/// GEMM in Scalar and summed in double.
template <class Scalar>
void gram(const Scalar* G, Index m, Index w, Index ld, double* out, bool parallel);

/// Y (k x m, row-major, double) with Y[j, i] = <V[j], G_i>: the first pass of an IHVP.
/// V: k pointers to vectors of length w. If `new_row` is not null, row `slot` of G is first
/// overwritten by `new_row` (chunk by chunk, fused into the same pass: the sliding-window update).
template <class Scalar>
void grads_dot(Scalar* G, Index m, Index w, Index ld, const Scalar* const* V, Index k,
               double* Y, bool parallel, const Scalar* new_row = nullptr, Index slot = -1);

/// X[j] = (V[j] - sum_i C[j, i] G_i) * scale for j < k: the second pass of an IHVP.
/// C: k x m row-major double. X[j] may alias V[j].
template <class Scalar>
void grads_combine(const Scalar* G, Index m, Index w, Index ld, const double* C, Index k,
                   const Scalar* const* V, double scale, Scalar* const* X, bool parallel);

/// Per-coordinate quadratic forms out[t] = g_t^T (L L^T)^{-1} g_t of the columns g_t of G
/// (L lower triangular m x m): one blocked triangular solve per column chunk.
template <class Scalar>
void column_quadforms(const Scalar* G, Index m, Index w, Index ld, const MatrixXdR& L,
                      double* out, bool parallel);

/// W (w x m, row-major, double): row t = L^{-1} g_t for the columns g_t of G.
template <class Scalar>
void column_solves(const Scalar* G, Index m, Index w, Index ld, const MatrixXdR& L, double* W,
                   bool parallel);

// ------------------------------------------------------------------------------------------
// Block layout
// ------------------------------------------------------------------------------------------
struct BlockLayout {
  Index d = 0;                ///< dimension
  Index block = 0;            ///< nominal block size (= d when not blocked; widest block if ragged)
  std::vector<Index> starts;  ///< empty: uniform blocks of `block`; else nb+1 block boundaries
  Index count() const {
    return starts.empty() ? (d + block - 1) / block : Index(starts.size()) - 1;
  }
  Index start(Index b) const { return starts.empty() ? b * block : starts[b]; }
  Index width(Index b) const {
    return starts.empty() ? std::min(block, d - b * block) : starts[b + 1] - starts[b];
  }
  /// The block holding coordinate i (0 <= i < d).
  Index find(Index i) const;
  /// Contiguous blocks of `block_size` coordinates (<= 0 or >= d: one block; last one ragged).
  static BlockLayout uniform(Index d, Index block_size);
  /// Consecutive blocks of the given sizes (each >= 1, summing to d), e.g. one per layer.
  static BlockLayout from_sizes(const std::vector<Index>& sizes);
};

/// One block's factor. Dual (w > m): lower Cholesky factor of K = m*damp*I + G_b G_b^T.
/// Primal (w <= m): the explicit inverse of damp*I + G_b^T G_b / m (w x w).
struct BlockFactor {
  bool dual = true;
  MatrixXdR L;     ///< dual: Cholesky factor of K (m x m), lower
  MatrixXdR Ainv;  ///< primal: (damp*I + G_b^T G_b/m)^{-1}
};

// ------------------------------------------------------------------------------------------
// Static: m fixed gradients, precomputation in the constructor.
// ------------------------------------------------------------------------------------------
template <class Scalar>
class StaticIHVP {
 public:
  /// grads: m x d row-major, row stride ld (>= d); kept by pointer, never copied or modified.
  /// block_size <= 0 or >= d: one block. Throws std::invalid_argument on bad sizes or damp.
  /// damp_growth > 1: when a Cholesky factorization fails (damp too small for the scale of
  /// the gradients), damp is multiplied by damp_growth until it succeeds (see damp_raises());
  /// damp_growth <= 1: the failure throws std::invalid_argument.
  StaticIHVP(const Scalar* grads, Index m, Index d, Index ld, double damp, Index block_size,
             double damp_growth = 0.0);
  StaticIHVP(const Scalar* grads, Index m, Index ld, double damp, const BlockLayout& layout,
             double damp_growth = 0.0);

  Index m() const { return m_; }
  Index dim() const { return layout_.d; }
  Index block_size() const { return layout_.block; }
  const BlockLayout& layout() const { return layout_; }
  /// The damping in use: the constructor's, times damp_growth^damp_raises().
  double damp() const { return damp_; }
  Index damp_raises() const { return damp_raises_; }

  /// X (k x d) = F^{-1} V for V (k x d), both row-major contiguous. X may alias V.
  void ihvp(const Scalar* V, Index k, Scalar* X) const;
  /// out[j] = V_j^T F^{-1} V_j (one pass over G).
  void quad(const Scalar* V, Index k, double* out) const;
  /// diag(F^{-1}) into out (d). The first call costs O(d m^2) (blocked triangular solves);
  /// the result is cached.
  void diag(double* out);
  /// Precompute, for every coordinate t of a dual block, w_t = L^{-1} g_t (g_t: column t of the
  /// block's gradients) so that [F^{-1}]_{ij} = (delta_ij - <w_i, w_j>) / damp: O(d m^2) time
  /// (blocked triangular solves), d x m doubles of memory. Idempotent; element() calls it.
  void prepare_elements();
  bool elements_prepared() const { return !wt_.empty() || factors_.empty(); }
  /// [F^{-1}]_{ij}: O(m) (one length-m dot product) once prepare_elements() has run (the first
  /// call runs it), O(1) in a primal block. Zero across blocks.
  double element(Index i, Index j);

 private:
  const Scalar* G_;
  Index m_, ld_;
  double damp_, damp_growth_;
  Index damp_raises_ = 0;
  BlockLayout layout_;
  std::vector<BlockFactor> factors_;
  std::vector<double> diag_;  // cache, empty until diag() is called
  // per block: w_t = L^{-1} g_t for each coordinate t of a dual block, row-major (w x m);
  // empty until prepare_elements() (and for primal blocks)
  std::vector<std::vector<double>> wt_;
  bool outer_parallel() const;
};

// ------------------------------------------------------------------------------------------
// Sliding window: the last m gradients in a ring buffer owned by the object.
// ------------------------------------------------------------------------------------------
template <class Scalar>
class SlidingIHVP {
 public:
  /// damp_growth: as for StaticIHVP (a failed factorization after an update raises damp for
  /// every block and refactors them all; the damping then stays raised).
  SlidingIHVP(Index d, Index m, double damp, Index block_size, double damp_growth = 0.0);
  SlidingIHVP(Index m, double damp, const BlockLayout& layout, double damp_growth = 0.0);

  Index m() const { return m_; }
  Index dim() const { return layout_.d; }
  Index block_size() const { return layout_.block; }
  const BlockLayout& layout() const { return layout_; }
  double damp() const { return damp_; }
  Index damp_raises() const { return damp_raises_; }
  /// Number of gradients added since construction or reset().
  Index count() const { return count_; }
  /// Ring-buffer slot the next gradient overwrites.
  Index slot() const { return slot_; }
  /// The ring buffer (m x d row-major); rows never written are zero.
  const Scalar* buffer() const { return G_.data(); }

  /// Replace the oldest gradient by g (d): one pass over the buffer + O(m^2) per dual block
  /// (Cholesky rank-2 update/downdate; a full O(m^3) refactorization from the exact Gram
  /// matrix whenever the rounding error of the updates could reach 1e-12 relative, and every
  /// 32 steps in any case).
  void update(const Scalar* g);
  /// X (k x d) = F^{-1} V with the current window. X may alias V.
  void ihvp(const Scalar* V, Index k, Scalar* X) const;
  /// update(g) then x = F^{-1} v (v = g when v is null), the two passes fused with the update.
  void update_and_ihvp(const Scalar* g, const Scalar* v, Scalar* x);
  /// Forget every gradient (the buffer is zeroed).
  void reset();
  /// Set the whole state: the ring buffer (m x d row-major, copied), the next slot and the
  /// count, then recompute every block's Gram matrix and factor exactly (O(d m^2)). Used to
  /// restore a pickled or copied window.
  void restore(const Scalar* G, Index slot, Index count);

  /// The exact state, for checkpoints that resume bit for bit: per block the Gram matrix,
  /// the factor (dual: Cholesky factor L of K; primal: the explicit inverse) and the rounding
  /// budget spent since the last exact factorization.
  const MatrixXdR& block_gram(Index b) const { return gram_[b]; }
  const MatrixXdR& block_factor(Index b) const {
    return factors_[b].dual ? factors_[b].L : factors_[b].Ainv;
  }
  double block_drift(Index b) const { return drift_[b]; }
  /// Set the exact state saved by the accessors above (plus the buffer, slot, count, damp and
  /// damp_raises); shapes are checked, the values trusted (no refactorization).
  void set_state(const Scalar* G, Index slot, Index count, double damp, Index damp_raises,
                 const std::vector<MatrixXdR>& grams, const std::vector<MatrixXdR>& factors,
                 const std::vector<double>& drift);

 private:
  Index m_;
  double damp_, damp_growth_;
  Index damp_raises_ = 0;
  BlockLayout layout_;
  std::vector<Scalar> G_;              // m x d ring buffer
  std::vector<MatrixXdR> gram_;        // per block: G_b G_b^T (dual) or G_b^T G_b (primal)
  std::vector<BlockFactor> factors_;
  std::vector<double> drift_;          // per block: size of the changes since the last exact
                                       // factorization (rounding budget, see mfac.cpp)
  Index slot_ = 0, count_ = 0;
  bool outer_parallel() const;
  // phase 1 of a step: write g, update block b's Gram matrix and factor; Y receives the dot
  // products of the block's rows with g (and v). Returns false if the factorization failed.
  bool update_block(Index b, const Scalar* g, const Scalar* v, MatrixXdR& Y, bool inner_parallel);
  bool refactor(Index b);
  // every block refactored, damp raised by damp_growth_ until all succeed (or throws)
  void refactor_all();
};

}  // namespace adasolve::mfac
