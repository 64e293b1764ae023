// parity.cpp — Parity Check (regular; Delétang et al. 2023): a binary string (A = 2) of length
// L; the answer is one symbol, the number of 1s mod 2. Layout and metric: formal_language.h.
#include "sdnc/tasks/formal_language.h"

namespace sdnc::tasks {

namespace {

class ParityTask : public FormalLanguageTask {
 public:
  ParityTask() : FormalLanguageTask("parity", 2) {}
  std::vector<int64_t> solve(const std::vector<int64_t>& x) const override {
    int64_t ones = 0;
    for (int64_t s : x) ones += s;
    return {ones % 2};
  }
  int64_t answer_steps(int64_t) const override { return 1; }
};

}  // namespace

std::unique_ptr<Task> make_parity_task(const TaskConfig&) { return std::make_unique<ParityTask>(); }

}  // namespace sdnc::tasks
