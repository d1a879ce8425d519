#include "adasolve/common/parallel.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ADASOLVE_PAUSE() _mm_pause()
#else
#define ADASOLVE_PAUSE() std::this_thread::yield()
#endif

namespace adasolve::parallel {

namespace {

// Spin this many pause instructions (a few microseconds) before sleeping: long enough to
// catch a partner that is running, short enough not to steal a busy core's time slice.
constexpr int kSpin = 2000;

int default_threads() {
  for (const char* var : {"ADASOLVE_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* s = std::getenv(var)) {
      const int v = std::atoi(s);
      if (v >= 1) return std::min(v, 64);
    }
  }
  int n = 0;
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  return std::max(1, std::min(n, 8));
}

// A generation barrier: the last arrival bumps the generation; the others spin on it, then
// sleep on the condition variable.
class Barrier {
 public:
  void reset(int n) {
    n_ = n;
    count_.store(0);
  }
  void wait() {
    const unsigned g = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lk(m_);
        gen_.fetch_add(1, std::memory_order_acq_rel);
      }
      cv_.notify_all();
      return;
    }
    for (int s = 0; s < kSpin; ++s) {
      if (gen_.load(std::memory_order_acquire) != g) return;
      ADASOLVE_PAUSE();
    }
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != g; });
  }

 private:
  int n_ = 1;
  std::atomic<int> count_{0};
  std::atomic<unsigned> gen_{0};
  std::mutex m_;
  std::condition_variable cv_;
};

class Team {
 public:
  static Team& get() {
    static Team* team = new Team();  // never destroyed: workers may outlive static teardown
    return *team;
  }

  int threads() const { return want_.load(); }
  void set_threads(int n) { want_.store(std::max(1, std::min(n, 64))); }

  int run(int nthreads, const std::function<void(int, int)>& body) {
    nthreads = std::max(1, std::min(nthreads, want_.load()));
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (nthreads == 1 || !busy.owns_lock()) {
      body(0, 1);
      return 1;
    }
    ensure_workers(nthreads - 1);
    barrier_.reset(nthreads);
    body_ = &body;
    active_ = nthreads;
    pending_.store(nthreads - 1, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(job_m_);
      job_.fetch_add(1, std::memory_order_acq_rel);
    }
    job_cv_.notify_all();
    body(0, nthreads);
    // Wait for the workers to finish (spin, then sleep).
    for (int s = 0; s < kSpin; ++s) {
      if (pending_.load(std::memory_order_acquire) == 0) break;
      ADASOLVE_PAUSE();
    }
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(done_m_);
      done_cv_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    body_ = nullptr;
    return nthreads;
  }

  void barrier() { barrier_.wait(); }

  // After fork() only the calling thread exists in the child: forget the workers (their
  // std::thread objects are leaked on purpose; destroying them would terminate).
  void forget_workers_after_fork() {
    new (&run_mutex_) std::mutex();
    new (&job_m_) std::mutex();
    new (&done_m_) std::mutex();
    workers_ = new std::vector<std::thread*>();
  }

 private:
  Team() {
    want_.store(default_threads());
    pthread_atfork(nullptr, nullptr, [] { Team::get().forget_workers_after_fork(); });
  }

  void ensure_workers(int k) {
    while (int(workers_->size()) < k) {
      const int tid = int(workers_->size()) + 1;
      // The job counter is read here, before the job is posted: a worker that starts late
      // must still see the coming job as new.
      const unsigned seen = job_.load(std::memory_order_acquire);
      workers_->push_back(new std::thread([this, tid, seen] { worker(tid, seen); }));
    }
  }

  void worker(int tid, unsigned seen) {
    for (;;) {
      // Wait for a new job: spin briefly, then sleep.
      int s = 0;
      while (job_.load(std::memory_order_acquire) == seen && s < kSpin) {
        ADASOLVE_PAUSE();
        ++s;
      }
      if (job_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lk(job_m_);
        job_cv_.wait(lk, [&] { return job_.load(std::memory_order_acquire) != seen; });
      }
      seen = job_.load(std::memory_order_acquire);
      if (tid < active_) {
        (*body_)(tid, active_);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          std::lock_guard<std::mutex> lk(done_m_);
          done_cv_.notify_all();
        }
      }
    }
  }

  std::atomic<int> want_{1};
  std::mutex run_mutex_;
  std::vector<std::thread*>* workers_ = new std::vector<std::thread*>();
  const std::function<void(int, int)>* body_ = nullptr;
  int active_ = 1;
  std::atomic<unsigned> job_{0};
  std::atomic<int> pending_{0};
  std::mutex job_m_, done_m_;
  std::condition_variable job_cv_, done_cv_;
  Barrier barrier_;
};

// Governor state: per size class, seconds per unit of work of the serial and the parallel
// mode (exponential averages), and when each was last timed.
struct ModeStats {
  double rate[2] = {-1.0, -1.0};
  double stamp[2] = {-1e300, -1e300};
};
std::mutex g_gov_m;
std::array<ModeStats, 64> g_stats;
constexpr double kReprobeSeconds = 0.25;

int size_class(double work) { return std::max(0, std::min(63, int(std::log2(std::max(work, 1.0))))); }

}  // namespace

int num_threads() { return Team::get().threads(); }
void set_num_threads(int n) { Team::get().set_threads(n); }
int run(int nthreads, const std::function<void(int, int)>& body) { return Team::get().run(nthreads, body); }
void barrier() { Team::get().barrier(); }

int Governor::choose(double work) {
  const int nt = num_threads();
  if (nt <= 1) return 1;
  std::lock_guard<std::mutex> lk(g_gov_m);
  const ModeStats& s = g_stats[size_t(size_class(work))];
  if (s.rate[1] < 0) return nt;  // time the parallel mode first,
  if (s.rate[0] < 0) return 1;   // then the serial one
  const int fast = s.rate[1] < s.rate[0] ? 1 : 0;
  const int slow = 1 - fast;
  if (now_seconds() - s.stamp[slow] > kReprobeSeconds) return slow ? nt : 1;
  return fast ? nt : 1;
}

int Governor::run(double work, const std::function<void(int, int)>& body) {
  const int want = choose(work);
  const double t0 = now_seconds();
  const int used = parallel::run(want, body);
  record(work, used, now_seconds() - t0);
  return used;
}

void Governor::record(double work, int threads, double seconds) {
  if (!(work > 0) || !(seconds >= 0)) return;
  std::lock_guard<std::mutex> lk(g_gov_m);
  ModeStats& s = g_stats[size_t(size_class(work))];
  const int mode = threads > 1 ? 1 : 0;
  const double r = seconds / work;
  // A fresh probe of a mode replaces its average (the load may have changed since); repeated
  // timings of the running mode are averaged.
  const double t = now_seconds();
  if (s.rate[mode] < 0 || t - s.stamp[mode] > kReprobeSeconds)
    s.rate[mode] = r;
  else
    s.rate[mode] = 0.7 * s.rate[mode] + 0.3 * r;
  s.stamp[mode] = t;
}

}  // namespace adasolve::parallel
