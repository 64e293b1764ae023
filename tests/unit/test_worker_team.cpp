// WorkerTeam: every block of every phase runs exactly once, a phase starts only after the
// previous one is complete, and blocks may run on any worker — with the team's own helper
// threads and with OpenMP's.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sdnc/core/worker_team.h"

namespace sdnc {
namespace {

TEST(WorkerTeam, RunsEveryBlockOnceAndPhasesInOrder) {
  for (auto threads : {WorkerTeam::Threads::Own, WorkerTeam::Threads::OpenMP})
  for (int helpers : {0, 1, 3}) {
    SCOPED_TRACE(threads == WorkerTeam::Threads::Own ? "own threads" : "OpenMP threads");
    WorkerTeam team(helpers, threads);
#if defined(_OPENMP)
    EXPECT_EQ(team.size(), helpers + 1);
#endif
    const std::vector<int64_t> blocks = {3, 0, 1, 7, 2, 5};  // an empty phase too
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> runs(blocks.size() * 8);
      std::vector<std::atomic<int>> done(blocks.size());
      std::atomic<int> order_violations{0}, bad_worker{0};
      team.run(blocks, [&](int64_t p, int64_t b, int worker) {
        if (worker < 0 || worker >= team.size()) ++bad_worker;
        for (int64_t q = 0; q < p; ++q)  // every earlier phase is complete
          if (done[q].load() != blocks[q]) ++order_violations;
        if (b % 2) std::this_thread::yield();  // uneven block times
        ++runs[p * 8 + b];
        ++done[p];
      });
      for (size_t p = 0; p < blocks.size(); ++p)
        for (int64_t b = 0; b < 8; ++b) ASSERT_EQ(runs[p * 8 + b].load(), b < blocks[p] ? 1 : 0) << p << " " << b;
      ASSERT_EQ(order_violations.load(), 0);
      ASSERT_EQ(bad_worker.load(), 0);
    }
  }
}

TEST(WorkerTeam, ConcurrentRunsFromTwoThreadsBothComplete) {
  for (auto threads : {WorkerTeam::Threads::Own, WorkerTeam::Threads::OpenMP}) {
    WorkerTeam team(1, threads);
    std::atomic<int64_t> total{0};
    auto caller = [&] {
      for (int rep = 0; rep < 100; ++rep) team.run({4, 4}, [&](int64_t, int64_t, int) { ++total; });
    };
    std::thread a(caller), b(caller);
    a.join(), b.join();
    EXPECT_EQ(total.load(), 2 * 100 * 8);
  }
}

#if defined(_OPENMP)
// With OpenMP's threads, the blocks of a run are shared with them (not all on the caller).
TEST(WorkerTeam, OpenMPThreadsTakeBlocks) {
  WorkerTeam team(1, WorkerTeam::Threads::OpenMP);
  std::atomic<int> on_helper{0};
  for (int rep = 0; rep < 50 && on_helper.load() == 0; ++rep)
    team.run({64}, [&](int64_t, int64_t, int worker) {
      if (worker == 1) ++on_helper;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    });
  EXPECT_GT(on_helper.load(), 0);
}
#endif

}  // namespace
}  // namespace sdnc
