// worker_team.h — a chain of short phases, each cut into blocks, run by the calling thread
// together with helper threads that join while they are awake.
//
// Made for one decoding step (≈20 phases of 10–50 µs each). An OpenMP region would
// synchronise the phases with barriers, and a barrier waits for every thread to arrive:
// on a machine whose cores are shared, a thread that is not scheduled stalls each barrier
// for a scheduler time slice (milliseconds). Here nobody waits for a thread to arrive:
// blocks are taken from a counter by whichever thread is running, a block of phase p
// starts once every block of phase p − 1 is done, and the caller returns when all blocks
// are done. A helper that sleeps simply takes no blocks (the caller then does them all);
// only a block that a helper has taken and not finished is ever waited for.
//
// Results do not depend on which thread runs a block, as long as each block writes its
// own outputs in a fixed order (fn decides that). Idle helpers spin for a short while
// after each run (the next decoding step follows at once), then sleep. When the caller
// spent more than a quarter of a run waiting for blocks that helpers held (helpers that
// lost their core), the next 16 runs go to the caller alone.
//
// Whose threads. A team either has helper threads of its own (Threads::Own) or runs each run
// as one OpenMP region whose threads take the blocks (Threads::OpenMP). Its own helpers wake
// faster than a sleeping OpenMP team, which is what OMP_WAIT_POLICY=passive (the `sdnc` tool's
// setting) leaves between regions. Under the libraries' default policy, though, OpenMP's
// threads spin after every region of sdnc's loops (core/parallel.h) and of oneDNN, and a
// second set of spinning threads then fights them for the same cores: MiniLM at 2 threads ran
// slower than at 1 (batch 32: 221 against 235 sentences/s; docs/performance_log.md, "One set
// of threads"). shared() therefore uses OpenMP's threads unless the policy is passive.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sdnc {

class WorkerTeam {
 public:
  // fn(phase, block, worker): worker ∈ [0, size()) names the running thread (0 = the caller),
  // for per-thread scratch.
  using BlockFn = std::function<void(int64_t phase, int64_t block, int worker)>;

  enum class Threads { Own, OpenMP };
  // helpers: threads besides the caller. A build without OpenMP makes Threads::OpenMP a team
  // of its own helpers.
  explicit WorkerTeam(int helpers, Threads threads = Threads::Own);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  int size() const { return helper_count_ + 1; }

  // Runs fn for every block of every phase (phase p has blocks[p] blocks) and returns when
  // all are done. fn must not throw. One run at a time: a run that finds the team busy
  // (another thread's run) runs all its blocks on its own caller.
  void run(const std::vector<int64_t>& blocks, const BlockFn& fn);

  // The process-wide team with num_threads() − 1 helpers (remade when that count changes):
  // OpenMP's threads unless OMP_WAIT_POLICY is passive (read when the team is made).
  static std::shared_ptr<WorkerTeam> shared();

 private:
  struct Job;
  // Takes and runs blocks until none are left; adds the time spent waiting for other
  // threads' blocks to *waited (if given).
  static void work(Job& job, int worker, double* waited);
  void helper_loop(int worker);

  void run_job(const std::shared_ptr<Job>& job, double* waited);

  int helper_count_ = 0;
  Threads threads_ = Threads::Own;
  std::vector<std::thread> helpers_;  // Threads::Own only
  std::atomic<std::shared_ptr<Job>> current_;
  std::atomic<uint64_t> posted_{0};  // jobs published so far
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  int solo_runs_left_ = 0;  // guarded by run_mutex_
  std::mutex sleep_mutex_, run_mutex_;
  std::condition_variable wake_;
};

}  // namespace sdnc
