// Shared plain-C++ types for the adasolve cores: no Python, no pybind11.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <Eigen/Core>
#include <Eigen/SparseCore>

// The build is portable by default (no -march=native). A few latency-bound loops (the
// natural-order SOR sweep: one multiply-add per step of a serial chain) lose up to 2.5x
// without FMA, so they are compiled twice, for x86-64-v3 (AVX2 + FMA) and for the baseline,
// and the loader picks the clone the CPU supports (GCC function multiversioning, glibc ifunc).
// A native build (ADASOLVE_NATIVE=ON) or another compiler/platform compiles them once.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__AVX2__) && !defined(ADASOLVE_NO_CLONES)
#define ADASOLVE_FMA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ADASOLVE_FMA_CLONES
#endif

namespace adasolve {

using Index = std::int64_t;

template <class Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// Read-only view of a CSR matrix owned by someone else (NumPy, SciPy).
///
/// The arrays are never copied; the caller keeps them alive for the view's lifetime.
template <class Scalar, class Idx = std::int32_t>
struct CsrView {
  Index n_rows = 0;
  Index n_cols = 0;
  const Idx* indptr = nullptr;   // n_rows + 1 entries
  const Idx* indices = nullptr;  // indptr[n_rows] entries
  const Scalar* data = nullptr;  // indptr[n_rows] entries

  Index nnz() const { return n_rows ? static_cast<Index>(indptr[n_rows]) : 0; }

  /// Eigen view with no copy, for code that wants Eigen's sparse products.
  Eigen::Map<const Eigen::SparseMatrix<Scalar, Eigen::RowMajor, Idx>> eigen() const {
    return {static_cast<Idx>(n_rows), static_cast<Idx>(n_cols), static_cast<Idx>(nnz()),
            indptr, indices, data};
  }
};

/// Check the index arrays of a compressed sparse matrix before any kernel dereferences them.
///
/// CSR: `n_outer` rows, `n_inner` columns, `inner` = "column"; CSC: the reverse, "row". SciPy
/// builds CSR/CSC matrices without checking the index values (and lets users mutate them), so
/// every entry point that hands index arrays to C++ calls this once: O(n_outer + nnz), a small
/// fraction of one sparse product. Throws std::invalid_argument (ValueError in Python) whose
/// message starts with `name`, the user's argument: "A has a column index out of range ...".
/// With `check_indices` false only `indptr` is checked (O(n_outer)): for a caller that only
/// needs the row extents to be safe and leaves the indices to the C++ entry point.
template <class Idx>
void check_compressed(const std::string& name, const char* inner, Index n_outer, Index n_inner,
                      const Idx* indptr, Index len_indptr, const Idx* indices,
                      Index len_indices, bool check_indices = true) {
  const std::string bad = name + " has an invalid index pointer (indptr): ";
  if (n_outer < 0 || n_inner < 0)
    throw std::invalid_argument(name + " has a negative dimension");
  if (len_indptr != n_outer + 1)
    throw std::invalid_argument(bad + "it has " + std::to_string(len_indptr) +
                                " entries, expected " + std::to_string(n_outer + 1));
  if (indptr[0] != 0)
    throw std::invalid_argument(bad + "indptr[0] = " + std::to_string(indptr[0]) +
                                ", expected 0");
  // branch-free scans first (vectorised); locate the culprit only on failure
  bool decreasing = false;
  for (Index i = 0; i < n_outer; ++i) decreasing |= indptr[i + 1] < indptr[i];
  if (decreasing) {
    Index i = 0;
    while (indptr[i + 1] >= indptr[i]) ++i;
    throw std::invalid_argument(bad + "it decreases at position " + std::to_string(i + 1) +
                                " (indptr[" + std::to_string(i) + "] = " +
                                std::to_string(indptr[i]) + " > indptr[" +
                                std::to_string(i + 1) + "] = " +
                                std::to_string(indptr[i + 1]) + ")");
  }
  const Index nnz = static_cast<Index>(indptr[n_outer]);
  if (nnz > len_indices)
    throw std::invalid_argument(bad + "indptr[-1] = " + std::to_string(nnz) +
                                " exceeds the number of stored indices, " +
                                std::to_string(len_indices));
  if (!check_indices) return;
  // one unsigned compare catches negative indices too (they wrap to huge values)
  const std::uint64_t lim = static_cast<std::uint64_t>(n_inner);
  bool out = false;
  for (Index k = 0; k < nnz; ++k)
    out |= static_cast<std::uint64_t>(static_cast<std::int64_t>(indices[k])) >= lim;
  if (out) {
    Index k = 0;
    while (static_cast<std::uint64_t>(static_cast<std::int64_t>(indices[k])) < lim) ++k;
    throw std::invalid_argument(name + " has a " + inner + " index out of range: indices[" +
                                std::to_string(k) + "] = " + std::to_string(indices[k]) +
                                ", valid " + inner + " indices are 0 to " +
                                std::to_string(n_inner - 1));
  }
}

/// What an iterative kernel reports back (SciPy convention for `info`).
struct Report {
  Index nit = 0;          ///< iterations (sweeps, CG steps, ...) performed
  int info = 0;           ///< 0 converged, >0 not converged, <0 breakdown
  double resid = 0.0;     ///< final residual norm (absolute)
};

/// Throw std::invalid_argument (mapped to ValueError by the bindings) unless `cond`.
inline void require(bool cond, const std::string& what) {
  if (!cond) throw std::invalid_argument(what);
}

/// Number of OpenMP threads the cores will use (1 without OpenMP).
int max_threads();

// ---------------------------------------------------------------------------------------
// Interruption (Ctrl-C). The cores know nothing of Python: a host installs a hook that
// says whether the computation should stop (the Python bindings check for pending signals),
// and long loops call an InterruptCheck every iteration. Without a hook nothing is checked.

/// Thrown out of a long computation when the host hook asked it to stop.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("computation interrupted") {}
};

/// Returns true when the computation should stop. Called from the thread running the loop
/// (the Python bindings' hook needs that thread), never from an OpenMP worker thread: inside a
/// parallel region only thread 0 of the team, the calling thread, may poll, and it must turn
/// Interrupted into a flag that ends the region (exceptions cannot cross it).
using InterruptHook = bool (*)();

/// Install (or, with nullptr, remove) the process-wide interrupt hook.
void set_interrupt_hook(InterruptHook hook);

/// Cheap periodic poll of the interrupt hook, for the outer loop of an iterative method.
///
/// `operator()(work)` adds `work` (any unit, e.g. nonzeros touched) to a counter; only when
/// it passes `stride` does it read the clock, and only when `period_ms` have passed since the
/// last call of the hook does it call the hook, so a poll per iteration costs a few
/// nanoseconds. Throws Interrupted when the hook says stop.
class InterruptCheck {
 public:
  explicit InterruptCheck(double stride = 2e5, double period_ms = 20.0);
  void operator()(double work = 1.0) {
    if (!active_) return;
    acc_ += work;
    if (acc_ >= stride_) poll();
  }

 private:
  void poll();
  bool active_;
  double acc_ = 0.0, stride_;
  std::int64_t period_ns_, last_ns_;
};

}  // namespace adasolve
