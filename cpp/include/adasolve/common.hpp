// Shared plain-C++ types for the adasolve cores: no Python, no pybind11.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <Eigen/Core>
#include <Eigen/SparseCore>

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

/// Returns true when the computation should stop. Called from the thread running the loop,
/// never from inside an OpenMP parallel region.
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
