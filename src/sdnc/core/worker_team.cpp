#include "sdnc/core/worker_team.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "sdnc/core/parallel.h"

namespace sdnc {

namespace {

// How long an idle helper keeps polling for the next run before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(300);

// A run in which the caller spent more than this share of its time waiting for helpers'
// blocks is followed by kSoloRuns runs on the caller alone.
constexpr double kMaxWaitShare = 0.25;
constexpr int kSoloRuns = 16;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Polls ready(); after a few hundred polls (~10 µs) also yields the core (someone else may need it
// to finish what we wait for).
template <class F>
void wait_until(F&& ready) {
  for (int i = 0; !ready(); ++i) {
    if (i < 256) cpu_relax();
    else std::this_thread::yield();
  }
}

}  // namespace

struct WorkerTeam::Job {
  const BlockFn* fn = nullptr;
  std::vector<int64_t> phase;       // the caller's phase index of each non-empty phase
  std::vector<int64_t> blocks;      // blocks per non-empty phase
  std::vector<int64_t> start;       // first ticket of each non-empty phase; start.back() = total
  std::atomic<int64_t> next{0};     // next ticket to take
  std::atomic<int64_t> finished{0}; // blocks done, all phases
  std::unique_ptr<std::atomic<int64_t>[]> done;  // blocks done per phase
};

WorkerTeam::WorkerTeam(int helpers, Threads threads) : helper_count_(std::max(0, helpers)), threads_(threads) {
#if !defined(_OPENMP)
  threads_ = Threads::Own;  // no OpenMP in this build: helpers of its own
#endif
  if (threads_ == Threads::Own)
    for (int w = 1; w <= helper_count_; ++w) helpers_.emplace_back([this, w] { helper_loop(w); });
}

WorkerTeam::~WorkerTeam() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> g(sleep_mutex_);
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void WorkerTeam::work(Job& job, int worker, double* waited) {
  const int64_t total = job.start.back();
  size_t p = 0;
  for (;;) {
    const int64_t t = job.next.fetch_add(1, std::memory_order_relaxed);
    if (t >= total) return;
    while (t >= job.start[p + 1]) ++p;  // one thread's tickets only increase
    auto previous_done = [&] { return job.done[p - 1].load(std::memory_order_acquire) == job.blocks[p - 1]; };
    if (p > 0 && !previous_done()) {
      auto t0 = std::chrono::steady_clock::now();
      wait_until(previous_done);
      if (waited) *waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    (*job.fn)(job.phase[p], t - job.start[p], worker);
    job.done[p].fetch_add(1, std::memory_order_release);
    job.finished.fetch_add(1, std::memory_order_release);
  }
}

void WorkerTeam::helper_loop(int worker) {
  uint64_t seen = 0;
  while (!stop_.load()) {
    if (posted_.load(std::memory_order_acquire) != seen) {
      seen = posted_.load(std::memory_order_acquire);
      if (std::shared_ptr<Job> job = current_.load(std::memory_order_acquire)) work(*job, worker, nullptr);
      continue;
    }
    // Poll for a while: the next decoding step usually follows at once.
    bool posted = false;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 1;; ++i) {
      if (posted_.load(std::memory_order_acquire) != seen || stop_.load()) {
        posted = true;
        break;
      }
      cpu_relax();
      if (i % 64 == 0 && std::chrono::steady_clock::now() - t0 > kSpin) break;
    }
    if (posted) continue;
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    sleepers_.fetch_add(1);
    wake_.wait(lock, [&] { return posted_.load() != seen || stop_.load(); });
    sleepers_.fetch_sub(1);
  }
}

void WorkerTeam::run(const std::vector<int64_t>& blocks, const BlockFn& fn) {
  std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
  if (!running.owns_lock() || helper_count_ == 0 || solo_runs_left_ > 0) {
    if (running.owns_lock() && solo_runs_left_ > 0) --solo_runs_left_;
    for (int64_t p = 0; p < static_cast<int64_t>(blocks.size()); ++p)
      for (int64_t b = 0; b < blocks[p]; ++b) fn(p, b, 0);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->start.push_back(0);
  for (int64_t p = 0; p < static_cast<int64_t>(blocks.size()); ++p)
    if (blocks[p] > 0) {
      job->phase.push_back(p);
      job->blocks.push_back(blocks[p]);
      job->start.push_back(job->start.back() + blocks[p]);
    }
  job->done = std::make_unique<std::atomic<int64_t>[]>(job->blocks.size());
  for (size_t p = 0; p < job->blocks.size(); ++p) job->done[p].store(0);
  const auto t0 = std::chrono::steady_clock::now();
  double waited = 0;
  run_job(job, &waited);
  // Helpers that hold blocks and then lose their core (more threads than free cores) make
  // the caller wait: then run the next steps alone before trying again.
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (waited > kMaxWaitShare * elapsed) solo_runs_left_ = kSoloRuns;
}

void WorkerTeam::run_job(const std::shared_ptr<Job>& job, double* waited) {
#if defined(_OPENMP)
  if (threads_ == Threads::OpenMP) {  // one region: its threads take blocks like helpers
#pragma omp parallel num_threads(size())
    {
      const int worker = omp_get_thread_num();
      work(*job, worker, worker == 0 ? waited : nullptr);
    }
    return;
  }
#endif
  const int64_t total = job->start.back();
  current_.store(job, std::memory_order_release);  // a helper that took it keeps it alive
  posted_.fetch_add(1);
  if (sleepers_.load() > 0) {
    {
      std::lock_guard<std::mutex> g(sleep_mutex_);
    }
    wake_.notify_all();
  }
  work(*job, 0, waited);
  // Only blocks that a helper took and has not finished are waited for.
  auto all_done = [&] { return job->finished.load(std::memory_order_acquire) == total; };
  if (!all_done()) {
    auto w0 = std::chrono::steady_clock::now();
    wait_until(all_done);
    *waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  }
  current_.store(nullptr, std::memory_order_release);
}

std::shared_ptr<WorkerTeam> WorkerTeam::shared() {
  static std::mutex m;
  static std::shared_ptr<WorkerTeam> team;
  std::lock_guard<std::mutex> g(m);
  const int helpers = std::max(0, num_threads() - 1);
  if (!team || team->size() - 1 != helpers) {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    const bool passive = policy && strcasecmp(policy, "passive") == 0;
    team = std::make_shared<WorkerTeam>(helpers, passive ? Threads::Own : Threads::OpenMP);
  }
  return team;
}

}  // namespace sdnc
