// A small team of worker threads for kernels with many short parallel phases (the
// colours of a multicolour SOR sweep), built to stay fast on a busy machine.
//
// Why not OpenMP here: libgomp spin-waits at barriers, so with more runnable threads than
// free cores (another process holds a core) every barrier waits out a scheduler time slice,
// and a red-black sweep became 17x slower than the serial one. This team spins only a few
// microseconds at a barrier and then sleeps on a condition variable, and its callers time
// serial and parallel execution and keep whichever is faster (Governor below), so the
// parallel path degrades to the serial speed instead of collapsing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "adasolve/common.hpp"

namespace adasolve::parallel {

/// Number of threads a Team uses (1 = serial); the default is the number of cores the process
/// may run on (capped at 8), or OMP_NUM_THREADS / ADASOLVE_NUM_THREADS when set.
int num_threads();
/// Set the number of threads (n >= 1); takes effect at the next parallel call.
void set_num_threads(int n);

/// Run body(tid, nthreads) on nthreads participants (the caller is tid 0) and return when all
/// are done. `nthreads` is at most num_threads(); 1 runs body(0, 1) inline. If another caller
/// is already using the team (two Python threads), this call runs serially instead of waiting.
/// Inside body, barrier() synchronizes the participants of this run.
/// Returns the number of participants actually used.
int run(int nthreads, const std::function<void(int tid, int nthreads)>& body);
/// Barrier among the participants of the current run(): spins briefly, then sleeps.
void barrier();

/// Chooses between serial and parallel execution of a repeated kernel by timing both.
///
/// Each kernel size class (log2 of the work) keeps an exponential average of the seconds per
/// unit of work of each mode; the faster mode runs, and the slower one is re-timed once every
/// `reprobe_seconds` of wall time (load changes). Timings are process-wide, so a sequence of
/// short calls (a multigrid smoother) shares them.
class Governor {
 public:
  /// Threads to use for the next call of `work` units (1 = serial).
  static int choose(double work);
  /// Report how long a call of `work` units took with `threads`.
  static void record(double work, int threads, double seconds);
  /// run() with the thread count the Governor chooses for `work` units, timed and recorded.
  static int run(double work, const std::function<void(int tid, int nthreads)>& body);
};

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace adasolve::parallel
