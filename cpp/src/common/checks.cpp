#include "adasolve/common.hpp"

#include <atomic>
#include <chrono>

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve {

int max_threads() {
#ifdef ADASOLVE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

namespace {
std::atomic<InterruptHook> g_hook{nullptr};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void set_interrupt_hook(InterruptHook hook) { g_hook.store(hook); }

InterruptCheck::InterruptCheck(double stride, double period_ms)
    : active_(g_hook.load() != nullptr),
      stride_(stride),
      period_ns_(static_cast<std::int64_t>(period_ms * 1e6)),
      last_ns_(now_ns()) {}

void InterruptCheck::poll() {
  acc_ = 0.0;
  const std::int64_t t = now_ns();
  if (t - last_ns_ < period_ns_) return;
  last_ns_ = t;
  InterruptHook hook = g_hook.load();
  if (hook != nullptr && hook()) throw Interrupted();
}

}  // namespace adasolve
